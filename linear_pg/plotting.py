"""Learning-curve figures: returns per episode over seeds, with a 95% band.

A curve is the moving average of one seed's episode returns. Over K seeds the figure shows
each seed's curve as a faint line, their mean as a bold line, and a 95% t-interval for that
mean, and marks the environment's reward threshold (``gymnasium.spec(id).reward_threshold``)
when it has one and the runs did not change its physics (``env_kwargs``). A single seed
shows its raw returns faintly under the moving average.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from ._files import check_output_file
from ._validation import as_float_array, check_interval, check_real
from .rundir import (
    CHECKPOINT_FILE,
    HISTORY_FILE,
    MOVING_AVERAGE_WINDOW,
    env_label,
    find_runs,
    moving_average,
    read_history,
    recorded_env,
    repeated_dirs,
)

FIGSIZE = (8.0, 5.0)
DPI = 100
"""Figures are FIGSIZE * DPI = 800 x 500 pixels."""


def t_interval(curves: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Mean over rows and the half-width of its Student-t confidence interval, per column.

    Parameters
    ----------
    curves : array of shape (K, n)
        One curve per seed, K >= 2.
    level : float in (0, 1), default 0.95

    Returns
    -------
    mean, half_width : arrays of shape (n,)

    Notes
    -----
    With sample mean m and standard deviation s over the K seeds, the interval is
    m +- t_{(1 + level)/2, K - 1} s / sqrt(K): it treats the seeds as independent draws
    and the seed-to-seed spread at each episode as roughly normal. With 10 seeds
    t = 2.26 for 95%.

    Examples
    --------
    >>> mean, half = t_interval(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> mean
    array([1., 2.])
    """
    curves = as_float_array(curves, "curves")
    level = check_real(level, "level", low=0.0, low_open=True, high=1.0, high_open=True)
    if curves.ndim != 2 or curves.shape[0] < 2:
        raise ValueError(f"curves must have shape (K, n) with K >= 2 seeds, "
                         f"got shape {curves.shape}")
    K = curves.shape[0]
    t = stats.t.ppf(0.5 + level / 2, df=K - 1)
    return curves.mean(axis=0), t * curves.std(axis=0, ddof=1) / np.sqrt(K)


def reward_threshold(env_id: str | None) -> float | None:
    """The env's ``reward_threshold`` from its gymnasium spec, or None."""
    if env_id is None:
        return None
    import gymnasium as gym

    try:
        return gym.spec(env_id).reward_threshold
    except gym.error.Error:
        return None


def plot_learning_curves(ax: Axes, returns: Sequence[np.ndarray], *,
                         label: str | None = None, color: str | None = None,
                         window: int = MOVING_AVERAGE_WINDOW,
                         bounds: tuple[float, float] | None = None) -> None:
    """Draw one group of seeds on ``ax``: faint per-seed curves, mean and 95% band.

    Parameters
    ----------
    ax : matplotlib Axes
    returns : sequence of 1-D arrays
        The episode returns of each seed, in training order.
    label : str, optional
        Name of the group in a comparison: only its mean line enters the legend, under
        this name. Without it every element gets a legend entry saying what it is.
    color : str, optional
    window : int, default 100
        Moving-average window in episodes.
    bounds : (low, high), optional
        The returns an episode can have, e.g. ``(0, 500)`` on CartPole-v1. The band is
        clipped to them: the mean return cannot leave them, but with few seeds the
        t-interval can (five seeds at 20, 20, 480, 480 and 480 give a band from -17 to
        609).

    Notes
    -----
    The mean and band cover the episodes that every seed reached (a seed stopped early
    would otherwise leave the mean to the seeds still running); the faint lines go on to
    each seed's end. One seed has no band: its raw returns are drawn faintly instead.
    """
    if len(returns) == 0:
        raise ValueError(f"returns must hold at least one seed's returns for {label!r}")
    if bounds is not None:
        bounds = check_interval(bounds, "bounds", not_a_pair=ValueError)
    # the axes' own colour cycle, which matplotlib exposes only privately
    color = color or ax._get_lines.get_next_color()  # type: ignore[attr-defined]

    def name(what: str, main: bool = False) -> str | None:
        return what if label is None else (label if main else None)

    curves = [moving_average(r, window) for r in returns]
    if len(curves) == 1:
        x = np.arange(1, curves[0].size + 1)
        ax.plot(x, returns[0], color=color, alpha=0.25, lw=0.8,
                label=name("return per episode"))
        what = (f"moving average ({window} episodes)" if curves[0].size > window else
                "mean of the episodes so far")      # the run is not longer than the window
        ax.plot(x, curves[0], color=color, lw=2, label=name(what, main=True))
        return
    for i, c in enumerate(curves):
        ax.plot(np.arange(1, c.size + 1), c, color=color, alpha=0.2, lw=0.8,
                label=name("each seed (moving average)") if i == 0 else None)
    n = min(c.size for c in curves)
    mean, half = t_interval(np.stack([c[:n] for c in curves]))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    x = np.arange(1, n + 1)
    ax.plot(x, mean, color=color, lw=2, label=name(f"mean of {len(curves)} seeds", main=True))
    ax.fill_between(x, low, high, color=color, alpha=0.25, lw=0,
                    label=name("95% t-interval of the mean"))


def learning_curve_figure(groups: Mapping[str, Sequence[np.ndarray]], *, title: str = "",
                          threshold: float | None = None,
                          window: int = MOVING_AVERAGE_WINDOW,
                          threshold_label: str = "reward threshold",
                          bounds: tuple[float, float] | None = None) -> Figure:
    """A figure of one or several groups of seeds (e.g. estimator variants) on one axes.

    Parameters
    ----------
    groups : mapping of label -> sequence of 1-D return arrays (one per seed)
        One group: the legend says what each element is. Several: the legend names the
        groups (their mean lines) and its title says what lines, bands and faint lines are.
    title : str, optional
    threshold : float, optional
        Drawn as a dashed horizontal line (the env's reward threshold).
    window : int, default 100
    threshold_label : str, default "reward threshold"
        Its legend entry, followed by the value: ``"target"`` for a return of one's own.
    bounds : (low, high), optional
        The returns an episode can have; each group's band is clipped to them (see
        :func:`plot_learning_curves`).

    Returns
    -------
    matplotlib.figure.Figure of FIGSIZE inches at DPI.
    """
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a mapping of label -> list of return arrays (one "
                        f"per seed), e.g. {{'my run': [returns]}}, got "
                        f"{type(groups).__name__}")
    if len(groups) == 0:
        raise ValueError("groups must hold at least one group of return arrays, got none")
    if threshold is not None:
        threshold = check_real(threshold, "threshold")
        if not np.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold}")
    empty = [label for label, returns in groups.items() if len(returns) == 0]
    if empty:
        raise ValueError(f"every group needs at least one return array (one per seed); "
                         f"groups {empty} have none")
    # a bare Figure (no pyplot): no GUI backend is touched, and the caller's is left alone
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    compare = len(groups) > 1
    for label, returns in groups.items():
        plot_learning_curves(ax, list(returns), label=label if compare else None,
                             window=window, bounds=bounds)
    if threshold is not None:
        ax.axhline(threshold, color="black", ls="--", lw=1,
                   label=f"{threshold_label} ({threshold:g})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training episode")
    ax.set_ylabel("episode return (undiscounted)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    longest = max(r.size for returns in groups.values() for r in map(np.asarray, returns))
    average = (f"the {window}-episode moving average" if longest > window else
               "the mean of the episodes so far")
    legend_title = (f"mean over seeds of {average};\n"
                    f"band: 95% t-interval; faint: each seed") if compare else None
    ax.legend(loc="best", fontsize="small", title=legend_title, title_fontsize="small")
    return fig


def save_figure(fig: Figure, out: str | os.PathLike,
                formats: str | Sequence[str] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` once per format as ``out`` with that format's suffix; returns the paths.

    ``formats`` is one format ("png") or several, each one matplotlib writes.

    A suffix of ``out`` that is one of ``formats`` is replaced (``fig.png`` -> ``fig.png``,
    ``fig.svg``); any other that is not an image format is part of the name (``cmp.1`` ->
    ``cmp.1.png``), and another image format is an error (``fig.pdf``: the figure is not
    written as PDF).
    """
    formats = [formats] if isinstance(formats, str) else list(formats)
    supported = FigureCanvasBase.get_supported_filetypes()
    unknown = [f for f in formats if not isinstance(f, str) or f not in supported]
    if not formats or unknown:
        raise ValueError(f"formats must name image formats such as 'png' or 'svg' (one of "
                         f"{sorted(supported)}), got {formats!r}")
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    if suffix in formats:
        out = out.with_suffix("")
    elif suffix in supported:
        raise ValueError(f"out {str(out)!r} names a .{suffix} file, but the figure is written "
                         f"as {' and '.join(f'.{f}' for f in formats)}: give a name with one "
                         f"of those suffixes or none")
    paths = [out.with_name(f"{out.name}.{fmt}") for fmt in formats]
    check_output_file(paths[0], "out", "learning_curve.png")   # a clear error, not OSError's
    out.parent.mkdir(parents=True, exist_ok=True)
    for p in paths:
        fig.savefig(p, dpi=DPI)
    return paths


def load_returns(path: str | os.PathLike
                 ) -> tuple[list[np.ndarray], tuple[str | None, dict[str, Any]]]:
    """Episode returns of every seed under a run directory, and the env they trained on:
    its id and env_kwargs, ``(None, {})`` if not recorded or not the same for every seed."""
    runs = find_runs(path)
    returns = [_returns(r) for r in runs]
    envs = {env_label(*env): env for env in (recorded_env(r) for r in runs)}
    return returns, envs.popitem()[1] if len(envs) == 1 else (None, {})


def _returns(run_dir: Path) -> np.ndarray:
    """A seed directory's episode returns: from history.csv, else from its checkpoint (a
    run saved with ``train(..., checkpoint_path=...)`` has no history.csv).

    When both are there, either may stand in for the other, with a warning: the
    checkpoint's returns are drawn when history.csv cannot be read (cut mid-row) or holds
    another number of episodes (cut at a row's end, or not rewritten after the
    checkpoint), since the checkpoint is written atomically and checked; history.csv's
    when the checkpoint cannot be read. Only when neither can is it an error (history's).
    """
    from .checkpoint import load_checkpoint

    history, checkpoint = run_dir / HISTORY_FILE, run_dir / CHECKPOINT_FILE
    if not history.is_file():
        return load_checkpoint(checkpoint)["history"]["episode_returns"]
    has_checkpoint = checkpoint.is_file()       # looked at once: it may appear meanwhile
    try:
        returns = read_history(run_dir)["return"]
    except ValueError as err:
        if not has_checkpoint:
            raise
        returns, problem = None, err
    if returns is not None and not has_checkpoint:
        return returns
    try:
        saved = load_checkpoint(checkpoint)["history"]["episode_returns"]
    except ValueError as err:
        if returns is None:
            raise problem from err
        _warn(f"{str(checkpoint)!r} cannot be read ({err}): drawing history.csv's returns")
        return returns
    if returns is None:
        _warn(f"{problem}: drawing the returns of the checkpoint beside it")
    elif saved.size != returns.size:
        _warn(f"{str(history)!r} holds {returns.size} episodes, the checkpoint beside it "
              f"{saved.size}: drawing the checkpoint's (history.csv is damaged, or was not "
              f"rewritten after the checkpoint)")
    else:
        return returns
    return saved


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def group_labels(paths: Sequence[str | os.PathLike],
                 labels: Sequence[str] | None = None) -> list[str]:
    """Distinct legend names of run directories: the given labels, or the directory names.

    Directory names that collide (``x/run`` and ``y/run``) are replaced by the paths as
    given; labels that repeat, or the same directory listed twice without labels, are an
    error.
    """
    twice = repeated_dirs(list(paths))
    if twice and labels is None:
        raise ValueError(f"paths name the same run directory more than once: {twice}; give "
                         f"labels to draw it twice")
    if labels is not None:
        labels = [str(label) for label in labels]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"labels must be distinct (one legend name per path), "
                             f"got {repeated} more than once")
        return labels
    resolved = [Path(p).resolve() for p in paths]
    names = [p.name or str(p) for p in resolved]
    if len(set(names)) == len(names):
        return names
    given = [str(Path(p)) for p in paths]
    return given if len(set(given)) == len(given) else [str(p) for p in resolved]


def plot_run_dirs(paths: str | os.PathLike | Sequence[str | os.PathLike],
                  out: str | os.PathLike | None = None, *,
                  labels: Sequence[str] | None = None, title: str | None = None,
                  window: int = MOVING_AVERAGE_WINDOW,
                  threshold: float | None = None) -> list[Path]:
    """Learning curves of run directories, written as PNG and SVG.

    Parameters
    ----------
    paths : run directory, or sequence of them
        Each is one group: a seed directory or a directory of seed-* directories.
    out : path, optional
        Figure file (its suffix is replaced by .png and .svg). Default, for one path only:
        ``<path>/learning_curve``; required with several, whose comparison does not
        belong inside (and must not replace the figure of) the first one.
    labels : sequence of str, optional
        Legend names of the groups; default: the directory names.
    title : str, optional
        Default: the env id, with its env_kwargs if it was trained with any
        (``Pendulum-v1 with {"g": 2.0}``), when all runs share them. Runs of different
        envs are plotted on the same axes, each label followed by its env.
    window : int, default 100
    threshold : float, optional
        A target return drawn as a dashed line, labelled "target"; default: the env's
        reward threshold (gymnasium spec), when all runs share the registered env unchanged.

    Returns
    -------
    The paths written, PNG first.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]                     # one run directory, not its characters
    if len(paths) == 0:
        raise ValueError("paths must name at least one run directory")
    if len(paths) > 1 and out is None:
        raise ValueError(f"out is required with several run directories ({len(paths)}): "
                         f"the default {str(Path(paths[0]) / 'learning_curve')!r} would "
                         f"replace the figure of the first one")
    if labels is not None and len(labels) != len(paths):
        raise ValueError(f"labels must have one name per path ({len(paths)}), "
                         f"got {len(labels)}")
    labels = group_labels(paths, labels)
    groups, envs, group_envs = {}, {}, []
    for label, p in zip(labels, paths, strict=True):
        groups[label], env = load_returns(p)
        envs[env_label(*env)] = env
        group_envs.append(env_label(*env) if env[0] is not None else "env not recorded")
    if len(envs) > 1:      # returns of different envs on one axes: say which is which
        groups = {f"{label} ({where})": returns
                  for (label, returns), where in zip(groups.items(), group_envs, strict=True)}
    env_id, env_kwargs = envs.popitem()[1] if len(envs) == 1 else (None, {})
    if title is None:
        title = (env_label(env_id, env_kwargs) if env_id is not None else
                 "runs of different environments" if len(envs) > 1 else "")
    # Other physics (env_kwargs) need not share the registered env's threshold.
    threshold_label = "target"
    if threshold is None:
        threshold = reward_threshold(env_id) if not env_kwargs else None
        threshold_label = "reward threshold"
    else:
        threshold = check_real(threshold, "threshold")
    fig = learning_curve_figure(groups, title=title, threshold=threshold, window=window,
                                threshold_label=threshold_label)
    return save_figure(fig, out if out is not None else Path(paths[0]) / "learning_curve")
