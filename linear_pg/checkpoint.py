"""Checkpoints: a Run saved to one ``.npz`` file of plain arrays (no pickle).

Layout of the file:

- ``meta``: a JSON string with the format name and version, env_id, seed, config, the
  policy kind and constructor config, the feature map config, the classes of the policy
  and the feature map (``module.QualName``), stopped_reason and the versions of linear_pg,
  numpy and gymnasium that wrote it;
- ``theta``: the policy parameters;
- ``features/<key>``: the fitted feature-map state (:meth:`FeatureMap.get_state`);
- ``history/<column>``: the Run's per-episode and per-update arrays;
- ``train_state/...``: what the next update would start from (``Run.train_state``): theta
  as of the last completed update, ``baseline/<key>`` and ``optimizer/<key>`` arrays, with
  the number of updates and the random generator's state in ``meta``. ``resume`` goes on
  from it.

Saving first builds the archive in memory and reads it back with :func:`load_run`'s own
checks, so a run that would not load (a history column cut short, a policy of another size
than its training state) is refused before anything is written. It then writes a temporary
file next to the target, fsyncs it and renames it over the target (``os.replace``, atomic
on POSIX and Windows), so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ._files import check_file_path, replacing
from ._json import to_builtin
from ._validation import as_rectangular_array, check_interval, describe
from .features import FEATURE_CLASSES, FeatureMap, features_from_state
from .policies import POLICY_CLASSES, LinearPolicy
from .policies.gaussian import LOG_STD_BOUNDS
from .rundir import CHECKPOINT_FILE

FORMAT = "linear_pg.checkpoint"
FORMAT_VERSION = 1
HISTORY = ("episode_returns", "episode_lengths", "update_episodes", "grad_norm", "entropy",
           "mean_std", "wall_time")
EPISODE_HISTORY = ("episode_returns", "episode_lengths")
"""History columns with one entry per training episode; the others have one per update."""
META_TYPES: dict[str, tuple[type, ...]] = {
    "env_id": (str,), "seed": (int,), "config": (dict,), "stopped_reason": (str, type(None)),
    "policy_kind": (str,), "policy_config": (dict,), "features_config": (dict,)}
"""The metadata entries a checkpoint must have and the JSON types each may take."""


def class_path(cls: type) -> str:
    """``module.QualName`` of a class, as a checkpoint records it."""
    return f"{cls.__module__}.{cls.__qualname__}"


def library_versions() -> dict[str, str]:
    """The versions of linear_pg, NumPy and gymnasium, recorded with every saved run."""
    import gymnasium

    from . import __version__

    return {"linear_pg": __version__, "numpy": np.__version__,
            "gymnasium": gymnasium.__version__}


def _meta(run: Any) -> dict[str, Any]:
    """The ``meta`` entry of ``run``'s checkpoint, checked to be JSON (else ValueError)."""
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "env_id": run.env_id,
            "seed": run.seed, "config": run.config, "stopped_reason": run.stopped_reason,
            "policy_kind": run.policy.kind, "policy_config": to_builtin(run.policy.get_config()),
            "features_config": run.features.get_config(),
            "policy_class": class_path(type(run.policy)),
            "features_class": class_path(type(run.features)), "versions": library_versions()}
    state = getattr(run, "train_state", None)
    if state is not None:
        meta["train_state"] = {"updates": state["updates"], "rng": state["rng"]}
    _check_json(meta, "meta")
    return meta


def _check_parts(run: Any) -> None:
    """TypeError unless ``run``'s policy and features are linear_pg's kinds of object,
    ValueError unless the features are fitted (a checkpoint stores their fitted state)."""
    if not isinstance(run.policy, LinearPolicy):
        raise TypeError(f"run.policy must be a LinearPolicy (linear_pg.policies), got "
                        f"{describe(run.policy)}")
    features = run.features
    if not isinstance(features, FeatureMap):
        raise TypeError(f"run.features must be a FeatureMap (linear_pg.features), got "
                        f"{describe(features)}")
    if not (hasattr(features, "n_features_in_") and features._is_fitted()):
        raise ValueError(f"run.features must be fitted, got an unfitted "
                         f"{type(features).__name__}: a checkpoint stores the fitted state; "
                         f"fit it first (run.features.fit(obs)), as train does")


def _storable_meta(run: Any) -> dict[str, Any]:
    """``run``'s ``meta`` entry, once it is known that the checkpoint can be written and
    read back: the settings are JSON and the feature map rebuilds from its state."""
    _check_parts(run)
    meta = _meta(run)
    run.features.check_restorable()
    return meta


def _train_state_arrays(run: Any) -> dict[str, np.ndarray]:
    """The arrays of ``run.train_state`` as checkpoint entries (none without it)."""
    state = getattr(run, "train_state", None)
    if state is None:
        return {}
    arrays = {"train_state/theta": state["theta"]}
    for part in ("baseline", "optimizer"):
        arrays.update({f"train_state/{part}/{k}": v for k, v in state[part].items()})
    return arrays


def check_storable(run: Any) -> None:
    """Raise ValueError unless ``run`` (a :class:`linear_pg.run.Run`) can be saved and
    loaded back: a checkpoint and config.json hold its settings as JSON, so a feature map
    of your own with a function among its settings, say, cannot be saved; a feature map
    must load back as it is (:meth:`linear_pg.features.FeatureMap.check_restorable`); and
    the checkpoint must pass every check of :func:`load_run`. ``train`` checks this before
    its first episode when it is to save checkpoints, ``write_run`` before it writes."""
    serialized_run(run)


def _entries(run: Any) -> dict[str, np.ndarray]:
    """The arrays of ``run``'s checkpoint by entry name (the layout of the module's
    docstring), or a ValueError for an entry that would hold Python objects."""
    arrays = {"meta": np.array(json.dumps(_storable_meta(run))), "theta": run.policy.theta}
    arrays.update({f"features/{k}": v for k, v in run.features.get_state().items()})
    arrays.update({f"history/{k}": getattr(run, k) for k in HISTORY})
    arrays.update(_train_state_arrays(run))
    arrays = {k: as_rectangular_array(v, k) for k, v in arrays.items()}
    objects = [k for k, v in arrays.items() if v.dtype.hasobject]
    if objects:
        raise ValueError(f"run cannot be saved: its entries {objects} are arrays of Python "
                         f"objects (dtype object), which load_run refuses (unpickling a file "
                         f"can run any code); give them as arrays of numbers")
    return arrays


_IN_MEMORY = Path("<checkpoint being saved>")
"""The name a checkpoint checked before it is written has in load_run's messages."""


def serialized_run(run: Any) -> bytes:
    """``run``'s checkpoint: the bytes of its .npz archive, checked to load back.

    The bytes are read back with :func:`load_run`'s own checks, given the classes of
    ``run``'s policy and features (so that maps and policies of your own load), and any
    refusal is a ValueError with load_run's reason. Reading an archive of a few arrays
    from memory costs about a millisecond, less than writing the file.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **_entries(run))  # type: ignore[arg-type]  # no entry is named allow_pickle
    data = buffer.getvalue()
    try:
        checked = _checked(_read_arrays(_IN_MEMORY, data), _IN_MEMORY)
        _run_from(checked, _IN_MEMORY, (type(run.policy), type(run.features)))
    except CheckpointError as err:
        raise ValueError(f"run cannot be saved: load_run would refuse its checkpoint: "
                         f"{err.reason}") from None
    return data


def _check_json(value: Any, where: str) -> None:
    """ValueError naming the first entry of ``value`` (nested dicts and lists) that JSON
    cannot store; ``where`` is the path to ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not _json_scalar(key):
                _not_json(f"a key of {where}", key)
            _check_json(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
    elif not _json_scalar(value):
        _not_json(where, value)


def _json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _not_json(where: str, value: Any) -> NoReturn:
    raise ValueError(f"{where} = {value!r} ({type(value).__name__}) cannot be saved: "
                     f"checkpoints and config.json hold settings as JSON (numbers, strings, "
                     f"lists, dicts); give it as one of those")


def save_checkpoint(run: Any, path: str | os.PathLike) -> Path:
    """Write ``run`` (a :class:`linear_pg.run.Run`) to ``path`` atomically; returns the path.

    A run that :func:`load_run` would refuse, such as one whose history columns were cut to
    different lengths or whose policy was replaced by one that does not fit its features
    or its training state, is a ValueError saying why, and the file at ``path`` is left
    as it was.

    Parameters
    ----------
    run : Run
        The run to save, as :func:`~linear_pg.train` returns it.
    path : str or os.PathLike
        The file to write (by convention a ``.npz``); an existing file is replaced.

    Returns
    -------
    Path
        ``path``, as a ``pathlib.Path``.

    Raises
    ------
    TypeError
        If ``run`` is not a Run, its policy or features are not linear_pg's kinds of
        object, or ``path`` is not a str or path.
    ValueError
        If the features are not fitted, ``path`` is a directory or lies under a file, a
        setting cannot be stored as JSON, or the checkpoint would not load back.

    Examples
    --------
    >>> import tempfile, os
    >>> from linear_pg.trainer import train
    >>> run = train("CartPole-v1", episodes=5)
    >>> p = save_checkpoint(run, os.path.join(tempfile.mkdtemp(), "run.npz"))
    >>> bool(np.array_equal(load_run(p).policy.theta, run.policy.theta))
    True
    """
    from .run import Run

    if not isinstance(run, Run):
        raise TypeError(f"run must be a linear_pg Run (what train returns), got {describe(run)}")
    path = _as_path(path)
    check_file_path(path, "path", CHECKPOINT_FILE)
    return write_archive(serialized_run(run), path)


def write_archive(data: bytes, path: Path) -> Path:
    """Write the checked archive ``data`` (:func:`serialized_run`) to ``path`` atomically, as
    history.csv and config.json are written (:func:`linear_pg._files.replacing`: a
    temporary file beside it, fsynced, renamed over it, with the permissions of a plain
    new file); returns the path."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return path


class CheckpointError(ValueError):
    """The ValueError for a checkpoint that :func:`load_run` refuses (corrupted, mismatched
    or inconsistent).

    Parameters
    ----------
    message : str
        The error message, which names the file.
    reason : str
        What is wrong, without the file's name; stored as ``reason``, which
        :func:`save_checkpoint` quotes when it refuses a run that would not load.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _as_path(path: object) -> Path:
    """``path`` as a Path, or a TypeError naming it."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {describe(path)}")
    return Path(path)


def _corrupted(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"corrupted or mismatched checkpoint {str(path)!r}: {what}", what)


def _refused(path: str | os.PathLike, what: str) -> CheckpointError:
    """'checkpoint PATH ``what``' (e.g. "has format_version 9, ..."), with the reason."""
    return CheckpointError(f"checkpoint {str(path)!r} {what}", f"it {what}")


def _inconsistent(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {str(path)!r} is inconsistent: {what}", what)


def _read_arrays(path: Path, data: bytes | None = None) -> dict[str, np.ndarray]:
    """Every entry of the .npz archive at ``path`` (no pickles), or a ValueError; ``data``,
    if given, is the archive's bytes, and ``path`` then only names it."""
    try:
        archive = np.load(path if data is None else io.BytesIO(data), allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"it holds a single {describe(archive)} (a .npy file), not a "
                             f".npz archive")
        with archive:
            return {k: archive[k] for k in archive.files}
    except Exception as err:        # any damage: zip flags, a bad .npy header, ...
        why = str(err) or type(err).__name__
        if "Object arrays" in why:
            why = ("an entry holds Python objects (an object array), which a linear_pg "
                   "checkpoint never does; not loaded (unpickling a file can run any code)")
        elif "pickle" in why:           # NumPy's advice to load it unsafely is not ours
            why = ("it is neither a .npz archive nor a .npy file, and NumPy could only try "
                   "to unpickle it, which a linear_pg checkpoint never needs (not tried: "
                   "unpickling a file can run any code)")
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupted or not a linear_pg "
                              f"checkpoint (.npz): {why}", why) from err


def _check_meta(meta: dict[str, Any], path: Path) -> None:
    """Every entry :func:`load_run` reads is present and of its JSON type."""
    missing = [k for k in META_TYPES if k not in meta]
    if missing:
        raise _corrupted(path, f"its metadata lacks {missing}")
    for key, types in META_TYPES.items():
        value = meta[key]
        if not isinstance(value, types) or isinstance(value, bool):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            article = "an" if expected[0] in "aeiou" else "a"
            raise _corrupted(path, f"metadata {key!r} must be {article} {expected}, got "
                                   f"{type(value).__name__} {value!r}")
    if meta["seed"] < 0:
        raise _corrupted(path, f"metadata 'seed' must be >= 0, got {meta['seed']}")
    name = meta["features_config"].get("name")
    if not isinstance(name, str):           # a list or dict was "unhashable type" from a lookup
        raise _corrupted(path, f"metadata 'features_config' must hold the feature map's "
                               f"'name', a str, got {name!r}")


def _check_real_vector(a: np.ndarray, name: str, path: Path) -> None:
    if a.ndim != 1 or a.dtype.kind not in "iuf":
        raise _corrupted(path, f"{name!r} must be a 1-D array of real numbers, got "
                               f"{describe(a)}")


def _check_history(history: dict[str, np.ndarray], path: Path) -> None:
    """All columns present, 1-D and real, no NaN return; per-episode and per-update columns
    each of one length."""
    missing = [k for k in HISTORY if k not in history]
    if missing:
        raise _refused(path, f"lacks history columns {missing}")
    for k in HISTORY:
        _check_real_vector(history[k], f"history/{k}", path)
    returns = history["episode_returns"]
    if np.any(np.isnan(returns)):       # a sum of finite rewards (it may overflow to inf)
        raise _corrupted(path, f"history/episode_returns must not hold NaN (a return is a "
                               f"sum of finite rewards), got {_sample(returns)}")
    for group in (EPISODE_HISTORY, tuple(k for k in HISTORY if k not in EPISODE_HISTORY)):
        sizes = {k: history[k].size for k in group}
        if len(set(sizes.values())) > 1:
            raise _corrupted(path, f"history columns {list(group)} must have equal lengths, "
                                   f"got {sizes}")
    _check_counts(history, path)


def _check_counts(history: dict[str, np.ndarray], path: Path) -> None:
    """The counts a run writes: every episode at least one step long, and the episodes seen
    at each update strictly increasing up to the number of episodes (every training episode
    belongs to an update's batch).

    The other columns are not required to be finite: a run that diverged on a
    non-finite update keeps that update's gradient norm, which may be inf or NaN.
    """
    lengths, seen = history["episode_lengths"], history["update_episodes"]
    if not (_whole(lengths) and np.all(lengths >= 1)):
        raise _corrupted(path, f"history/episode_lengths must be whole numbers of steps >= 1, "
                               f"got {_sample(lengths)}")
    n_episodes = history["episode_returns"].size
    if not (_whole(seen) and np.all(np.diff(seen) > 0)
            and (seen[0] >= 1 and seen[-1] == n_episodes if seen.size else n_episodes == 0)):
        raise _corrupted(path, f"history/update_episodes must be whole numbers that increase "
                               f"from >= 1 to the number of episodes ({n_episodes}), got "
                               f"{_sample(seen)}")


def _whole(a: np.ndarray) -> bool:
    """Whether every entry is a finite whole number (any int or float dtype)."""
    return bool(np.all(np.isfinite(a)) and np.all(a == np.round(a)))


def _sample(a: np.ndarray, n: int = 6) -> str:
    """The first ``n`` values of a history column, for an error message."""
    head = ", ".join(f"{v:g}" for v in a[:n].tolist())
    return f"[{head}{', ...' if a.size > n else ''}] ({a.size} values)"


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint into ``{"meta": dict, "theta": array, "features": dict,
    "history": dict, "train_state": dict or None}``, with a ValueError for anything that is
    not a valid checkpoint.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file (a seed directory is refused here; :func:`load_run` takes one).

    Returns
    -------
    dict
        ``meta``: the JSON metadata (see the module docstring); ``theta``: the policy's
        parameters; ``features``: the feature map's fitted state, by key; ``history``: the
        history columns, by name; ``train_state``: what the next update would start from,
        or None when the file has none. All checked, the arrays as they were stored.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TypeError
        If ``path`` is not a str or path.
    CheckpointError
        (a ValueError) If the file is not a valid linear_pg checkpoint.
    """
    path = _as_path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    if path.is_dir():
        # two levels at most (a seed directory, a directory of them): not a whole disk
        inside = sorted(str(p) for pattern in (CHECKPOINT_FILE, f"*/{CHECKPOINT_FILE}")
                        for p in path.glob(pattern))[:3]
        hint = (f"; it holds {', '.join(inside)}" if inside else "") + \
            "; load_run also takes a seed directory (one holding checkpoint.npz)"
        raise _refused(path, f"is a directory, not a checkpoint file{hint}")
    return _checked(_read_arrays(path), path)


def _checked(arrays: dict[str, np.ndarray], path: Path) -> dict[str, Any]:
    """:func:`load_checkpoint`'s result from the entries of the archive ``path``, checked."""
    if "meta" not in arrays or "theta" not in arrays:
        raise _refused(path, f"lacks the 'meta' and 'theta' entries of a linear_pg "
                             f"checkpoint, got entries {sorted(arrays)}")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as err:
        raise _refused(path, f"has unreadable metadata: {err}") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _refused(path, f"has format "
                             f"{meta.get('format') if isinstance(meta, dict) else meta!r}, "
                             f"expected {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _refused(path, f"has format_version {meta.get('format_version')!r}, this "
                             f"linear_pg reads {FORMAT_VERSION}")
    _check_meta(meta, path)
    _check_real_vector(arrays["theta"], "theta", path)
    history = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("history/")}
    _check_history(history, path)
    return {"meta": meta, "theta": arrays["theta"],
            "features": {k.split("/", 1)[1]: v for k, v in arrays.items()
                         if k.startswith("features/")},
            "history": history, "train_state": _read_train_state(meta, arrays, path)}


def _read_train_state(meta: dict[str, Any], arrays: dict[str, np.ndarray],
                      path: Path) -> dict[str, Any] | None:
    """``Run.train_state`` from its entries (None when the file has none), checked."""
    info = meta.get("train_state")
    if info is None:
        return None
    n_updates = arrays["history/update_episodes"].size
    # the state is taken after each update; an interruption between a batch's history entry
    # and the end of its update leaves it one update behind, never more
    low = max(n_updates - 1, 0)
    updates = info.get("updates") if isinstance(info, dict) else None
    if not (isinstance(info, dict) and isinstance(info.get("rng"), dict)
            and isinstance(updates, int) and not isinstance(updates, bool)
            and low <= updates <= n_updates):
        raise _corrupted(path, f"metadata 'train_state' must hold 'updates' (an int, "
                               f"{' or '.join(map(str, sorted({low, n_updates})))}: the "
                               f"updates in the history, or one fewer) and 'rng' (a "
                               f"generator's state), got {info!r}")
    _check_rng(info["rng"], path)
    theta = arrays.get("train_state/theta")
    if theta is None or theta.shape != arrays["theta"].shape:
        raise _corrupted(path, f"'train_state/theta' must have the shape of 'theta' "
                               f"{arrays['theta'].shape}, got {describe(theta)}")
    _check_real_vector(theta, "train_state/theta", path)
    if not np.all(np.isfinite(theta)):       # training only keeps finite parameters
        raise _corrupted(path, f"'train_state/theta' must be finite, got "
                               f"{theta[~np.isfinite(theta)][0]} among its values")
    state = {"updates": info["updates"], "rng": info["rng"], "theta": theta}
    for part in ("baseline", "optimizer"):
        prefix = f"train_state/{part}/"
        state[part] = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    return state


def _check_rng(rng: dict[str, Any], path: Path) -> None:
    """The generator state of a train state must be one that ``np.random.default_rng()``'s
    PCG64 takes and gives back unchanged, with a has_uint32 flag of 0 or 1: NumPy takes
    some damaged ones (a float counter, a flag of -1) and draws other numbers from them,
    and refuses others with messages that name nothing ("'int' object is not
    subscriptable")."""
    generator = np.random.default_rng()
    try:
        generator.bit_generator.state = rng
        same = generator.bit_generator.state == rng and rng["has_uint32"] in (0, 1)
    except (TypeError, ValueError, KeyError, IndexError, OverflowError):
        same = False
    if not same:
        raise _corrupted(path, f"metadata 'train_state' 'rng' must be the state of a PCG64 "
                               f"generator (np.random.default_rng().bit_generator.state), "
                               f"got {rng!r}")


def load_run(path: str | os.PathLike, *, env_id: str | None = None,
             classes: Iterable[type] = ()) -> Any:
    """Rebuild the :class:`linear_pg.run.Run` saved by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or Path
        A checkpoint file, or a seed directory holding one as checkpoint.npz (what
        ``train --out`` writes for each seed).
    env_id : str, optional
        If given, the checkpoint must be for this environment (else ValueError).
    classes : iterable of classes, optional
        Your own :class:`~linear_pg.features.FeatureMap` or
        :class:`~linear_pg.policies.LinearPolicy` subclasses that the run was trained with.
        A checkpoint records the class of its policy and features; one that is not
        linear_pg's own must be given here (found by module and name, or by name alone),
        else ValueError: rebuilt as its parent, it would compute something else.

    Returns
    -------
    Run
        The run as it was saved: its policy, fitted features, config, history, stop reason
        and ``train_state`` (None if the checkpoint has none), ready for
        :func:`~linear_pg.evaluate` or :func:`~linear_pg.resume`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TypeError
        If ``path`` is not a str or path, or ``env_id`` not a str.
    CheckpointError
        (a ValueError) If the file is not a linear_pg checkpoint, is corrupted or
        inconsistent, of another format version, or for another ``env_id``.
    """
    own = _check_classes(classes)
    path = _as_path(path)
    if env_id is not None and not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str such as 'CartPole-v1', or None, got "
                        f"{describe(env_id)}")
    if path.is_dir() and (path / CHECKPOINT_FILE).is_file():
        path = path / CHECKPOINT_FILE                # a seed directory
    ck = load_checkpoint(path)
    if env_id is not None and ck["meta"]["env_id"] != env_id:
        raise _refused(path, f"is for env_id {ck['meta']['env_id']!r}, expected {env_id!r}")
    return _run_from(ck, path, own)


def _run_from(ck: dict[str, Any], path: Path, own: tuple[type, ...]) -> Any:
    """The Run that ``ck`` (from :func:`load_checkpoint`) describes, its policy and
    features rebuilt as linear_pg's classes or those of ``own`` that they were saved as;
    a ValueError if they do not rebuild or do not fit together."""
    from .run import Run

    meta = ck["meta"]
    kind = meta.get("policy_kind")
    policy_cls = _saved_class(meta, "policy_class", POLICY_CLASSES.get(kind),
                              [c for c in own if issubclass(c, LinearPolicy)], path)
    features_cls = _saved_class(meta, "features_class",
                                FEATURE_CLASSES.get(meta["features_config"].get("name")),
                                [c for c in own if issubclass(c, FeatureMap)], path)
    if policy_cls is None:
        raise _refused(path, f"has policy kind {kind!r}, expected one of "
                             f"{sorted(POLICY_CLASSES)}")
    rebuild_errors = (TypeError, ValueError, KeyError, IndexError, AttributeError)
    try:
        policy = _policy_from_meta(policy_cls, kind, meta["policy_config"], ck["theta"])
    except rebuild_errors as err:
        raise _inconsistent(path, f"its policy_config and theta do not rebuild a "
                                  f"{policy_cls.__name__}: {err}") from err
    try:
        features = features_from_state(meta["features_config"], ck["features"],
                                       cls=features_cls)
    except rebuild_errors as err:
        raise _inconsistent(path, f"its features_config and features/ entries do not "
                                  f"rebuild a {getattr(features_cls, '__name__', 'feature map')}"
                                  f": {err}") from err
    if features.n_features_out_ != policy.n_features:
        raise _inconsistent(path, f"the features give {features.n_features_out_} columns, "
                                  f"the policy expects {policy.n_features}")
    return Run(env_id=meta["env_id"], seed=meta["seed"], config=meta["config"], policy=policy,
               features=features, stopped_reason=meta["stopped_reason"],
               train_state=ck["train_state"], **{k: ck["history"][k] for k in HISTORY})


def _policy_from_meta(cls: type, kind: str, config: dict[str, Any],
                      theta: np.ndarray) -> LinearPolicy:
    """The policy of class ``cls`` that ``config`` (its get_config) and ``theta`` describe."""
    cfg = dict(config)
    if isinstance(cfg.get("log_std_bounds"), list):
        cfg["log_std_bounds"] = tuple(cfg["log_std_bounds"])
    if kind == "gaussian" and "init_log_std" in cfg:
        # A policy built before the constructor required init_log_std within the bounds
        # (strictly inside them when learned) still loads: the clamp acts on it either way,
        # and a learned log sigma is theta's, whatever it started from.
        lo, hi = check_interval(cfg.get("log_std_bounds", LOG_STD_BOUNDS), "log_std_bounds")
        if cfg.get("log_std_mode", "vector") != "fixed":
            lo, hi = np.nextafter(lo, hi), np.nextafter(hi, lo)
        cfg["init_log_std"] = np.clip(np.asarray(cfg["init_log_std"], float), lo, hi)
    policy = cls(**cfg)
    policy.theta = theta
    return policy


def _check_classes(classes: Iterable[type]) -> tuple[type, ...]:
    """``classes`` as a tuple of FeatureMap / LinearPolicy subclasses, else a TypeError."""
    if isinstance(classes, type) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of classes, got {describe(classes)}")
    classes = tuple(classes)
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, (FeatureMap, LinearPolicy))):
            raise TypeError(f"classes must hold FeatureMap or LinearPolicy subclasses, got "
                            f"{describe(cls)}")
    return classes


def _saved_class(meta: dict[str, Any], key: str, builtin: type | None,
                 own: list[type], path: str | os.PathLike) -> type | None:
    """The class that wrote the policy or features: linear_pg's ``builtin`` for its kind or
    name, or the one of ``own`` (the user's classes of that kind) the checkpoint names (its
    module and name, else its name)."""
    saved = meta.get(key)
    if saved is None:
        return builtin                      # a checkpoint from before classes were recorded
    if not isinstance(saved, str):
        raise _corrupted(Path(path), f"metadata {key!r} must be a str, got {saved!r}")
    if saved.startswith(f"{__package__}."):
        return builtin                      # linear_pg's own, wherever it lived then
    name = saved.rsplit(".", 1)[-1]
    for match in ([c for c in own if class_path(c) == saved],
                  [c for c in own if c.__qualname__.rsplit(".", 1)[-1] == name]):
        if len(match) == 1:
            return match[0]
    what = key.split("_")[0]
    raise _refused(path, f"was saved with {what} of class {saved!r}, which is not "
                         f"linear_pg's own: pass classes=[{name}] to load_run or resume (the "
                         f"command line cannot load it)")
