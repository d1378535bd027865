"""The short corridor with switched actions (Sutton & Barto, Example 13.1), solved exactly.

Three non-terminal states 0, 1, 2 and a terminal goal to the right of state 2. Every step
costs -1. Action 0 moves left, action 1 moves right, except in state 1 where they are
reversed; moving left in state 0 stays in state 0. All states look the same to the agent:
the observation is always the feature vector x = [1], so a policy is a single probability
p = pi(right) used everywhere.

The exact quantities (the value of a policy from the Bellman equations, the exact policy
gradient) sit here beside a sampler of real episodes, so that the REINFORCE estimate can
be compared with the truth it estimates.

Examples
--------
>>> import numpy as np
>>> round(exact_start_value(0.5), 12)
-12.0
>>> round(optimal_p_right(), 4), round(exact_start_value(optimal_p_right()), 3)
(0.5858, -11.657)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ._validation import SeedLike, as_generator, check_gamma, check_int, check_real
from .finite_diff import DEFAULT_STEP, numerical_gradient
from .gradcheck import as_function_of_theta
from .policies import BernoulliPolicy, SoftmaxPolicy
from .policies.base import LinearPolicy

ENV_ID = "linear_pg/ShortCorridor-v0"
LEFT, RIGHT = 0, 1
N_STATES = 3
GOAL = 3
NEXT_STATE = np.array([[0, 1],      # state 0: left stays, right -> 1
                       [2, 0],      # state 1: switched, left -> 2, right -> 0
                       [1, GOAL]])  # state 2: left -> 1, right -> goal
"""``NEXT_STATE[s, a]``: the deterministic successor of state s under action a."""
FEATURES = np.array([1.0])
"""The observation of every state."""

__all__ = [
    "ENV_ID",
    "ShortCorridorEnv",
    "corridor_transition_matrix",
    "exact_policy_gradient",
    "exact_start_value",
    "exact_values",
    "expected_visits",
    "finite_difference_gradient",
    "optimal_p_right",
    "p_right_of",
    "sample_episodes",
]


# ---------------------------------------------------------------------- the environment
class ShortCorridorEnv(gym.Env):
    """Gymnasium environment of the short corridor with switched actions.

    Parameters
    ----------
    max_episode_steps : int or None, default 1000
        After this many steps an episode that has not reached the goal ends with
        ``truncated=True``; None never truncates.
    render_mode : None, default None
        Taken because gymnasium's convention is that every env takes it; the corridor has
        no render modes, so anything but None is a ValueError.

    Notes
    -----
    Observation: always ``[1.0]`` (Box(1, 1, (1,), float64)); the true state is in
    ``info["state"]``. Actions: Discrete(2), 0 = left, 1 = right. Reward: -1 per step.
    The dynamics are deterministic and every episode starts in state 0, so the only
    randomness is the agent's. Registered with gymnasium as ``"linear_pg/ShortCorridor-v0"``.

    Examples
    --------
    >>> env = ShortCorridorEnv()
    >>> obs, info = env.reset(seed=0)
    >>> obs, info["state"]
    (array([1.]), 0)
    >>> env.step(1)[1:4], env.step(1)[4]  # right from 0 reaches 1; right from 1 goes back
    ((-1.0, False, False), {'state': 0})
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, max_episode_steps: int | None = 1000,
                 render_mode: str | None = None) -> None:
        if render_mode is not None:       # gymnasium's convention: every env takes it
            raise ValueError(f"ShortCorridorEnv has no render modes, got render_mode "
                             f"{render_mode!r}")
        self.render_mode = None
        if max_episode_steps is not None:
            max_episode_steps = check_int(max_episode_steps, "max_episode_steps", low=1)
        self.max_episode_steps = max_episode_steps
        self.observation_space = spaces.Box(1.0, 1.0, shape=(1,), dtype=np.float64)
        self.action_space = spaces.Discrete(2)
        self._state: int | None = None
        self._elapsed = 0

    def _obs(self) -> np.ndarray:
        return FEATURES.copy()

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode in state 0; returns (observation, {"state": 0})."""
        super().reset(seed=seed)
        self._state, self._elapsed = 0, 0
        return self._obs(), {"state": 0}

    def step(self, action: object) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` (0 left, 1 right); returns (obs, -1.0, terminated, truncated, info)."""
        if self._state is None or self._state == GOAL:
            raise RuntimeError("step() called before reset() or after the episode ended; "
                               "call reset() first")
        arr = np.asarray(action)
        if arr.size != 1 or not np.issubdtype(arr.dtype, np.integer) \
                or not self.action_space.contains(int(arr.reshape(()))):
            raise ValueError(f"action must be 0 (left) or 1 (right), got {action!r}")
        self._state = int(NEXT_STATE[self._state, int(arr.reshape(()))])
        self._elapsed += 1
        terminated = self._state == GOAL
        truncated = (not terminated and self.max_episode_steps is not None
                     and self._elapsed >= self.max_episode_steps)
        return self._obs(), -1.0, terminated, bool(truncated), {"state": self._state}


def _register() -> None:
    if ENV_ID not in gym.registry:
        # The agent sees the same constant feature in every state (the point of the
        # example), a Box whose low equals its high; gymnasium's passive checker warns
        # about that at every make. tests/test_corridor.py runs the full check_env.
        gym.register(id=ENV_ID, entry_point="linear_pg.corridor:ShortCorridorEnv",
                     disable_env_checker=True)


_register()


# ---------------------------------------------------------------------- exact solution
P_RIGHT_MIN = 1e-9
"""With gamma = 1, the exact solution needs P_RIGHT_MIN <= p_right <= 1 - P_RIGHT_MIN.

An episode then lasts about 2 / min(p, 1 - p) steps, and I - P is nearly singular: the
solve keeps about 7 digits at p = 1e-9, 4 at 1e-12, and returns J = 0 below 1e-16, where
1 - p rounds to 1 (J would be about -4 / p). Such a value is refused rather than returned
wrong."""


def _check_p_right(p_right: object, gamma: float = 1.0) -> float:
    p = check_real(p_right, "p_right", low=0.0, high=1.0)
    if gamma == 1.0 and p in (0.0, 1.0):
        raise ValueError(f"p_right must lie strictly between 0 and 1 when gamma = 1 (otherwise "
                         f"the goal is never reached and the values are infinite), got {p}")
    if gamma == 1.0 and min(p, 1.0 - p) < P_RIGHT_MIN:
        raise ValueError(f"p_right = {p:.12g} is too close to {round(p)} for the exact solution "
                         f"with gamma = 1: episodes last about {2 / min(p, 1.0 - p):.2g} steps "
                         f"and the linear solve loses its accuracy (it needs "
                         f"{P_RIGHT_MIN:g} <= p_right <= 1 - {P_RIGHT_MIN:g})")
    return p


def corridor_transition_matrix(p_right: float) -> np.ndarray:
    """P[s, s'] = probability of moving from s to s' among the 3 non-terminal states, (3, 3).

    Parameters
    ----------
    p_right : float in [0, 1]
        pi(right), the same in every state.

    Returns
    -------
    P : array of shape (3, 3)
        Substochastic: row 2 sums to 1 - p_right, the rest is the move into the goal.

    Notes
    -----
    With p = p_right and q = 1 - p::

        P = [[q, p, 0],     state 0: left stays, right -> 1
             [p, 0, q],     state 1: right -> 0, left -> 2 (switched)
             [0, q, 0]]     state 2: left -> 1, right -> goal (prob p)

    Examples
    --------
    >>> corridor_transition_matrix(0.25)
    array([[0.75, 0.25, 0.  ],
           [0.25, 0.  , 0.75],
           [0.  , 0.75, 0.  ]])
    """
    p = check_real(p_right, "p_right", low=0.0, high=1.0)
    P = np.zeros((N_STATES, N_STATES))
    for s in range(N_STATES):
        for a, prob in ((LEFT, 1.0 - p), (RIGHT, p)):
            if NEXT_STATE[s, a] != GOAL:
                P[s, NEXT_STATE[s, a]] += prob
    return P


def exact_values(p_right: float, gamma: float = 1.0) -> np.ndarray:
    """State values v_pi of the 3 non-terminal states, by solving the Bellman equations.

    Parameters
    ----------
    p_right : float
        pi(right); strictly inside (0, 1) when ``gamma == 1``.
    gamma : float in [0, 1], default 1.0

    Returns
    -------
    v : array of shape (3,)

    Notes
    -----
    The Bellman equation v(s) = sum_a pi(a) [r + gamma v(next(s, a))] with r = -1 and
    v(goal) = 0 is, for the three states at once, the linear system

        v = r + gamma P v   <=>   (I - gamma P) v = r,   r = (-1, -1, -1).

    For gamma = 1 and 0 < p < 1 the goal is reached with probability 1, I - P is
    invertible, and eliminating by hand gives v(1) = -(3 - p) / (p (1 - p)),
    v(0) = v(1) - 1 / p = -2 (2 - p) / (p (1 - p)) and v(2) = -1 + (1 - p) v(1).

    Examples
    --------
    >>> exact_values(0.5)
    array([-12., -10.,  -6.])
    """
    gamma = check_gamma(gamma)
    p = _check_p_right(p_right, gamma)
    P = corridor_transition_matrix(p)
    return np.linalg.solve(np.eye(N_STATES) - gamma * P, -np.ones(N_STATES))


def exact_start_value(p_right: float, gamma: float = 1.0) -> float:
    """J(p) = v_pi(state 0), the expected (discounted) return of an episode.

    Parameters
    ----------
    p_right : float in [0, 1]
        pi(right), the same in every state; with gamma = 1, at least ``P_RIGHT_MIN``
        (1e-9) away from 0 and 1, so that the goal is reached and the solve is accurate.
    gamma : float in [0, 1], default 1.0
        Discount factor.

    Returns
    -------
    J : float
        The value of state 0, where every episode starts (see :func:`exact_values`).

    Notes
    -----
    For gamma = 1, J(p) = -2 (2 - p) / (p (1 - p)); J(1/2) = -12.

    Examples
    --------
    >>> exact_start_value(0.5)
    -12.0
    """
    return float(exact_values(p_right, gamma)[0])


def optimal_p_right() -> float:
    """The p = pi(right) maximizing J (gamma = 1): 2 - sqrt(2) ~ 0.5858, with J ~ -11.657.

    Returns
    -------
    p_star : float
        2 - sqrt(2), the maximizer of J(p) = ``exact_start_value(p)``.

    Notes
    -----
    J(p) = -2 (2 - p) / (p - p^2). Setting dJ/dp = 0:
    -(p - p^2) - (2 - p)(1 - 2p) = 0  <=>  p^2 - 4p + 2 = 0, whose root in (0, 1) is
    p* = 2 - sqrt(2). A deterministic policy (p = 0 or 1) never reaches the goal: the best
    policy of this partially observed problem is stochastic, which only a policy-gradient
    method, not a greedy one, can represent.

    Examples
    --------
    >>> round(optimal_p_right(), 6)
    0.585786
    """
    return float(2.0 - np.sqrt(2.0))


def expected_visits(p_right: float) -> np.ndarray:
    """eta(s) = expected number of visits to each state in one episode from state 0, (3,).

    Notes
    -----
    eta = e_0^T (I + P + P^2 + ...) = e_0^T (I - P)^{-1}: row 0 of the fundamental matrix
    of the absorbing chain. Its sum is the expected episode length, -J.

    Examples
    --------
    >>> expected_visits(0.5)
    array([6., 4., 2.])
    """
    p = _check_p_right(p_right)
    P = corridor_transition_matrix(p)
    return np.linalg.solve((np.eye(N_STATES) - P).T, np.eye(N_STATES)[0])


def _check_corridor_policy(policy: object) -> SoftmaxPolicy | BernoulliPolicy:
    if not isinstance(policy, (SoftmaxPolicy, BernoulliPolicy)):
        raise TypeError(f"policy must be a SoftmaxPolicy(1, 2) or a BernoulliPolicy(1) (two "
                        f"actions on the feature x = [1]), got {type(policy).__name__}")
    if policy.n_features != 1 or policy.n_actions != 2:
        raise ValueError(f"policy must have n_features=1 and n_actions=2 for the corridor, "
                         f"got n_features={policy.n_features}, n_actions={policy.n_actions}")
    return policy


def _check_episodes_end(p_right: float) -> None:
    """Refuse a p_right whose uncut episodes would last ~2 / min(p, 1 - p) steps or forever."""
    q = min(p_right, 1.0 - p_right)
    if q < P_RIGHT_MIN:
        how_long = "forever" if q == 0.0 else f"for about {2 / q:.2g} steps"
        raise ValueError(f"with max_episode_steps=None this policy's episodes would not end: "
                         f"p_right = {p_right:.12g} keeps it in the corridor {how_long} (it "
                         f"needs {P_RIGHT_MIN:g} <= p_right <= 1 - {P_RIGHT_MIN:g}); give a "
                         f"max_episode_steps")


def p_right_of(policy: LinearPolicy) -> float:
    """pi(right | x = [1]) of a two-action policy on the corridor's single feature."""
    return float(_check_corridor_policy(policy).probs(FEATURES[None, :])[0, RIGHT])


def exact_policy_gradient(policy: LinearPolicy) -> np.ndarray:
    """The exact expectation of the REINFORCE estimate on the corridor, shape (n_params,).

    Parameters
    ----------
    policy : SoftmaxPolicy(1, 2) or BernoulliPolicy(1)
        A two-action policy on the corridor's single feature x = [1], so one probability
        pi(right) in every state; the gradient is at its current ``theta``.

    Returns
    -------
    grad_J : array of shape (policy.n_params,)
        The gradient dJ / dtheta for gamma = 1, in the order of ``policy.theta``.

    Notes
    -----
    The policy-gradient theorem on this MDP. With v(s) = sum_a pi(a) q(s, a) and
    q(s, a) = -1 + v(next(s, a)) (v(goal) = 0), differentiating both gives

        grad v(s) = phi(s) + sum_s' P[s, s'] grad v(s'),
        phi(s) = sum_a grad pi(a) q(s, a) = sum_a pi(a) q(s, a) grad log pi(a),

    (the reward and the dynamics do not depend on theta). Stacked over the three
    states, grad v = phi + P grad v, so grad v = (I - P)^{-1} phi and

        grad J = grad v(0) = sum_s eta(s) sum_a pi(a) q(s, a) grad log pi(a)

    with eta = e_0^T (I - P)^{-1} the expected visits. This is also the expectation of
    the REINFORCE estimate sum_t grad log pi(a_t) G_t with the reward-to-go G_t (gamma = 1):
    E[G_t | s_t, a_t] = q(s_t, a_t), and state s is visited eta(s) times on average.
    Here every state has the feature x = [1], so grad log pi(a) is the same in all states.
    """
    p = p_right_of(policy)
    probs = np.array([1.0 - p, p])
    scores = policy.grad_log_prob(np.ones((2, 1)), [LEFT, RIGHT])  # (2, P)
    v_all = np.append(exact_values(p), 0.0)                           # v(goal) = 0
    q = -1.0 + v_all[NEXT_STATE]                                      # (3, 2)
    weight = (expected_visits(p) @ q) * probs                         # sum_s eta(s) q(s,a) pi(a)
    return weight @ scores


def finite_difference_gradient(policy: LinearPolicy, step: float = DEFAULT_STEP) -> np.ndarray:
    """Central-difference gradient of J(theta) = exact_start_value(pi(right | theta)), (n_params,).

    ``policy.theta`` is perturbed during the computation and restored afterwards.
    """
    _check_corridor_policy(policy)
    J = as_function_of_theta(policy, lambda: exact_start_value(p_right_of(policy)))
    return numerical_gradient(J, policy.theta, step)


# ---------------------------------------------------------------------- sampled episodes
def sample_episodes(policy: LinearPolicy, n_episodes: int, seed: SeedLike = 0, *,
                    max_episode_steps: int | None = 1000
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``n_episodes`` episodes of ``policy`` in :class:`ShortCorridorEnv`.

    Parameters
    ----------
    policy : SoftmaxPolicy(1, 2) or BernoulliPolicy(1)
    n_episodes : int
    seed : int or np.random.Generator, default 0
        Source of the actions (the corridor itself is deterministic).
    max_episode_steps : int or None, default 1000
        Episodes are cut (truncated) there. The exact J and gradient of this module are
        for episodes of any length, so an estimate from cut episodes is biased where they
        can be that long: a Bernoulli policy at p_right = 0.01, 3000 episodes of seed 0,
        puts the REINFORCE estimate (reward-to-go) 5.7 standard errors below the exact
        gradient at 1000 steps, 0.3 above it with None (no cut; its longest took 2743).
        None is refused (ValueError) for a policy with p_right within ``P_RIGHT_MIN`` of 0
        or 1, whose episodes would not end.

    Returns
    -------
    X : array of shape (T, 1)
        Observations, all episodes one after another.
    A : array of shape (T,)
        Actions taken.
    rewards : array of shape (T,)
    lengths : array of int, shape (n_episodes,)

    Examples
    --------
    >>> X, A, rewards, lengths = sample_episodes(SoftmaxPolicy(1, 2), 3, seed=0)
    >>> bool(X.shape[0] == A.shape[0] == rewards.shape[0] == lengths.sum())
    True
    """
    _check_corridor_policy(policy)
    n_episodes = check_int(n_episodes, "n_episodes", low=1)
    rng = as_generator(seed)
    env = ShortCorridorEnv(max_episode_steps=max_episode_steps)
    if env.max_episode_steps is None:
        _check_episodes_end(p_right_of(policy))
    observations, actions, rewards, lengths = [], [], [], []
    for _ in range(n_episodes):
        obs, _ = env.reset()
        steps, done = 0, False
        while not done:  # the environment forces a per-step loop
            a = int(policy.sample(obs[None, :], rng)[0])
            observations.append(obs)
            actions.append(a)
            obs, r, terminated, truncated, _ = env.step(a)
            rewards.append(r)
            steps += 1
            done = terminated or truncated
        lengths.append(steps)
    return (np.array(observations), np.array(actions, dtype=np.int64),
            np.array(rewards, dtype=np.float64), np.array(lengths, dtype=np.int64))

