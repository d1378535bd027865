"""Every subcommand end to end on a tiny budget; bad arguments end in one line and exit 2."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from linear_pg import _console, cli
from linear_pg.cli import build_parser, main, resolve_env
from linear_pg.plotting import DPI, FIGSIZE
from linear_pg.rundir import HISTORY_COLUMNS, load_run_dir, read_history
from linear_pg.trainer import train

PIXELS = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))


def run_cli(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One single-seed and one two-seed CartPole run, trained through the CLI."""
    root = tmp_path_factory.mktemp("cli")
    for name, seeds in (("one", 1), ("two", 2)):
        code = main(["train", "CartPole-v1", "--episodes", "12", "--seeds", str(seeds),
                     "--jobs", "1", "--batch", "4", "--out", str(root / name), "--quiet"])
        assert code == 0
    return root


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]
    for w in words:
        assert w in lines[0]


# ---------------------------------------------------------------------------- train
def test_train_writes_every_file_per_seed(runs):
    for seed in (0, 1):
        d = runs / "two" / f"seed-{seed}"
        assert (d / "checkpoint.npz").is_file()
        with open(d / "history.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert tuple(rows[0]) == HISTORY_COLUMNS and len(rows) == 12
        config = json.loads((d / "config.json").read_text())
        assert config["seed"] == seed and config["config"]["batch_episodes"] == 4
    with Image.open(runs / "two" / "learning_curve.png") as im:
        assert im.size == PIXELS
    assert (runs / "two" / "learning_curve.svg").is_file()
    assert not (runs / "two" / "seed-2").exists()


def test_train_saves_the_final_checkpoint_once(tmp_path, monkeypatch):
    import linear_pg.checkpoint as checkpoint

    saved = []
    save = checkpoint.save_checkpoint
    monkeypatch.setattr(checkpoint, "save_checkpoint",
                        lambda run, path: saved.append(path) or save(run, path))
    code = main(["train", "CartPole-v1", "--episodes", "12", "--batch", "4",
                 "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 0
    assert saved == [tmp_path / "r" / "seed-0" / "checkpoint.npz"]   # 3 updates: the end only


@pytest.mark.parametrize("name, seeds", [("one", 1), ("two", 2)])
def test_each_seeds_checkpoint_holds_its_finished_run(runs, name, seeds):
    """The checkpoint beside history.csv is the one train saved at the end (written once,
    not again by write_run): all 12 episodes, the same returns as the history."""
    for seed in range(seeds):
        d = runs / name / f"seed-{seed}"
        run = load_run_dir(d)
        assert run.n_episodes == 12 and run.stopped_reason is None
        np.testing.assert_array_equal(run.episode_returns, read_history(d)["return"])


@pytest.mark.parametrize("out, words", [
    ("FILE", ("--out", "is an existing file, expected a directory")),
    ("FILE/sub", ("--out", "cannot be created as a directory")),
])
def test_train_checks_out_before_training(tmp_path, capsys, monkeypatch, out, words):
    import linear_pg.trainer

    (tmp_path / "FILE").write_text("not a directory")

    def no_training(*args, **kwargs):
        raise AssertionError("trained despite a bad --out")

    monkeypatch.setattr(linear_pg.trainer, "train", no_training)
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "3", "--quiet",
                            "--out", tmp_path / out], capsys)
    assert_one_line_error(code, err, *words)
    assert (tmp_path / "FILE").read_text() == "not a directory"


def test_train_prints_where_it_wrote(tmp_path, capsys):
    code, out, _ = run_cli(["train", "cartpole", "--episodes", "5", "--out", tmp_path / "r",
                            "--optimizer", "adam", "--lr", "0.01", "--no-normalize-weights",
                            "--estimator", "total_return", "--baseline", "mean"], capsys)
    assert code == 0
    assert "learning_curve.png" in out and str(tmp_path / "r") in out
    config = json.loads((tmp_path / "r" / "seed-0" / "config.json").read_text())["config"]
    assert config["optimizer"] == "adam" and config["normalize_weights"] is False
    assert config["estimator"] == "total_return" and config["baseline"] == "mean"


@pytest.mark.parametrize("env, optimizer", [("cartpole", "npg"), ("cartpole", "sgd"),
                                            ("pendulum", "adam"), ("CartPole-v1", "adam")])
def test_train_switching_optimizer_uses_the_same_settings_as_the_api(tmp_path, capsys, env,
                                                                      optimizer):
    code, _, _ = run_cli(["train", env, "--episodes", "2", "--batch", "2", "--optimizer",
                          optimizer, "--out", tmp_path, "--quiet"], capsys)
    assert code == 0
    config = json.loads((tmp_path / "seed-0" / "config.json").read_text())["config"]
    api = train(resolve_env(env), episodes=2, batch_episodes=2, optimizer=optimizer).config
    for key in ("optimizer", "lr", "optimizer_kwargs"):    # e.g. CartPole's npg: its damping
        assert config[key] == api[key]


def test_train_options_for_the_schedule_the_mean_bound_and_the_env(tmp_path, capsys):
    code, _, _ = run_cli(["train", "cartpole", "--episodes", "2", "--batch", "2", "--out",
                          tmp_path / "cp", "--quiet", "--lr-schedule", "linear", "--lr-end",
                          "0.5"], capsys)
    assert code == 0                                 # CartPole's preset: a constant lr
    config = json.loads((tmp_path / "cp" / "seed-0" / "config.json").read_text())["config"]
    assert config["lr_schedule"] == "linear" and config["lr_end"] == 0.5
    code, _, _ = run_cli(["train", "pendulum", "--episodes", "2", "--batch", "2", "--out",
                          tmp_path / "p", "--quiet", "--lr-schedule", "constant",
                          "--mean-bound-coef", "1", "--env-kwargs", '{"g": 2.0}'], capsys)
    assert code == 0
    config = json.loads((tmp_path / "p" / "seed-0" / "config.json").read_text())["config"]
    assert config["lr_schedule"] == "constant"
    assert config["mean_bound_coef"] == 1.0 and config["env_kwargs"] == {"g": 2.0}
    assert load_run_dir(tmp_path / "p" / "seed-0").config["env_kwargs"] == {"g": 2.0}


@pytest.mark.parametrize("flags, saves", [([], [6]), (["--checkpoint-every", "2"], [2, 4, 6, 6])])
def test_train_checkpoint_every(tmp_path, capsys, monkeypatch, flags, saves):
    import linear_pg.trainer

    seen, save = [], linear_pg.trainer._save
    monkeypatch.setattr(linear_pg.trainer, "_save",
                        lambda run, path: (seen.append(run.n_episodes), save(run, path)))
    code, _, _ = run_cli(["train", "cartpole", "--episodes", "6", "--out", tmp_path, "--quiet",
                          *flags], capsys)
    assert code == 0 and seen == saves                   # periodic saves, then the final one


def test_train_mirror_flag_overrides_the_preset(tmp_path, capsys):
    def mirror_of(*flags):
        out = tmp_path / "-".join(flags or ("preset",))
        code, _, _ = run_cli(["train", "pendulum", "--episodes", "2", "--batch", "2",
                              "--out", out, "--quiet", *flags], capsys)
        assert code == 0
        return json.loads((out / "seed-0" / "config.json").read_text())["config"]["mirror"]

    reflection = {"obs_sign": [1.0, -1.0, -1.0], "action_sign": [-1.0]}
    assert mirror_of() == reflection                       # the Pendulum preset's choice
    assert mirror_of("--no-mirror") is None
    assert mirror_of("--mirror") == reflection


def test_train_max_grad_norm_inf_turns_the_presets_clip_off(tmp_path, capsys):
    def clip_of(*flags):
        out = tmp_path / "-".join(flags or ("preset",))
        code, _, _ = run_cli(["train", "cartpole", "--episodes", "2", "--out", out, "--quiet",
                              *flags], capsys)
        assert code == 0
        return json.loads((out / "seed-0" / "config.json").read_text())["config"][
            "max_grad_norm"]

    assert clip_of() == 100.0
    assert clip_of("--max-grad-norm", "inf") is None
    assert clip_of("--max-grad-norm", "5") == 5.0
    code, _, err = run_cli(["train", "cartpole", "--max-grad-norm", "-1"], capsys)
    assert code == 2 and "--max-grad-norm" in err


def test_resolve_env_accepts_preset_short_names():
    assert resolve_env("cartpole") == "CartPole-v1"
    assert resolve_env("Pendulum") == "Pendulum-v1"
    assert resolve_env("mountaincarcontinuous") == "MountainCarContinuous-v0"
    assert resolve_env("Acrobot-v1") == "Acrobot-v1"


# ---------------------------------------------------------------------------- plot
def test_plot_several_dirs_writes_png_and_svg(runs, tmp_path, capsys):
    out = tmp_path / "figs" / "compare.png"
    code, stdout, _ = run_cli(["plot", runs / "one", runs / "two", "--out", out,
                               "--labels", "one seed", "two seeds", "--window", "5"], capsys)
    assert code == 0 and "compare.png" in stdout
    with Image.open(out) as im:
        assert im.size == PIXELS
    assert out.with_suffix(".svg").is_file()


@pytest.mark.parametrize("existing", [True, False])
def test_plot_out_a_directory_writes_learning_curve_inside_it(runs, tmp_path, capsys,
                                                              existing):
    target = tmp_path / "figs"
    if existing:
        target.mkdir()
    out = str(target) if existing else f"{target}/"
    code, stdout, _ = run_cli(["plot", runs / "one", runs / "two", "--out", out], capsys)
    assert code == 0 and str(target / "learning_curve.png") in stdout
    assert sorted(p.name for p in target.iterdir()) == ["learning_curve.png",
                                                        "learning_curve.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"]   # nothing beside it


def test_plot_of_several_dirs_needs_out_and_leaves_the_first_figure_alone(runs, capsys):
    before = (runs / "one" / "learning_curve.png").read_bytes()
    code, _, err = run_cli(["plot", runs / "one", runs / "two"], capsys)
    assert_one_line_error(code, err, "--out FILE is required to plot several DIRs")
    assert (runs / "one" / "learning_curve.png").read_bytes() == before


# ---------------------------------------------------------------------------- evaluate
def test_evaluate_prints_mean_and_std_per_seed(runs, capsys):
    code, out, _ = run_cli(["evaluate", runs / "two", "--episodes", "3"], capsys)
    assert code == 0
    assert out.count("(CartPole-v1, seed ") == 2 and "over 3 episodes, most likely action" in out
    assert "over 2 seeds" in out
    code, out, _ = run_cli(["evaluate", runs / "one" / "seed-0", "--episodes", "2",
                            "--sample"], capsys)
    assert code == 0 and "sampled actions" in out


def test_evaluate_in_other_physics_and_a_vector_env(runs, capsys):
    from linear_pg.evaluation import evaluate

    run = load_run_dir(runs / "one" / "seed-0")
    code, out, _ = run_cli(["evaluate", runs / "one", "--episodes", "4", "--n-envs", "2",
                            "--env-kwargs", '{"max_episode_steps": 7}'], capsys)
    assert code == 0 and '(CartPole-v1 with {"max_episode_steps": 7}, seed 0)' in out
    expected = evaluate(run, 4, env_kwargs={"max_episode_steps": 7}, n_envs=2)
    assert expected.max() <= 7 and f"return {expected.mean():.2f} ± {expected.std(ddof=1):.2f}" \
        f" (mean ± std; standard error {expected.std(ddof=1) / 2:.2f})" in out


def test_evaluate_reports_the_sample_std_and_standard_error_across_seeds(runs, capsys):
    # the spread of the per-seed means used NumPy's default ddof=0, unlike the library's
    # standard errors and t-intervals
    from linear_pg.evaluation import evaluate

    code, out, _ = run_cli(["evaluate", runs / "two", "--episodes", "3"], capsys)
    means = np.array([evaluate(load_run_dir(r), 3).mean()
                      for r in sorted((runs / "two").glob("seed-*"))])
    assert code == 0
    assert (f"over 2 seeds: {means.mean():.2f} ± {means.std(ddof=1):.2f} (mean ± std; "
            f"standard error {means.std(ddof=1) / np.sqrt(2):.2f}) of the per-seed means") in out


def test_evaluate_and_render_name_the_physics_a_run_was_trained_in(tmp_path, capsys):
    out = tmp_path / "low-g"
    assert run_cli(["train", "pendulum", "--episodes", "2", "--batch", "2", "--env-kwargs",
                    '{"g": 2.0}', "--out", out, "--quiet"], capsys)[0] == 0
    code, stdout, _ = run_cli(["evaluate", out, "--episodes", "2"], capsys)
    assert code == 0 and '(Pendulum-v1 with {"g": 2.0}, seed 0)' in stdout
    code, stdout, _ = run_cli(["evaluate", out, "--episodes", "1"], capsys)
    assert code == 0 and "over 1 episode, mean action" in stdout
    code, stdout, _ = run_cli(["render", out, "--max-frames", "2"], capsys)
    assert code == 0 and '(Pendulum-v1 with {"g": 2.0}): episode return' in stdout


def test_evaluate_several_dirs_summarizes_each(runs, tmp_path, capsys):
    code, out, _ = run_cli(["evaluate", runs / "one", runs / "two", "--episodes", "2"],
                           capsys)
    assert code == 0 and out.count("(CartPole-v1, seed ") == 3
    assert f"{runs / 'two'}: over 2 seeds" in out and "over 1 seeds" not in out
    code, out, err = run_cli(["evaluate", runs / "one", tmp_path / "missing"], capsys)
    assert_one_line_error(code, err, "does not exist")
    assert out == ""                                   # checked before evaluating the first


def test_train_refuses_a_directory_that_holds_another_envs_runs(runs, tmp_path, capsys):
    import shutil

    out = tmp_path / "mixed"
    shutil.copytree(runs / "two", out)                 # CartPole seeds 0 and 1
    before = (out / "seed-0" / "history.csv").read_bytes()
    code, _, err = run_cli(["train", "Pendulum-v1", "--episodes", "2", "--out", out,
                            "--quiet"], capsys)
    assert_one_line_error(code, err, f"--out '{out}' holds runs of CartPole-v1 (seed-0, "
                                     f'seed-1); training Pendulum-v1 with {{"g": 10.0}} there')
    assert (out / "seed-0" / "history.csv").read_bytes() == before    # nothing replaced


def test_train_refuses_a_directory_that_holds_runs_under_other_env_kwargs(tmp_path, capsys):
    out = tmp_path / "pendulum"
    train = ["train", "pendulum", "--episodes", "2", "--batch", "2", "--out", out, "--quiet"]
    assert run_cli(train, capsys)[0] == 0                           # the preset's g = 10
    before = (out / "seed-0" / "history.csv").read_bytes()
    code, _, err = run_cli([*train, "--env-kwargs", '{"g": 2.0}'], capsys)
    assert_one_line_error(code, err, f"--out '{out}' holds runs of Pendulum-v1 with "
                                     f'{{"g": 10.0}} (seed-0); training Pendulum-v1 with '
                                     f'{{"g": 2.0}} there')
    assert (out / "seed-0" / "history.csv").read_bytes() == before    # nothing replaced
    assert run_cli([*train, "--env-kwargs", '{"g": 10.0}'], capsys)[0] == 0   # a re-run
    assert run_cli([*train, "--env-kwargs", '{"g": 10}'], capsys)[0] == 0     # the same g


@pytest.mark.parametrize("damage", ["delete", "not JSON", "a list"])
def test_the_env_of_runs_whose_config_is_damaged_is_read_from_their_checkpoint(
        runs, tmp_path, capsys, damage):
    # the checkpoint alone can be evaluated and resumed: it must not be replaced either
    import shutil

    out = tmp_path / "damaged"
    shutil.copytree(runs / "one", out)
    config = out / "seed-0" / "config.json"
    if damage == "delete":
        config.unlink()
    else:
        config.write_text("{bad" if damage == "not JSON" else "[]")
    before = (out / "seed-0" / "checkpoint.npz").read_bytes()
    code, _, err = run_cli(["train", "Pendulum-v1", "--episodes", "2", "--out", out,
                            "--quiet"], capsys)
    assert_one_line_error(code, err, f"--out '{out}' holds runs of CartPole-v1 (seed-0)")
    assert (out / "seed-0" / "checkpoint.npz").read_bytes() == before
    code, _, err = run_cli(["plot", out], capsys)                  # and plotted as CartPole's
    assert code == 0, err


def test_runs_whose_env_cannot_be_read_are_not_replaced(runs, tmp_path, capsys):
    import shutil

    out = tmp_path / "unknown"
    shutil.copytree(runs / "one", out)
    (out / "seed-0" / "config.json").unlink()
    (out / "seed-0" / "checkpoint.npz").unlink()                # only its history is left
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "2", "--out", out,
                            "--quiet"], capsys)
    assert_one_line_error(code, err, f"--out '{out}' holds runs of an environment its files "
                                     f"do not tell (seed-0)")


@pytest.mark.parametrize("where", ["seed-0/history.csv", "learning_curve.png"])
def test_a_directory_where_train_writes_a_file_is_refused_before_training(tmp_path, capsys,
                                                                          monkeypatch, where):
    import linear_pg.trainer as trainer

    def never(*args, **kwargs):
        raise AssertionError("trained before the files to write were checked")

    monkeypatch.setattr(trainer, "train", never)
    out = tmp_path / "blocked"
    (out / where).mkdir(parents=True)
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "4", "--out", out,
                            "--quiet"], capsys)
    assert_one_line_error(code, err, f"--out '{out}' holds a directory '{out / where}' where "
                                     f"train writes a file")


def test_train_refuses_an_out_that_is_one_seeds_run(runs, tmp_path, capsys):
    # it wrote OUT/seed-0/seed-0, and the figure, evaluate and resume of OUT/seed-0 all
    # showed the old run
    import shutil

    out = tmp_path / "nest"
    shutil.copytree(runs / "one", out)
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "3", "--out",
                            out / "seed-0", "--quiet"], capsys)
    assert_one_line_error(code, err, f"--out '{out / 'seed-0'}' is the directory of one "
                                     f"seed's run")
    assert f"give the directory that holds it ('{out.resolve()}')" in err
    # the same env under its module-qualified name is a re-run, not another env
    code, _, err = run_cli(["train", "gymnasium.envs.classic_control.cartpole:CartPole-v1",
                            "--episodes", "2", "--out", out, "--quiet"], capsys)
    assert code == 0, err
    assert not (out / "seed-0" / "seed-0").exists()


def test_a_train_refused_for_its_settings_leaves_no_seed_directory(tmp_path, capsys):
    out = tmp_path / "refused"
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "4", "--gamma", "1.5",
                            "--out", out / "deeper", "--quiet"], capsys)
    assert code == 2 and "gamma must lie in [0, 1]" in err
    assert not out.exists()                  # nor the directories --out would have made
    code, stdout, _ = run_cli(["train", "CartPole-v1", "--episodes", "4", "--out", out,
                               "--quiet"], capsys)
    assert code == 0 and "replaced" not in stdout        # nothing was there to replace


def test_training_again_into_a_run_directory_says_which_seeds_it_replaced(runs, tmp_path,
                                                                          capsys):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(runs / "two", out)
    code, stdout, _ = run_cli(["train", "CartPole-v1", "--episodes", "4", "--seed", "1",
                               "--seeds", "2", "--jobs", "1", "--out", out, "--quiet"],
                              capsys)
    assert code == 0
    assert f"note: replaced seed-1 of an earlier run in {out}" in stdout
    assert f"note: {out} also holds seed-0 from an earlier run" in stdout


# ---------------------------------------------------------------------------- render
def test_render_writes_a_gif_with_the_reported_frames(runs, tmp_path, capsys):
    out = tmp_path / "cartpole.gif"
    code, stdout, _ = run_cli(["render", runs / "one", "--out", out, "--max-frames", "12",
                               "--frame-skip", "2", "--scale", "0.5"], capsys)
    assert code == 0
    n_frames = int(stdout.split("(")[-1].split()[0])
    assert 1 <= n_frames <= 12
    with Image.open(out) as im:
        assert im.n_frames == n_frames and im.size == (300, 200)


def test_render_in_other_physics(runs, tmp_path, capsys):
    out = tmp_path / "short.gif"
    code, stdout, _ = run_cli(["render", runs / "one", "--out", out, "--env-kwargs",
                               '{"max_episode_steps": 5}'], capsys)
    assert code == 0 and '(CartPole-v1 with {"max_episode_steps": 5}): episode return 5.0' \
        in stdout
    assert out.is_file()                          # five steps: the env's own limit is 500


@pytest.mark.parametrize("existing", [True, False])
def test_render_out_a_directory_writes_episode_gif_inside_it(runs, tmp_path, capsys, existing):
    target = tmp_path / "gifs"
    if existing:
        target.mkdir()
    small = ["--max-frames", "12", "--frame-skip", "2", "--scale", "0.5"]
    code, stdout, _ = run_cli(["render", runs / "one", "--out", f"{target}/", *small], capsys)
    assert code == 0 and str(target / "episode.gif") in stdout
    with Image.open(target / "episode.gif") as im:
        assert im.format == "GIF"
    code, _, _ = run_cli(["render", runs / "one", "--out", target, *small], capsys)
    assert code == 0 and target.is_dir()


def test_render_out_must_be_a_gif_or_a_directory(runs, tmp_path, capsys):
    code, _, err = run_cli(["render", runs / "one", "--out", tmp_path / "x.png"], capsys)
    assert code == 2 and "--out" in err and "must name a .gif file or a directory" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- gradcheck
def test_gradcheck_prints_a_table_per_policy_and_passes(capsys):
    code, out, _ = run_cli(["gradcheck"], capsys)
    assert code == 0
    assert "4 of 4 gradient checks passed" in out
    assert out.count("PASS") == 4


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    # `linear-pg gradcheck | head -1`: not "error: [Errno 32] Broken pipe" and exit code 2
    proc = subprocess.Popen([sys.executable, "-m", "linear_pg", "gradcheck"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                                   # before anything is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_a_warning_loses_its_terminal_colours():
    # gymnasium's "\x1b[33mWARN: The reward is a NaN value.\x1b[0m" kept its escape codes
    import io

    out = io.StringIO()
    _console.warning_as_line("train")("\x1b[33mWARN: The reward is a NaN value.\x1b[0m",
                                      UserWarning, "f.py", 1, file=out)
    assert out.getvalue() == "linear-pg train: warning: WARN: The reward is a NaN value.\n"


def test_a_reader_that_leaves_early_does_not_cost_the_figure(tmp_path):
    # `train ... | head -1` with unbuffered output: the second seed's line met the closed
    # pipe before the figure was written (and resume left a stale figure beside new runs)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    for args in (["train", "CartPole-v1", "--episodes", "3", "--seeds", "2", "--jobs", "1",
                  "--quiet"], ["resume", str(tmp_path / "r"), "--episodes", "5", "--quiet"]):
        figure = tmp_path / "r" / "learning_curve.png"
        figure.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "linear_pg", *args,
                                 *(["--out", str(tmp_path / "r")] if args[0] == "train" else [])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        proc.stdout.close()                               # before anything is written
        proc.stderr.read()
        proc.stderr.close()
        assert proc.wait(timeout=300) == 141
        assert figure.is_file(), args[0]


def test_gradcheck_exits_nonzero_when_a_check_fails(monkeypatch, capsys):
    import linear_pg.gradcheck as gc

    class Failed:
        passed = False

        def __str__(self):
            return "FAIL"

    monkeypatch.setattr(gc, "check_all_policies", lambda seed: [Failed()])
    code, out, _ = run_cli(["gradcheck"], capsys)
    assert code == 1 and "0 of 1" in out


# ---------------------------------------------------------------------------- bench
@pytest.mark.parametrize("target", ["existing dir", "dir/", "under a file"])
def test_bench_json_that_cannot_be_a_file_is_refused_before_the_run(tmp_path, capsys,
                                                                   monkeypatch, target):
    import linear_pg.speed as speed

    def never(**kwargs):
        raise AssertionError("the benchmark ran before --json was checked")

    monkeypatch.setattr(speed, "benchmark_report", never)
    (tmp_path / "a_file").write_text("x")
    json_arg = {"existing dir": str(tmp_path), "dir/": f"{tmp_path}/new/",
                "under a file": f"{tmp_path}/a_file/bench.json"}[target]
    code, _, err = run_cli(["bench", "--quick", "--json", json_arg, "--quiet"], capsys)
    assert_one_line_error(code, err, "--json", json_arg)


def test_bench_json_write_failure_keeps_the_earlier_file(tmp_path, capsys, monkeypatch):
    import linear_pg.speed as speed

    monkeypatch.setattr(speed, "benchmark_report", lambda **kw: {"rows": [], "x": 1})
    monkeypatch.setattr(speed, "markdown_table", lambda rows: "table")
    path = tmp_path / "bench.json"
    path.write_text("earlier\n")

    def full_disk(self, *args, **kwargs):      # the file is opened (truncated), then fails
        open(self, "w").close()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    code, _, err = run_cli(["bench", "--json", path, "--quiet"], capsys)
    monkeypatch.undo()
    assert_one_line_error(code, err, "No space left on device")
    assert path.read_text() == "earlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]


def test_bench_json_goes_into_new_directories(tmp_path, capsys, monkeypatch):
    # the check before the benchmark leaves nothing behind; the writer makes the directories
    import linear_pg.speed as speed

    path = tmp_path / "new" / "dir" / "bench.json"

    def report(**kwargs):
        assert not (tmp_path / "new").exists()
        return {"rows": [], "x": 1}

    monkeypatch.setattr(speed, "benchmark_report", report)
    monkeypatch.setattr(speed, "markdown_table", lambda rows: "table")
    assert run_cli(["bench", "--json", path, "--quiet"], capsys)[0] == 0
    assert json.loads(path.read_text()) == {"rows": [], "x": 1}


def test_an_output_path_check_leaves_an_existing_directory_alone(tmp_path, monkeypatch):
    # through "missing/../existing", an existing empty directory counted as created by
    # the check and was removed (and recreated by the writer, with other permissions)
    from linear_pg._files import check_output_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kept").mkdir(mode=0o700)
    before = (tmp_path / "kept").stat()
    check_output_file("missing/../kept/fig.png", "out", "fig.png")
    after = (tmp_path / "kept").stat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not (tmp_path / "missing").exists()


def test_bench_quick_prints_a_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, out, _ = run_cli(["bench", "--quick", "--json", path, "--quiet"], capsys)
    assert code == 0
    assert out.startswith("| metric | measured | target | pass |")
    report = json.loads(path.read_text(), parse_constant=pytest.fail)  # strict: no NaN, inf
    assert {"throughput_single", "throughput_vector", "gradient", "sample_efficiency",
            "machine", "rows"} <= set(report)
    envs = [s["env_id"] for s in report["sample_efficiency"]["summary"]]
    assert envs == ["CartPole-v1", "Pendulum-v1", "MountainCarContinuous-v0"]
    for key in ("throughput_single", "throughput_vector"):
        assert {"training", "raw", "ratio"} <= set(report[key])
        assert report[key]["raw"]["steps_per_s"] > 0
    assert report["throughput_vector"]["raw"]["n_envs"] == 64
    assert {"batch_s", "loop_s", "torch_s", "loop_speedup", "torch_speedup"} \
        <= set(report["gradient"])
    for row in report["rows"]:
        assert set(row) == {"metric", "measured", "target", "pass"}
        assert row["pass"] is None                  # --quick judges no target, timings too
    assert len(out.strip().splitlines()) >= 2 + len(report["rows"])


# ---------------------------------------------------------------------------- bad arguments
# ({tmp} is filled in with str.format, so a literal brace is written twice)
@pytest.mark.parametrize("args, words", [
    (["train", "NoSuchEnv-v0", "--episodes", "2"], ["NoSuchEnv-v0"]),
    (["train", "CartPole-v1", "--policy", "gaussian", "--episodes", "2"], ["gaussian"]),
    (["train", "Pendulum-v1", "--policy", "softmax", "--episodes", "2"], ["softmax"]),
    (["train", "CartPole-v1", "--episodes", "-5"], ["--episodes"]),
    (["train", "CartPole-v1", "--episodes", "0"], ["--episodes"]),
    # a typo that used to hang: the seeds were listed before anything was said
    (["train", "CartPole-v1", "--seeds", "100000000000000000000"], ["--seeds", "10000"]),
    (["bench", "--seeds", "10001"], ["--seeds", "[1, 10000]"]),
    (["train", "CartPole-v1", "--episodes", "2", "--gamma", "1.5"], ["--gamma must"]),
    (["train", "CartPole-v1", "--lr", "-1"], ["--lr"]),
    (["train", "CartPole-v1", "--policy", "nope"], ["--policy"]),
    (["train", "CartPole-v1", "--episodes", "2", "--mirror"], ["mirror", "CartPole-v1",
                                                               "command line knows only"]),
    (["train", "CartPole-v1", "--episodes", "2", "--lr-end", "2"], ["--lr-end must be <= 1"]),
    (["train", "CartPole-v1", "--lr-schedule", "cosine"], ["--lr-schedule", "cosine"]),
    (["train", "CartPole-v1", "--episodes", "2", "--mean-bound-coef", "-1"],
     ["--mean-bound-coef must be"]),
    (["train", "Pendulum-v1", "--env-kwargs", "[9.81]"], ["--env-kwargs", "JSON object",
                                                          "list"]),
    (["train", "Pendulum-v1", "--env-kwargs", "{{g: 2}}"], ["--env-kwargs", "JSON object"]),
    (["train", "Pendulum-v1", "--env-kwargs", '{{"g": NaN}}'], ["--env-kwargs",
                                                                "NaN is not a JSON number"]),
    (["train", "Pendulum-v1", "--env-kwargs", '{{"g": 1e400}}'], ["--env-kwargs",
                                                                  "1e400 is beyond the range"]),
    (["train", "CartPole-v1", "--out", ""], ["--out", "empty string"]),   # was the cwd
    (["plot", "{tmp}", "--out", ""], ["--out", "empty string"]),
    (["train", "Pendulum-v1", "--episodes", "2", "--env-kwargs", '{{"gravity": 2}}'],
     ["--env-kwargs", "gravity", "not accepted"]),
    (["evaluate", "{tmp}/missing"], ["does not exist"]),
    (["evaluate", "{tmp}"], ["not a run directory"]),
    (["render", "{tmp}/missing"], ["does not exist"]),
    (["plot", "{tmp}"], ["not a run directory"]),
    (["evaluate", "{tmp}", "--episodes", "-1"], ["--episodes"]),
    (["evaluate", "{tmp}", "--env-kwargs", "[1]"], ["--env-kwargs", "JSON object"]),
    (["evaluate", "{tmp}", "--n-envs", "0"], ["--n-envs"]),
    (["nosuchcommand"], ["invalid choice"]),
    ([], ["required"]),
])
def test_bad_arguments_end_in_one_line_and_exit_2(args, words, tmp_path, capsys):
    code, _, err = run_cli([a.format(tmp=tmp_path) for a in args], capsys)
    assert_one_line_error(code, err, *words)


def test_the_librarys_errors_name_the_option_not_the_python_argument(tmp_path, capsys):
    # they said lr_end and features_kwargs, which a command-line user never typed
    code, _, err = run_cli(["train", "CartPole-v1", "--out", str(tmp_path), "--features-kwargs",
                            '{"n_centers": 3}'], capsys)
    assert_one_line_error(code, err, "(--features-kwargs) of features 'raw'")
    assert "features_kwargs" not in err
    # a one-word argument is named only as the subject: here "features" is just the word
    code, _, err = run_cli(["train", "CartPole-v1", "--out", str(tmp_path), "--features", "raw",
                            "--features-kwargs", '{"n_centers": 3}'], capsys)
    assert_one_line_error(code, err, "(--features-kwargs) of features 'raw'")
    # a message naming the argument and the option said "--frame-skip, --frame-skip"; a
    # snake_case name is the option's also when not given; not inside a path
    parser = cli.build_parser()
    assert cli._name_options("fps must be <= 50 (keep every n-th frame: frame_skip, "
                             "--frame-skip)", parser.parse_args(["render", "r", "--fps", "51"]),
                             parser.commands["render"]) \
        == "--fps must be <= 50 (keep every n-th frame: --frame-skip)"
    assert cli._name_options("give lr_schedule='linear' too; see runs/lr_schedule/x",
                             parser.parse_args(["train", "CartPole-v1"]),
                             parser.commands["train"]) \
        == "give --lr-schedule='linear' too; see runs/lr_schedule/x"
    # a boolean option is named by its positive form, not --no-...
    parser = cli.build_parser()
    given = parser.parse_args(["train", "CartPole-v1", "--normalize-weights"])
    assert cli._name_options("normalize_weights must be a bool", given,
                             parser.commands["train"]) == "--normalize-weights must be a bool"
    # an option not given is not named: the message is the library's own
    assert cli._name_options("gamma must lie in [0, 1]", cli.build_parser().parse_args(
        ["train", "CartPole-v1"]), cli.build_parser().commands["train"]) \
        == "gamma must lie in [0, 1]"


def test_a_run_that_diverges_in_its_first_batch_is_summed_up_without_numpy_warnings(
        tmp_path, capsys):
    import warnings

    import gymnasium as gym

    class NaNReward(gym.Env):
        observation_space = gym.spaces.Box(-1.0, 1.0, (2,))
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return np.zeros(2, np.float32), {}

        def step(self, action):
            return np.zeros(2, np.float32), np.nan, False, False, {}

    env_id = "linear_pg_test/NaNRewardFromTheStart-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=NaNReward, max_episode_steps=5)
    with warnings.catch_warnings():
        warnings.simplefilter("always")     # the command prints its warnings on stderr
        code, out, err = run_cli(["train", env_id, "--episodes", "4", "--out", tmp_path,
                                  "--quiet"], capsys)
    assert code == 1                      # saved, but the training failed
    assert "0 episodes, no training episode kept, stopped: diverged: the environment " \
           "returned a non-finite reward" in out
    assert "warning: training stopped, diverged" in err
    assert "Mean of empty slice" not in err and "invalid value" not in err


def test_missing_checkpoint_and_unreadable_history(runs, tmp_path, capsys):
    run_dir = tmp_path / "seed-0"
    run_dir.mkdir()
    (run_dir / "history.csv").write_text("episode,return\n1,oops\n")
    code, _, err = run_cli(["evaluate", tmp_path], capsys)
    assert_one_line_error(code, err, "no checkpoint")
    code, _, err = run_cli(["plot", tmp_path], capsys)
    assert_one_line_error(code, err, "not numeric")
    (run_dir / "checkpoint.npz").write_text("not a zip")
    code, _, err = run_cli(["render", tmp_path], capsys)
    assert_one_line_error(code, err, "checkpoint")


@pytest.mark.parametrize("command", ["evaluate", "plot", "render"])
def test_a_file_given_for_the_run_directory_names_its_directory(runs, tmp_path, command,
                                                                 capsys):
    history = runs / "one" / "seed-0" / "history.csv"
    code, _, err = run_cli([command, history], capsys)
    assert_one_line_error(code, err, "is a file, expected a run directory",
                          f"the run directory that holds it is '{history.parent}'")
    other = tmp_path / "notes.txt"
    other.write_text("x")
    code, _, err = run_cli([command, other], capsys)
    assert_one_line_error(code, err, "is a file, expected a run directory")
    assert "holds it" not in err


def test_help_reads_like_a_manual(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("train", "plot", "evaluate", "render", "gradcheck", "bench", "examples:",
                 "seed-0"):
        assert word in out
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert "examples:" in p.format_help() and "python -m linear_pg " + name in p.epilog


# ---------------------------------------------------------------------------- subprocess
def test_module_entry_point_help_and_a_bad_env():
    ok = subprocess.run([sys.executable, "-m", "linear_pg", "train", "--help"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--episodes" in ok.stdout and "examples:" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "linear_pg", "train", "NoSuchEnv-v0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_module_entry_point_bad_option():
    bad = subprocess.run([sys.executable, "-m", "linear_pg", "evaluate", ".", "--episodes",
                          "-3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def _train_and_interrupt(out, n_sigint, wait_for, send=None):
    """`train Pendulum-v1 --seeds 2` in its own process group, sent n SIGINTs (as Ctrl-C in a
    terminal sends one to every process of the group) once every seed has ``wait_for``;
    ``send(pid)`` instead, if given, signals it in its own way."""
    import os
    import signal
    import time

    send = send or (lambda pid: os.killpg(pid, signal.SIGINT))

    proc = subprocess.Popen([sys.executable, "-m", "linear_pg", "train", "Pendulum-v1",
                             "--episodes", "3000", "--seeds", "2", "--jobs", "2", "--batch", "1",
                             "--out", str(out), "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not all((out / f"seed-{k}" / wait_for).exists() for k in (0, 1)):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, f"no {out}/seed-<k>/{wait_for} after 120 s"
            time.sleep(0.05)
        for _ in range(n_sigint):
            send(proc.pid)
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)     # the workers too, if anything went wrong
        except ProcessLookupError:
            pass
        proc.communicate()
    return proc.returncode, stdout, stderr


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_with_several_seeds_keeps_every_seeds_run_so_far(tmp_path):
    code, out, err = _train_and_interrupt(tmp_path / "x", 1, wait_for="")
    assert code == 130, err           # each seed saved, but the job is not complete
    for k in (0, 1):
        d = tmp_path / "x" / f"seed-{k}"
        config = json.loads((d / "config.json").read_text())
        assert config["stopped_reason"] == "interrupted"
        assert 1 <= config["n_episodes"] < 3000
        assert (d / "history.csv").is_file() and (d / "checkpoint.npz").is_file()
        run = load_run_dir(d)               # train's final save, after the interruption
        assert run.stopped_reason == "interrupted" and run.n_episodes == config["n_episodes"]
        assert f"seed-{k}: " in out and "stopped: interrupted" in out
    assert (tmp_path / "x" / "learning_curve.png").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGTERM are POSIX")
def test_sigterm_stops_every_seed_as_ctrl_c_does(tmp_path):
    # `kill`, `timeout` or a job scheduler send SIGTERM to the parent only: it died at once,
    # and its two workers trained on, orphaned, and wrote their seeds after it had "ended"
    import os
    import signal

    code, out, err = _train_and_interrupt(tmp_path / "x", 1, wait_for="",
                                          send=lambda pid: os.kill(pid, signal.SIGTERM))
    assert code == 130, err
    assert "interrupted, stopping every seed after its current update" in err
    for k in (0, 1):
        config = json.loads((tmp_path / "x" / f"seed-{k}" / "config.json").read_text())
        assert config["stopped_reason"] == "interrupted" and config["n_episodes"] < 3000
    assert (tmp_path / "x" / "learning_curve.png").is_file()


def _pool_broken_by_an_early_ctrl_c(monkeypatch, meanwhile=lambda: None):
    """joblib.Parallel as it fails when a Ctrl-C kills a worker still starting up: the
    parent's handler has created the stop file, and the pool is broken. ``meanwhile`` is
    what the workers did before (e.g. save a checkpoint)."""
    import joblib
    from joblib.externals.loky.process_executor import BrokenProcessPool

    def parallel(n_jobs, return_as):
        def run(tasks):
            func, args, kwargs = next(iter(tasks))
            meanwhile()
            Path(args[2]).touch()                   # _seed_in_worker(task, seed, stop_file, ..)
            raise BrokenProcessPool("A task has failed to un-serialize.")
            yield
        return run

    monkeypatch.setattr(joblib, "Parallel", parallel)


def test_train_jobs_workers_follow_the_callers_working_directory(tmp_path, capsys,
                                                                 monkeypatch):
    # main() called in one process (a test, a notebook): joblib's reused workers kept the
    # directory and Python path they started with, wrote a relative --out elsewhere and
    # could not import a module:EnvId-v0 found from the new directory
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir(), later.mkdir()
    monkeypatch.chdir(first)
    assert run_cli(["train", "CartPole-v1", "--episodes", "2", "--seeds", "2", "--jobs", "2",
                    "--out", "out", "--quiet"], capsys)[0] == 0       # the workers start here
    (later / "lpg_cli_late.py").write_text(
        'import gymnasium as gym\n'
        'gym.register("LinearPGCliLate-v0", max_episode_steps=20,\n'
        '             entry_point="gymnasium.envs.classic_control:CartPoleEnv")\n')
    monkeypatch.chdir(later)
    code, _, err = run_cli(["train", "lpg_cli_late:LinearPGCliLate-v0", "--episodes", "2",
                            "--seeds", "2", "--jobs", "2", "--out", "out", "--quiet"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (later / "out").iterdir() if p.is_dir()) == \
        ["seed-0", "seed-1"]
    assert all((later / "out" / s / "checkpoint.npz").is_file() for s in ("seed-0", "seed-1"))


def test_a_ctrl_c_that_breaks_the_worker_pool_is_an_interruption(tmp_path, capsys,
                                                                  monkeypatch):
    _pool_broken_by_an_early_ctrl_c(monkeypatch)
    out = tmp_path / "early"
    code, stdout, err = run_cli(["train", "CartPole-v1", "--episodes", "50", "--seeds", "2",
                                 "--jobs", "2", "--out", out, "--quiet"], capsys)
    assert code == 130 and stdout == ""
    assert "a worker process was still starting when Ctrl-C came" in err
    assert f"interrupted before any seed saved a run; nothing written in {out}" in err
    assert "Traceback" not in err and "error" not in err


def test_a_ctrl_c_that_breaks_the_worker_pool_keeps_the_checkpoints(tmp_path, capsys,
                                                                    monkeypatch):
    from linear_pg.checkpoint import save_checkpoint
    from linear_pg.rundir import read_config
    from linear_pg.trainer import train

    out = tmp_path / "early"
    run = train("CartPole-v1", episodes=4, seed=0, batch_episodes=2)
    run.config["episodes"] = 50           # a periodic checkpoint of seed 0's run, saved
    _pool_broken_by_an_early_ctrl_c(      # by this job before the pool broke
        monkeypatch, lambda: save_checkpoint(run, out / "seed-0" / "checkpoint.npz"))
    code, stdout, err = run_cli(["train", "CartPole-v1", "--episodes", "50", "--seeds", "2",
                                 "--jobs", "2", "--out", out, "--quiet"], capsys)
    assert code == 130, err                            # interrupted: the job is not complete
    assert "seed-0: kept its last checkpoint (4 episodes)" in err
    assert "seed-1: no checkpoint yet, nothing kept" in err
    assert "seed-0: 4 episodes" in stdout and "stopped: interrupted" in stdout
    assert read_config(out / "seed-0")["stopped_reason"] == "interrupted"
    assert (out / "learning_curve.png").is_file()


def test_an_earlier_runs_checkpoint_is_not_kept_as_this_jobs(runs, tmp_path, capsys,
                                                              monkeypatch):
    # training again into a run directory, stopped before it saved anything: the earlier
    # run's files stay as they were, and are not reported as this run's result
    import shutil

    out = tmp_path / "again"
    shutil.copytree(runs / "two", out)
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _pool_broken_by_an_early_ctrl_c(monkeypatch)
    code, stdout, err = run_cli(["train", "CartPole-v1", "--episodes", "50", "--seeds", "2",
                                 "--jobs", "2", "--lr", "0.05", "--out", out, "--quiet"],
                                capsys)
    assert code == 130 and stdout == ""
    assert err.count("no checkpoint of this run yet; its earlier files are left as they "
                     "were") == 2
    assert "interrupted before any seed saved a run" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_a_hard_stop_keeps_each_seeds_last_checkpoint(tmp_path, capsys):
    """After a second Ctrl-C the parent rebuilds unfinished seeds from their checkpoints."""
    from linear_pg.checkpoint import save_checkpoint
    from linear_pg.jobs import _keep_checkpoints
    from linear_pg.rundir import read_config, read_history
    from linear_pg.trainer import train

    run = train("CartPole-v1", episodes=4, seed=0, batch_episodes=2)
    run.config["episodes"] = 100          # as a periodic checkpoint of a longer run
    save_checkpoint(run, tmp_path / "seed-0" / "checkpoint.npz")
    _keep_checkpoints(tmp_path, [0, 1])
    err = capsys.readouterr().err
    assert "seed-0: kept its last checkpoint (4 episodes)" in err
    assert "seed-1: no checkpoint yet, nothing kept" in err
    assert read_config(tmp_path / "seed-0")["stopped_reason"] == "interrupted"
    assert read_history(tmp_path / "seed-0")["return"].size == 4
    assert not (tmp_path / "seed-1").exists()


def test_a_seed_stopped_by_another_seeds_error_is_not_labelled_a_ctrl_c(tmp_path, capsys):
    # several seeds in workers: one fails, the job stops the others in mid-training; their
    # periodic checkpoints say why, while a run that saved its own reason keeps it
    from linear_pg.checkpoint import save_checkpoint
    from linear_pg.jobs import _keep_checkpoints
    from linear_pg.rundir import read_config
    from linear_pg.trainer import train

    for seed, reason in ((0, None), (1, "error: RuntimeError: the env exploded")):
        run = train("CartPole-v1", episodes=4, seed=seed, batch_episodes=2)
        run.config["episodes"], run.stopped_reason = 100, reason
        save_checkpoint(run, tmp_path / f"seed-{seed}" / "checkpoint.npz")
    _keep_checkpoints(tmp_path, [0, 1], reason="interrupted: the job stopped at another "
                                               "seed's error (RuntimeError)")
    assert read_config(tmp_path / "seed-0")["stopped_reason"] == \
        "interrupted: the job stopped at another seed's error (RuntimeError)"
    assert read_config(tmp_path / "seed-1")["stopped_reason"] == \
        "error: RuntimeError: the env exploded"


# ---------------------------------------------------------------------------- resume
def test_resume_trains_interrupted_seeds_on_and_skips_finished_ones(tmp_path, capsys):
    from linear_pg.rundir import seed_dir, write_run

    def stop_at_update(k):
        def callback(run):
            if run.update_episodes.size == k:
                raise KeyboardInterrupt
        return callback

    out = tmp_path / "runs"
    for seed, callback in ((0, stop_at_update(3)), (1, None)):    # as `train` leaves them
        path = seed_dir(out, seed) / "checkpoint.npz"
        run = train("CartPole-v1", episodes=8, seed=seed, callback=callback,
                    checkpoint_path=path)
        write_run(run, seed_dir(out, seed), checkpoint=False)
    code, stdout, _ = run_cli(["resume", out, "--quiet"], capsys)
    assert code == 0
    assert f"{seed_dir(out, 0)}: 3 -> 8 episodes" in stdout
    assert f"{seed_dir(out, 1)}: 8 episodes already, nothing to resume" in stdout
    assert (out / "learning_curve.png").is_file()
    whole = train("CartPole-v1", episodes=8, seed=0)
    back = load_run_dir(seed_dir(out, 0))
    np.testing.assert_array_equal(back.policy.theta, whole.policy.theta)
    history = read_history(seed_dir(out, 0))
    np.testing.assert_array_equal(history["return"], whole.episode_returns)
    assert back.stopped_reason is None

    def stop_after_the_last(run):                 # Ctrl-C in the last update's callback
        if run.n_episodes == 8:
            raise KeyboardInterrupt
    run = train("CartPole-v1", episodes=8, seed=2, callback=stop_after_the_last,
                checkpoint_path=seed_dir(out, 2) / "checkpoint.npz")
    assert run.stopped_reason == "interrupted" and run.n_episodes == 8
    write_run(run, seed_dir(out, 2), checkpoint=False)
    code, stdout, _ = run_cli(["resume", seed_dir(out, 2), "--quiet"], capsys)
    assert code == 0 and "8 episodes already, nothing to resume" in stdout

    code, stdout, _ = run_cli(["resume", seed_dir(out, 1), "--episodes", "10", "--quiet"],
                              capsys)
    assert code == 0 and f"{seed_dir(out, 1)}: 8 -> 10 episodes" in stdout
    # the figure of all the seeds, which train wrote, is the one brought up to date
    assert f"wrote {out / 'learning_curve.png'}" in stdout
    assert not (seed_dir(out, 1) / "learning_curve.png").exists()
    np.testing.assert_array_equal(load_run_dir(seed_dir(out, 1)).policy.theta,
                                  train("CartPole-v1", episodes=10, seed=1).policy.theta)


def test_resume_trains_every_directory_even_two_of_one_seed(runs, tmp_path, capsys):
    # two directories trained with seed 0 (copied side by side): one of them was skipped
    import shutil

    out = tmp_path / "twins"
    for name in ("seed-0", "seed-1"):
        shutil.copytree(runs / "one" / "seed-0", out / name)
    code, stdout, _ = run_cli(["resume", out, "--episodes", "14", "--quiet"], capsys)
    assert code == 0
    assert f"{out / 'seed-0'}: 12 -> 14 episodes" in stdout
    assert f"{out / 'seed-1'}: 12 -> 14 episodes" in stdout


def test_resume_needs_every_checkpoint(runs, tmp_path, capsys):
    import shutil

    out = tmp_path / "two"
    shutil.copytree(runs / "two", out)
    (out / "seed-1" / "checkpoint.npz").unlink()
    code, _, err = run_cli(["resume", out], capsys)
    assert_one_line_error(code, err, "no checkpoint to resume from", "seed-1")
    code, _, err = run_cli(["resume", tmp_path / "nowhere"], capsys)
    assert_one_line_error(code, err, "does not exist")


def test_resume_runs_several_seeds_in_parallel_processes(tmp_path, capsys):
    from linear_pg.rundir import seed_dir, write_run

    out = tmp_path / "runs"
    for seed in (0, 1):                       # both stopped, at updates 2 and 3
        def stop(run, k=seed + 2):
            if run.update_episodes.size == k:
                raise KeyboardInterrupt
        run = train("Pendulum-v1", episodes=12, batch_episodes=3, seed=seed, callback=stop,
                    checkpoint_path=seed_dir(out, seed) / "checkpoint.npz")
        write_run(run, seed_dir(out, seed), checkpoint=False)
    code, stdout, _ = run_cli(["resume", out, "--jobs", "2", "--quiet"], capsys)
    assert code == 0
    assert f"{seed_dir(out, 0)}: 6 -> 12 episodes" in stdout
    assert f"{seed_dir(out, 1)}: 9 -> 12 episodes" in stdout
    for seed in (0, 1):
        whole = train("Pendulum-v1", episodes=12, batch_episodes=3, seed=seed)
        np.testing.assert_array_equal(load_run_dir(seed_dir(out, seed)).policy.theta,
                                      whole.policy.theta)


def test_seeds_trained_with_other_settings_in_one_dir_are_a_warning(tmp_path, capsys):
    # their returns were averaged into one figure (and by evaluate and plot) with only
    # "note: ... also holds seed-0, seed-1"
    out = tmp_path / "mix"
    base = ["train", "CartPole-v1", "--episodes", "3", "--out", out, "--quiet"]
    assert run_cli([*base, "--seeds", "2", "--baseline", "none"], capsys)[0] == 0
    code, _, err = run_cli([*base, "--seed", "2", "--baseline", "value"], capsys)
    assert code == 0
    for seed in (0, 1):
        assert (f'linear-pg train: warning: {out / f"seed-{seed}"} was trained with other '
                f'settings (baseline "none" there, "value" here)') in err   # the prefix was
    code, _, err = run_cli([*base, "--seed", "3", "--baseline", "value"], capsys)
    assert err.count("was trained with other settings") == 2      # seed-2 matches


def test_train_takes_the_features_policy_and_optimizer_kwargs(tmp_path, capsys):
    # the command line could not set them, so '--features rbf' on Acrobot (7^6 bumps, whose
    # error advises fewer centres and angle_pairs) could not be made to work there
    out = tmp_path / "acrobot"
    code, _, err = run_cli(["train", "Acrobot-v1", "--episodes", "2", "--features", "rbf",
                            "--features-kwargs", '{"n_centers": 3, "angle_pairs": [[0, 1], '
                            '[2, 3]]}', "--optimizer-kwargs", '{"damping": 0.1}',
                            "--out", out, "--quiet"], capsys)
    assert code == 0, err
    config = load_run_dir(out / "seed-0").config
    assert config["features_kwargs"] == {"n_centers": 3, "angle_pairs": [[0, 1], [2, 3]]}
    assert config["optimizer_kwargs"] == {"damping": 0.1}
    code, _, err = run_cli(["train", "pendulum", "--episodes", "1", "--batch", "1",
                            "--policy-kwargs", '{"log_std_mode": "fixed"}', "--out",
                            tmp_path / "p", "--quiet"], capsys)
    assert code == 0 and load_run_dir(tmp_path / "p" / "seed-0").config["policy_kwargs"] == {
        "log_std_mode": "fixed"}
    code, _, err = run_cli(["train", "cartpole", "--policy-kwargs", "[1]"], capsys)
    assert code == 2 and "--policy-kwargs: expected a JSON object" in err


def test_plot_draws_a_target_of_ones_own(runs, tmp_path, capsys, monkeypatch):
    from linear_pg import plotting

    seen = []
    draw = plotting.learning_curve_figure
    monkeypatch.setattr(plotting, "learning_curve_figure",
                        lambda *a, **k: seen.append(k["threshold"]) or draw(*a, **k))
    code, _, _ = run_cli(["plot", runs / "one", "--threshold", "195", "--out",
                          tmp_path / "t"], capsys)
    assert code == 0 and seen == [195.0]


def test_the_same_settings_written_otherwise_are_no_warning(tmp_path, capsys):
    # {"g": 10} and {"g": 10.0}, or Adam's own default written out, were "other settings"
    out = tmp_path / "same"
    base = ["train", "Pendulum-v1", "--episodes", "1", "--batch", "1", "--out", out, "--quiet"]
    assert run_cli([*base, "--seed", "0", "--env-kwargs", '{"g": 10}'], capsys)[0] == 0
    code, _, err = run_cli([*base, "--seed", "1", "--env-kwargs", '{"g": 10.0}'], capsys)
    assert code == 0 and "other settings" not in err
    out = tmp_path / "adam"
    base = ["train", "CartPole-v1", "--episodes", "2", "--out", out, "--quiet"]
    assert run_cli([*base, "--seed", "0"], capsys)[0] == 0
    code, _, err = run_cli([*base, "--seed", "1", "--optimizer-kwargs",
                            '{"beta1": 0.9, "eps": 1e-8}'], capsys)
    assert code == 0 and "other settings" not in err
    code, _, err = run_cli([*base, "--seed", "2", "--optimizer-kwargs", '{"beta1": 0.5}'],
                           capsys)
    assert code == 0 and err.count("was trained with other settings (optimizer_kwargs") == 2


def test_settings_differ_fills_in_defaults_and_compares_numbers_by_value():
    from linear_pg.rundir import settings_differ

    gauss = {"policy": "gaussian", "policy_kwargs": {}, "optimizer": "npg",
             "optimizer_kwargs": {"damping": 0.2}, "env_kwargs": {"g": 10}}
    same = {**gauss, "policy_kwargs": {"log_std_mode": "vector", "log_std_bounds": [-5, 2]},
            "optimizer_kwargs": {"damping": 0.2, "fisher": "sampled"},
            "env_kwargs": {"g": 10.0}, "policy_config": {"n_features": 3}, "resumed": {}}
    assert settings_differ(gauss, same) == []
    other = {**same, "policy_kwargs": {"init_log_std": 0.5}, "env_kwargs": {"g": 1}}
    assert settings_differ({"env_kwargs": {"g": True}}, {"env_kwargs": {"g": 1}}) == [
        "env_kwargs"]
    assert settings_differ(gauss, other) == ["env_kwargs", "policy_kwargs"]
    assert settings_differ(gauss, {**gauss, "optimizer": "adam"}) == [
        "optimizer", "optimizer_kwargs"]


def test_the_preset_mirror_is_kept_with_its_own_kwargs_and_a_note_says_when_dropped(
        tmp_path, capsys):
    # --features-kwargs / --policy-kwargs turned Pendulum's mirror off silently, even when
    # they were the preset's own
    from linear_pg.presets import get_preset

    preset = get_preset("Pendulum-v1")
    base = ["train", "Pendulum-v1", "--episodes", "1", "--batch", "1", "--quiet"]
    code, _, err = run_cli([*base, "--out", tmp_path / "own", "--policy-kwargs",
                            json.dumps(preset["policy_kwargs"]), "--features-kwargs",
                            json.dumps(preset["features_kwargs"])], capsys)
    assert code == 0 and "mirror" not in err
    assert load_run_dir(tmp_path / "own" / "seed-0").config["mirror"] is not None
    code, _, err = run_cli([*base, "--out", tmp_path / "other", "--policy-kwargs",
                            '{"init_log_std": 0.0}'], capsys)
    assert code == 0 and "preset mirror" in err and "add --mirror to keep it" in err
    assert load_run_dir(tmp_path / "other" / "seed-0").config["mirror"] is None
    code, _, err = run_cli([*base, "--out", tmp_path / "kept", "--mirror", "--policy-kwargs",
                            '{"init_log_std": 0.0}'], capsys)
    assert code == 0 and "preset mirror" not in err
    assert load_run_dir(tmp_path / "kept" / "seed-0").config["mirror"] is not None


def test_idle_sub_environments_are_said_once_in_the_options_names(tmp_path, capsys):
    # train's Python warning (trainer.py:NNN: UserWarning: n_envs=4 ... batch_episodes=1)
    # was printed by every seed, in the library's argument names
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "4", "--seeds", "2",
                            "--jobs", "1", "--n-envs", "4", "--out", tmp_path / "r",
                            "--quiet"], capsys)
    assert code == 0
    assert err.count("warning:") == 1 and "UserWarning" not in err
    assert ("linear-pg train: warning: --n-envs 4 is more than the episodes per update (the "
            "preset's --batch 1): 3 of the 4 sub-environments step idle; give --n-envs 1 or a "
            "larger --batch") in err
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "4", "--n-envs", "2",
                            "--batch", "2", "--out", tmp_path / "s", "--quiet"], capsys)
    assert code == 0 and "warning" not in err
    code, _, err = run_cli(["train", "Acrobot-v1", "--episodes", "7", "--n-envs", "7",
                            "--out", tmp_path / "a", "--quiet"], capsys)
    assert code == 0 and "(the default --batch 5)" in err          # no preset of its own


def test_settings_written_with_defaults_or_by_hand_compare_without_crashing():
    # the preset's policy kwargs with a class default written out dropped the mirror; a
    # hand-edited config.json whose policy is a list ended train with "unhashable type"
    from linear_pg.rundir import settings_differ
    from linear_pg.settings import resolved_settings

    kwargs = {"log_std_mode": "vector", "init_log_std": 0.5, "init_scale": 0}
    assert resolved_settings("Pendulum-v1", policy_kwargs=kwargs)["mirror"] is True
    assert resolved_settings("Pendulum-v1", features_kwargs={"width": 0.5})["mirror"] is None
    assert "policy" in settings_differ({"policy": ["softmax"], "policy_kwargs": {}},
                                       {"policy": "softmax", "policy_kwargs": {}})
    assert settings_differ({"env_kwargs": {"n": 2**53}}, {"env_kwargs": {"n": 2**53 + 1}})
    assert not settings_differ({"env_kwargs": {"g": np.array(10.0)}},
                               {"env_kwargs": {"g": 10}})


def test_resolved_settings_takes_trains_setting_names_only():
    from linear_pg import BernoulliPolicy
    from linear_pg.settings import resolved_settings

    with pytest.raises(TypeError, match=r"settings train does not take: \['batch'\]"):
        resolved_settings("CartPole-v1", batch=4)
    with pytest.raises(TypeError, match="names only: policy is a BernoulliPolicy object"):
        resolved_settings("CartPole-v1", policy=BernoulliPolicy(5))
    assert resolved_settings("CartPole-v1", policy="bernoulli")["lr"] == train(
        "CartPole-v1", episodes=1, seed=0, policy=BernoulliPolicy(5)).config["lr"]


def test_the_progress_bar_into_a_log_is_a_few_lines(capsys):
    # into a file or pipe, tqdm redrew it at every update: 30 KB for the README's first run
    from types import SimpleNamespace

    from linear_pg.jobs import Progress

    bar = Progress("CartPole-v1 seed 0")
    for n in range(1, 301):
        bar(SimpleNamespace(config={"episodes": 300}, n_episodes=n,
                            episode_returns=np.ones(n)))
    bar.close()
    err = capsys.readouterr().err
    frames = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert 1 <= len(frames) <= 3 and "300/300" in frames[-1]
    # the mean return shown is that of the episodes counted (it lagged one update)
    bar = Progress("x")
    for n in (1, 2):
        bar(SimpleNamespace(config={"episodes": 2}, n_episodes=n,
                            episode_returns=np.arange(1.0, n + 1)))
    assert bar.bar.postfix == "avg_return=1.5" and bar.bar.n == 2
    bar.close()


def test_an_unknown_option_points_at_its_commands_help(capsys):
    # "linear-pg: error: unrecognized arguments: --epsiodes 5 (see linear-pg --help)"
    code, _, err = run_cli(["train", "cartpole", "--epsiodes", "5"], capsys)
    assert code == 2 and err == ("linear-pg train: error: unrecognized arguments: "
                                 "--epsiodes 5 (see linear-pg train --help)\n")
    code, _, err = run_cli(["--bogus", "train", "cartpole"], capsys)     # before it
    assert code == 2 and err == ("linear-pg: error: unrecognized arguments: --bogus "
                                 "(see linear-pg --help)\n")


def test_resolved_settings_are_the_settings_train_records():
    from linear_pg.settings import resolved_settings

    for env_id in ("CartPole-v1", "Pendulum-v1"):
        resolved = resolved_settings(env_id, seed=3)
        config = train(env_id, episodes=1, seed=3).config
        for key in ("lr", "batch_episodes", "features_kwargs", "policy_kwargs",
                    "optimizer_kwargs", "gamma", "env_kwargs"):
            assert resolved[key] == config[key], (env_id, key)


def test_evaluate_refuses_a_seed_directory_given_twice(runs, capsys):
    # "evaluate DIR DIR" evaluated every seed twice, and "DIR DIR/seed-0" one of them
    code, _, err = run_cli(["evaluate", runs / "two", runs / "two" / "seed-1",
                            "--episodes", "1"], capsys)
    assert_one_line_error(code, err, "same seed directory more than once", "seed-1")


def test_warnings_print_under_the_running_command_and_it_is_restored_after():
    # worker processes print their warnings under the command the parent is running
    # (_console._running_command, once shadowed by the parser's def _command)
    assert _console.command_prefix() == "linear-pg train:"
    with _console.warnings_as_lines("resume"):
        assert _console.command_prefix() == "linear-pg resume:"
        assert _console._running_command == "resume"
    assert _console.command_prefix() == "linear-pg train:"


def test_running_out_of_memory_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    # --n-envs 100000000 ended in a traceback ("Unable to allocate 763. GiB"), exit 1
    from linear_pg import trainer

    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 763. GiB for an array")

    monkeypatch.setattr(trainer, "train", too_big)
    code, _, err = run_cli(["train", "CartPole-v1", "--episodes", "3", "--out",
                            tmp_path / "big", "--quiet"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip() == ("linear-pg train: error: out of memory (Unable to allocate 763. GiB "
                           "for an array); ask for fewer --n-envs, seeds or episodes")
    assert not (tmp_path / "big").exists()


def test_evaluate_refuses_more_sub_environments_than_episodes(runs, capsys):
    # it made all 100000000 of them for 2 episodes, until the machine ran out of memory
    code, _, err = run_cli(["evaluate", runs / "one", "--episodes", "2", "--n-envs",
                            "100000000"], capsys)
    assert code == 2
    assert "--n-envs must be <= episodes (2)" in err and len(err.strip().splitlines()) == 1


def test_a_diverged_run_exits_1_and_its_warning_is_one_line(tmp_path, capsys):
    # it exited 0, so `train ... && next-step` went on, and the warning came as Python's
    # "/path/trainer.py:1015: RuntimeWarning: ..." followed by a line of source
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")   # shown even if an earlier test raised it here
        code, out, err = run_cli(["train", "CartPole-v1", "--episodes", "40", "--optimizer",
                                  "sgd", "--lr", "1e305", "--batch", "2",
                                  "--no-normalize-weights", "--out", tmp_path / "div",
                                  "--quiet"], capsys)
    assert code == 1 and "stopped: diverged:" in out
    assert err.startswith("linear-pg train: warning: training stopped, diverged:")
    assert "RuntimeWarning" not in err and ".py:" not in err
    assert (tmp_path / "div" / "seed-0" / "checkpoint.npz").is_file()     # still saved
    # with several seeds the warnings come from the worker processes
    several = subprocess.run([sys.executable, "-m", "linear_pg", "train", "CartPole-v1",
                              "--episodes", "40", "--optimizer", "sgd", "--lr", "1e305",
                              "--batch", "2", "--no-normalize-weights", "--seeds", "2",
                              "--jobs", "2", "--out", str(tmp_path / "div2"), "--quiet"],
                             capture_output=True, text=True, timeout=120)
    assert several.returncode == 1
    lines = several.stderr.splitlines()
    assert several.stderr.count("linear-pg train: warning: training stopped, diverged:") == 2
    assert all(line.startswith("linear-pg train: warning: training stopped, diverged:")
               for line in lines if "diverged" in line), lines
    assert not any("RuntimeWarning" in line or ".py:" in line for line in lines), lines


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_run_killed_outright_leaves_one_runs_files(tmp_path, capsys):
    # killed while training again into a directory, it left the new run's checkpoint beside
    # the earlier run's history.csv and config.json (plot drew one, evaluate used the other)
    import os
    import signal
    import time

    from linear_pg.checkpoint import load_run

    out = tmp_path / "again"
    assert run_cli(["train", "CartPole-v1", "--episodes", "20", "--out", out, "--quiet"],
                   capsys)[0] == 0
    seed_dir = out / "seed-0"
    proc = subprocess.Popen([sys.executable, "-m", "linear_pg", "train", "CartPole-v1",
                             "--episodes", "100000", "--batch", "1", "--checkpoint-every", "3",
                             "--out", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while json.loads((seed_dir / "config.json").read_text())["config"]["episodes"] != 100000:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    config = json.loads((seed_dir / "config.json").read_text())
    run = load_run(seed_dir)
    with open(seed_dir / "history.csv") as f:
        rows = sum(1 for _ in f) - 1
    assert config["config"]["episodes"] == run.config["episodes"] == 100000
    # the files of one run, at most one period (3 updates of 1 episode) apart: a kill
    # between the writes leaves history.csv (written first) a period ahead
    counts = (rows, config["n_episodes"], run.n_episodes)
    assert max(counts) - min(counts) <= 3 and run.n_episodes <= rows


def test_a_history_that_cannot_be_written_does_not_stop_training(tmp_path, monkeypatch,
                                                                  capsys):
    # a write_run failing at a checkpoint (history.csv locked by an editor) ended the run
    # there, and the checkpoint of that update was lost
    from linear_pg import rundir

    write_run, calls = rundir.write_run, []

    def flaky(run, directory, *args, **kwargs):
        calls.append(run.n_episodes)
        if len(calls) == 2:
            raise PermissionError("history.csv is locked")
        return write_run(run, directory, *args, **kwargs)

    monkeypatch.setattr(rundir, "write_run", flaky)
    code, out, err = run_cli(["train", "CartPole-v1", "--episodes", "40", "--batch", "2",
                              "--checkpoint-every", "3", "--out", tmp_path / "locked",
                              "--quiet"], capsys)
    assert code == 0 and "seed-0: 40 episodes" in out
    assert "could not write history.csv and config.json after 12 episodes" in err
    assert len(calls) > 3                                    # it went on, and wrote again


def test_checkpoint_every_defaults_to_the_trainers():
    from linear_pg.trainer import CHECKPOINT_EVERY

    parser = build_parser()
    for command in ("train", "resume"):
        args = parser.parse_args([command, "CartPole-v1" if command == "train" else "runs"])
        assert args.checkpoint_every == CHECKPOINT_EVERY


def test_the_stop_message_promises_only_what_a_second_signal_does(tmp_path, capsys):
    # outside main a second SIGTERM has its default handler (the process ends, nothing
    # kept), yet the message offered it as a way to stop at once
    import signal

    from linear_pg._console import signals_as_ctrl_c
    from linear_pg.jobs import _StopOnSigint

    before = signal.getsignal(signal.SIGTERM)
    with signals_as_ctrl_c(), _StopOnSigint(str(tmp_path / "a")) as stop:
        stop._handle(signal.SIGTERM, None)
    assert "(another SIGTERM or a Ctrl-C to stop at once" in capsys.readouterr().err
    with _StopOnSigint(str(tmp_path / "b")) as stop:
        stop._handle(signal.SIGTERM, None)
    assert "(Ctrl-C again to stop at once" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before                # restored


def test_an_error_in_training_leaves_the_seed_directory_whole(tmp_path, capsys, monkeypatch):
    # an env that raised mid-run left checkpoint.npz alone (history.csv and config.json
    # came only at the end); now they are written from the checkpoint train saved
    import linear_pg.trainer as trainer

    collect, calls = trainer.collect_unchecked, []

    def fails_at_the_sixth_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("the env exploded")
        return collect(*args, **kwargs)

    monkeypatch.setattr(trainer, "collect_unchecked", fails_at_the_sixth_batch)
    out = tmp_path / "boom"
    with pytest.raises(RuntimeError, match="the env exploded"):
        main(["train", "CartPole-v1", "--episodes", "30", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert "seed-0: kept its last checkpoint (5 episodes)" in err
    with open(out / "seed-0" / "history.csv") as f:
        assert len(list(csv.DictReader(f))) == 5
    assert json.loads((out / "seed-0" / "config.json").read_text())["seed"] == 0
    # an error before training (a bad setting) writes nothing and says nothing more
    code, _, err = run_cli(["train", "CartPole-v1", "--gamma", "2", "--out",
                            tmp_path / "bad", "--quiet"], capsys)
    assert code == 2 and "kept" not in err and not (tmp_path / "bad" / "seed-0").exists()


def test_an_error_in_a_workers_training_leaves_its_seed_directory_whole(tmp_path, capsys,
                                                                        monkeypatch):
    # as with one seed: each seed that saved a checkpoint gets its history.csv from it
    (tmp_path / "lpg_cli_boom.py").write_text(
        'import gymnasium as gym\n'
        'from gymnasium.envs.classic_control import CartPoleEnv\n'
        'class Boom(CartPoleEnv):\n'
        '    steps = 0\n'
        '    def step(self, action):\n'
        '        Boom.steps += 1\n'
        '        if Boom.steps > 400:\n'
        '            raise RuntimeError("the env exploded")\n'
        '        return super().step(action)\n'
        'gym.register("LinearPGCliBoom-v0", max_episode_steps=20, entry_point=Boom)\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="the env exploded"):
        main(["train", "lpg_cli_boom:LinearPGCliBoom-v0", "--episodes", "100", "--seeds", "2",
              "--jobs", "2", "--checkpoint-every", "3", "--out", "out", "--quiet"])
    err = capsys.readouterr().err
    # a seed may not have started (both can land in one worker, whose env count is shared)
    saved = [s for s in ("seed-0", "seed-1") if (tmp_path / "out" / s / "checkpoint.npz").is_file()]
    assert saved
    reasons = []
    for seed in saved:
        assert f"{seed}: kept its last checkpoint" in err
        config = json.loads((tmp_path / "out" / seed / "config.json").read_text())
        reasons.append(config["stopped_reason"])
        assert (tmp_path / "out" / seed / "history.csv").is_file()
    # the seed that failed says so; one that the failure stopped while it trained (each
    # worker counts its own steps, so both may fail, or one first) says that, not "interrupted"
    assert "error: RuntimeError: the env exploded" in reasons
    assert set(reasons) <= {"error: RuntimeError: the env exploded",
                            "interrupted: the job stopped at another seed's error (RuntimeError)"}
