from nbtools import code, md, setup

NAME = "03_sigmoid_policy"

CELLS = [
md(r'''
# 3. The sigmoid policy

**What you will learn**

- the score of a linear sigmoid (Bernoulli) policy for two actions, $(a - p)\,x$, derived
  step by step;
- the classic mistake $\sigma'(z)/\sigma(z)\,x = (1-p)\,x$, which ignores the action: how the
  gradient check catches it, and why its expectation is not zero;
- what the mistake does to learning: on CartPole the buggy agent ends up with a nearly
  deterministic rule that has nothing to do with the reward, and on average does worse than
  the random policy, while the fixed one learns.
'''),
setup('''
import gymnasium as gym

from linear_pg import BernoulliPolicy, bugs, normalize, reward_to_go
from linear_pg.baselines import make_baseline
from linear_pg.estimator import weighted_score_mean
from linear_pg.features import RawFeatures
from linear_pg.gradcheck import check_grad_log_prob
from linear_pg.optim import make_optimizer
from linear_pg.plotting import learning_curve_figure
from linear_pg.rollout import collect
from linear_pg.trainer import train
'''),
md(r'''
## The score, step by step

Two actions, $a \in \{0, 1\}$. With $z = x\cdot w$ and $p = \sigma(z) = 1/(1+e^{-z})$ the policy
is $\pi(1\mid x) = p$, $\pi(0\mid x) = 1-p$. Both cases in one formula:

$$
\log\pi(a\mid x) = a\log\sigma(z) + (1-a)\log\big(1-\sigma(z)\big)
= a \log\sigma(z) + (1-a)\log\sigma(-z),
$$

using $1-\sigma(z) = \sigma(-z)$. The derivative of the sigmoid is
$\sigma'(z) = \sigma(z)(1-\sigma(z))$, so

$$
\frac{d}{dz}\log\sigma(z) = \frac{\sigma'(z)}{\sigma(z)} = 1 - p,
\qquad
\frac{d}{dz}\log\sigma(-z) = -\frac{\sigma'(-z)}{\sigma(-z)} = -(1-\sigma(-z)) = -p .
$$

Therefore

$$
\frac{\partial\log\pi(a\mid x)}{\partial z} = a(1-p) - (1-a)p = a - p,
\qquad
\nabla_w\log\pi(a\mid x) = (a - p)\,x .
$$

Karpathy calls $a - p$ the "fake label" minus the prediction: the binary cross-entropy
gradient with the taken action as label. For $a = 1$ it pushes $w$ toward $x$ (makes action
1 more likely in this state), for $a = 0$ away from it. `BernoulliPolicy.grad_log_prob`
returns it; the gradient check compares it with finite differences of `log_prob`.
'''),
code('''
rng = np.random.default_rng(0)
d, T = 5, 10
policy = BernoulliPolicy(d, init_scale=0.5, seed=1)
X = rng.standard_normal((T, d))
A = policy.sample(X, rng)
print("actions:", A)
report = check_grad_log_prob(policy, X, A)
print(report)
assert report.passed and (A == 0).any() and (A == 1).any()
'''),
md(r'''
## The classic mistake: a score that ignores the action

A common derivation stops at "$\nabla \log \sigma(z) = \sigma'(z)/\sigma(z)\,x = (1-p)\,x$" and uses
it for every step. That is the score of action 1 only. Used for both actions, the update
pushes $w$ toward $x$ whatever was done, so the policy cannot learn *which* action was good.
`linear_pg.bugs.sigmoid_score_ignoring_action` keeps this version; `check_grad_log_prob`
accepts a `score=` function to check instead of the policy's own.

The check fails on the rows with $a = 0$ and passes on a batch with only $a = 1$, which is
why the bug survives casual testing.
'''),
code('''
report_bug = check_grad_log_prob(policy, X, A, score=bugs.sigmoid_score_ignoring_action)
print(report_bug)
ones = np.ones(T, dtype=int)
report_ones = check_grad_log_prob(policy, X, ones, score=bugs.sigmoid_score_ignoring_action)
print(f"\\nsame buggy score, batch with only a = 1: passed = {report_ones.passed}")
assert not report_bug.passed
assert report_ones.passed
'''),
md(r'''
The correct score has expectation zero under the policy,
$p(1-p)x + (1-p)(0-p)x = 0$; the buggy one has expectation
$p(1-p)x + (1-p)(1-p)x = (1-p)\,x \neq 0$, a push toward $x$ that does not depend on the
reward. Monte Carlo at one state (all rows are the same $x$, so the buggy score is the same
vector $(1-p)\,x$ on every row, whatever action was sampled):
'''),
code('''
n = 20_000 if QUICK else 200_000
Xs = np.repeat(X[:1], n, axis=0)
As = policy.sample(Xs, rng)
p = policy.prob_one(X[:1])[0]
S_correct = bugs.sigmoid_score(policy, Xs, As)
S_buggy = bugs.sigmoid_score_ignoring_action(policy, Xs, As)
se = S_correct.std(axis=0, ddof=1) / np.sqrt(n)          # the Monte Carlo standard error
print(f"correct (a - p) x: mean score = {S_correct.mean(axis=0)}")
print(f"                   mean / SE  = {S_correct.mean(axis=0) / se}")
print(f"buggy (1 - p) x:   mean score = {S_buggy.mean(axis=0)}")
print(f"(1 - p) x                     = {(1 - p) * X[0]}")
print(f"buggy mean in units of the correct score's SE = {S_buggy.mean(axis=0) / se}")
assert np.all(np.abs(S_correct.mean(axis=0) / se) < 4)   # zero within sampling noise
# The buggy score ignores the action, so every row is the same (1 - p) x: it has no
# sampling noise at all (its own standard error is 0), and its mean is that push exactly,
# dozens of the correct score's standard errors (hundreds in the full run) away from zero.
assert np.allclose(S_buggy, (1 - p) * X[0], rtol=1e-12, atol=0)
assert np.all(np.abs(S_buggy.mean(axis=0) / se) > 20)
'''),
md(r'''
## What the bug does to learning on CartPole

The fixed policy is trained by the library's engine, `linear_pg.trainer.train` with
`policy="bernoulli"` and CartPole's preset for it (`linear_pg/presets.py`: one episode per
update, reward-to-go minus a linear value baseline, Adam with step size 0.2, the pole angle
in units of its 12° limit).

For the buggy score we write a loop of our own from library pieces, so that between its
two runs the score is the only thing that changes: `rollout.collect`, `reward_to_go`, a
value baseline, `normalize`, and the natural gradient on batches of 5 episodes (settings of
its own, simpler than the preset's, so its curve is not the engine's). The loop is also run
with the correct score as a control: with it, the loop must learn.
'''),
code('''
def train_with_score(score, episodes, seed, batch_episodes=5, lr=0.05, gamma=0.99):
    """REINFORCE on CartPole with a sigmoid policy, using the given score function."""
    rng = np.random.default_rng(seed)
    env = gym.make("CartPole-v1")
    phi = RawFeatures().fit(np.zeros((1, 4)))
    policy = BernoulliPolicy(phi.n_features_out_)
    baseline, optimizer = make_baseline("value"), make_optimizer("npg", lr)
    returns = []
    while len(returns) < episodes:
        batch = collect(env, policy, phi, batch_episodes, rng)
        G = reward_to_go(batch.rewards, gamma, batch.lengths)
        w = normalize(G - baseline.predict(batch.X))   # baseline fitted on earlier batches
        baseline.update(batch.X, G)
        S = score(policy, batch.X, batch.actions)      # the only line that differs
        g = weighted_score_mean(S, w, batch.n_episodes)   # REINFORCE: mean over episodes
        policy.theta = policy.theta + optimizer.step(g, S)
        returns.extend(batch.episode_returns)
    env.close()
    return np.array(returns)


seeds = range(2) if QUICK else range(5)
episodes = 100 if QUICK else 300
engine = [train("CartPole-v1", episodes=episodes, seed=s, policy="bernoulli").episode_returns
          for s in seeds]
loop_fixed = [train_with_score(bugs.sigmoid_score, episodes, s) for s in seeds]
loop_buggy = [train_with_score(bugs.sigmoid_score_ignoring_action, episodes, s) for s in seeds]
'''),
code('''
fig = learning_curve_figure(
    {"trainer, policy='bernoulli'": engine,
     "loop, correct score (a - p) x": loop_fixed,
     "loop, buggy score (1 - p) x": loop_buggy},
    title="Sigmoid policy on CartPole-v1", threshold=500, window=20,
    bounds=(0, 500))       # CartPole returns: the band is clipped to them
fig.savefig(FIG_DIR / "nb03_sigmoid_bug_cartpole.png", dpi=120)
plt.show()


def last(curves, k=20):
    return float(np.mean([c[-k:].mean() for c in curves]))


def first(curves, k=20):
    return float(np.mean([c[:k].mean() for c in curves]))


for name, curves in (("trainer (fixed)", engine), ("loop, correct score", loop_fixed),
                     ("loop, buggy score", loop_buggy)):
    print(f"{name:20s} mean return: first 20 episodes {first(curves):6.1f}, "
          f"last 20 episodes {last(curves):6.1f}")
assert last(engine) > 60 and last(loop_fixed) > 60    # about 3 times a random policy
assert last(loop_buggy) < 30                       # a random policy lasts about 22 steps
'''),
md(r'''
## Summary

- $\nabla_w\log\pi(a\mid x) = (a-p)\,x$: the action appears in the score, through the label
  $a$.
- $(1-p)\,x$ is the score of action 1 only. It fails the gradient check as soon as the batch
  contains an action 0, and its non-zero mean pushes the weights in a direction that has
  nothing to do with the reward.
- With the buggy score the update no longer depends on which action was taken, so it cannot
  learn which action is better. The CartPole agent settles on a nearly deterministic rule
  that has nothing to do with the reward; on the five seeds here it falls sooner than a
  random policy (a few other seeds end a little above random, by chance). With the right
  score the same loop, and the library's trainer, learn.

## Exercises

1. Show that a two-action `SoftmaxPolicy` with weights $[w_0, w_1]$ gives the same
   probabilities as a `BernoulliPolicy` with $w = w_1 - w_0$. How are their scores related?
2. Write the symmetric mistake, $-p\,x$ for every action (the score of action 0 only). What
   does it do on CartPole? Run at least five seeds and compare the means: one or two seeds
   can land on a rule that happens to balance for a while.
3. In `train_with_score`, drop the baseline and the standardization, so that every weight
   $G_t$ is positive. What does the buggy score do now, and how fast? Explain with
   $\mathbb{E}[G\,(1-p)\,x]$, and compare with the notebook's loop, whose weights have
   mean 0. Run the correct score without baseline and standardization too, as a control:
   it does badly as well (all-positive weights make its estimate far noisier, and the
   natural gradient takes a step of fixed size whatever the noise), so compare how the two
   fail, not only whether they learn.
'''),
]
