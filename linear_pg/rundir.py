"""Run directories: what ``linear-pg train`` leaves on disk, and how it is read back.

One trained seed is one directory::

    DIR/seed-0/history.csv      one row per training episode (see HISTORY_COLUMNS)
    DIR/seed-0/config.json      env_id, seed, every hyperparameter used, stop reason
    DIR/seed-0/checkpoint.npz   the policy and fitted features (linear_pg.checkpoint)

Several seeds are sibling ``seed-<k>`` directories under one parent, which is what
:func:`find_runs` accepts as well as a single seed directory.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any, overload

import numpy as np

from ._files import replacing
from ._json import comparable, with_defaults
from ._validation import as_float_array, check_int

HISTORY_FILE = "history.csv"
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.npz"
MOVING_AVERAGE_WINDOW = 100
"""Episodes in the moving average (gymnasium's thresholds are 100-episode averages)."""

HISTORY_COLUMNS = ("episode", "return", "length", "moving_average", "update", "grad_norm",
                   "entropy", "mean_std", "wall_time")
"""Columns of history.csv: ``moving_average`` is the trailing mean of ``return``; the
last four are those of the update whose batch held the episode (see ``Run.history``)."""

_SEED_DIR = re.compile(r"^seed-(\d+)$")


def moving_average(x: object, window: int = MOVING_AVERAGE_WINDOW) -> np.ndarray:
    """Trailing mean over the last ``window`` values, shape of ``x``.

    The first ``window - 1`` entries average the values seen so far (a shorter window), so
    the curve starts at the first return instead of ``window`` episodes late.

    Examples
    --------
    >>> moving_average([1.0, 3.0, 5.0, 7.0], window=2)
    array([1., 2., 4., 6.])
    """
    x = as_float_array(x, "x")
    window = check_int(window, "window", low=1)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    c = np.concatenate([[0.0], np.cumsum(x)])
    n = np.arange(1, x.size + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def seed_dir(out: str | os.PathLike, seed: int) -> Path:
    """``out/seed-<seed>``."""
    return Path(out) / f"seed-{seed}"


def write_run(run: Any, directory: str | os.PathLike,
              window: int = MOVING_AVERAGE_WINDOW, *, checkpoint: bool = True
              ) -> dict[str, Path]:
    """Write a :class:`linear_pg.run.Run` as history.csv, config.json and checkpoint.npz.

    Each file is written to a temporary file beside it and renamed over it, so a process
    killed while writing leaves the earlier file whole, not a truncated one.

    config.json holds the env id, seed, stopped_reason, number of episodes, the moving
    average's window, the run's ``config`` (its settings) and the versions of linear_pg,
    NumPy and gymnasium that wrote it (same seed, same returns holds for the same ones).

    Parameters
    ----------
    run : Run
    directory : path
        Created if needed.
    window : int, default 100
        Episodes in history.csv's moving average.
    checkpoint : bool, default True
        Save checkpoint.npz. False when ``train(..., checkpoint_path=directory /
        "checkpoint.npz")`` has already saved this run there (it saves at the end of
        training, interrupted or not), so the same file is not written twice.

    Returns
    -------
    dict mapping "history", "config" and "checkpoint" to their paths.
    """
    from .checkpoint import library_versions, serialized_run, write_archive

    archive = serialized_run(run)   # check_storable's checks, before anything is written
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"history": directory / HISTORY_FILE, "config": directory / CONFIG_FILE,
             "checkpoint": directory / CHECKPOINT_FILE}
    history = run.history()
    history["moving_average"] = moving_average(history["return"], window)
    with replacing(paths["history"]) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_COLUMNS)
        writer.writerows(zip(*(history[c].tolist() for c in HISTORY_COLUMNS), strict=True))
    config = {"env_id": run.env_id, "seed": run.seed, "stopped_reason": run.stopped_reason,
              "n_episodes": run.n_episodes, "moving_average_window": window,
              "config": run.config, "versions": library_versions()}
    with replacing(paths["config"]) as tmp:
        tmp.write_text(json.dumps(config, indent=2) + "\n")
    if checkpoint:
        write_archive(archive, paths["checkpoint"])      # checked above: not built twice
    return paths


def find_runs(path: str | os.PathLike) -> list[Path]:
    """The seed directories under ``path``: itself if it holds a run, else its seed-* dirs.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is a file, or neither a run directory nor a directory of seed-* run
        directories.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        hint = (f"; the run directory that holds it is {str(path.parent)!r}"
                if path.name in (HISTORY_FILE, CHECKPOINT_FILE) else "")
        raise ValueError(f"{str(path)!r} is a file, expected a run directory{hint}")
    if not path.is_dir():
        raise FileNotFoundError(f"run directory {str(path)!r} does not exist")
    if (path / HISTORY_FILE).is_file() or (path / CHECKPOINT_FILE).is_file():
        return [path]
    seeds = sorted((int(m.group(1)), p) for p in path.iterdir()
                   if p.is_dir() and (m := _SEED_DIR.match(p.name)))
    runs = [p for _, p in seeds
            if (p / HISTORY_FILE).is_file() or (p / CHECKPOINT_FILE).is_file()]
    if not runs:
        raise ValueError(f"{str(path)!r} is not a run directory: it holds no {HISTORY_FILE} "
                         f"or {CHECKPOINT_FILE}, and no seed-<k> directories that do")
    return runs


def read_history(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """The columns of ``run_dir/history.csv`` as float arrays (``episode`` and friends too).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it lacks the ``episode`` and ``return`` columns or holds non-numbers.
    """
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not {"episode", "return"} <= set(rows[0]):
        raise ValueError(f"{str(path)!r} is not a linear_pg history: expected a header with "
                         f"'episode' and 'return', got {rows[0] if rows else 'an empty file'}")
    try:
        data = np.array(rows[1:], dtype=np.float64).reshape(len(rows) - 1, len(rows[0]))
    except ValueError as err:
        raise ValueError(f"{str(path)!r} holds a row that is not numeric or has the wrong "
                         f"number of fields ({err})") from err
    return {name: data[:, i] for i, name in enumerate(rows[0])}


def read_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The contents of ``run_dir/config.json``; ``{}`` if there is none."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ValueError(f"{str(path)!r} must hold a JSON object, got {type(config).__name__}")
    if not isinstance(config.get("env_id", ""), str) \
            or not isinstance(config.get("config", {}), dict) \
            or not isinstance(config.get("config", {}).get("env_kwargs") or {}, dict):
        raise ValueError(f"{str(path)!r} is not a linear_pg config: its env_id must be a "
                         f"string and its config (with env_kwargs) an object")
    return config


@overload
def env_label(env_id: str, env_kwargs: dict[str, Any] | None = None) -> str: ...
@overload
def env_label(env_id: str | None, env_kwargs: dict[str, Any] | None = None) -> str | None: ...
def env_label(env_id: str | None, env_kwargs: dict[str, Any] | None = None) -> str | None:
    """'Pendulum-v1' or 'Pendulum-v1 with {"g": 2.0}': an env and its arguments (None, an
    id not recorded, stays None without arguments)."""
    return f"{env_id} with {json.dumps(env_kwargs, sort_keys=True)}" if env_kwargs else env_id


def recorded_config(run_dir: str | os.PathLike) -> tuple[str | None, dict[str, Any]]:
    """The env id and training config a seed directory was trained with: from its
    config.json, else from its checkpoint's metadata; ``(None, {})`` if neither can be read."""
    try:
        saved = read_config(run_dir)
    except ValueError:
        saved = {}
    if saved.get("env_id") is not None:
        return saved["env_id"], saved.get("config", {})
    path = Path(run_dir) / CHECKPOINT_FILE
    if path.is_file():
        from .checkpoint import load_checkpoint

        try:
            meta = load_checkpoint(path)["meta"]
        except (OSError, ValueError):
            return None, {}
        return meta["env_id"], meta["config"]
    return None, {}


def recorded_env(run_dir: str | os.PathLike) -> tuple[str | None, dict[str, Any]]:
    """The env id and env_kwargs a seed directory was trained with: from its config.json,
    else from its checkpoint's metadata; ``(None, {})`` if neither can be read."""
    env_id, config = recorded_config(run_dir)
    return env_id, config.get("env_kwargs") or {}


def repeated_dirs(paths: list[str | os.PathLike]) -> list[str]:
    """The paths (as given) that name a directory another of ``paths`` names too."""
    resolved = [Path(p).resolve() for p in paths]
    return sorted({str(p) for p, r in zip(paths, resolved, strict=True)
                   if resolved.count(r) > 1})


def settings_differ(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The training settings (``config`` entries) in which two recorded runs differ.

    Numbers compare by value (``{"g": 10}`` is ``{"g": 10.0}``), a policy's or optimizer's
    keyword arguments with their defaults filled in (``{"beta1": 0.9}`` is Adam's ``{}``),
    and ``features_kwargs`` only through the feature map they built (``features``). What
    a run does not choose (``policy_config``, derived from the env, and ``resumed``) is left
    out.
    """
    from .optim import SGD, Adam, NaturalGradient
    from .policies import POLICY_CLASSES

    optimizers = {"sgd": SGD, "adam": Adam, "npg": NaturalGradient}
    skip = {"policy_config", "resumed"}
    if "features" in ours and "features" in theirs:
        skip.add("features_kwargs")

    def resolved(config: dict[str, Any], key: str) -> Any:
        value = config.get(key)
        name = config.get(key.removesuffix("_kwargs"))
        name = name if isinstance(name, str) else ""         # a hand-edited file: no class
        if key == "optimizer_kwargs":
            value = with_defaults(optimizers.get(name), value or {})
        elif key == "policy_kwargs":
            value = with_defaults(POLICY_CLASSES.get(name), value or {})
        return comparable(value)

    return sorted(k for k in set(ours) | set(theirs)
                  if k not in skip and resolved(ours, k) != resolved(theirs, k))


def load_run_dir(run_dir: str | os.PathLike) -> Any:
    """The :class:`linear_pg.run.Run` of a seed directory, from its checkpoint."""
    from .checkpoint import load_run

    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint in {str(run_dir)!r}: {str(path)!r} does not "
                                f"exist (train with `linear-pg train ENV --out DIR` first)")
    return load_run(path)
