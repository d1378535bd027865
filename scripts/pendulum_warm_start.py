"""Is the Pendulum plateau what its objective prefers, or where training gets stuck?

    python scripts/pendulum_warm_start.py          # ~7 min: DP, fit, 2 x 6 training runs
    python scripts/pendulum_warm_start.py --seeds 1 --n-theta 61 --n-velocity 41 \\
        --episodes 6 --eval-episodes 50             # smoke run, seconds

Trained from a zero policy on the bumps alone (the Pendulum preset before its energy
feature and entropy bonus, ``BUMPS_ONLY``), the policies average about -145 to -149 over
many evaluation episodes, while the dynamic-programming controller of
scripts/pendulum_optimum.py averages about -136. This script separates the two possible
reasons. It fits that preset's linear policy (Gaussian bumps on a 12 x 11 grid) to a
near-optimal controller by least squares, then runs the preset's training twice per seed,
once from the zero policy and once from the fitted one, and evaluates the mean action of
all of them on the same starts. If training from the fit drifts down to the plateau, the
objective (sampled actions, gamma = 0.98) prefers the plateau; if it stays near the fit,
a better policy exists within reach of these features and the training from zero does not
find it. Each policy's mean torque at one probe state, one radian from the top and at rest,
shows the difference: gravity (15 sin 1 = 12.6) beats the largest torque (3 * 2 = 6) there,
so the optimum pushes with the fall to gain energy for the next swing.

Two more questions about the way from a policy trained from zero to the fit. Are they two
local optima, with worse policies between them? The script evaluates the straight line
W = (1 - a) W_zero + a W_fit at a = 0.01 and 0.05 (is the plateau a local maximum?) and at
a = 1/4, 1/2, 3/4, with the mean action and, since training maximizes the return of the
sampled actions, also with actions sampled at the sigma the training from zero ended with
(does the noisy policy prefer the plateau?). Can the way be taken one part of the state
space at a time? It moves only the weights of the bumps near the top, in the middle or
near the bottom (by the angle of the bump's centre) to the fit's, the others kept.

The fit. u*(s) is the torque of the controller that is greedy with respect to V_100, the
cost-to-go with 100 steps left (a stationary controller, as the linear policy is). The
states s are those this controller visits from uniform starts (every second step) and
uniform states over [-pi, pi) x [-8, 8]. With X the feature rows of those states,

    W = argmin_W |X W - c u*|^2 + ridge |W|^2 = (X^T X + ridge I)^-1 X^T (c u*),

and c = 4 makes the policy's mean overshoot the env's clip at +-2, so that the clipped
mean switches almost as sharply as the bang-bang optimum (with c = 1 the mean is a smooth
average across each switch and the pendulum often fails to swing up).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed

from linear_pg import evaluate, train
from linear_pg.features import RBFFeatures, make_features
from linear_pg.policies import GaussianPolicy
from linear_pg.presets import PRESETS

ENV_ID = "Pendulum-v1"
PRESET = PRESETS[ENV_ID]
PROBE = (1.0, 0.0)          # (th, v): one radian from the top, at rest
LINE = (0.01, 0.05, 0.25, 0.5, 0.75)    # between a policy trained from zero (0) and the fit (1)
REGIONS = {"top": (0.0, 1.2), "middle": (1.2, 2.2), "bottom": (2.2, 4.0)}   # |th| of a bump


def load_sibling(name: str):
    """scripts/<name>.py as a module (it sits next to this file)."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_optimum():
    """scripts/pendulum_optimum.py as a module."""
    return load_sibling("pendulum_optimum")


BUMPS_ONLY = load_sibling("pendulum_variants").BUMPS_ONLY
"""The preset's settings before its energy feature and entropy bonus (2026-12-03): the
analysis this script makes (README) is of that training, on the bumps alone."""


def observations(th: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pendulum's observation (cos th, sin th, v), shape (N, 3)."""
    return np.stack([np.cos(th), np.sin(th), v], axis=1)


def fit_states(opt, controller, n_starts: int, n_uniform: int,
               rng: np.random.Generator) -> np.ndarray:
    """(th, v) rows: the controller's states from uniform starts, then uniform states."""
    th, v = rng.uniform(-np.pi, np.pi, n_starts), rng.uniform(-1.0, 1.0, n_starts)
    visited = []
    for t in range(opt.HORIZON):
        if t % 2 == 0:
            visited.append(np.stack([th, v], axis=1))
        th, v, _ = opt.dynamics(th, v, controller(th, v))
    uniform = np.stack([rng.uniform(-np.pi, np.pi, n_uniform),
                        rng.uniform(-opt.MAX_SPEED, opt.MAX_SPEED, n_uniform)], axis=1)
    return np.concatenate(visited + [uniform])


def preset_features() -> RBFFeatures:
    """The bumps-only preset's feature map, fitted (its grid does not depend on the data)."""
    return make_features(BUMPS_ONLY["features"], **BUMPS_ONLY["features_kwargs"]).fit(
        np.zeros((1, 3)))


def fit_policy(features: RBFFeatures, states: np.ndarray, torques: np.ndarray,
               overshoot: float = 4.0, ridge: float = 1e-3) -> GaussianPolicy:
    """The preset's Gaussian policy with W from the ridge fit of overshoot * torques."""
    X = features.transform(observations(states[:, 0], states[:, 1]))
    W = np.linalg.solve(X.T @ X + ridge * np.eye(X.shape[1]), X.T @ (overshoot * torques))
    policy = GaussianPolicy(X.shape[1], 1, **PRESET["policy_kwargs"])
    policy.W = W.reshape(policy.W.shape)
    return policy


def mean_return(policy_or_run, features, episodes: int, seed: int,
                mean_action: bool = True) -> float:
    """Return averaged over ``episodes`` starts drawn from ``seed``, acting with the mean
    action (or, with ``mean_action=False``, sampled actions, also drawn from ``seed``)."""
    kwargs = {} if not isinstance(policy_or_run, GaussianPolicy) else \
        {"env_id": ENV_ID, "features": features, "env_kwargs": PRESET["env_kwargs"]}
    returns = evaluate(policy_or_run, episodes, seed=seed, n_envs=min(episodes, 50),
                       mean_action=mean_action, **kwargs)
    return float(returns.mean())


def probe_features(features: RBFFeatures) -> np.ndarray:
    """The feature row of the PROBE state, shape (1, n_features)."""
    th, v = np.array([PROBE[0]]), np.array([PROBE[1]])
    return features.transform(observations(th, v))


def probe_torque(policy: GaussianPolicy, features: RBFFeatures) -> float:
    """The policy's mean torque (before the env's clip to +-2) at the PROBE state."""
    return float(policy.mean(probe_features(features))[0, 0])


def between(start: GaussianPolicy, end: GaussianPolicy, alpha: float | np.ndarray
            ) -> GaussianPolicy:
    """The policy with mean weights W_start + alpha (W_end - W_start) (sigma: start's).

    ``alpha`` is a number, or one number per feature (a row of W): 1 on some bumps and 0
    on the others moves only those bumps' weights to the end policy's.
    """
    policy = start.copy()
    policy.W = start.W + np.reshape(alpha, (-1, 1)) * (end.W - start.W)
    return policy


def region_mask(features: RBFFeatures, low: float, high: float) -> np.ndarray:
    """1.0 for the bumps whose centre is low <= |th| < high from the top, 0.0 elsewhere
    (and for the bias)."""
    th = np.abs(features.centers_[:, 0])
    return np.append((th >= low) & (th < high), False).astype(np.float64)


class SeedResult(NamedTuple):
    """One seed's returns and probe torques (see :func:`train_both`)."""

    from_zero: float
    from_fit: float
    torque_from_zero: float
    torque_from_fit: float
    sigma_from_zero: float      # the sampled actions' sigma, as the training from zero ended
    line: list[float]           # at the LINE points from the policy from zero to the fit
    line_sampled: list[float]   # at 0, the LINE points and 1, sampled at the from-zero sigma
    regions: list[float]        # the policy from zero with one REGION's bumps moved to the fit


def train_both(seed: int, warm: GaussianPolicy, features: RBFFeatures, episodes: int,
               eval_episodes: int, eval_seed: int) -> SeedResult:
    """The preset's training of one seed from zero and from the fit, evaluated alike.

    Besides the two trained policies, it evaluates the policies between the one from zero
    and the fit: the line asks whether worse policies separate the two (two local optima),
    the regions whether the way up can be taken one part of the state space at a time.
    """
    cold = train(ENV_ID, seed=seed, episodes=episodes, **BUMPS_ONLY)
    hot = train(ENV_ID, seed=seed, episodes=episodes, policy=copy.deepcopy(warm),
                features=copy.deepcopy(features), mirror=True,
                entropy_coef=BUMPS_ONLY["entropy_coef"])
    if not np.array_equal(cold.features.centers_, features.centers_):
        raise ValueError("the preset's training grid differs from the fit's")
    on_line = [between(cold.policy, warm, a) for a in (0.0, *LINE, 1.0)]
    line = [mean_return(policy, features, eval_episodes, eval_seed) for policy in on_line[1:-1]]
    line_sampled = [mean_return(policy, features, eval_episodes, eval_seed, mean_action=False)
                    for policy in on_line]
    regions = [mean_return(between(cold.policy, warm, region_mask(features, *bounds)),
                           features, eval_episodes, eval_seed) for bounds in REGIONS.values()]
    return SeedResult(mean_return(cold, None, eval_episodes, eval_seed),
                      mean_return(hot, None, eval_episodes, eval_seed),
                      probe_torque(cold.policy, cold.features),
                      probe_torque(hot.policy, hot.features),
                      float(cold.policy.std(probe_features(features))[0, 0]),  # any state
                      line, line_sampled, regions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-theta", type=int, default=181)
    parser.add_argument("--n-velocity", type=int, default=121)
    parser.add_argument("--n-torques", type=int, default=41)
    parser.add_argument("--seeds", type=int, default=6, help="training seeds 0 .. K-1")
    parser.add_argument("--episodes", type=int, default=PRESET["episodes"])
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--eval-seed", type=int, default=777)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    opt = load_optimum()
    grid = opt.Grid(args.n_theta, args.n_velocity)
    torques = np.linspace(-opt.MAX_TORQUE, opt.MAX_TORQUE, args.n_torques)
    V_100 = opt.cost_to_go(grid, torques)[opt.HORIZON // 2]

    def controller(th, v):
        return opt.greedy_torque(grid, V_100, torques, th, v)

    states = fit_states(opt, controller, 1000, 100_000, np.random.default_rng(0))
    features = preset_features()
    warm = fit_policy(features, states, controller(states[:, 0], states[:, 1]))
    fit = mean_return(warm, features, args.eval_episodes, args.eval_seed)
    print(f"least-squares fit of the DP controller ({args.n_theta} x {args.n_velocity} grid) "
          f"on the preset's {features.n_features_out_ - 1} bumps: mean action {fit:.1f} over "
          f"{args.eval_episodes} episodes (evaluation seed {args.eval_seed}); mean torque "
          f"at (th, v) = {PROBE}: {probe_torque(warm, features):+.1f}")
    results = Parallel(n_jobs=args.jobs)(
        delayed(train_both)(seed, warm, features, args.episodes, args.eval_episodes,
                            args.eval_seed) for seed in range(args.seeds))
    cold = np.array([r.from_zero for r in results])
    hot = np.array([r.from_fit for r in results])
    print(f"after {args.episodes} training episodes, same evaluation starts; mean torque at "
          f"the probe state:")
    print("  seed  from zero  from the fit   torque from zero  from the fit")
    for seed, r in enumerate(results):
        print(f"  {seed:4d}  {r.from_zero:9.1f}  {r.from_fit:12.1f}   "
              f"{r.torque_from_zero:+16.1f}  {r.torque_from_fit:+12.1f}")
    print(f"  mean  {cold.mean():9.1f}  {hot.mean():12.1f}")
    print("mean action on the straight line W = (1 - a) W_zero + a W_fit from each policy "
          "trained from zero (a = 0) to the fit (a = 1):")
    print("  seed" + "".join(f"  a={a:<6}" for a in (0, *LINE, 1)))
    for seed, r in enumerate(results):
        print(f"  {seed:4d}" + "".join(f"  {x:8.1f}" for x in (r.from_zero, *r.line, fit)))
    print("the same line with actions sampled at the sigma the training from zero ended with:")
    print("  seed   sigma" + "".join(f"  a={a:<6}" for a in (0, *LINE, 1)))
    for seed, r in enumerate(results):
        print(f"  {seed:4d}  {r.sigma_from_zero:6.3f}" + "".join(f"  {x:8.1f}"
                                                             for x in r.line_sampled))
    print("the policy trained from zero with only the bumps of one region (|th| from the top) "
          "moved to the fit:")
    print("  seed  " + "".join(f"{f'{k} {lo}-{hi}':>15}" for k, (lo, hi) in REGIONS.items()))
    for seed, r in enumerate(results):
        print(f"  {seed:4d}  " + "".join(f"{x:15.1f}" for x in r.regions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
