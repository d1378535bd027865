"""save_gif: frame merging, timing, one-frame GIFs and failed writes."""

import imageio.v3 as iio
import numpy as np
import pytest

from linear_pg.render import save_gif


def frame(value: int) -> np.ndarray:
    return np.full((8, 10, 3), value, dtype=np.uint8)


def test_identical_frames_are_merged_and_shown_longer(tmp_path):
    path, n = save_gif([frame(0), frame(0), frame(200)], tmp_path / "a.gif", fps=10)
    assert n == 2
    assert iio.imread(path, index=None).shape[0] == 2
    assert iio.immeta(path, index=0)["duration"] == pytest.approx(200)


@pytest.mark.parametrize("frames", [[frame(7)], [frame(7)] * 3])
def test_a_gif_with_one_distinct_frame_is_written(tmp_path, frames):
    # Pillow took a list of durations for a single frame and failed with a TypeError
    path, n = save_gif(frames, tmp_path / "one.gif", fps=10)
    assert n == 1
    image = iio.imread(path, index=None)
    assert image.shape[0] == 1 and image.shape[1:3] == (8, 10)
    assert iio.immeta(path, index=0)["duration"] == pytest.approx(100 * len(frames))


def test_a_failed_write_keeps_the_earlier_gif_and_leaves_no_file(tmp_path, monkeypatch):
    path, _ = save_gif([frame(0), frame(50)], tmp_path / "keep.gif")
    before = path.read_bytes()

    def broken(target, *args, **kwargs):     # writes part of a GIF, then fails
        with open(target, "wb") as f:
            f.write(b"GIF89a")
        raise OSError("disk full")

    monkeypatch.setattr(iio, "imwrite", broken)
    with pytest.raises(OSError, match="disk full"):
        save_gif([frame(90)], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gif"]


@pytest.mark.parametrize("name", ["episode.png", "episode", "episode.gif.txt"])
def test_a_path_that_is_not_a_gif_is_refused_before_anything_is_written(tmp_path, name):
    with pytest.raises(ValueError, match=r"path must name a \.gif file .*got '.*" + name):
        save_gif([frame(0)], tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    path, _ = save_gif([frame(0)], tmp_path / "UPPER.GIF")     # any case of the suffix
    assert path.name == "UPPER.GIF"


def test_render_gif_checks_the_path_before_recording(monkeypatch):
    import linear_pg.render as render

    def never(*args, **kwargs):
        raise AssertionError("the episode was recorded before the path was checked")

    monkeypatch.setattr(render, "record_episode", never)
    with pytest.raises(ValueError, match=r"\.gif"):
        render.render_gif(object(), "episode.mp4")
    with pytest.raises(TypeError, match="path must be a str or Path"):
        render.render_gif(object(), 3)


def test_a_frame_rate_a_gif_cannot_play_is_refused(tmp_path, monkeypatch):
    # fps 1000 wrote frames of 0 ms, which browsers play at about 10 per second
    from linear_pg import render
    from linear_pg.trainer import train

    assert save_gif([frame(0), frame(9)], tmp_path / "ok.gif", fps=50)[1] == 2
    assert iio.immeta(tmp_path / "ok.gif", index=0)["duration"] == pytest.approx(20)
    with pytest.raises(ValueError, match=r"fps must be <= 50, got 1000: a GIF stores frame "
                                         r"times in hundredths of a second"):
        save_gif([frame(0), frame(9)], tmp_path / "fast.gif", fps=1000)
    run = train("CartPole-v1", episodes=2, seed=0)
    monkeypatch.setattr(render, "record_episode", lambda *a, **k: pytest.fail("recorded"))
    with pytest.raises(ValueError, match="fps must be <= 50"):   # before the episode
        render.render_gif(run, tmp_path / "fast.gif", fps=1000)
    assert not list(tmp_path.glob("fast*"))


def test_a_gif_path_that_cannot_be_written_is_refused_before_the_episode(tmp_path,
                                                                          monkeypatch):
    # a path under an existing file was a raw "[Errno 17] File exists", after the episode
    from linear_pg import render
    from linear_pg.trainer import train

    (tmp_path / "a_file").write_text("x")
    run = train("CartPole-v1", episodes=2, seed=0)
    monkeypatch.setattr(render, "record_episode", lambda *a, **k: pytest.fail("recorded"))
    with pytest.raises(ValueError, match=r"path '.*a_file/x.gif' cannot be created: .* is an "
                                         r"existing file, not a directory"):
        render.render_gif(run, tmp_path / "a_file" / "x.gif")
