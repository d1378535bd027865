"""Run directories and learning-curve figures."""

import csv
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from linear_pg.plotting import (
    DPI,
    FIGSIZE,
    learning_curve_figure,
    plot_run_dirs,
    reward_threshold,
    t_interval,
)
from linear_pg.rundir import (
    HISTORY_COLUMNS,
    find_runs,
    load_run_dir,
    moving_average,
    read_config,
    read_history,
    write_run,
)
from linear_pg.trainer import train

PIXELS = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))


@pytest.fixture(scope="module")
def seeds_dir(tmp_path_factory):
    """Two short CartPole runs written as out/seed-0 and out/seed-1."""
    out = tmp_path_factory.mktemp("runs") / "cartpole"
    for seed in (0, 1):
        write_run(train("CartPole-v1", episodes=8 + 2 * seed, seed=seed), out / f"seed-{seed}")
    return out


def test_moving_average_is_a_trailing_mean_with_a_short_start():
    x = np.arange(1.0, 7.0)
    np.testing.assert_allclose(moving_average(x, 3), [1, 1.5, 2, 3, 4, 5])
    np.testing.assert_allclose(moving_average(x, 1), x)
    np.testing.assert_allclose(moving_average(x, 100), np.cumsum(x) / np.arange(1, 7))


def test_moving_average_validates():
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], 0)
    with pytest.raises(ValueError, match="1-D"):
        moving_average(np.ones((2, 2)))


def test_t_interval_matches_the_student_t_formula():
    rng = np.random.default_rng(0)
    curves = rng.standard_normal((10, 4))
    mean, half = t_interval(curves)
    np.testing.assert_allclose(mean, curves.mean(0))
    # t_{0.975, 9} = 2.2622
    np.testing.assert_allclose(half, 2.262157 * curves.std(0, ddof=1) / np.sqrt(10), rtol=1e-5)


def test_t_interval_needs_two_seeds():
    with pytest.raises(ValueError, match="K >= 2"):
        t_interval(np.ones((1, 5)))


def test_reward_threshold_comes_from_the_gymnasium_spec():
    assert reward_threshold("CartPole-v1") == 475.0
    assert reward_threshold("Pendulum-v1") is None
    assert reward_threshold("NoSuchEnv-v0") is None


def test_write_run_writes_history_config_and_checkpoint(seeds_dir):
    run_dir = seeds_dir / "seed-1"
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == HISTORY_COLUMNS
    assert len(rows) == 10
    history = read_history(run_dir)
    np.testing.assert_allclose(history["moving_average"], moving_average(history["return"]))
    np.testing.assert_array_equal(history["episode"], np.arange(1, 11))
    config = read_config(run_dir)
    assert config["env_id"] == "CartPole-v1" and config["seed"] == 1
    assert json.loads((run_dir / "config.json").read_text())["config"]["episodes"] == 10
    run = load_run_dir(run_dir)
    np.testing.assert_array_equal(run.episode_returns, history["return"])


def test_write_run_can_leave_the_checkpoint_to_train(tmp_path):
    run = train("CartPole-v1", episodes=3, seed=0)
    paths = write_run(run, tmp_path / "seed-0", checkpoint=False)
    assert paths["history"].is_file() and paths["config"].is_file()
    assert not paths["checkpoint"].exists()


def test_find_runs_accepts_a_seed_dir_or_its_parent(seeds_dir, tmp_path):
    assert find_runs(seeds_dir) == [seeds_dir / "seed-0", seeds_dir / "seed-1"]
    assert find_runs(seeds_dir / "seed-0") == [seeds_dir / "seed-0"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_runs(tmp_path / "missing")
    with pytest.raises(ValueError, match="not a run directory"):
        find_runs(tmp_path)


def test_read_history_rejects_a_file_that_is_not_a_history(tmp_path):
    (tmp_path / "history.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="'episode' and 'return'"):
        read_history(tmp_path)
    (tmp_path / "history.csv").write_text("episode,return\n1,x\n")
    with pytest.raises(ValueError, match="not numeric"):
        read_history(tmp_path)


def test_plot_run_dirs_writes_png_and_svg_of_the_expected_size(seeds_dir, tmp_path):
    paths = plot_run_dirs([seeds_dir, seeds_dir / "seed-0"], tmp_path / "fig.png",
                          labels=["two seeds", "one seed"])
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.is_file() for p in paths)
    with Image.open(paths[0]) as im:
        assert im.size == PIXELS
    assert "<svg" in paths[1].read_text()[:500]


def test_only_a_figure_suffix_of_out_is_replaced(seeds_dir, tmp_path):
    # 'cmp.1' and 'cmp.2' are two names (both were written as cmp.png, the second over the
    # first); '.png' is replaced; another image format is refused, not silently changed
    first = plot_run_dirs([seeds_dir], tmp_path / "cmp.1")
    second = plot_run_dirs([seeds_dir], tmp_path / "cmp.2")
    assert [p.name for p in first + second] == ["cmp.1.png", "cmp.1.svg", "cmp.2.png",
                                                "cmp.2.svg"]
    assert [p.name for p in plot_run_dirs([seeds_dir], tmp_path / "fig.png")] == \
        ["fig.png", "fig.svg"]
    with pytest.raises(ValueError, match=r"names a \.pdf file, but the figure is written as "
                                         r"\.png and \.svg"):
        plot_run_dirs([seeds_dir], tmp_path / "fig.pdf")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="is an existing file, not a directory"):
        plot_run_dirs([seeds_dir], tmp_path / "a_file" / "fig.png")


def test_plot_run_dirs_defaults_to_the_run_dir(seeds_dir):
    paths = plot_run_dirs([seeds_dir])
    assert paths[0] == seeds_dir / "learning_curve.png"


def figure_of(monkeypatch, *args, **kwargs):
    """The Figure that plot_run_dirs(*args, **kwargs) draws."""
    from linear_pg import plotting

    drawn = []
    draw = plotting.learning_curve_figure
    monkeypatch.setattr(plotting, "learning_curve_figure",
                        lambda *a, **k: drawn.append(draw(*a, **k)) or drawn[-1])
    plot_run_dirs(*args, **kwargs)
    return drawn[0]


def threshold_lines(ax):
    return [t.get_text() for t in ax.get_legend().get_texts() if "threshold" in t.get_text()]


def test_plot_run_dirs_titles_the_env_and_marks_its_threshold(seeds_dir, monkeypatch):
    ax = figure_of(monkeypatch, [seeds_dir]).axes[0]
    assert ax.get_title() == "CartPole-v1"
    assert threshold_lines(ax) == ["reward threshold (475)"]
    plt.close("all")


def test_plot_run_dirs_names_the_env_kwargs_of_other_physics(tmp_path, monkeypatch):
    # Runs on a changed env are titled with its arguments, and the registered env's
    # reward threshold (475 for CartPole's +1 per step) is not drawn for them.
    out = tmp_path / "sutton-barto"
    run = train("CartPole-v1", episodes=3, seed=0, env_kwargs={"sutton_barto_reward": True})
    write_run(run, out / "seed-0")
    ax = figure_of(monkeypatch, [out]).axes[0]
    assert ax.get_title() == 'CartPole-v1 with {"sutton_barto_reward": true}'
    assert threshold_lines(ax) == []
    plt.close("all")


def test_runs_of_different_envs_say_which_is_which(seeds_dir, tmp_path, monkeypatch):
    # CartPole's and Pendulum's returns were drawn on one axes with no title and the
    # directory names only
    out = tmp_path / "pendulum"
    write_run(train("Pendulum-v1", episodes=2, seed=0), out / "seed-0")
    ax = figure_of(monkeypatch, [seeds_dir, out], tmp_path / "both").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["cartpole (CartPole-v1)", 'pendulum (Pendulum-v1 with {"g": 10.0})']
    assert ax.get_title() == "runs of different environments"
    assert threshold_lines(ax) == []
    same = figure_of(monkeypatch, [seeds_dir, seeds_dir / "seed-0"], tmp_path / "same")
    assert [t.get_text() for t in same.axes[0].get_legend().get_texts()][:2] == [
        "cartpole", "seed-0"]
    plt.close("all")


def test_figure_draws_band_threshold_and_legend():
    rng = np.random.default_rng(0)
    fig = learning_curve_figure({"a": [rng.random(30) for _ in range(3)], "b": [rng.random(20)]},
                                threshold=0.5, window=5)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "b", "reward threshold (0.5)"]  # a comparison names its groups
    assert "95% t-interval" in ax.get_legend().get_title().get_text()
    assert "reward threshold (0.5)" in labels
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.collections) == 1  # one band: the single-seed group has none
    plt.close(fig)


def test_a_single_group_is_not_named_in_the_legend():
    fig = learning_curve_figure({"a": [np.ones(5), np.zeros(5)]})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)
    assert labels == ["each seed (moving average)", "mean of 2 seeds",
                      "95% t-interval of the mean"]


def test_plot_run_dirs_validates_labels(seeds_dir):
    with pytest.raises(ValueError, match="one name per path"):
        plot_run_dirs([seeds_dir], labels=["a", "b"])


def test_plot_run_dirs_of_several_paths_needs_out(seeds_dir):
    with pytest.raises(ValueError, match="out is required with several run directories"):
        plot_run_dirs([seeds_dir, seeds_dir / "seed-0"])


def test_figure_needs_at_least_one_group_of_runs():
    with pytest.raises(ValueError, match="groups must hold at least one group"):
        learning_curve_figure({})
    with pytest.raises(ValueError, match=r"groups \['b'\] have none"):
        learning_curve_figure({"a": [np.arange(5.0)], "b": []})
    learning_curve_figure({"a": [np.array([])]})     # a run stopped before any episode


def test_a_directory_of_checkpoints_only_is_plotted_from_them(tmp_path, monkeypatch):
    # find_runs, evaluate and resume take a seed directory holding only checkpoint.npz
    # (train(..., checkpoint_path=...)); plot said "history.csv does not exist"
    runs = [train("CartPole-v1", episodes=4 + seed, seed=seed,
                  checkpoint_path=str(tmp_path / "ck" / f"seed-{seed}" / "checkpoint.npz"))
            for seed in (0, 1)]
    ax = figure_of(monkeypatch, [tmp_path / "ck"], tmp_path / "fig").axes[0]
    assert ax.get_title() == "CartPole-v1"
    drawn = sorted(len(line.get_xdata()) for line in ax.get_lines() if line.get_alpha())
    assert drawn == [r.n_episodes for r in runs]          # one faint line per seed
    plt.close("all")


def test_a_target_line_of_ones_own(seeds_dir, tmp_path, monkeypatch):
    # only gymnasium's reward threshold (475 for CartPole-v1) could be drawn
    ax = figure_of(monkeypatch, [seeds_dir], tmp_path / "f", threshold=195.0).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target (195)" in legend and threshold_lines(ax) == []
    with pytest.raises(ValueError, match="threshold must be finite"):
        plot_run_dirs([seeds_dir], tmp_path / "g", threshold=float("nan"))
    with pytest.raises(TypeError, match="threshold must be a real number, got str"):
        plot_run_dirs([seeds_dir], tmp_path / "g", threshold="100")
    plt.close("all")


def test_runs_with_the_same_directory_name_are_told_apart(tmp_path, monkeypatch):
    # x/run and y/run (or labels a a) met a strict zip: "zip() argument 2 is longer"
    write_run(train("CartPole-v1", episodes=3, seed=0), tmp_path / "x" / "run" / "seed-0")
    write_run(train("Pendulum-v1", episodes=2, seed=0), tmp_path / "y" / "run" / "seed-0")
    write_run(train("CartPole-v1", episodes=4, seed=1), tmp_path / "z" / "run" / "seed-0")
    x, y, z = (tmp_path / d / "run" for d in "xyz")
    ax = figure_of(monkeypatch, [x, y], tmp_path / "both").axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{x} (CartPole-v1)", f'{y} (Pendulum-v1 with {{"g": 10.0}})']
    ax = figure_of(monkeypatch, [x, z], tmp_path / "same-env").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [str(x), str(z)]
    with pytest.raises(ValueError, match=r"labels must be distinct .* \['a'\]"):
        plot_run_dirs([x, z], tmp_path / "f", labels=["a", "a"])
    with pytest.raises(ValueError, match="same run directory more than once.*give labels"):
        plot_run_dirs([x, tmp_path / "x" / ".." / "x" / "run"], tmp_path / "f")
    plot_run_dirs([x, x], tmp_path / "f", labels=["a", "b"])     # drawn twice, as asked
    plt.close("all")


def test_a_run_not_longer_than_the_window_is_not_called_its_moving_average():
    # 50 episodes were labelled "moving average (100 episodes)": each point averages all
    # the episodes so far
    fig = learning_curve_figure({"a": [np.arange(50.0)]})
    assert "mean of the episodes so far" in [t.get_text()
                                             for t in fig.axes[0].get_legend().get_texts()]
    fig = learning_curve_figure({"a": [np.arange(50.0)], "b": [np.ones(40)]})
    assert "mean over seeds of the mean of the episodes so far" in \
        fig.axes[0].get_legend().get_title().get_text()
    fig = learning_curve_figure({"a": [np.arange(150.0)]})
    assert "moving average (100 episodes)" in [t.get_text()
                                               for t in fig.axes[0].get_legend().get_texts()]
    plt.close("all")


def test_bounds_clip_the_band_to_the_possible_returns():
    """Five seeds at 20, 20, 480, 480, 480 have a 95% t-interval of -17 to 609: outside
    CartPole's possible returns. With bounds=(0, 500) the band stays inside them."""
    seeds = [np.full(10, v) for v in (20.0, 20.0, 480.0, 480.0, 480.0)]

    def band_range(**kwargs):
        fig = learning_curve_figure({"a": seeds}, window=2, **kwargs)
        (band,) = fig.axes[0].collections
        y = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
        plt.close(fig)
        return y.min(), y.max()

    lo, hi = band_range()
    assert lo < -16 and hi > 608
    assert band_range(bounds=(0, 500)) == (0.0, 500.0)
    for bad in ((500, 0), (0, np.inf), "ab", (1, 2, 3), 5):
        with pytest.raises(ValueError, match="bounds"):
            learning_curve_figure({"a": seeds}, bounds=bad)
        with pytest.raises(ValueError, match="bounds"):      # one seed draws no band
            learning_curve_figure({"a": seeds[:1]}, bounds=bad)


def test_a_history_cut_short_is_drawn_from_the_checkpoint(tmp_path, monkeypatch):
    # a history.csv cut to its header replaced learning_curve.png with empty axes, while
    # the checkpoint beside it held the whole run
    run_dir = tmp_path / "cut" / "seed-0"
    write_run(train("CartPole-v1", episodes=6, seed=0), run_dir)
    history = run_dir / "history.csv"
    history.write_text(history.read_text().splitlines()[0] + "\n")
    with pytest.warns(UserWarning, match=r"history.csv' holds 0 episodes, the checkpoint "
                                         r"beside it 6: drawing the checkpoint's"):
        ax = figure_of(monkeypatch, [run_dir]).axes[0]
    assert max(len(line.get_xdata()) for line in ax.get_lines()) == 6
    plt.close("all")


def test_either_file_of_a_run_stands_in_for_the_other_when_damaged(tmp_path, monkeypatch):
    run_dir = tmp_path / "damaged" / "seed-0"
    write_run(train("CartPole-v1", episodes=6, seed=0), run_dir)
    history, checkpoint = run_dir / "history.csv", run_dir / "checkpoint.npz"
    good_history, good_checkpoint = history.read_text(), checkpoint.read_bytes()
    # a history cut in the middle of a row: "not numeric", though the checkpoint was whole
    history.write_text(good_history.rstrip().rsplit(",", 2)[0])
    with pytest.warns(UserWarning, match="drawing the returns of the checkpoint beside it"):
        ax = figure_of(monkeypatch, [run_dir]).axes[0]
    assert max(len(line.get_xdata()) for line in ax.get_lines()) == 6
    # a damaged checkpoint stopped the plot (at first only its count was wanted)
    history.write_text(good_history)
    checkpoint.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="cannot be read .*drawing history.csv's returns"):
        ax = figure_of(monkeypatch, [run_dir]).axes[0]
    assert max(len(line.get_xdata()) for line in ax.get_lines()) == 6
    history.write_text(good_history.rstrip().rsplit(",", 2)[0])   # both damaged: an error
    with pytest.raises(ValueError, match="not numeric"):
        figure_of(monkeypatch, [run_dir])
    checkpoint.write_bytes(good_checkpoint)
    plt.close("all")


def test_plot_run_dirs_takes_one_directory_as_it_is(seeds_dir, tmp_path):
    # a str was iterated character by character: "out is required with several run
    # directories (17)"
    paths = plot_run_dirs(str(seeds_dir), tmp_path / "one")
    assert [p.name for p in paths] == ["one.png", "one.svg"]


@pytest.mark.parametrize("call, exc, match", [
    (lambda: learning_curve_figure([np.ones(3)]), TypeError,
     r"groups must be a mapping of label -> list of return arrays .* got list"),
    (lambda: learning_curve_figure({"a": [np.ones(3)]}, threshold="x"), TypeError,
     "threshold must be a real number"),
    (lambda: learning_curve_figure({"a": [np.ones(3)]}, threshold=np.nan), ValueError,
     "threshold must be finite"),
    (lambda: t_interval([["a", "b"], ["c", "d"]]), TypeError, "curves must be numeric"),
    (lambda: t_interval(np.ones((2, 2)) * 1j), TypeError, "curves must be real-valued"),
    (lambda: t_interval(np.ones((2, 2)), level=1.0), ValueError, "level must be < 1.0"),
])
def test_figure_arguments_are_checked(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_save_figure_takes_one_format_or_several(tmp_path):
    from linear_pg.plotting import save_figure

    fig = learning_curve_figure({"a": [np.ones(3)]})
    # "png" was read as the formats 'p', 'n', 'g': "Format 'p' is not supported"
    assert [p.name for p in save_figure(fig, tmp_path / "f", "png")] == ["f.png"]
    with pytest.raises(ValueError, match=r"formats must name image formats .* got \['pgn'\]"):
        save_figure(fig, tmp_path / "g", ["pgn"])
    assert not list(tmp_path.glob("g*"))
    plt.close(fig)


def test_write_run_replaces_its_files_whole(tmp_path, monkeypatch):
    # history.csv was written in place: a process stopped while writing it left a file cut
    # short (the plotting test above shows what that did to the figure)
    from linear_pg import rundir

    run_dir = tmp_path / "seed-0"
    write_run(train("CartPole-v1", episodes=3, seed=0), run_dir)
    before = {name: (run_dir / name).read_bytes() for name in ("history.csv", "config.json")}

    class Stopped(csv.DictWriter):
        def __init__(self, f):
            self.f = f

        def writerow(self, row):
            self.f.write("episode,return\n")

        def writerows(self, rows):
            raise KeyboardInterrupt                  # a stop in the middle of the file

    monkeypatch.setattr(rundir.csv, "writer", Stopped)
    with pytest.raises(KeyboardInterrupt):
        write_run(train("CartPole-v1", episodes=5, seed=1), run_dir)
    assert {name: (run_dir / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.npz", "config.json",
                                                         "history.csv"]
