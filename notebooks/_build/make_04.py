from nbtools import code, md, setup

NAME = "04_gaussian_policy"

CELLS = [
md(r'''
# 4. The Gaussian policy

**What you will learn**

- the score of a linear Gaussian policy: $(a - \mu)/\sigma^2\; x$ for the mean weights and
  $(a-\mu)^2/\sigma^2 - 1$ for the log standard deviation, derived and checked;
- the "loss with a target" view: for fixed $\sigma$, $-\log\pi$ is a squared error toward the
  taken action, and weighting it by the return gives *exactly* the policy gradient;
- why the *unweighted* squared error toward the sampled action learns nothing;
- the clipped-action bug: taking the log-probability of the action after it was clipped to
  the environment's bounds biases the gradient.
'''),
setup('''
from scipy import integrate, stats

from linear_pg import GaussianPolicy, bugs, check_score_mean, policy_gradient
from linear_pg.gradcheck import check_grad_log_prob, numerical_gradient
'''),
md(r'''
## The score, step by step

For one action dimension with mean $\mu$, log standard deviation $\ell$ and
$\sigma = e^{\ell}$,

$$
\log \pi(a \mid x) = -\frac{(a-\mu)^2}{2\sigma^2} - \ell - \tfrac12 \log 2\pi
= -\tfrac12 (a - \mu)^2 e^{-2\ell} - \ell - \tfrac12\log 2\pi.
$$

**Mean.** Only the first term depends on $\mu$:
$\dfrac{\partial \log\pi}{\partial\mu} = \dfrac{a-\mu}{\sigma^2}$.

**Log-std.** Since $\dfrac{d}{d\ell} e^{-2\ell} = -2e^{-2\ell}$,
$$
\frac{\partial \log\pi}{\partial\ell} = (a-\mu)^2 e^{-2\ell} - 1 = \frac{(a-\mu)^2}{\sigma^2} - 1 .
$$

Parameterizing by $\ell$ rather than $\sigma$ keeps $\sigma > 0$ without a constraint.

**Linear mean.** With $\mu_j = \sum_i x_i W_{ij}$ the chain rule gives
$\partial\log\pi/\partial W_{ij} = x_i (a_j - \mu_j)/\sigma_j^2$, i.e.
$\nabla_W \log\pi = x \otimes (a-\mu)/\sigma^2$. For $m$ action dimensions with a diagonal
covariance, the log-density is a sum over dimensions, and so is each score.

Both scores have mean zero under the policy: $\mathbb{E}[a - \mu] = 0$ and
$\mathbb{E}[(a-\mu)^2] = \sigma^2$. `GaussianPolicy.grad_log_prob` returns them, one row per
sample, in the layout `[W.ravel(), log_std, (W_std.ravel())]`.
'''),
code('''
rng = np.random.default_rng(0)
d, m, T = 3, 2, 8
X = rng.standard_normal((T, d))
for mode in ("vector", "linear"):
    policy = GaussianPolicy(d, m, log_std_mode=mode, init_scale=0.5, seed=1)
    policy.theta = policy.theta + 0.2 * rng.standard_normal(policy.n_params)
    A = policy.sample(X, rng)
    report = check_grad_log_prob(policy, X, A)
    print(report, end="\\n\\n")
    assert report.passed
'''),
md(r'''
The zero-mean property, by Monte Carlo: average the score of many actions sampled at the
same $x$, and compare with zero in units of the standard error. (All samples share one $x$,
so the six $W$ entries of the score are $x_i (a_j - \mu_j)/\sigma_j^2$: their $z$-scores
are the two of $(a_j - \mu_j)/\sigma_j^2$, repeated with the signs of $x$'s entries. Two
independent tests for the mean, two for the log-std.)
'''),
code('''
policy = GaussianPolicy(d, m, log_std_mode="vector", init_scale=0.5, seed=1)
n = 5_000 if QUICK else 50_000
Xs = np.repeat(X[:1], n, axis=0)
S = policy.grad_log_prob(Xs, policy.sample(Xs, rng))
z = S.mean(axis=0) / (S.std(axis=0, ddof=1) / np.sqrt(n))
print("mean score / SE:", z)
assert np.all(np.abs(z) < 4)
'''),
md(r'''
## The loss with a target

Hold $\sigma$ fixed. Then

$$
-\log \pi(a \mid x) = \frac{(a - \mu(x))^2}{2\sigma^2} + \text{const},
$$

a squared error between the prediction $\mu(x)$ and the "label" $a$, the action that was
actually taken. The REINFORCE surrogate weights each example by its return $w_t$; the sum
runs over all $T$ steps of the batch and $N$ is its number of episodes (the library's
default, `average="episodes"`):

$$
L_w(\theta) = \frac1N\sum_t w_t \,\frac{(a_t-\mu_t)^2}{2\sigma^2} + \text{const},
\qquad
-\nabla_W L_w = \frac1N\sum_t w_t\, x_t \frac{a_t-\mu_t}{\sigma^2} = \hat g .
$$

So *minus* the gradient of the return-weighted squared error
$\tfrac1N\sum_t w_t (a_t - \mu_t)^2/2$, divided by $\sigma^2$, is exactly the policy
gradient: descending that loss ascends the return. We check it numerically: the
squared error is differentiated by finite differences (through `policy.mean`, no score
involved) and compared with `policy_gradient`.
'''),
code('''
sigma = 0.7
policy = GaussianPolicy(d, 1, log_std_mode="fixed", init_log_std=np.log(sigma),
                        init_scale=0.5, seed=2)
T = 50
X = rng.standard_normal((T, d))
A = policy.sample(X, rng)
w = rng.standard_normal(T) * 3.0 + 1.0          # any weights: returns, advantages, ...
lengths = np.array([20, 30])                    # two episodes


def weighted_squared_error(theta):
    pi = policy.copy()
    pi.theta = theta
    return float(w @ ((A - pi.mean(X)) ** 2).sum(axis=1) / 2 / lengths.size)


g_se = -numerical_gradient(weighted_squared_error, policy.theta.copy()) / sigma**2
g_pg = policy_gradient(policy, X, A, w, lengths)
rel = np.max(np.abs(g_se - g_pg)) / np.max(np.abs(g_pg))
print("-grad(weighted squared error) / sigma^2:", g_se)
print("policy_gradient:                        ", g_pg)
print(f"max relative difference: {rel:.1e}")
assert rel < 1e-6
'''),
md(r'''
## Without the weights, nothing is learned

The unweighted squared error toward the sampled action is the same loss with all $w_t = 1$
and without the $1/\sigma^2$: `linear_pg.bugs.squared_error_gradient` returns its ascent
direction $\frac1N\sum_t x_t (a_t - \mu_t)$. In expectation it is zero, because
$\mathbb{E}[a - \mu] = 0$: it pulls $\mu$ toward actions that were sampled *around $\mu$
itself*, without asking whether they were good. The mean performs a random walk.

A one-step task makes this visible: the reward is $r(a) = -(a-2)^2$, the best mean is
$\mu = 2$, the policy starts at $\mu = 0$ with $\sigma = 0.5$ fixed. The return-weighted
version uses the reward minus the batch mean as its weight (a baseline, notebook 5).
Because that mean includes each sample's own reward, the expected step is
$(1 - 1/N)$ times the gradient, $31/32$ here with batches of 32: the direction is
unbiased, the length slightly short.
'''),
code('''
def one_step_task(weighted, updates, batch=32, lr=0.05, seed=3):
    rng = np.random.default_rng(seed)
    pi = GaussianPolicy(1, 1, log_std_mode="fixed", init_log_std=np.log(0.5))
    X = np.ones((batch, 1))
    ones = np.ones(batch, dtype=int)
    mus = []
    for _ in range(updates):
        A = pi.sample(X, rng)
        R = -(A[:, 0] - 2.0) ** 2
        if weighted:
            g = policy_gradient(pi, X, A, R - R.mean(), lengths=ones)
        else:
            g = bugs.squared_error_gradient(pi, X, A, R, lengths=ones)   # R is ignored
        pi.theta = pi.theta + lr * g
        mus.append(pi.W[0, 0])
    return np.array(mus)


updates = 100 if QUICK else 300
mu_weighted = one_step_task(True, updates)
mu_plain = one_step_task(False, updates)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(mu_weighted, label="return-weighted (policy gradient)")
ax.plot(mu_plain, label="unweighted squared error")
ax.axhline(2.0, color="k", ls="--", label="best mean")
ax.set_xlabel("update")
ax.set_ylabel("$\\\\mu$")
ax.legend()
fig.tight_layout()
fig.savefig(FIG_DIR / "nb04_weighted_vs_unweighted.png", dpi=120)
plt.show()
print(f"final mean: weighted {mu_weighted[-1]:.3f}, unweighted {mu_plain[-1]:.3f}")
assert abs(mu_weighted[-1] - 2.0) < 0.15
assert abs(mu_plain[-1]) < 1.0
'''),
md(r'''
## The clipped-action bug

Environments bound their actions: Pendulum accepts torques in $[-2, 2]$. A Gaussian sample
can fall outside, so it is clipped before it is sent. The bug is to compute the
log-probability (and hence the score) of the **clipped** action instead of the sampled one.
The gradient must use the action the policy actually drew: $a$, not $\mathrm{clip}(a)$.

Consider a reward that does not depend on the action at all, $R = 1$. Then every policy is
equally good and the true gradient is zero. With the sampled action the estimate is zero
within its standard error. With the clipped action, $\mathrm{clip}(a) - \mu$ no longer has
mean zero: samples above the bound are pulled back, so with $\mu$ inside the box near its
upper bound the score pushes $\mu$ away from the bound and shrinks $\sigma$, for no reason
at all. The exact size of that bias is a one-dimensional integral, computed below with
`scipy.integrate.quad`.

`linear_pg.bugs.clipped_action_score` is the buggy score, `sampled_action_score` its
correct twin. `linear_pg.rollout` avoids the bug by keeping the unclipped sample in the
batch and clipping only on the way to the environment (`rollout.env_action`).
'''),
code('''
low, high = -2.0, 2.0
mu, sigma = 1.8, 1.0
policy = GaussianPolicy(1, 1, log_std_mode="vector", init_log_std=np.log(sigma))
policy.W = [[mu]]
n = 20_000 if QUICK else 200_000
X = np.ones((n, 1))
A = policy.sample(X, rng)

for label, score in (("sampled action (correct)", bugs.sampled_action_score),
                     ("clipped action (bug)", bugs.clipped_action_score)):
    S = score(policy, X, A, low, high)         # reward is 1: the estimate is the mean score
    mean, se = S.mean(axis=0), S.std(axis=0, ddof=1) / np.sqrt(n)
    print(f"{label:26s} d/dW = {mean[0]:+.4f} +- {se[0]:.4f}   "
          f"d/dlog_std = {mean[1]:+.4f} +- {se[1]:.4f}")
    if score is bugs.sampled_action_score:
        assert np.all(np.abs(mean / se) < 4)
    else:
        buggy_mean, buggy_se = mean, se

# the exact expectation of the buggy score, by quadrature over a ~ N(mu, sigma^2): the
# library's score (W, log sigma) evaluated at the clipped action
density = stats.norm(mu, sigma).pdf


def score_at_clipped(a, block):
    return policy.grad_log_prob(X[:1], [[np.clip(a, low, high)]])[0, block]


bias_w, bias_log_std = (integrate.quad(lambda a, b=b: score_at_clipped(a, b) * density(a),
                                       -np.inf, np.inf)[0] for b in (0, 1))
print(f"exact bias of the buggy estimate: d/dW = {bias_w:+.4f}, d/dlog_std = {bias_log_std:+.4f}")
assert np.all(np.abs(buggy_mean - [bias_w, bias_log_std]) < 4 * buggy_se)
assert bias_w < 0 and bias_log_std < 0 and np.all(np.abs(buggy_mean / buggy_se) > 10)
'''),
md(r'''
The library packages this test as `check_score_mean(policy, X, score)`: it draws actions
from the policy at each state of `X`, hands the **sampled** ones to your score function, as
a training loop has them, and checks that every entry's mean lies within 5 standard errors
of 0. A loop that stores the clipped action and scores it fails it. The finite-difference
check cannot see this bug: at the stored actions, the buggy score is the correct derivative
of $\log\pi$, only at the wrong action.
'''),
code('''
def score_of_stored_action(policy, X, A):     # what a loop that stores clip(a) computes
    return bugs.clipped_action_score(policy, X, A, low, high)


state = np.ones((1, 1))
report = check_score_mean(policy, state, score=score_of_stored_action)
print(report)
assert not report and check_score_mean(policy, state)     # the library's own score passes

stored = np.clip(A[:50], low, high)
assert check_grad_log_prob(policy, X[:50], stored, score=score_of_stored_action)
'''),
md(r'''
## Summary

- Gaussian score: $x \otimes (a-\mu)/\sigma^2$ for the mean weights,
  $(a-\mu)^2/\sigma^2 - 1$ for the log-std; both checked by finite differences, both with
  mean zero.
- For fixed $\sigma$, REINFORCE is a squared-error regression toward the taken action,
  weighted by the return and scaled by $1/\sigma^2$. The identity was checked to rounding.
- Unweighted, the same regression only chases its own noise: the mean does a random walk.
- Compute the score at the sampled action, never at the clipped one; otherwise the update
  has a bias even when actions do not matter: with $\mu$ inside the box near a bound and
  positive weights (as here), the mean is pushed away from the bound and $\sigma$ shrinks,
  and with negative weights (all of Pendulum's rewards) the push reverses. Exercise 3 asks
  what happens with $\mu$ beyond the bound. `check_score_mean` catches it; a finite-difference
  check at the stored actions does not.

## Exercises

1. Derive the score with respect to $\sigma$ itself (not $\log\sigma$) and check it with
   `numerical_gradient`. Why does the log parameterization behave better near
   $\sigma \to 0$?
2. In the one-step task, use the raw reward $R$ as the weight, without subtracting the batch
   mean. Does $\mu$ still reach 2? How does the noise of the path change?
3. Compute the exact bias of the clipped score (its $W$ and its $\log\sigma$ entry) as a
   function of $\mu$ for $\sigma = 1$ and plot it, for $\mu$ inside the box and beyond its
   bounds. Where is each largest inside $[-2, 2]$? What happens outside, and is the bias
   zero anywhere?
4. With `log_std_mode="linear"` the policy can be more certain in some states than others.
   Write down the score of `W_std` and compare with `grad_log_prob`.
'''),
]
