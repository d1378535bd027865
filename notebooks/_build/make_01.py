from nbtools import code, md, setup

NAME = "01_log_derivative_trick"

CELLS = [
md(r'''
# 1. The log-derivative trick and the policy-gradient theorem

**What you will learn**

- why the gradient of an *expected* reward can be written as an expectation that we can
  sample, $\nabla_\theta\, \mathbb{E}[R] = \mathbb{E}[R\,\nabla_\theta \log \pi_\theta]$;
- why the environment's dynamics drop out of that formula for whole trajectories;
- how to check a Monte Carlo gradient estimate against the exact gradient, using its
  standard error as the yardstick;
- why the surrogate loss that deep-learning code minimizes is **not** a measure of how good
  the policy is.

The setting is the smallest one where all of this is visible: a $k$-armed bandit, where the
expected reward of a softmax policy can be written down exactly.
'''),
setup('''
from linear_pg import SoftmaxPolicy, policy_gradient, surrogate_loss
from linear_pg.gradcheck import numerical_gradient
'''),
md(r'''
## The derivation

Let $\pi_\theta(a)$ be a distribution over actions with parameters $\theta$ and let $r(a)$ be
the mean reward of action $a$. The objective is the expected reward

$$
J(\theta) = \mathbb{E}_{a \sim \pi_\theta}[r(a)] = \sum_a \pi_\theta(a)\, r(a).
$$

Differentiate term by term. The rewards do not depend on $\theta$, only the probabilities do:

$$
\nabla_\theta J = \sum_a \nabla_\theta \pi_\theta(a)\, r(a).
$$

This is a sum over all actions weighted by *gradients* of probabilities, not by
probabilities, so it is not an expectation we could estimate by sampling. The
**log-derivative trick** turns it into one. Since
$\nabla_\theta \log \pi_\theta(a) = \nabla_\theta \pi_\theta(a) / \pi_\theta(a)$,

$$
\nabla_\theta \pi_\theta(a) = \pi_\theta(a)\, \nabla_\theta \log \pi_\theta(a),
$$

and therefore

$$
\nabla_\theta J = \sum_a \pi_\theta(a)\, \nabla_\theta \log \pi_\theta(a)\, r(a)
= \mathbb{E}_{a \sim \pi_\theta}\big[\, r(a)\, \nabla_\theta \log \pi_\theta(a) \,\big].
$$

The vector $\nabla_\theta \log \pi_\theta(a)$ is the **score**. With $N$ samples
$a_i \sim \pi_\theta$ and observed rewards $R_i$ (noisy, with mean $r(a_i)$) the sample mean

$$
\hat g = \frac{1}{N} \sum_{i=1}^N R_i\, \nabla_\theta \log \pi_\theta(a_i)
$$

is an unbiased estimate of $\nabla_\theta J$. Its standard error is the sample standard
deviation of the $N$ terms divided by $\sqrt N$, component by component.

### Trajectories: the policy-gradient theorem

In an MDP a trajectory $\tau = (s_0, a_0, s_1, a_1, \dots)$ has probability

$$
P(\tau \mid \theta) = \rho(s_0) \prod_{t} \pi_\theta(a_t \mid s_t)\, P(s_{t+1} \mid s_t, a_t).
$$

The same trick gives
$\nabla_\theta J = \mathbb{E}_\tau[R(\tau)\,\nabla_\theta \log P(\tau\mid\theta)]$,
and the log turns the product into a sum in which the start distribution $\rho$ and the
dynamics $P(s_{t+1}\mid s_t, a_t)$ do not depend on $\theta$, so their gradients vanish:

$$
\nabla_\theta \log P(\tau \mid \theta) = \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t),
\qquad
\nabla_\theta J = \mathbb{E}_\tau\Big[ R(\tau)
  \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t) \Big].
$$

We never need a model of the environment: only the score of our own policy. In `linear_pg`
that score is `policy.grad_log_prob(X, A)` and the sample mean over episodes is
`linear_pg.policy_gradient(policy, X, A, weights, lengths)`. A bandit is the special case of
one-step episodes.

A numeric check of the first identity on a small random MDP (3 states, 2 actions, random
start and transition probabilities, a softmax policy on one-hot state features): the
finite-difference gradient of the *whole* $\log P(\tau\mid\theta)$, start and dynamics
included, equals the sum of the policy's scores along the trajectory.
'''),
code('''
n_states, n_actions, horizon = 3, 2, 6
mdp_rng = np.random.default_rng(1)
rho = mdp_rng.dirichlet(np.ones(n_states))                           # start distribution
P = mdp_rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))  # P[s, a] = p(s' | s, a)
features = np.eye(n_states)                                           # one-hot x(s)
mdp_policy = SoftmaxPolicy(n_states, n_actions, init_scale=0.7, seed=2)

states, actions = [mdp_rng.choice(n_states, p=rho)], []
for _ in range(horizon):                                              # sample one trajectory
    actions.append(int(mdp_policy.sample(features[states[-1]][None], mdp_rng)[0]))
    states.append(mdp_rng.choice(n_states, p=P[states[-1], actions[-1]]))
S, A_traj = np.array(states), np.array(actions)


def log_p_trajectory(theta):
    """log rho(s_0) + sum_t [log pi(a_t | s_t) + log P(s_{t+1} | s_t, a_t)]."""
    pi = mdp_policy.copy()
    pi.theta = theta
    return (np.log(rho[S[0]]) + pi.log_prob(features[S[:-1]], A_traj).sum()
            + np.log(P[S[:-1], A_traj, S[1:]]).sum())


fd = numerical_gradient(log_p_trajectory, mdp_policy.theta.copy())
score_sum = mdp_policy.grad_log_prob(features[S[:-1]], A_traj).sum(axis=0)
rel = np.max(np.abs(fd - score_sum)) / np.max(np.abs(score_sum))
print("states", S, "actions", A_traj)
print(f"max relative difference, d log P(tau) vs sum of scores: {rel:.1e}")
assert rel < 1e-8
'''),
md(r'''
## A bandit with known mean rewards

A `SoftmaxPolicy` whose only feature is the constant $x = [1]$ is a plain softmax over $k$
arms: $\pi_\theta(a) = \mathrm{softmax}(\theta)_a$. Rewards are the arm's mean plus unit
Gaussian noise. The exact objective is $J = p \cdot r$.
'''),
code('''
r = np.array([1.0, 0.2, 2.0, -0.5])         # mean reward of each arm
k = r.size
x1 = np.ones((1, 1))                          # the single constant feature

policy = SoftmaxPolicy(n_features=1, n_actions=k)
policy.theta = [0.3, -0.2, 0.1, 0.5]          # a policy that prefers the wrong arm


def J(theta):
    """Exact expected reward p . r of the softmax bandit policy with parameters theta."""
    pi = policy.copy()
    pi.theta = theta
    return float(pi.probs(x1)[0] @ r)


p = policy.probs(x1)[0]
print("p =", p, "  J =", round(J(policy.theta), 4))
'''),
md(r'''
The exact gradient is the sum over all $k$ arms of $p_a\, r(a)\, \nabla \log \pi(a)$: one
row of features per arm and the library's score. As an independent check we differentiate
$J(\theta) = p\cdot r$ by central finite differences, which knows nothing about scores.
'''),
code('''
arms = np.arange(k)
X_arms = np.ones((k, 1))
exact_grad = (p * r) @ policy.grad_log_prob(X_arms, arms)   # sum_a p_a r_a score(a)
fd_grad = numerical_gradient(J, policy.theta.copy())
rel = np.max(np.abs(exact_grad - fd_grad)) / np.max(np.abs(fd_grad))
print("exact  sum_a p_a r_a score(a):", exact_grad)
print("finite differences of p . r:  ", fd_grad)
print(f"max relative difference: {rel:.2e}")
assert rel < 1e-6
'''),
md(r'''
## The Monte Carlo estimate and its standard error

Now sample: $N$ pulls, each a one-step episode. `policy_gradient` with `lengths` all equal
to 1 averages $R_i\,\nabla\log\pi(a_i)$ over the $N$ episodes. The per-sample terms give
the standard error. If the estimator is unbiased, each component of
$(\hat g - \nabla J)/\mathrm{SE}$ is approximately standard normal, so seeing all of them
within $\pm 4$ is what we expect.
'''),
code('''
rng = np.random.default_rng(0)
N = 2_000 if QUICK else 20_000


def pull(policy, n, rng):
    """Sample n arms from the policy and their noisy rewards."""
    X = np.ones((n, 1))
    A = policy.sample(X, rng)
    R = r[A] + rng.standard_normal(n)
    return X, A, R


X, A, R = pull(policy, N, rng)
g_hat = policy_gradient(policy, X, A, R, lengths=np.ones(N, dtype=int))
terms = R[:, None] * policy.grad_log_prob(X, A)            # one row per pull
se = terms.std(axis=0, ddof=1) / np.sqrt(N)
z = (g_hat - exact_grad) / se
print(f"N = {N}")
print("Monte Carlo g_hat:", g_hat)
print("standard error:   ", se)
print("exact gradient:   ", exact_grad)
print("z-scores:         ", z)
assert np.allclose(g_hat, terms.mean(axis=0))
assert np.all(np.abs(z) < 4)
'''),
md(r'''
The error shrinks like $1/\sqrt N$. Below, the estimate of one component for growing $N$,
with a band of two standard errors, against the exact value. The check after the plot is
looser, four standard errors, so that it fails only when something is wrong, not by
chance (the running estimates share their draws, so a 2 SE band is crossed now and then).
'''),
code('''
Ns = np.unique(np.logspace(1, np.log10(N), 30).astype(int))
comp = 2                                       # the arm with the highest mean reward
est = np.array([terms[:n, comp].mean() for n in Ns])
band = np.array([terms[:n, comp].std(ddof=1) / np.sqrt(n) for n in Ns])

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.fill_between(Ns, est - 2 * band, est + 2 * band, alpha=0.3, label="estimate $\\\\pm$ 2 SE")
ax.plot(Ns, est, label="Monte Carlo estimate")
ax.axhline(exact_grad[comp], color="k", ls="--",
           label="exact $\\\\partial J/\\\\partial\\\\theta_2$")
ax.set_xscale("log")
ax.set_xlabel("number of pulls N")
ax.set_ylabel("gradient component")
ax.legend()
fig.tight_layout()
fig.savefig(FIG_DIR / "nb01_bandit_gradient_estimate.png", dpi=120)
plt.show()
inside = np.abs(est - exact_grad[comp]) <= 4 * band
print(f"{inside.mean():.0%} of the running estimates lie within 4 SE of the exact value")
assert inside[-10:].all()
'''),
md(r'''
## Gradient ascent with the estimate

Ascending the sampled gradient moves probability onto the best arm. Each step uses a fresh
batch of pulls, and we track the *exact* $J$, which only a toy problem lets us do.
'''),
code('''
def ascend(policy, shift=0.0, steps=300, batch=64, lr=0.5, seed=1):
    """Stochastic gradient ascent on the bandit; rewards are shifted by a constant."""
    rng = np.random.default_rng(seed)
    policy = policy.copy()
    Js, losses = [], []
    for _ in range(steps):
        X, A, R = pull(policy, batch, rng)
        R = R + shift
        ones = np.ones(batch, dtype=int)
        losses.append(surrogate_loss(policy, X, A, R, lengths=ones))
        policy.theta = policy.theta + lr * policy_gradient(policy, X, A, R, lengths=ones)
        Js.append(J(policy.theta))
    return np.array(Js), np.array(losses), policy


steps = 150 if QUICK else 300
Js, losses, trained = ascend(policy, steps=steps)
print("J before:", round(J(policy.theta), 3), " after:", round(Js[-1], 3),
      " best arm:", r.max())
print("p after training:", trained.probs(x1)[0])
assert Js[-1] > 0.9 * r.max()
'''),
md(r'''
## The surrogate loss is not a performance measure

Automatic-differentiation code does not compute $\hat g$ directly; it builds the
**surrogate loss**

$$
L(\theta) = -\frac{1}{N} \sum_i R_i \log \pi_\theta(a_i),
$$

whose gradient, holding the sampled $R_i$ and $a_i$ fixed, is $-\hat g$. That is all it
is for. Its *value* says nothing about how good the policy is:

1. **Rescaling.** Multiplying all returns $R_i$ by $c > 0$ multiplies $L$ by $c$ and leaves
   the direction of the step unchanged.
2. **Shifting.** Adding a constant to every reward does not change which arm is best (nor
   the expected gradient, as notebook 5 shows), yet it changes $L$ completely: with
   positive rewards $-R\log\pi \ge 0$ and it falls toward $0$ as the policy becomes
   confident; with negative rewards it is $\le 0$ and *rises* toward $0$.
3. **Moving data.** Each value is computed on a batch sampled from the current policy, so
   successive values are not even measured on the same data.
'''),
code('''
X, A, R = pull(policy, 500, rng)
ones = np.ones(500, dtype=int)
for c in (1.0, 10.0, 1000.0):
    L = surrogate_loss(policy, X, A, c * R, lengths=ones)
    g = policy_gradient(policy, X, A, c * R, lengths=ones)
    print(f"weights x {c:6g}: loss = {L:12.4f}   gradient direction = {g / np.linalg.norm(g)}")
L1 = surrogate_loss(policy, X, A, R, lengths=ones)
L1000 = surrogate_loss(policy, X, A, 1000 * R, lengths=ones)
g1 = policy_gradient(policy, X, A, R, lengths=ones)
g1000 = policy_gradient(policy, X, A, 1000 * R, lengths=ones)
# point 1 above, checked (any loss linear in the weights does this: not a gradient check)
assert np.isclose(L1000, 1000 * L1) and np.allclose(g1000 / 1000, g1)
'''),
code('''
Js_up, loss_up, _ = ascend(policy, shift=+5.0, steps=steps)
Js_dn, loss_dn, _ = ascend(policy, shift=-5.0, steps=steps)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(Js_up, label="rewards + 5")
axes[0].plot(Js_dn, label="rewards - 5", ls="--")
axes[0].set_title("exact J (unshifted) while training")
axes[1].plot(loss_up, label="rewards + 5")
axes[1].plot(loss_dn, label="rewards - 5")
axes[1].set_title("surrogate loss on each batch")
for ax in axes:
    ax.set_xlabel("update")
    ax.legend()
fig.tight_layout()
fig.savefig(FIG_DIR / "nb01_surrogate_loss_vs_return.png", dpi=120)
plt.show()

q = steps // 10
trend_up = loss_up[-q:].mean() - loss_up[:q].mean()
trend_dn = loss_dn[-q:].mean() - loss_dn[:q].mean()
print(f"J improved: {Js_up[0]:.2f} -> {Js_up[-1]:.2f} and {Js_dn[0]:.2f} -> {Js_dn[-1]:.2f}")
print(f"loss change, rewards + 5: {trend_up:+.3f}   rewards - 5: {trend_dn:+.3f}")
assert Js_up[-1] > Js_up[0] + 0.5 and Js_dn[-1] > Js_dn[0] + 0.5
assert trend_up < 0 < trend_dn     # same improvement, loss going in opposite directions
'''),
md(r'''
Both runs improve the policy equally, but the loss goes down in one and up in the other.
Plot the return (or, here, the exact $J$), never the surrogate loss, to see whether
learning works.

## Summary

- $\nabla_\theta \mathbb{E}[R] = \mathbb{E}[R\,\nabla_\theta \log\pi_\theta]$: the
  log-derivative trick replaces the gradient of a probability by the probability times the
  gradient of its log, which makes the gradient an expectation we can sample.
- For trajectories the dynamics drop out; only the policy's score is needed.
- The sample mean is unbiased; its standard error tells how far from the truth it may be,
  and the exact bandit gradient sat within a few standard errors of it.
- The surrogate loss exists only for its gradient. Its value can be rescaled or shifted
  at will and can move in either direction while the policy improves.

## Exercises

1. Replace the Gaussian reward noise by noise with standard deviation 10. How many pulls
   do you need for the same standard error? Check against the $1/\sqrt N$ rule. Is it
   100 times as many for every component? (What else makes $R\,\nabla\log\pi$ vary?)
2. Subtract the exact $J$ from every reward before estimating the gradient. What happens to
   the standard error of each component, and to their total variance (the sum, as
   notebook 5 measures it)? Does the estimate stay unbiased? (Notebook 5 explains why.)
3. Compute the exact gradient of the bandit by hand for the constant feature:
   $\partial J / \partial \theta_j = p_j (r_j - J)$. Verify it against `exact_grad`.
4. Make the surrogate loss of one batch, evaluated on that same batch again after the
   step, *increase* after a gradient step that improves $J$. Why is that not a
   contradiction? (Try large steps and rewards of one sign. Can it happen when every reward
   is negative?)
'''),
]
