"""Mirror symmetry: every episode also teaches the policy its mirror image.

Some environments look the same in a mirror. Pendulum does: reflect the angle and the
angular velocity, (th, v) -> (-th, -v), and a torque u acts on the reflected pendulum as -u
does on the original; the dynamics, the reward and the distribution of start states are all
unchanged. Write the reflection as s -> P s for states and a -> D a for actions (D a
diagonal matrix of signs).

Derivation. Call a Gaussian policy mirror-symmetric when pi(D a | P s) = pi(a | s) for all
s, a, i.e. its mean is equivariant, mu(P s) = D mu(s), and its sigma is invariant,
sigma(P s) = sigma(s) (D only flips signs, so each action coordinate keeps its sigma; a
sigma that does not depend on the state is invariant). For such a policy the reflected
trajectory (P s_0, D a_0, r_0, P s_1, D a_1, r_1, ...) has exactly the probability of the
trajectory itself: the start distribution, the dynamics and the policy are all invariant,
and the rewards are the same. So a batch of N real episodes comes with N more that are
just as likely, with the same rewards-to-go G_t, and the REINFORCE estimate over both,

    g = 1/(2N) sum_t w_t [ grad log pi(a_t | s_t) + grad log pi(D a_t | P s_t) ],

is still unbiased for grad J (each half is) and has lower variance. It is symmetric
itself, and so is the natural gradient's Fisher matrix estimated from the 2T scores.

Keeping the policy symmetric. With features that the reflection permutes,
x(P s)_k = sign_k x(s)_perm(k) (bumps on a grid symmetric about 0; the raw observation;
its monomials),
mu(P s) = x(P s) W = x(s) (Pi W) with (Pi W)[perm(k)] = sign_k W[k], and the policy is
symmetric exactly when Pi W D = W. A state-dependent sigma ("linear" log-std mode,
log sigma(s) = b + x(s) W_s) is invariant exactly when Pi W_s = W_s: the same permutation
and signs of the features, but no action sign (D flips the action, not its spread). The
trainer projects onto that subspace, W <- (W + Pi W D) / 2 and W_s <- (W_s + Pi W_s) / 2,
once at the start and after every update. The update is symmetric in exact arithmetic,
but not to the last bit, and off the symmetric subspace the mirrored episodes are
off-policy, which feeds the asymmetry back: measured on Pendulum, the largest
|mu(s) + mu(P s)| grew from 2e-8 to 1e-4 as the number of updates went from 100 to 250
without the projection. With it, it stays at rounding level, and the trainer checks
pi(D a | P s) = pi(a | s) on every batch.

What this buys on Pendulum is more than variance. An unconstrained policy tends to learn a
preference for one direction of swing (its noise breaks the tie), which costs the mean
action dearly on starts where the other direction is the better one; a symmetric policy
has no such preference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ._validation import as_float_array, check_keywords, describe
from .features import FeatureMap, PendulumFeatures, PolyFeatures, RawFeatures, RBFFeatures
from .policies import GaussianPolicy, LinearPolicy
from .presets import registered_id

#: Tolerance of the check |log pi(D a | P s) - log pi(a | s)| <= TOL (1 + |log pi(a | s)|).
TOL = 1e-6


def _signs(values: object, name: str) -> tuple[float, ...]:
    try:
        a = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        a = np.array([])
    if a.size == 0 or not np.all(np.isin(a, (-1.0, 1.0))):
        raise ValueError(f"{name} must be a non-empty sequence of +1 and -1, got {values!r}")
    return tuple(float(x) for x in a)


def _flip(values: object, signs: tuple[float, ...], name: str, sign_name: str) -> np.ndarray:
    """values (T, len(signs)) or (len(signs),) times signs, column by column, as float64;
    else an error naming ``name``."""
    arr = as_float_array(values, name)
    if arr.ndim not in (1, 2) or arr.shape[-1] != len(signs):
        raise ValueError(f"{name} must have shape (T, {len(signs)}) (one column per entry of "
                         f"{sign_name}), got shape {arr.shape}")
    return arr * np.asarray(signs)


@dataclass(frozen=True)
class Mirror:
    """A reflection of an environment: s -> obs_sign * s, a -> action_sign * a.

    Parameters
    ----------
    obs_sign : sequence of +1 / -1
        Multiplies each observation coordinate (P is diagonal in the observation).
    action_sign : sequence of +1 / -1
        Multiplies each coordinate of a continuous (Box) action (D a).

    The reflection must be a symmetry of the environment: the start distribution, the
    dynamics and the reward must not change under it. That is the user's claim; what the
    trainer can check (the features and the policy respect it) it checks.

    Examples
    --------
    >>> m = Mirror(obs_sign=(1, -1, -1), action_sign=(-1,))      # Pendulum-v1
    >>> m.observations(np.array([[0.0, 0.5, -2.0]])).tolist()
    [[0.0, -0.5, 2.0]]
    """

    obs_sign: tuple[float, ...]
    action_sign: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "obs_sign", _signs(self.obs_sign, "obs_sign"))
        object.__setattr__(self, "action_sign", _signs(self.action_sign, "action_sign"))

    def observations(self, obs: object) -> np.ndarray:
        """P s for each row of obs (T, obs_dim), or for one observation (obs_dim,)."""
        return _flip(obs, self.obs_sign, "obs", "obs_sign")

    def actions(self, A: object) -> np.ndarray:
        """D a for each row of A (T, action_dim), or for one action (action_dim,)."""
        return _flip(A, self.action_sign, "A", "action_sign")

    def check_fits(self, env: gym.Env) -> None:
        """Raise ValueError unless the reflection fits the env's spaces (Box actions)."""
        # gymnasium types shape Optional (a Graph or Sequence space has none): int(None) raises
        obs_dim = int(np.prod(env.observation_space.shape))  # type: ignore[arg-type]
        if len(self.obs_sign) != obs_dim:
            raise ValueError(f"mirror.obs_sign must have one sign per observation coordinate "
                             f"({obs_dim}), got {len(self.obs_sign)}")
        space = env.action_space
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(f"mirror needs a Box action space (a Gaussian policy), got {space}")
        m = int(np.prod(space.shape))
        if len(self.action_sign) != m:
            raise ValueError(f"mirror.action_sign must have one sign per action coordinate "
                             f"({m}), got {len(self.action_sign)}")
        flipped = np.sort(np.stack([space.low, space.high]) * np.asarray(self.action_sign),
                          axis=0)
        if not (np.array_equal(flipped[0], space.low) and np.array_equal(flipped[1], space.high)):
            raise ValueError(f"mirror.action_sign must map the action box onto itself, got "
                             f"{list(self.action_sign)} for low={space.low}, high={space.high}")

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (what a run's config stores); ``Mirror(**d)`` restores it."""
        return {"obs_sign": list(self.obs_sign), "action_sign": list(self.action_sign)}


#: Reflections of the environments whose symmetry is known (used by ``mirror=True``).
MIRRORS: dict[str, Mirror] = {
    # (cos th, sin th, v) -> (cos th, -sin th, -v), torque -> -torque
    "Pendulum-v1": Mirror(obs_sign=(1.0, -1.0, -1.0), action_sign=(-1.0,)),
}


def resolve_mirror(mirror: object, env_id: str, env: gym.Env) -> Mirror | None:
    """The Mirror that ``train(mirror=...)`` means: None/False off, True the env's own."""
    if isinstance(mirror, np.bool_):        # NumPy's bool, as check_bool takes it
        mirror = bool(mirror)
    if mirror is None or mirror is False:
        return None
    if mirror is True:
        env_id = registered_id(env_id)
        if env_id not in MIRRORS:
            raise ValueError(f"mirror=True needs a known reflection of the env; {env_id!r} has "
                             f"none (known: {sorted(MIRRORS)}); from Python, pass "
                             f"mirror=Mirror(obs_sign=..., action_sign=...) instead (the "
                             f"command line knows only these)")
        mirror = MIRRORS[env_id]
    elif isinstance(mirror, dict):
        check_keywords(Mirror, mirror, "the keys of the mirror dict")
        missing = [k for k in ("obs_sign", "action_sign") if k not in mirror]
        if missing:
            raise TypeError(f"the mirror dict needs the keys 'obs_sign' and 'action_sign', "
                            f"missing {missing}")
        mirror = Mirror(**mirror)
    if not isinstance(mirror, Mirror):
        raise TypeError(f"mirror must be a bool, a Mirror or its dict, got {describe(mirror)}")
    mirror.check_fits(env)
    return mirror


def feature_permutation(features: FeatureMap, mirror: Mirror) -> tuple[np.ndarray, np.ndarray]:
    """(perm, sign) with x(P s)[:, k] = sign[k] * x(s)[:, perm[k]] for the features x.

    Raw features: the identity with the observation's signs (the bias keeps +1).
    Monomials: the identity too, each with the product of its variables' signs,
    prod_j sign_j ** p_kj for the monomial prod_j s_j ** p_kj (so s0 * s1 ** 2 takes
    sign_0). Bumps on a grid: each bump goes to the bump at the reflected centre, which
    must be on the grid; the energy-pumping term of 'pendulum' features, th' times an
    even function, takes the sign of th'. Raises ValueError for other feature maps
    (standardized features shift the origin, which the reflection does not keep) and for
    grids the reflection does not map onto themselves.
    """
    features._check_fitted()
    if isinstance(features, RawFeatures):
        return np.arange(features.n_features_out_), np.append(mirror.obs_sign, 1.0)
    if isinstance(features, PolyFeatures):
        powers = features.poly_.powers_                         # (n_features_out, obs_dim)
        return np.arange(features.n_features_out_), np.prod(
            np.asarray(mirror.obs_sign) ** powers, axis=1)
    if not isinstance(features, RBFFeatures):
        raise ValueError(f"mirror supports 'raw', 'poly', 'rbf' and 'pendulum' features, got "
                         f"{features.name!r}")
    obs = _centre_observations(features)
    reflected = features._coords(mirror.observations(obs))
    dist = np.abs(features._offsets(reflected)).max(axis=2)
    K = features.centers_.shape[0]
    perm = np.append(np.argmin(dist, axis=1), K)        # the bias stays where it is
    matched = np.all(dist[np.arange(K), perm[:K]] <= 1e-6)
    if not matched or not np.array_equal(perm[perm], np.arange(K + 1)):
        raise ValueError("mirror: the reflection does not map the rbf grid onto itself; use a "
                         "grid symmetric about 0 (low = -high, angles on the circle)")
    if isinstance(features, PendulumFeatures):     # th' (E* - E) / (2 E*): E is even
        if mirror.obs_sign[0] != 1.0:
            raise ValueError(f"mirror: 'pendulum' features need a mirror that keeps cos th "
                             f"(obs_sign[0] = 1), got obs_sign {list(mirror.obs_sign)}")
        return np.append(perm, K + 1), np.append(np.ones(K + 1), mirror.obs_sign[2])
    return perm, np.ones(K + 1)


def _centre_observations(features: RBFFeatures) -> np.ndarray:
    """An observation at each bump centre (angles written back as their cos and sin)."""
    C = features.centers_
    pairs = features.angle_pairs_.reshape(-1, 2)
    obs = np.zeros((C.shape[0], features.n_features_in_))
    used = {int(c) for c in pairs.ravel()}
    for a, (i, j) in enumerate(pairs):
        obs[:, i], obs[:, j] = np.cos(C[:, a]), np.sin(C[:, a])
    others = [c for c in range(features.n_features_in_) if c not in used]
    obs[:, others] = C[:, pairs.shape[0]:]
    return obs


class MirrorAugmentation:
    """The trainer's use of a Mirror: mirrored samples, the projection, the check.

    Parameters
    ----------
    mirror : Mirror
    features : FeatureMap (fitted, 'raw', 'poly', 'rbf' or 'pendulum')
    policy : GaussianPolicy (any log-std mode)
    """

    def __init__(self, mirror: Mirror, features: FeatureMap, policy: LinearPolicy) -> None:
        if not isinstance(policy, GaussianPolicy):
            raise ValueError(f"mirror needs a Gaussian policy, got {policy!r}")
        self.mirror, self.features = mirror, features
        self.perm, self.sign = feature_permutation(features, mirror)

    def project(self, policy: GaussianPolicy) -> None:
        """W <- (W + Pi W D) / 2 in place: the nearest mirror-symmetric mean; in "linear"
        log-std mode also W_s <- (W_s + Pi W_s) / 2, the nearest invariant log sigma."""
        policy.W = 0.5 * (policy.W + self._permute(policy.W) * np.asarray(self.mirror.action_sign))
        if policy.log_std_mode == "linear":
            policy.W_std[...] = 0.5 * (policy.W_std + self._permute(policy.W_std))

    def _permute(self, W: np.ndarray) -> np.ndarray:
        """Pi W: the weights w with x(P s) W = x(s) (Pi W), (Pi W)[perm[k]] = sign[k] W[k]."""
        PiW = np.empty_like(W)
        PiW[self.perm] = self.sign[:, None] * W
        return PiW

    def samples(self, policy: LinearPolicy, batch: Any, w: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(X, A, w, N) of the batch followed by its mirror image, after the check."""
        Xm = self.features.transform(self.mirror.observations(batch.obs))
        Am = self.mirror.actions(batch.actions)
        check_symmetric(policy.log_prob(batch.X, batch.actions), policy.log_prob(Xm, Am))
        return (np.concatenate([batch.X, Xm]), np.concatenate([batch.actions, Am]),
                np.concatenate([w, w]), 2 * batch.n_episodes)


def check_symmetric(log_p: object, log_p_mirrored: object) -> None:
    """Raise ValueError unless log pi(D a | P s) = log pi(a | s) on every sample.

    The two arrays hold one log-probability per sample, in the same shape; equal values
    are equal, also infinite ones (an action of probability 0 and its mirror image).
    """
    log_p, log_p_mirrored = (as_float_array(a, name) for a, name in (
        (log_p, "log_p"), (log_p_mirrored, "log_p_mirrored")))
    if log_p.shape != log_p_mirrored.shape:
        raise ValueError(f"log_p and log_p_mirrored must have one shape (a log-probability "
                         f"per sample, mirrored or not), got shapes {log_p.shape} and "
                         f"{log_p_mirrored.shape}")
    with np.errstate(invalid="ignore"):
        err = np.abs(log_p_mirrored - log_p) / (1.0 + np.abs(log_p))
    if not np.all(err <= TOL):
        err = np.where(log_p_mirrored == log_p, 0.0, err)    # -inf - -inf is NaN
    if not np.all(err <= TOL):
        raise ValueError(f"mirror: the policy is not mirror-symmetric on this batch "
                         f"(largest relative difference of log pi(D a | P s) and "
                         f"log pi(a | s): {np.max(err):.3g} > {TOL}); the mirrored episodes "
                         f"would be off-policy")
