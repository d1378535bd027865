"""Plain Python values from NumPy ones, for config.json, checkpoints and reports."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_builtin(obj: Any, *, finite_only: bool = False) -> Any:
    """``obj`` with arrays as lists, NumPy scalars as Python numbers and tuples as lists.

    Dict keys become strings. With ``finite_only``, NaN and infinite floats become None, so
    that the result is strict JSON (``json.dumps(..., allow_nan=False)`` accepts it).

    Examples
    --------
    >>> to_builtin({"w": np.array([1.0, 2.0]), "n": np.int64(3), "b": (0.5, 1)})
    {'w': [1.0, 2.0], 'n': 3, 'b': [0.5, 1]}
    >>> to_builtin({"g": np.array(9.0)})
    {'g': 9.0}
    >>> to_builtin({"median": float("inf"), "runs": [1.5, float("nan")]}, finite_only=True)
    {'median': None, 'runs': [1.5, None]}
    """
    if isinstance(obj, dict):
        return {str(k): to_builtin(v, finite_only=finite_only) for k, v in obj.items()}
    if isinstance(obj, np.ndarray) and obj.ndim == 0:
        obj = obj[()]                    # a 0-d array is a scalar, not a list
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_builtin(v, finite_only=finite_only) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if finite_only and isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def comparable(value: Any) -> Any:
    """``value`` in a form that compares settings by value: NumPy scalars and arrays as
    Python numbers and lists, tuples as lists, dict keys as strings, and booleans tagged
    (``10 == 10.0`` in Python, but True is not the setting 1).

    Examples
    --------
    >>> comparable({"g": 10}) == comparable({"g": np.float64(10.0)})
    True
    >>> comparable([True]) == comparable([1])
    False
    """
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    if isinstance(value, bool):
        return ("bool", value)             # True is not 1
    return value


def with_defaults(cls: type | None, kwargs: Any,
                  owned: tuple[str, ...] = ("lr", "delta", "seed", "n_features", "n_actions",
                                            "action_dim")) -> Any:
    """``kwargs`` completed with the defaults of ``cls``'s constructor (except the
    arguments in ``owned``, which train sets itself); ``kwargs`` as it is if it is not a
    dict or ``cls`` is None."""
    import inspect

    if cls is None or not isinstance(kwargs, dict):
        return kwargs
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return kwargs
    defaults = {p.name: p.default for p in params
                if p.default is not inspect.Parameter.empty and p.name not in owned}
    return {**defaults, **kwargs}
