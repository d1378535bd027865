"""Input checks shared by the public functions.

Every public entry point validates its arguments once, here, and raises a ``ValueError``
or ``TypeError`` whose message names the argument, what was expected and what was
received. Internal code trusts its inputs.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

SeedLike = int | np.random.Generator | None


def as_generator(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    """Return a ``np.random.Generator`` from an int seed, a Generator, or None (seed 0)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(0)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative int, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name} must be an int or a np.random.Generator, got {type(seed).__name__}"
    )


def describe(a: object) -> str:
    """A short description of an array-like for error messages."""
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape} and dtype {a.dtype}"
    return f"{type(a).__name__}"


def shape_of(a: object) -> tuple[int, ...]:
    """``np.shape(a)`` of an input of any type, for error messages (NumPy takes any object:
    one that is not array-like is a 0-d array, shape ())."""
    return np.shape(cast("npt.ArrayLike", a))    # the stub asks for an array-like


def count_noun(n: int, noun: str) -> str:
    """'1 episode', '2 episodes'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_generator(rng: object, name: str = "rng") -> np.random.Generator:
    """Check that ``rng`` is a ``np.random.Generator`` (sampling draws from it in place).

    An int seed is not accepted where a generator is expected: drawing from a fresh
    generator seeded the same way at every call would repeat the same "random" numbers.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a np.random.Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def as_float_array(a: object, name: str) -> np.ndarray:
    """Convert to a float64 array, with a clear error for non-numeric or complex input.

    Complex input is a ``TypeError``: casting it to float64 would silently keep only the
    real part. So is text, even text NumPy could parse ("1.5"): a number that arrives as
    a string is a bug upstream.
    """
    arr = as_rectangular_array(a, name)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
    if arr.dtype.kind in "mM":                   # NumPy would count days or seconds
        raise TypeError(f"{name} must be numeric, got dates or durations (dtype {arr.dtype})")
    if arr.dtype.kind in "USO" and any(isinstance(v, str | bytes) for v in arr.flat):
        raise TypeError(f"{name} must be numeric, got text ({describe(a)}); convert it "
                        f"first if it holds numbers")
    if arr.dtype.kind == "O" and any(v is None for v in arr.flat):
        raise TypeError(f"{name} must be numeric, got None"
                        + (" among its values" if arr.ndim else ""))
    try:
        return np.asarray(arr, dtype=np.float64)
    except OverflowError as err:                 # a Python int beyond float64's range
        raise ValueError(f"{name} holds a number too large for float64 (|x| > 1.8e308)") \
            from err
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numeric array-like, got {describe(a)}") from err


def as_rectangular_array(a: object, name: str) -> np.ndarray:
    """``np.asarray(a)``, with a ragged nesting (rows of different lengths) named."""
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as err:
        if "inhomogeneous" in str(err):
            raise ValueError(f"{name} must be a rectangular array, got rows of different "
                             f"lengths") from err
        raise TypeError(f"{name} must be numeric array-like, got {describe(a)}") from err


def check_finite(a: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(a).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise ValueError(
            f"{name} must be finite, got a non-finite value {a[bad]} at index {bad}"
        )
    return a


def check_shaped(a: object, shape: tuple[int, ...], name: str) -> np.ndarray:
    """A finite float64 array of exactly ``shape`` (no broadcasting, no reshaping)."""
    arr = as_float_array(a, name)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {arr.shape}")
    return check_finite(arr, name)


def check_features(X: object, n_features: int, name: str = "X") -> np.ndarray:
    """Return X as a finite float64 array of shape (T, n_features).

    A 1-D input of length ``n_features`` is taken as a single row (T = 1).
    """
    arr = as_float_array(X, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_features:
        raise ValueError(
            f"{name} must have shape (T, {n_features}) (n_features={n_features}), "
            f"got shape {shape_of(X)}"
        )
    return check_finite(arr, name)


def check_gamma(gamma: object) -> float:
    """Check that the discount factor lies in [0, 1]."""
    if not isinstance(gamma, numbers.Real) or isinstance(gamma, bool):
        raise TypeError(f"gamma must be a real number in [0, 1], got {type(gamma).__name__}")
    if isinstance(gamma, numbers.Integral) and not 0 <= int(gamma) <= 1:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")   # float() may overflow
    gamma = float(gamma)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    return gamma


def check_real(value: object, name: str, *, low: float | None = None,
               high: float | None = None, low_open: bool = False,
               high_open: bool = False) -> float:
    """Check a real scalar against optional bounds; ``low_open`` / ``high_open`` exclude them."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:                        # a Python int beyond float64's range
        raise ValueError(f"{name} must be finite, got an int too large for float64") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        relation = ">" if low_open else ">="
        raise ValueError(f"{name} must be {relation} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        relation = "<" if high_open else "<="
        raise ValueError(f"{name} must be {relation} {high}, got {value}")
    return value


def check_interval(bounds: object, name: str, *,
                   not_a_pair: type[Exception] = TypeError) -> tuple[float, float]:
    """``bounds`` as two finite floats (low, high) with low < high. Anything that is not a
    pair of numbers raises ``not_a_pair`` (TypeError unless the caller's API says
    otherwise), bounds that are not finite or not increasing a ValueError."""
    try:
        # bounds may be any object: a non-iterable one is the TypeError caught below
        lo, hi = (float(b) for b in bounds)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise not_a_pair(f"{name} must be a pair of floats (low, high), "
                         f"got {bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {bounds!r}")
    return lo, hi


def check_int(value: object, name: str, *, low: int | None = None,
              high: int | None = None) -> int:
    """Check an integer scalar with optional bounds (both included)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_keywords(cls: type[Any], given: Iterable[str], what: str,
                   owned: tuple[str, ...] = ()) -> None:
    """Keyword arguments for ``cls(...)``: a TypeError listing the accepted names if
    ``given`` has one that ``cls.__init__`` does not take (``owned``: names the caller sets
    itself, not accepted from the user). ``what`` names them, e.g. "optimizer_kwargs for
    optimizer 'adam'"."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    accepted = [name for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.kind in named and name not in ("self", *owned)]
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise TypeError(f"{what} must be among {accepted}, got {unknown}" if accepted
                        else f"{what} must be empty ({cls.__name__} takes no parameters), "
                             f"got {unknown}")


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is a bool (Python's or NumPy's), else a TypeError naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of the names ``choices``, else a ValueError that says so.

    Anything but a str is refused as such (an array would make ``in`` ambiguous, and an
    object such as an optimizer where its name is expected is named by its type).
    """
    if not isinstance(value, str) or value not in choices:
        plain = value is None or isinstance(value, str | bool | int | float)
        got = repr(value) if plain else (f"an object of type {type(value).__name__} (a name "
                                         f"is expected)")
        raise ValueError(f"{name} must be one of {choices}, got {got}")
    return str(value)


def check_lengths(lengths: object, total: int, name: str = "lengths") -> np.ndarray:
    """Episode lengths: positive ints that add up to ``total`` steps.

    ``None`` means a single episode of ``total`` steps.
    """
    if lengths is None:
        return np.array([total], dtype=np.int64)
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be a non-empty 1-D array of ints, got {describe(np.asarray(lengths))}"
        )
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be positive, got {arr[arr <= 0][0]}")
    if np.any(arr > total):                # then the int64 sum below cannot wrap around
        raise ValueError(f"{name} must add up to the {total} steps given, got a length of "
                         f"{arr[arr > total][0]}")
    steps = int(arr.astype(np.int64).sum())
    if steps != total:
        raise ValueError(f"{name} must add up to the {total} steps given, got sum {steps}")
    return arr.astype(np.int64)


def check_vector(a: object, length: int, name: str) -> np.ndarray:
    """A finite float64 vector of the given length."""
    arr = as_float_array(a, name)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got shape {arr.shape}")
    return check_finite(arr, name)


def check_state_dict(state: object) -> dict:
    """``state`` if it is a dict, as a ``get_state`` returns, else a TypeError."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict from get_state, got {describe(state)}")
    return state


def check_no_state(state: object, owner: object) -> None:
    """``set_state`` of an object with no state (SGD, no baseline): ``state`` must be the
    empty dict its ``get_state`` returns; another object's state is refused, not dropped."""
    checked = check_state_dict(state)
    if checked:
        raise ValueError(f"{type(owner).__name__} has no state: state must be the empty dict "
                         f"from get_state, got keys {sorted(checked)}")
