"""Animated GIFs of a policy acting in its environment.

The classic-control environments draw each frame with pygame when made with
``render_mode="rgb_array"``; no window is opened (SDL's "dummy" video driver is selected
unless another one is set), so this works on a headless machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._files import check_output_file, replacing
from ._threads import one_blas_thread
from ._validation import as_generator, check_int, check_real
from .features import FeatureMap
from .policies.base import LinearPolicy
from .rollout import env_action

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


@one_blas_thread
def record_episode(policy: LinearPolicy, features: FeatureMap, env_id: str, *,
                   seed: int = 0, mean_action: bool = True, frame_skip: int = 1,
                   max_frames: int | None = None, env_kwargs: dict[str, Any] | None = None
                   ) -> tuple[list[np.ndarray], float]:
    """Run one episode and keep its rgb frames.

    Parameters
    ----------
    policy : LinearPolicy
    features : FeatureMap (fitted)
    env_id : str
    seed : int, default 0
        The seed of ``env.reset`` and, with ``mean_action=False``, of the action samples.
    mean_action : bool, default True
        Act with the most likely / mean action instead of sampling.
    frame_skip : int, default 1
        Keep every ``frame_skip``-th frame (the first is always kept).
    max_frames : int, optional
        Stop keeping frames after this many (the episode is still run to its end, so the
        return is that of the whole episode).
    env_kwargs : dict, optional
        Passed to ``gymnasium.make``.

    Returns
    -------
    frames : list of uint8 arrays of shape (height, width, 3)
    episode_return : float
    """
    from .envs import make_env
    from .models import check_features_fit

    frame_skip = check_int(frame_skip, "frame_skip", low=1)
    if max_frames is not None:
        max_frames = check_int(max_frames, "max_frames", low=1)
    rng = as_generator(seed)  # also checks the seed
    probe = make_env(env_id, env_kwargs)
    modes = probe.metadata.get("render_modes", [])
    try:
        if "rgb_array" not in modes:
            raise ValueError(f"{env_id!r} cannot render frames: its render modes are "
                             f"{list(modes)}, without 'rgb_array'")
        check_features_fit(features, probe)
    finally:
        probe.close()
    env = make_env(env_id, {**(env_kwargs or {}), "render_mode": "rgb_array"})
    frames: list[np.ndarray] = []
    total, t = 0.0, 0
    try:
        s, _ = env.reset(seed=seed)
        done = False
        while not done:
            if t % frame_skip == 0 and (max_frames is None or len(frames) < max_frames):
                frames.append(np.asarray(env.render(), dtype=np.uint8))
            x = features.transform(s)
            a = (policy.act(x) if mean_action else policy.sample(x, rng))[0]
            s, r, terminated, truncated, _ = env.step(env_action(env.action_space, a))
            total += float(r)
            done = terminated or truncated
            t += 1
        if t % frame_skip == 0 and (max_frames is None or len(frames) < max_frames):
            frames.append(np.asarray(env.render(), dtype=np.uint8))  # the final state
    finally:
        env.close()
    return frames, total


def gif_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a ValueError unless it names a .gif file (any case) that can
    be written: the file written is a GIF whatever its name says."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path ending in .gif, got "
                        f"{type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must name a .gif file (an animated GIF is written), got "
                         f"{str(path)!r}")
    return check_output_file(path, "path", "episode.gif")   # writable, before the episode


MAX_GIF_FPS = 50.0
"""The fastest frame rate a GIF plays as asked: 2/100 s per frame."""


def _check_fps(fps: object) -> float:
    """``fps`` as a float in (0, MAX_GIF_FPS], or a ValueError that says why."""
    fps = check_real(fps, "fps", low=0.0, low_open=True)
    if fps > MAX_GIF_FPS:
        raise ValueError(f"fps must be <= {MAX_GIF_FPS:g}, got {fps:g}: a GIF stores frame "
                         f"times in hundredths of a second, and browsers show shorter frames "
                         f"slower, not faster (to play faster, keep every n-th frame: "
                         f"frame_skip, --frame-skip)")
    return fps


def save_gif(frames: list[np.ndarray], path: str | os.PathLike, *, fps: float = 30.0,
             scale: float = 1.0) -> tuple[Path, int]:
    """Write frames as a looping GIF with imageio.

    Parameters
    ----------
    frames : list of uint8 arrays (height, width, 3), at least one
    path : str or Path
    fps : float in (0, 50], default 30
        Frames per second of the animation. A GIF counts frame times in hundredths of a
        second, and browsers play frames under 2/100 s slowly (at about 10 per second),
        so more than 50 is refused (``MAX_GIF_FPS``).
    scale : float in (0, 1], default 1
        Shrink each frame by this factor (smaller file).

    Returns
    -------
    path, and the number of frames in the GIF

    Notes
    -----
    A frame identical to the one before it (after scaling) is not written again: the
    previous frame is shown for longer instead. Pillow's GIF writer would merge it anyway;
    doing it here keeps the timing and makes the frame count known.
    """
    import imageio.v3 as iio
    from PIL import Image

    path = gif_path(path)
    if len(frames) == 0:
        raise ValueError("frames must hold at least one frame, got none")
    fps = _check_fps(fps)
    scale = check_real(scale, "scale", low=0.0, low_open=True, high=1.0)
    if scale < 1.0:
        h, w = frames[0].shape[:2]
        size = (max(int(w * scale), 1), max(int(h * scale), 1))
        frames = [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS))
                  for f in frames]
    kept, durations = [frames[0]], [1000.0 / fps]    # milliseconds per frame
    for f in frames[1:]:
        if np.array_equal(f, kept[-1]):
            durations[-1] += 1000.0 / fps
        else:
            kept.append(f)
            durations.append(1000.0 / fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Pillow takes a list of durations only for an animation; one frame gets one number.
    duration = durations if len(kept) > 1 else durations[0]
    with replacing(path) as tmp:          # an earlier GIF survives a failed write
        iio.imwrite(tmp, np.stack(kept), extension=".gif", duration=duration, loop=0)
    return path, len(kept)


def render_gif(run: Any, path: str | os.PathLike, *, seed: int = 0, mean_action: bool = True,
               frame_skip: int = 1, max_frames: int | None = None, fps: float | None = None,
               scale: float = 1.0, env_kwargs: dict[str, Any] | None = None
               ) -> tuple[Path, int, float]:
    """One episode of a trained :class:`linear_pg.run.Run` as a GIF.

    ``fps`` defaults to the env's ``render_fps`` divided by ``frame_skip`` (real time),
    at most 50 (``MAX_GIF_FPS``: a faster env plays slower than real time unless
    ``frame_skip`` thins its frames). ``env_kwargs`` replace the run's own (the same policy
    under other physics).

    Returns
    -------
    path, number of frames in the GIF, episode return
    """
    from .envs import make_env

    path = gif_path(path)                  # before the episode is recorded, not after
    if fps is not None:
        fps = _check_fps(fps)
    if env_kwargs is None:
        env_kwargs = run.config.get("env_kwargs", {})
    frames, total = record_episode(run.policy, run.features, run.env_id, seed=seed,
                                   mean_action=mean_action, frame_skip=frame_skip,
                                   max_frames=max_frames, env_kwargs=env_kwargs)
    if fps is None:
        probe = make_env(run.env_id, env_kwargs)
        fps = min(probe.metadata.get("render_fps", 30) / frame_skip, MAX_GIF_FPS)
        probe.close()
    path, n_frames = save_gif(frames, path, fps=fps, scale=scale)
    return path, n_frames, total
