from nbtools import code, md, setup

NAME = "05_returns_and_baselines"

CELLS = [
md(r'''
# 5. Returns, reward-to-go and baselines

**What you will learn**

- why each action may be credited only with the rewards that came *after* it
  (reward-to-go), and why that changes the variance but not the expected gradient;
- a classic bug in the discounted return, `GAMMA ** r`, and how an exact value exposes it;
- why subtracting a baseline $b(s_t)$ adds no bias, checked numerically;
- how much variance each choice removes, measured on CartPole with a fixed policy.
'''),
setup('''
import gymnasium as gym

from linear_pg import SoftmaxPolicy, bugs, reward_to_go, total_return
from linear_pg.baselines import ValueBaseline
from linear_pg.features import RawFeatures
from linear_pg.returns import episode_starts
from linear_pg.rollout import collect
'''),
md(r'''
## From the total return to the reward-to-go

Notebook 1 gave $\nabla J = \mathbb{E}\big[\sum_t \nabla\log\pi(a_t\mid s_t)\, R(\tau)\big]$,
the score-function gradient of the expected return $R(\tau)$ of an episode; here let
$R(\tau) = \sum_k \gamma^k r_k$ be the discounted return. Split $R(\tau)$ into the rewards before step $t$ and from
step $t$ on. For a reward $r_k$ with $k < t$, condition on everything up to $s_t$: $r_k$ is
then fixed, and only $a_t$ is random, so

$$
\mathbb{E}\big[\nabla\log\pi(a_t\mid s_t)\, r_k\big]
= \mathbb{E}\Big[r_k\;
  \mathbb{E}_{a_t\sim\pi(\cdot\mid s_t)}\big[\nabla\log\pi(a_t\mid s_t)\big]\Big] = 0,
$$

because the score has mean zero:
$\sum_a \pi(a\mid s)\nabla\log\pi(a\mid s) = \nabla\sum_a\pi(a\mid s) = \nabla 1 = 0$.
Past rewards only add noise. Dropping them leaves

$$
\nabla J = \mathbb{E}\Big[\sum_t \gamma^t\, \nabla\log\pi(a_t\mid s_t)\, G_t\Big],
\qquad G_t = \sum_{k \ge t} \gamma^{k-t} r_k .
$$

(In practice, and in `linear_pg`, the factor $\gamma^t$ in front is dropped. The result is
then a biased estimate of $\nabla J_\gamma$, and in general not the gradient of any
objective at all (Thomas 2014; Nota & Thomas 2020, "Is the policy gradient a gradient?").
It is best read as an estimate of the gradient of the *undiscounted* return in which
$\gamma < 1$ trades a bias for a lower variance; with $\gamma = 1$ the two agree.) The reward-to-go satisfies $G_t = r_t + \gamma G_{t+1}$, which
`linear_pg.reward_to_go` evaluates backwards in $O(T)$.

## The `GAMMA ** r` bug

Code found in the wild computes the discounted sum as `sum(r * GAMMA ** r)`: the
exponent is the *reward* instead of the time offset $k - t$. On CartPole every reward is 1,
so each future step is discounted by the same $\gamma^1$ and the "return" grows linearly,
$\gamma\,(T - t)$, instead of saturating at $1/(1-\gamma)$. With constant reward 1 the exact
reward-to-go is a geometric sum,

$$
G_t = \sum_{j=0}^{T-t-1} \gamma^j = \frac{1 - \gamma^{T-t}}{1-\gamma},
$$

which is the check below. `linear_pg.bugs.discounted_return_reward_exponent` keeps the buggy
version beside its correct twin.
'''),
code('''
gamma, T = 0.99, 500
rewards = np.ones(T)                            # CartPole: +1 per step
exact = (1 - gamma ** (T - np.arange(T))) / (1 - gamma)
G = reward_to_go(rewards, gamma)
G_bug = bugs.discounted_return_reward_exponent(rewards, gamma)
print("reward_to_go at t = 0, 250, 499:        ", G[[0, 250, 499]])
print("exact geometric sum:                    ", exact[[0, 250, 499]])
print("GAMMA ** r version at t = 0, 250, 499:   ", G_bug[[0, 250, 499]])
assert np.allclose(G, exact, rtol=1e-12)
assert not np.allclose(G_bug, exact, rtol=0.1)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(G, label="reward_to_go (exponent k - t)")
ax.plot(G_bug, label="bug: exponent = reward", ls="--")
ax.axhline(1 / (1 - gamma), color="k", lw=0.8, label="1 / (1 - $\\\\gamma$)")
ax.set_xlabel("step t")
ax.set_ylabel("$G_t$")
ax.legend()
fig.tight_layout()
fig.savefig(FIG_DIR / "nb05_gamma_power_r_bug.png", dpi=120)
plt.show()
'''),
md(r'''
## Baselines add no bias

The same argument shows that any $b(s_t)$ that does not depend on the action $a_t$ can be
subtracted from $G_t$:

$$
\mathbb{E}\big[\nabla\log\pi(a_t\mid s_t)\, b(s_t)\big]
= \mathbb{E}\Big[b(s_t)\,\mathbb{E}_{a_t}\big[\nabla\log\pi(a_t\mid s_t)\big]\Big] = 0 .
$$

A good baseline (close to the expected return from $s_t$) makes $G_t - b(s_t)$ small and
centred, which lowers the variance. Two practical points: $b$ must not use the action, and
it should not be fitted on the very batch it is applied to (each $G_t$ would then leak into
its own baseline). Below the baseline is `linear_pg.baselines.ValueBaseline`, a linear value
function fitted on a *separate* set of episodes.

## The measurement

A fixed softmax policy on raw CartPole features (position, velocity, angle, angular
velocity, bias) that balances for about 70 steps. We collect many episodes and compute, for
each episode $i$, its contribution to the gradient estimate with three weightings:
$g_i = \sum_t \nabla\log\pi(a_t\mid s_t)\, w_t$. The estimate from $N$ episodes is the mean
of the $g_i$; its variance is $\mathrm{tr}\,\mathrm{Cov}(g_i)/N$, so we compare the total
per-episode variance $\mathrm{tr}\,\mathrm{Cov}(g_i)$. We use $\gamma = 1$, the case in which
the derivation above says the three estimators have the same expectation. (With
$\gamma < 1$ the total return $\sum_k\gamma^k r_k$ matches $\gamma^t G_t$, not the
$G_t$ that `reward_to_go` returns, and the comparison would mix two different objectives.)
'''),
code('''
env = gym.make("CartPole-v1")
phi = RawFeatures().fit(np.zeros((1, 4)))
policy = SoftmaxPolicy(phi.n_features_out_, 2)
gains = np.array([0.0, 0.5, 5.0, 1.0, 0.0])     # push right when the pole falls right
policy.W = np.stack([-gains / 2, gains / 2], axis=1)
rng = np.random.default_rng(0)
n_episodes = 300 if QUICK else 1500

gamma = 1.0        # undiscounted: the three estimators then have exactly the same mean
fit_batch = collect(env, policy, phi, 100, rng)            # only to fit the baseline
baseline = ValueBaseline()
baseline.update(fit_batch.X, reward_to_go(fit_batch.rewards, gamma, fit_batch.lengths))

batch = collect(env, policy, phi, n_episodes, rng)         # the measurement
print(f"{batch.n_episodes} episodes, mean length {batch.lengths.mean():.1f}")

S = policy.grad_log_prob(batch.X, batch.actions)           # (T, P) scores
G = reward_to_go(batch.rewards, gamma, batch.lengths)
b = baseline.predict(batch.X)
weights = {
    "total return": total_return(batch.rewards, gamma, batch.lengths),
    "reward-to-go": G,
    "reward-to-go - baseline": G - b,
}
starts = episode_starts(batch.lengths)
per_episode = {name: np.add.reduceat(S * w[:, None], starts, axis=0)   # (N, P)
               for name, w in weights.items()}
'''),
code('''
def total_variance(g):
    return float(g.var(axis=0, ddof=1).sum())


boot = np.random.default_rng(1)
idx = boot.integers(0, batch.n_episodes, size=(200, batch.n_episodes))
names = list(per_episode)
var = {k: total_variance(per_episode[k]) for k in names}
ci = {k: np.percentile([total_variance(per_episode[k][i]) for i in idx], [5, 95]) for k in names}
for k in names:
    print(f"{k:25s} tr Cov(g_i) = {var[k]:12.1f}   90% bootstrap interval {ci[k].round(1)}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
heights = [var[k] for k in names]
err = np.array([[var[k] - ci[k][0], ci[k][1] - var[k]] for k in names]).T
axes[0].bar(names, heights, yerr=err, capsize=4, color=["C0", "C1", "C2"])
axes[0].set_yscale("log")
axes[0].set_ylabel("total variance of one episode's $g_i$")
axes[0].set_title("variance of the gradient estimate")
# projection of each g_i on the mean gradient direction: same mean, different spread
# (mean +- one standard deviation; the medians differ, as the distributions are skewed)
direction = per_episode["reward-to-go"].mean(axis=0)
direction /= np.linalg.norm(direction)
proj = [per_episode[k] @ direction for k in names]
axes[1].errorbar(range(3), [q.mean() for q in proj], yerr=[q.std(ddof=1) for q in proj],
                 fmt="o", capsize=6, color="k")
axes[1].axhline(0.0, color="0.7", lw=0.8)
axes[1].set_xticks(range(3), names)
axes[1].set_xlim(-0.5, 2.5)
axes[1].set_title(r"$g_i$ projected on the mean gradient: mean $\\pm$ std")
fig.tight_layout()
fig.savefig(FIG_DIR / "nb05_gradient_variance.png", dpi=120)
plt.show()
assert var["total return"] > var["reward-to-go"] > var["reward-to-go - baseline"]
assert ci["total return"][0] > ci["reward-to-go"][1]
'''),
md(r'''
Lower variance is only half of the claim; the other half is that the three estimators have
the **same expectation**. Two differences of per-episode contributions must average to
zero within their standard errors:

- total return minus reward-to-go, $\sum_t \nabla\log\pi_t \sum_{k<t}\gamma^k r_k\,$-style
  terms (past rewards);
- reward-to-go minus reward-to-go with baseline, $\sum_t \nabla\log\pi(a_t\mid s_t)\, b(s_t)$:
  exactly $\mathbb{E}[\text{score}\cdot b] = 0$.

Each component's mean, divided by its standard error, should look standard normal. With
two actions the softmax score's two columns are exact negatives of each other (the
probabilities sum to 1), so the ten numbers on each line below come in pairs of opposite
sign: five independent numbers, not ten. One of them at 2 to 3 is chance, not bias.
'''),
code('''
def z_scores(diff):
    return diff.mean(axis=0) / (diff.std(axis=0, ddof=1) / np.sqrt(diff.shape[0]))


z_past = z_scores(per_episode["total return"] - per_episode["reward-to-go"])
z_base = z_scores(per_episode["reward-to-go"] - per_episode["reward-to-go - baseline"])
print("past rewards,  mean / SE per component:", z_past)
print("score * b(s),  mean / SE per component:", z_base)
assert np.all(np.abs(z_past) < 4) and np.all(np.abs(z_base) < 4)
'''),
md(r'''
For contrast, a "baseline" that *does* look at the action is not allowed: with
$b = G_t \cdot \mathbb{1}[a_t = 1]$ the term $\mathbb{E}[\text{score}\cdot b]$ is far from
zero, and the estimator is biased.
'''),
code('''
cheat = G * (batch.actions == 1)
z_cheat = z_scores(np.add.reduceat(S * cheat[:, None], starts, axis=0))
print("action-dependent b, mean / SE:", z_cheat)
assert np.max(np.abs(z_cheat)) > 6      # six standard errors: not chance
'''),
md(r'''
## Summary

- Rewards before step $t$ are independent of $a_t$ given the past, and the score has mean
  zero; crediting each action with its reward-to-go keeps the expectation and removes noise.
- Discount by the time offset, $\gamma^{k-t}$, not by the reward: `GAMMA ** r` turns the
  geometric sum into a linear one, which the exact geometric value exposes.
- Any action-independent baseline leaves the expected gradient unchanged
  ($\mathbb{E}[\text{score}\cdot b]=0$, checked within standard errors) and a good one cuts
  the variance further. An action-dependent "baseline" biases the estimate.

## Exercises

1. Repeat the measurement with $\gamma = 0.99$. For a like-for-like comparison weight the
   reward-to-go estimators by $\gamma^t G_t$ and $\gamma^t (G_t - \hat v(s_t))$, so that all
   three estimate $\nabla J_\gamma$ (the note above the measurement explains why). How do
   the variances change with the discount?
2. Replace the `ValueBaseline` by a constant equal to the average reward-to-go and compare
   its variance with the value baseline's. Is the linear value function worth it here, and
   why might it not be?
3. Fit the baseline on the measurement batch itself and look for the (small) bias that this
   adds. Repeat the fit-and-estimate on many small batches (say 5 episodes each) and
   average: can you detect it now? Why does one big batch never show it? (The bias shrinks
   like $1/N$ with the batch size, the standard error only like $1/\sqrt N$.)
4. For a one-step problem (one score $s$, one return $G$), show that the variance-minimizing
   constant baseline for one parameter is $\mathbb{E}[s^2 G]/\mathbb{E}[s^2]$, where $s$
   is that component of the score. What is the minimizer for the per-episode estimate
   $g_i = \sum_t s_t (G_t - b)$?
'''),
]
