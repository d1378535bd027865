from nbtools import code, md, setup

NAME = "02_softmax_policy"

CELLS = [
md(r'''
# 2. The softmax policy

**What you will learn**

- the Jacobian of the softmax, $\partial p / \partial z = \mathrm{diag}(p) - p p^\top$, derived
  and checked with finite differences;
- the score of a linear softmax policy, $\nabla_W \log \pi(a \mid x) = x \otimes (e_a - p)$,
  checked with `linear_pg.gradcheck`;
- the cross-entropy view: $-\log\pi(a\mid x)$ is the classification loss with the taken
  action as its label;
- why the textbook formula $e^{z}/\sum e^{z}$ returns NaN for large logits, and how
  log-sum-exp fixes it.
'''),
setup('''
from sklearn.metrics import log_loss

from linear_pg import SoftmaxPolicy, surrogate_loss
from linear_pg.gradcheck import check_grad_log_prob, numerical_jacobian
from linear_pg.policies import log_softmax
''', plots=False),
md(r'''
## The policy

With features $x \in \mathbb{R}^d$ and weights $W \in \mathbb{R}^{d \times k}$ the logits are
$z = x W$ (so $z_j = \sum_i x_i W_{ij}$) and

$$
\pi(a \mid x) = p_a = \frac{e^{z_a}}{\sum_{j} e^{z_j}}.
$$

## Step 1: the Jacobian of the softmax

Write $S = \sum_j e^{z_j}$, so $p_i = e^{z_i}/S$ and $\partial S / \partial z_j = e^{z_j}$. By the
quotient rule,

$$
\frac{\partial p_i}{\partial z_j}
= \frac{\delta_{ij} e^{z_i} S - e^{z_i} e^{z_j}}{S^2}
= p_i \delta_{ij} - p_i p_j
= p_i(\delta_{ij} - p_j).
$$

As a matrix: $\dfrac{\partial p}{\partial z} = \mathrm{diag}(p) - p p^\top$. It is symmetric.
Each column sums to zero because the probabilities always sum to one (a change of $z_j$
cannot change $\sum_i p_i$), and each row sums to zero because adding the same constant to
every logit leaves every probability unchanged.

We check the formula against the finite-difference Jacobian of the library's softmax
(`exp(log_softmax(z))`).
'''),
code('''
z = np.array([0.5, -1.0, 2.0, 0.0])
p = np.exp(log_softmax(z[None, :]))[0]
jac_formula = np.diag(p) - np.outer(p, p)                  # the result of the derivation
jac_numeric = numerical_jacobian(lambda v: np.exp(log_softmax(v[None, :]))[0], z)
err = np.max(np.abs(jac_formula - jac_numeric))
print("diag(p) - p p^T =\\n", jac_formula)
print(f"max |formula - finite differences| = {err:.2e}")
print("row sums:", jac_formula.sum(axis=1))
assert err < 1e-8
assert np.allclose(jac_formula.sum(axis=1), 0.0)
'''),
md(r'''
## Step 2: the score

Take logs first: $\log p_a = z_a - \log \sum_j e^{z_j}$. Then

$$
\frac{\partial \log p_a}{\partial z_j} = \delta_{aj} - \frac{e^{z_j}}{\sum_i e^{z_i}}
= \delta_{aj} - p_j,
$$

which is row $a$ of the Jacobian divided by $p_a$. In vector form:
$\nabla_z \log p_a = e_a - p$, the one-hot vector of the taken action minus the
probabilities. Finally the chain rule through $z_j = \sum_i x_i W_{ij}$, with
$\partial z_j / \partial W_{ij} = x_i$:

$$
\frac{\partial \log \pi(a\mid x)}{\partial W_{ij}} = x_i(\delta_{aj} - p_j),
\qquad
\nabla_W \log\pi(a \mid x) = x \otimes (e_a - p).
$$

This is what `SoftmaxPolicy.grad_log_prob` computes (one row per sample, `W` flattened in C
order). `check_grad_log_prob` compares it with central differences of `log_prob` for every
sample and every parameter.
'''),
code('''
rng = np.random.default_rng(0)
d, k, T = 3, 4, 6
policy = SoftmaxPolicy(d, k, init_scale=1.0, seed=1)
X = rng.standard_normal((T, d))
A = policy.sample(X, rng)
report = check_grad_log_prob(policy, X, A)
print(report)
assert report.passed
'''),
md(r'''
Two links with Step 1, checked on the same batch: for $x = e_1$ (a single active feature)
the score of action $a$ restricted to that feature's row of $W$ is row $a$ of the Jacobian
divided by $p_a$; and the score has expectation zero under the policy,
$\sum_a p_a (e_a - p) = p - p = 0$.
'''),
code('''
x = np.zeros((1, d))
x[0, 0] = 1.0
p = policy.probs(x)[0]
jac = np.diag(p) - np.outer(p, p)
scores = policy.grad_log_prob(np.repeat(x, k, axis=0), np.arange(k))   # (k, d*k)
first_row = scores[:, :k]                      # derivatives w.r.t. W[0, :]
print("score rows / Jacobian rows divided by p_a agree:", np.allclose(first_row, jac / p[:, None]))
mean_score = p @ scores
print("E_a[score] =", mean_score)
assert np.allclose(first_row, jac / p[:, None])
assert np.allclose(mean_score, 0.0, atol=1e-12)
'''),
md(r'''
## The cross-entropy view

$-\log \pi(a \mid x) = -\sum_j (e_a)_j \log p_j$ is the cross-entropy between the one-hot
label $e_a$ and the predicted distribution $p$: exactly the loss of multinomial logistic
regression, with the agent's own action as the label. Its gradient with respect to the
logits is $p - e_a$, the familiar "prediction minus target", and the score is its negative.

So REINFORCE is supervised classification on the agent's own actions, where each example is
weighted by the return that followed it. With all weights equal to one,
`linear_pg.surrogate_loss` *is* the cross-entropy (with `average="steps"`, its mean over the
steps); below it is compared with scikit-learn's `log_loss`, which is that mean, computed
independently.
'''),
code('''
T = 200
X = rng.standard_normal((T, d))
A = policy.sample(X, rng)
ours = surrogate_loss(policy, X, A, np.ones(T), average="steps")
sklearn_ce = log_loss(A, policy.probs(X), labels=np.arange(k))
print(f"surrogate loss with unit weights (mean over steps): {ours:.6f}")
print(f"scikit-learn cross-entropy:                         {sklearn_ce:.6f}")
assert np.isclose(ours, sklearn_ce, rtol=1e-10)
'''),
md(r'''
## The overflow bug and log-sum-exp

The textbook formula $e^{z}/\sum_j e^{z_j}$ is fine for logits of moderate size, but `np.exp(710)` is
already `inf` in float64. A linear policy whose weights grew during training, or features
that were never scaled (raw positions in the hundreds), easily produce logits of $10^3$;
then the formula computes $\infty/\infty = \mathrm{NaN}$, the NaN spreads into the weights
and training is over. `linear_pg.bugs` keeps the naive version next to the correct one.

The fix uses a property of the softmax: it is unchanged by subtracting a constant $c$ from
all logits, because $e^{-c}$ cancels between numerator and denominator. With
$c = \max_j z_j$ every exponent is $\le 0$, nothing overflows, and at least one term of the
sum is $e^0 = 1$, so its log is finite:

$$
\log p_a = (z_a - c) - \log \sum_j e^{z_j - c}.
$$

This is `linear_pg.policies.log_softmax`, which `SoftmaxPolicy` uses for `log_prob`,
`probs` and `entropy`; its score, Fisher matrix and sampling subtract the largest logit in
the same way before they exponentiate (and two actions use the sigmoid of the logit
difference, which cannot overflow either).
'''),
code('''
from linear_pg import bugs

logits = np.array([[1000.0, 999.0, 0.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = bugs.naive_softmax(logits)
stable = np.exp(log_softmax(logits))
print("naive exp(z) / sum exp(z):", naive)
print("log-sum-exp softmax:      ", stable)
# exact answer: p_0 / p_1 = e^1 and p_2 = e^-1000 (0 in float64)
expected = np.array([[np.e / (1 + np.e), 1 / (1 + np.e), 0.0]])
assert np.isnan(naive).any()
assert np.allclose(stable, expected)
small = np.array([[0.5, -1.0, 2.0]])
assert np.allclose(bugs.naive_softmax(small), np.exp(log_softmax(small)))  # fine when small
'''),
md(r'''
The policy itself never sees the naive formula. Give it a bias feature (a constant 1 in the
last column of $x$) and add 1000 to the bias weight of every action: all logits grow by
1000, the naive formula breaks, but the softmax is unchanged by a common shift, so the
policy's probabilities and scores must be exactly those of the unshifted policy.
'''),
code('''
X = np.column_stack([rng.standard_normal((5, d - 1)), np.ones(5)])   # last feature: bias
A = policy.sample(X, rng)
shifted = policy.copy()
shifted.W[-1, :] += 1000.0                        # every logit + 1000
print("logits of the shifted policy:\\n", (X @ shifted.W).round(1))
with np.errstate(over="ignore", invalid="ignore"):
    naive_shifted = bugs.naive_softmax(X @ shifted.W)
print("naive softmax of them:\\n", naive_shifted)
print("shifted policy probs:\\n", shifted.probs(X))
assert np.isnan(naive_shifted).all()
assert np.allclose(shifted.probs(X), policy.probs(X), rtol=1e-12, atol=0)
assert np.allclose(shifted.grad_log_prob(X, A), policy.grad_log_prob(X, A), atol=1e-12)
assert np.all(np.isfinite(shifted.log_prob(X, A)))
'''),
md(r'''
## Summary

- $\partial p/\partial z = \mathrm{diag}(p) - pp^\top$; dividing row $a$ by $p_a$ gives
  $\nabla_z \log p_a = e_a - p$, and the chain rule through $z = xW$ gives the score
  $x \otimes (e_a - p)$. Both were checked against finite differences.
- The score has mean zero under the policy.
- $-\log\pi(a\mid x)$ is the cross-entropy with the sampled action as label: policy gradient
  is return-weighted classification of one's own actions.
- Never compute $e^z / \sum e^z$ directly: subtract the maximum logit (log-sum-exp).

## Exercises

1. Show that $\mathrm{diag}(p) - pp^\top$ is positive semi-definite and that its null space
   contains the all-ones vector. What does that say about adding a constant to all logits?
2. Find the smallest positive logit $z$ at which `bugs.naive_softmax` returns NaN for the
   logits $[z, 0]$ (it computes in float64). Then write $e^z / \sum e^z$ yourself on float32
   arrays and find the float32 threshold. Why are the logits $[709.5, 709.5]$ handled wrongly
   without giving NaN? Large negative logits fail too: what does the naive formula give for
   $[-800, -800]$, and why does subtracting the maximum fix that as well?
3. Add an inverse temperature $\beta$ to the logits, $z = \beta x W$. Derive the score with
   respect to $\beta$ and check it with `linear_pg.gradcheck.numerical_gradient` (it takes a
   1-D parameter vector: pass `np.array([beta])`).
4. Make exercise 3 a policy class with a fixed $\beta$: subclass `SoftmaxPolicy` and override
   `_log_probs` and `_score_factors` (the docstring of `LinearPolicy`, "Writing your own
   policy", says what they return). Run `linear_pg.check_policy_class` on it: which method
   does it name, and why would `train` have sampled and trained a plain softmax without it?
   Override what it names until it passes, then train your class on CartPole-v1 with
   $\beta = 0.5$ and $\beta = 2$ and compare the learning curves.

(That a two-action softmax is a sigmoid policy is notebook 3's first exercise.)
'''),
]
