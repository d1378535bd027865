"""How good can a Pendulum-v1 controller be, and how noisy is a 100-episode evaluation?

    python scripts/pendulum_optimum.py                          # 361 x 241 grid, ~1-2 min
    python scripts/pendulum_optimum.py --n-theta 61 --n-velocity 41 --episodes 200  # smoke

The benchmark's Pendulum target asks for a mean-action return >= -160 averaged over 100
evaluation episodes, on each of 10 seeds. This script computes the reference for that
number: a near-optimal controller from finite-horizon dynamic programming on a grid, run
in the real gymnasium env from uniform random starts, and the spread of its 100-episode
means. It uses no learning and nothing of linear_pg.

Dynamics (gymnasium's Pendulum-v1, g = 10, dt = 0.05, torque clipped to [-2, 2]):

    cost(th, v, u) = wrap(th)^2 + 0.1 v^2 + 0.001 u^2
    v' = clip(v + (3 g / 2 sin(th) + 3 u) dt, -8, 8),   th' = th + v' dt

Dynamic programming over the 200 steps of an episode, on a grid over (th, v) with
bilinear interpolation (th periodic):

    V_200 = 0,   V_t(s) = min_u [cost(s, u) + V_{t+1}(s'(s, u))],

and the controller at step t picks the u that minimizes the bracket at the env's true
state. Its average return is an upper bound on what any policy can show (up to the grid's
error), and the standard deviation of its 100-episode means is the evaluation's own noise.
"""

from __future__ import annotations

import argparse
import math

import gymnasium as gym
import numpy as np

G, DT, MAX_SPEED, MAX_TORQUE, HORIZON = 10.0, 0.05, 8.0, 2.0, 200


def dynamics(th: np.ndarray, v: np.ndarray, u: np.ndarray):
    """Pendulum-v1's step: (next angle, next velocity, cost), broadcast over arrays."""
    cost = ((th + np.pi) % (2 * np.pi) - np.pi) ** 2 + 0.1 * v ** 2 + 0.001 * u ** 2
    v_next = np.clip(v + (1.5 * G * np.sin(th) + 3.0 * u) * DT, -MAX_SPEED, MAX_SPEED)
    return th + v_next * DT, v_next, cost


class Grid:
    """A periodic angle axis and a bounded velocity axis, with bilinear interpolation."""

    def __init__(self, n_theta: int, n_velocity: int) -> None:
        self.theta = np.linspace(-np.pi, np.pi, n_theta, endpoint=False)
        self.velocity = np.linspace(-MAX_SPEED, MAX_SPEED, n_velocity)

    def interpolate(self, V: np.ndarray, th: np.ndarray, v: np.ndarray) -> np.ndarray:
        """V (n_theta, n_velocity) at the points (th, v), any matching shapes."""
        n_th, n_v = V.shape
        x = (th + np.pi) % (2 * np.pi) / (2 * np.pi / n_th)
        i0 = np.floor(x).astype(np.int64)
        fx = x - i0
        i0 %= n_th
        i1 = (i0 + 1) % n_th
        y = np.clip((v + MAX_SPEED) / (2 * MAX_SPEED / (n_v - 1)), 0.0, n_v - 1 - 1e-9)
        j0 = np.floor(y).astype(np.int64)
        fy = y - j0
        return ((V[i0, j0] * (1 - fx) + V[i1, j0] * fx) * (1 - fy)
                + (V[i0, j0 + 1] * (1 - fx) + V[i1, j0 + 1] * fx) * fy)


def cost_to_go(grid: Grid, torques: np.ndarray) -> list[np.ndarray]:
    """V_t on the grid for t = 0 .. HORIZON (V_HORIZON = 0), by backward induction."""
    th, v = np.meshgrid(grid.theta, grid.velocity, indexing="ij")
    th_next, v_next, cost = dynamics(th[..., None], v[..., None], torques)
    values = [np.zeros(th.shape)]
    for _ in range(HORIZON):
        values.append((cost + grid.interpolate(values[-1], th_next, v_next)).min(axis=-1))
    return values[::-1]


def greedy_torque(grid: Grid, V_next: np.ndarray, torques: np.ndarray, th: np.ndarray,
                  v: np.ndarray) -> np.ndarray:
    """argmin_u cost(s, u) + V_next(s'(s, u)) at each of the states (th, v), shape (N,)."""
    th_next, v_next, cost = dynamics(th[:, None], v[:, None], torques)
    return torques[np.argmin(cost + grid.interpolate(V_next, th_next, v_next), axis=1)]


def run_episodes(grid: Grid, values: list[np.ndarray], torques: np.ndarray, episodes: int,
                 seed: int, n_envs: int = 100) -> np.ndarray:
    """Returns of the DP controller in gymnasium's Pendulum-v1, shape (episodes,)."""
    returns = []
    env = gym.make_vec("Pendulum-v1", num_envs=n_envs, vectorization_mode="sync", g=G)
    try:
        for k in range(math.ceil(episodes / n_envs)):
            obs, _ = env.reset(seed=seed + k * n_envs)     # sub-env i: seed + i
            total = np.zeros(n_envs)
            for t in range(HORIZON):
                th, v = np.arctan2(obs[:, 1], obs[:, 0]).astype(np.float64), obs[:, 2]
                u = greedy_torque(grid, values[t + 1], torques, th, v.astype(np.float64))
                obs, reward, _, _, _ = env.step(u[:, None])
                total += reward
            returns.append(total)
    finally:
        env.close()
    return np.concatenate(returns)[:episodes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-theta", type=int, default=361)
    parser.add_argument("--n-velocity", type=int, default=241)
    parser.add_argument("--n-torques", type=int, default=41)
    parser.add_argument("--episodes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    grid = Grid(args.n_theta, args.n_velocity)
    torques = np.linspace(-MAX_TORQUE, MAX_TORQUE, args.n_torques)
    returns = run_episodes(grid, cost_to_go(grid, torques), torques, args.episodes, args.seed)
    sd_100 = returns.std(ddof=1) / 10.0
    blocks = returns[: returns.size // 100 * 100].reshape(-1, 100).mean(axis=1)
    p_pass = 0.5 * math.erfc(-(returns.mean() + 160.0) / (sd_100 * math.sqrt(2.0)))
    print(f"DP controller on a {args.n_theta} x {args.n_velocity} grid, {args.n_torques} "
          f"torques, {returns.size} episodes:")
    print(f"  mean return {returns.mean():.1f}, per-episode std {returns.std(ddof=1):.1f}")
    print(f"  std of a 100-episode mean {sd_100:.2f}; P(100-episode mean >= -160) "
          f"{p_pass:.4f} (normal approximation), so P(10 of 10 seeds) {p_pass ** 10:.3f}")
    if blocks.size:
        print(f"  its {blocks.size} disjoint 100-episode means: {blocks.min():.1f} to "
              f"{blocks.max():.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
