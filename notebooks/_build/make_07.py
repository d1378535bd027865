from nbtools import code, md, setup

NAME = "07_cartpole"

CELLS = [
md(r'''
# 7. CartPole with linear policies

**What you will learn**

- how to train a linear softmax policy on CartPole with the library's engine,
  `linear_pg.trainer.train`, and read its learning curves over several seeds;
- what the estimators of notebook 5 buy in practice: total return, reward-to-go,
  reward-to-go with a value baseline (all with plain gradient ascent); and what the natural
  policy gradient, introduced here, adds;
- how to evaluate a trained policy separately from its training episodes.
'''),
setup('''
import math

from linear_pg.optim import fisher
from linear_pg.plotting import learning_curve_figure
from linear_pg.presets import get_preset
from linear_pg import evaluate, train_seeds
'''),
md(r'''
## The setting

CartPole-v1 gives $+1$ per step until the pole falls or 500 steps pass. The features are the
raw observation (cart position and velocity, pole angle and angular velocity) plus a bias,
and the policy is a `SoftmaxPolicy` over the two pushes: 10 parameters. A linear policy can
balance the pole, so the question is only how efficiently each estimator finds one.

The first three variants share everything (SGD with step size 0.01, batches of 5 episodes,
$\gamma = 0.99$, no standardization of the weights) except what multiplies the score:

| variant | weight $w_t$ |
|---|---|
| total return | $R(\tau) = \sum_k \gamma^k r_k$ |
| reward-to-go | $G_t = \sum_{k\ge t}\gamma^{k-t} r_k$ |
| reward-to-go + baseline | $G_t - \hat v(s_t)$, $\hat v$ linear, fitted on earlier batches |

The fourth is the third with standardized weights and the **natural gradient**. (The
library's CartPole preset, printed below, takes yet another route: one episode per update,
$\gamma = 0.98$, a value baseline and Adam, whose per-coordinate step sizes solve the
scaling problem differently. Adam moves every weight by about its learning rate per step,
so the units of each feature matter to it: the preset measures the pole angle in units of
its 12° termination limit, `RawFeatures(scale=...)`; in radians the angle is about 0.05
and its weight would be the slow one. It also clips the gradient's norm at 100
(`max_grad_norm`): once a policy balances, one failed episode gives a gradient many times
the usual size, which Adam would turn into a large step. The variants here set their own
step sizes and no clip, `max_grad_norm=math.inf`.) The natural
gradient preconditions $\hat g$ with the inverse Fisher matrix
$F = \mathbb{E}[\nabla\log\pi\,\nabla\log\pi^\top]$ (estimated from the batch's scores by
`linear_pg.optim.fisher`) and fixes the step's length in the metric $F$:
$\Delta\theta^\top F\,\Delta\theta = \delta$. The KL divergence between the policies before
and after a small step is $\tfrac12\Delta\theta^\top F\,\Delta\theta$ to second order, so
every step changes the policy by about the same KL, $\delta/2$. Maximizing the linear gain
$\hat g^\top\Delta\theta$ on that ellipsoid gives
$\Delta\theta = \sqrt{\delta/(\hat g^\top F^{-1}\hat g)}\,F^{-1}\hat g$ (`lr` is $\delta$; the
library adds a small damping $\lambda I$ to $F$ before solving, and then fixes the length in
the damped metric $F + \lambda I$). Without the damping, that makes the step independent of
how the policy happens to be parameterized; the damping breaks this a little, and notebook 8
shows a case where that matters.

One more thing the third and fourth variants do, because they have a value function: an
episode cut by CartPole's 500-step limit did not fail, so the trainer adds
$\gamma\,\hat v(s_T)$, the value of the state where it was cut, to its last reward before
computing $G_t$ (`linear_pg.bootstrap_truncated`). The first two variants have no
$\hat v$ and use the table's weights as written.

Note also that the first two rows differ in more than variance. Notebook 5 shows that the
total return's weight equals $\gamma^t G_t$ in expectation, not $G_t$: the reward-to-go
estimator, as used here and almost everywhere, drops the factor $\gamma^t$ and so weighs late
steps more than the gradient of the discounted return does.
'''),
code('''
print("CartPole preset:", {k: v for k, v in get_preset("CartPole-v1").items()
                           if k in ("features", "features_kwargs", "estimator", "baseline", "normalize_weights",
                                    "optimizer", "lr", "gamma", "batch_episodes",
                                    "max_grad_norm")})
seeds = range(2) if QUICK else range(5)
episodes = 150 if QUICK else 400
raw = dict(features="raw", features_kwargs={})          # the observation as it comes
plain = dict(optimizer="sgd", lr=0.01, normalize_weights=False, gamma=0.99, batch_episodes=5,
             max_grad_norm=math.inf, **raw)
variants = {
    "total return": dict(estimator="total_return", baseline="none", **plain),
    "reward-to-go": dict(estimator="reward_to_go", baseline="none", **plain),
    "reward-to-go + baseline": dict(estimator="reward_to_go", baseline="value", **plain),
    "natural gradient": dict(estimator="reward_to_go", baseline="value", normalize_weights=True,
                             optimizer="npg", lr=0.05, gamma=0.99, batch_episodes=5,
                             max_grad_norm=math.inf, **raw,
                             # the natural gradient's own defaults (F from the sampled
                             # scores, damping 1e-4), not the preset's damped expected F
                             optimizer_kwargs={}),
}
runs = {name: train_seeds("CartPole-v1", seeds, episodes=episodes, **kwargs)
        for name, kwargs in variants.items()}
for name, rs in runs.items():
    assert all(r.stopped_reason is None for r in rs), name
    print(f"{name:27s} {len(rs)} seeds x {rs[0].n_episodes} episodes, "
          f"config: estimator={rs[0].config['estimator']}, baseline={rs[0].config['baseline']}, "
          f"optimizer={rs[0].config['optimizer']}")
'''),
md(r'''
## Learning curves over seeds

Each faint line is one seed (a moving average over 20 episodes); the thick line is the mean
over seeds with a 95% $t$-interval, clipped to the returns CartPole can give, 0 to 500 (with
five seeds the interval itself can reach beyond them). Curves from one seed alone are misleading: the spread
between seeds is as large as many of the differences people report.
'''),
code('''
fig = learning_curve_figure({k: [r.episode_returns for r in rs] for k, rs in runs.items()},
                            title="Linear softmax policy on CartPole-v1", threshold=500,
                            window=20, bounds=(0, 500))   # the band stays within the returns
fig.savefig(FIG_DIR / "nb07_cartpole_variants.png", dpi=120)
plt.show()


def final(rs, k=20):
    """Mean training return over the last k episodes, averaged over seeds, and its SE."""
    per_seed = np.array([r.episode_returns[-k:].mean() for r in rs])
    return per_seed.mean(), per_seed.std(ddof=1) / np.sqrt(per_seed.size)


for name, rs in runs.items():
    m, se = final(rs)
    auc = np.mean([r.episode_returns.mean() for r in rs])
    print(f"{name:27s} last 20 training episodes: {m:6.1f} +- {se:5.1f}   "
          f"mean over all episodes: {auc:6.1f}")
assert final(runs["natural gradient"])[0] > 100


def area(rs):
    return np.mean([r.episode_returns.mean() for r in rs])


assert area(runs["natural gradient"]) > area(runs["reward-to-go + baseline"]) > \\
    max(area(runs["reward-to-go"]), area(runs["total return"]))
'''),
md(r'''
## Evaluating the trained policies

Training returns come from the *sampling* policy while it changes. To judge the final
policy, `evaluate` runs fresh episodes (with reset seeds never used in training) and acts
with the most likely action.
'''),
code('''
n_eval = 10 if QUICK else 30
scores = {name: np.array([evaluate(r, episodes=n_eval).mean() for r in rs])
          for name, rs in runs.items()}
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.boxplot(list(scores.values()), showfliers=False)
for i, s in enumerate(scores.values(), start=1):
    ax.plot(np.full(s.size, i), s, "o", color="k", alpha=0.6)
ax.set_xticks(range(1, len(scores) + 1), list(scores), fontsize="small")
ax.set_ylabel(f"mean return of {n_eval} greedy episodes")
ax.set_title("final policies, one point per seed")
fig.tight_layout()
fig.savefig(FIG_DIR / "nb07_cartpole_evaluation.png", dpi=120)
plt.show()
for name, s in scores.items():
    print(f"{name:27s} greedy evaluation per seed: {s.round(1)}")
assert scores["natural gradient"].mean() > 100
'''),
md(r'''
## A look inside the natural gradient

The Fisher matrix of the natural-gradient variant's final policy (seed 0), from the scores of
a fresh batch. $F$ is an average of outer products, so it must be symmetric positive
semi-definite. Five of its ten eigenvalues are zero by construction: a two-action softmax
depends only on the difference of its two weight columns, so adding the same vector to both
(five directions, one per feature) changes no probability and no score. The others span
orders of magnitude, which is why a single step size for plain gradient ascent is either too
small along some directions or too large along others.

Then one natural-gradient step on this batch, checked against its derivation: it is a
multiple of $(F + \lambda I)^{-1}\hat g$, and its length in that metric is $\delta$.
'''),
code('''
from linear_pg.envs import make_env
from linear_pg.rollout import collect

run = runs["natural gradient"][0]
env = make_env("CartPole-v1")
batch = collect(env, run.policy, run.features, 5, np.random.default_rng(123))
env.close()
S = run.policy.grad_log_prob(batch.X, batch.actions)
F = fisher(S)
eig = np.linalg.eigvalsh(F)
print("Fisher eigenvalues:", np.array2string(eig, precision=2, floatmode="fixed",
                                             formatter={"float": "{:.1e}".format}))
assert np.allclose(F, F.T) and eig.min() > -1e-10
assert np.sum(eig < 1e-10 * eig.max()) >= 5           # the two columns' common shift

from linear_pg.estimator import weighted_score_mean
from linear_pg.optim import NaturalGradient

delta, damping = 0.05, 1e-4
g = weighted_score_mean(S, batch.rewards, batch.n_episodes)   # any vector g will do here
step = NaturalGradient(delta, damping=damping).step(g, S)
F_damped = F + damping * np.mean(np.diag(F)) * np.eye(F.shape[0])
nat = np.linalg.solve(F_damped, g)
print(f"step . F step = {step @ F_damped @ step:.6f} (delta = {delta}); "
      f"|step - alpha F^-1 g| = {np.abs(step - np.sqrt(delta / (g @ nat)) * nat).max():.1e}")
assert np.isclose(step @ F_damped @ step, delta)
assert np.allclose(step, np.sqrt(delta / (g @ nat)) * nat)
'''),
md(r'''
## Summary

- `train(env_id, ...)` runs REINFORCE with any combination of estimator, baseline and
  optimizer; `train_seeds` repeats it over seeds; `evaluate` measures a final policy.
- With plain SGD, the value baseline gives the best mean over all episodes of the three SGD
  variants, as the variances of notebook 5 suggest, but its seeds spread widely: its greedy
  evaluations range from policies that balance for hundreds of steps to ones no better than
  the other SGD variants'. Reward-to-go alone is not clearly better than the total return over five seeds here: the
  spread between seeds is as large as the difference, and which of the two comes out ahead
  on a given measure changes with the seeds (and even with the machine, whose rounding
  makes long runs drift apart).
- The natural gradient, with a step of fixed length in the Fisher metric, learns fastest
  here. Undamped, its step does not depend on how the policy is parameterized; notebook 8
  shows what the damping that the library adds changes.

## Exercises

1. Give the SGD variants `normalize_weights=True`. Which of the differences remain?
2. Try `features="poly"` (degree 2) with the preset. Does the extra capacity help? (A
   feature map other than the preset's drops the preset's `features_kwargs`, here the pole
   angle's scaling.)
3. Increase `batch_episodes` to 20 while keeping the number of episodes. What happens to the
   speed of learning per episode, and to the variability between seeds?
4. Plot `run.grad_norm` and `run.entropy` over updates for one seed of each variant.
'''),
]
