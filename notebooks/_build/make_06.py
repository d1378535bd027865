from nbtools import code, md, setup

NAME = "06_short_corridor_exact"

CELLS = [
md(r'''
# 6. An exact check: the short corridor

**What you will learn**

- how to compute the performance $J(\theta)$ of a policy *exactly*, from the Bellman
  equations, on Sutton & Barto's short corridor with switched actions (Example 13.1);
- why the best policy there is stochastic ($\pi(\text{right}) \approx 0.59$,
  $J \approx -11.66$), beyond the reach of $\varepsilon$-greedy action values;
- how the exact gradient compares with REINFORCE's Monte Carlo estimate;
- a reproduction of the book's plot of $J(p)$ in Example 13.1 and of its Figure 13.2:
  REINFORCE with and without a state-value baseline, with the book's step sizes and
  initial policy but one update of $\theta$ per episode where the book makes one per step
  (Exercise 2 compares the two schedules on the book's Figure 13.1, the step sizes of plain
  REINFORCE).
'''),
setup('''
from linear_pg import SoftmaxPolicy, policy_gradient, reward_to_go
from linear_pg.corridor import (
    exact_policy_gradient,
    exact_start_value,
    exact_values,
    finite_difference_gradient,
    optimal_p_right,
    p_right_of,
    sample_episodes,
)
'''),
md(r'''
## The problem

Three non-terminal states and a goal on the right; every step costs $-1$. In states 0 and 2
the actions do what they say; in state 1 they are **switched** (right moves left). Going
left in state 0 stays put. The agent cannot tell the states apart: its only feature is
$x = [1]$ everywhere, so a policy is a single number $p = \pi(\text{right})$ used in every
state.

## $J$ from the Bellman equations

With $q = 1 - p$, the value of each state satisfies $v(s) = -1 + \sum_{s'} P_{ss'} v(s')$
with $v(\text{goal}) = 0$:

$$
\begin{aligned}
v_0 &= -1 + q\, v_0 + p\, v_1, \\
v_1 &= -1 + p\, v_0 + q\, v_2, \\
v_2 &= -1 + q\, v_1 .
\end{aligned}
$$

From the first, $v_0 = v_1 - 1/p$. Substituting $v_0$ and $v_2$ into the second:
$v_1 = -1 + p v_1 - 1 - q + q^2 v_1$, so $v_1 (1 - p - q^2) = -(3 - p)$. Since
$1 - p - q^2 = q - q^2 = pq$,

$$
v_1 = -\frac{3-p}{p(1-p)}, \qquad
J(p) = v_0 = v_1 - \frac1p = -\frac{2(2-p)}{p(1-p)} .
$$

Setting $dJ/dp = 0$ gives $p^2 - 4p + 2 = 0$, whose root in $(0,1)$ is
$p^* = 2 - \sqrt2 \approx 0.586$. `linear_pg.corridor.exact_values` solves the linear
system $(I - P)v = -\mathbf 1$ numerically; we compare it with the closed form, and the
optimum with a grid search.
'''),
code('''
ps = np.linspace(0.01, 0.99, 981)
J_grid = np.array([exact_start_value(p) for p in ps])
closed_form = -2 * (2 - ps) / (ps * (1 - ps))
p_star = optimal_p_right()
print(f"values at p = 0.5: {exact_values(0.5)}")
print(f"max |Bellman solve - closed form| = {np.max(np.abs(J_grid - closed_form)):.1e}")
print(f"optimum: p* = {p_star:.4f}, J(p*) = {exact_start_value(p_star):.3f}; "
      f"grid search: p = {ps[J_grid.argmax()]:.3f}")
assert np.allclose(J_grid, closed_form, rtol=1e-10)
assert abs(ps[J_grid.argmax()] - p_star) < 1e-3
assert abs(p_star - 0.586) < 1e-3 and abs(exact_start_value(p_star) + 11.657) < 1e-3
'''),
md(r'''
## Example 13.1: $J$ as a function of $p$

An action-value method with $\varepsilon$-greedy selection ($\varepsilon = 0.1$) can only
choose between two policies here: mostly-left, $p = \varepsilon/2$, and mostly-right,
$p = 1 - \varepsilon/2$. Both are far worse than the best stochastic policy.
'''),
code('''
eps = 0.1
eps_left, eps_right = eps / 2, 1 - eps / 2
J_left, J_right = exact_start_value(eps_left), exact_start_value(eps_right)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(ps, J_grid, label="$J(p) = v_\\\\pi(S_0)$")
ax.plot([eps_left], [J_left], "o", label=f"$\\\\varepsilon$-greedy left: {J_left:.1f}")
ax.plot([eps_right], [J_right], "s", label=f"$\\\\varepsilon$-greedy right: {J_right:.1f}")
ax.plot([p_star], [exact_start_value(p_star)], "*", ms=12,
        label=f"optimal stochastic: p = {p_star:.2f}, J = {exact_start_value(p_star):.1f}")
ax.set_ylim(-100, 0)
ax.set_xlabel("probability of right action p")
ax.set_ylabel("J(p)")
ax.set_title("Short corridor (Sutton & Barto, Example 13.1)")
ax.legend(loc="lower center")
fig.tight_layout()
fig.savefig(FIG_DIR / "nb06_example13_1_corridor_value.png", dpi=120)
plt.show()
print(f"epsilon-greedy left J = {J_left:.2f}, right J = {J_right:.2f}")
assert J_left < -80 and J_right < -40 and exact_start_value(p_star) > -12
'''),
md(r'''
## The exact gradient against REINFORCE

The policy is a `SoftmaxPolicy(1, 2)` on the constant feature, so
$\theta = (W_{\text{left}}, W_{\text{right}})$ and $p = \mathrm{softmax}(\theta)_{\text{right}}$.
Three numbers for the same $\nabla J$:

1. **exact**, by the policy-gradient theorem on the known MDP,
   $\nabla J = \sum_s \eta(s) \sum_a \pi(a)\, q(s,a)\, \nabla\log\pi(a)$ with $\eta$ the
   expected visits (`exact_policy_gradient`);
2. **finite differences** of the exact $J(\theta)$ (`finite_difference_gradient`), which
   use no score at all;
3. **REINFORCE**: sampled episodes, $\hat g = \frac1N\sum_i\sum_t G_t\nabla\log\pi(a_t)$,
   with its standard error.

With two actions on one constant feature, the score is $\nabla\log\pi(a) = e_a - \pi$,
whose two components sum to zero. So every gradient here has the form $(-g, g)$, and so
does the estimate's error; its standard error has the form $(s, s)$. The two z-scores
printed are therefore exact opposites, and the check $|z| < 4$ is one test, not two.
'''),
code('''
policy = SoftmaxPolicy(1, 2)
policy.W = [[0.4, -0.4]]                        # p(right) ~ 0.31
exact = exact_policy_gradient(policy)
fd = finite_difference_gradient(policy)

n = 2_000 if QUICK else 20_000
X, A, rewards, lengths = sample_episodes(policy, n, seed=0)
G = reward_to_go(rewards, 1.0, lengths)
g_hat = policy_gradient(policy, X, A, G, lengths)
starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
per_episode = np.add.reduceat(G[:, None] * policy.grad_log_prob(X, A), starts, axis=0)
se = per_episode.std(axis=0, ddof=1) / np.sqrt(n)
print(f"p(right) = {p_right_of(policy):.3f}, J = {exact_start_value(p_right_of(policy)):.3f}")
print("exact gradient:     ", exact)
print("finite differences: ", fd)
print(f"REINFORCE, {n} episodes:", g_hat, "+-", se)
z = (g_hat - exact) / se
print("z-scores:", z)
assert np.allclose(exact, fd, rtol=1e-6)
assert np.allclose(g_hat, per_episode.mean(axis=0))
assert np.allclose(z[0], -z[1])                 # one number: the scores sum to zero
assert np.all(np.abs(z) < 4)
'''),
md(r'''
## Figure 13.2: REINFORCE with and without a baseline

The book's settings, which we use: $\gamma = 1$; initial preferences giving
$\pi(\text{right}) \approx 0.05$ (the $\varepsilon$-greedy-left policy, $J \approx -82$);
REINFORCE with step size $\alpha = 2^{-13}$; REINFORCE with a baseline with $\alpha^\theta
= 2^{-9}$ and a learned state-value baseline $\hat v(s, w) = w$ (all states share the
feature, so it is one number) with $\alpha^w = 2^{-6}$. Each curve is the return per
episode averaged over independent runs, with the optimum $v_*(S_0) = J(p^*)$ drawn as a
line.

One thing differs from the book. Here each episode makes one update, $\theta \leftarrow
\theta + \alpha \sum_t \delta_t \nabla\log\pi(a_t)$ with $\delta_t = G_t$ (no baseline) or
$\delta_t = G_t - \hat v$, computed with `policy_gradient` on the episode, every score at
the $\theta$ that generated the episode. The book updates $\theta$ after every step,
$\theta \leftarrow \theta + \alpha\, \delta_t \nabla\log\pi(a_t)$, each score at the
$\theta$ left by the steps before (`per_step=True` below). The two agree to first order in
$\alpha$, and the cell below checks that they agree at a tiny step. But the second-order
difference grows like $(\alpha \sum_t |\delta_t|)^2$, and it is small only when $\alpha
\sum_t |\delta_t|$ is. An episode of $L$ steps has $\sum_t |G_t| = L(L+1)/2$, and the
first episodes, at $J \approx -82$, are long: on the initial policy's episodes $\alpha
\sum_t |G_t|$ averages 0.75 at $\alpha = 2^{-13}$ and 1.50 at $2^{-12}$ (printed below),
and more at the larger steps used later. The second-order term is then as large as the
first-order update, and the two schedules need not be stable at the same step sizes. Here
the per-episode form is the more stable one: at $\alpha = 2^{-12}$ without a baseline it
learns smoothly, while per-step runs can jump to nearly always-right and stay stuck there
for hundreds of episodes (Exercise 2 measures both). The baseline weight $w$ is updated
step by step, $w \leftarrow w + \alpha^w (G_t - w)$, as in the book, in both schedules.
'''),
code('''
def reinforce_corridor(alpha, alpha_w=None, episodes=1000, seed=0, per_step=False):
    """REINFORCE on the corridor (with a baseline if alpha_w is set).

    per_step=False: one update per episode; True: the book's update after every step.
    Returns the return of each episode, shape (episodes,), and the final p(right).
    """
    rng = np.random.default_rng(seed)
    policy = SoftmaxPolicy(1, 2)
    policy.W = [[1.47, -1.47]]                  # pi(right) = 0.05: epsilon-greedy left
    w = 0.0                                     # the state-value baseline v(s, w) = w
    returns = np.empty(episodes)
    for i in range(episodes):
        X, A, rewards, lengths = sample_episodes(policy, 1, seed=rng)
        G = reward_to_go(rewards, 1.0)
        if alpha_w is None:
            delta = G
        else:
            delta = np.empty_like(G)
            for t, G_t in enumerate(G):
                delta[t] = G_t - w
                w += alpha_w * delta[t]
        if per_step:        # the book: theta moves after each step, each score at the new theta
            for t in range(len(delta)):
                score = policy.grad_log_prob(X[t:t + 1], A[t:t + 1])[0]
                policy.theta = policy.theta + alpha * delta[t] * score
        else:               # one update, every score at the theta that generated the episode
            policy.theta = policy.theta + alpha * policy_gradient(policy, X, A, delta)
        returns[i] = rewards.sum()
    return returns, p_right_of(policy)


def runs_of(alpha, alpha_w=None, per_step=False):
    """reinforce_corridor on seeds 0 .. runs-1: returns (runs, episodes), final p(right) (runs,)."""
    done = [reinforce_corridor(alpha, alpha_w, episodes, s, per_step) for s in range(runs)]
    return np.array([r for r, _ in done]), np.array([p for _, p in done])


start = SoftmaxPolicy(1, 2)
start.W = [[1.47, -1.47]]                       # the initial policy of every run
p0 = p_right_of(start)
_, _, _, L = sample_episodes(start, 200 if QUICK else 1000, seed=1)
size = (L * (L + 1) / 2).mean()                 # sum_t |G_t| = 1 + 2 + ... + L
print(f"initial policy: mean episode length {L.mean():.1f}, mean sum_t |G_t| {size:.0f}; "
      f"alpha times that: {2**-13 * size:.2f} at 2^-13, {2**-12 * size:.2f} at 2^-12")

# at a tiny step the two schedules agree (to first order in alpha)
moved = [reinforce_corridor(2**-20, episodes=20, per_step=ps)[1] - p0 for ps in (False, True)]
print(f"20 episodes at alpha = 2^-20: p(right) moved by {moved[0]:.4e} with one update per "
      f"episode, {moved[1]:.4e} per step")
assert abs(moved[1] - moved[0]) < 0.01 * abs(moved[0])

runs = 8 if QUICK else 100
episodes = 200 if QUICK else 1000
plain, plain_p = runs_of(2**-13)
with_b, with_b_p = runs_of(2**-9, 2**-6)
'''),
code('''
v_star = exact_start_value(p_star)
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(plain.mean(axis=0), label="REINFORCE, $\\\\alpha = 2^{-13}$", lw=1)
ax.plot(with_b.mean(axis=0), label="REINFORCE with baseline, "
        "$\\\\alpha^\\\\theta = 2^{-9}$, $\\\\alpha^w = 2^{-6}$", lw=1)
ax.axhline(v_star, color="k", ls="--", label=f"$v_*(s_0) = {v_star:.1f}$")
shown = np.concatenate([plain.mean(axis=0), with_b.mean(axis=0), [v_star]])
ax.set_ylim(shown.min() - 5, shown.max() + 5)   # all of both curves, early dips included
ax.set_xlabel("episode")
ax.set_ylabel(f"total reward per episode (mean of {runs} runs)")
ax.set_title("Short corridor (Sutton & Barto, Figure 13.2)")
ax.legend(loc="lower right")
fig.tight_layout()
fig.savefig(FIG_DIR / "nb06_fig13_2_reinforce_baseline.png", dpi=120)
plt.show()

window = episodes // 10
first = plain[:, :window].mean(), with_b[:, :window].mean()
last = plain[:, -window:].mean(), with_b[:, -window:].mean()
last_se = (plain[:, -window:].mean(axis=1).std(ddof=1) / np.sqrt(runs),
           with_b[:, -window:].mean(axis=1).std(ddof=1) / np.sqrt(runs))
print(f"first {window} episodes: no baseline {first[0]:.1f}, with baseline {first[1]:.1f}")
print(f"last {window} episodes:  no baseline {last[0]:.1f} +- {last_se[0]:.1f}, "
      f"with baseline {last[1]:.1f} +- {last_se[1]:.1f}   (v* = {v_star:.2f})")
after = episodes // 5                           # the baseline curve has converged by then
converged = with_b[:, after:]
point_se = converged.std(axis=0, ddof=1).mean() / np.sqrt(runs)
print(f"with baseline, episodes {after + 1}-{episodes}: mean curve {converged.mean():.2f}, "
      f"above v* in {(converged.mean(axis=0) > v_star).mean():.0%} of them; standard error "
      f"of one point {point_se:.2f}")
assert abs(converged.mean() - v_star) < point_se                 # the curve straddles v*
assert last[0] > first[0] + 10 and last[1] > first[1] + 10       # both learn
assert last[1] > last[0]                                         # the baseline learns faster
assert last[1] <= v_star + 4 * last_se[1]    # above v* (the expected maximum) only by noise
'''),
md(r'''
Both methods climb from the $\varepsilon$-greedy-left value toward $v_*$. The *expected*
return can never exceed $v_*$, which the exact solution guarantees, but a mean of sampled
returns can. Once converged, the baseline curve straddles $v_*$, above it in a good part of
the episodes (printed above), as expected when its true value lies within about one
standard error of $v_*$: the curve's average over those episodes is closer to $v_*$ than
the standard error of one of its points. The check above allows four standard errors of the
last window's mean.

The baseline lets REINFORCE take a step 16 times the size of the curve without it. The
book chose $\alpha = 2^{-13}$ as the best step size of plain REINFORCE for its updates
after every step (its Figure 13.1). With one update per episode, as here, a larger plain
step does better; how much, on the same runs:
'''),
code('''
tuned, tuned_p = runs_of(2**-10)
big, big_p = runs_of(2**-9)                     # the baseline run's step size, without it
print(f"first {window} episodes: no baseline, 2^-13 {first[0]:.1f}, 2^-10 "
      f"{tuned[:, :window].mean():.1f}; with baseline, 2^-9 {first[1]:.1f}")
print(f"last {window} episodes:  no baseline, 2^-10 {tuned[:, -window:].mean():.1f}")
print(f"all {episodes} episodes, no baseline: 2^-13 {plain.mean():.1f}, 2^-10 {tuned.mean():.1f}")
assert tuned.mean() > plain.mean() + 5                           # a better plain step size
if not QUICK:                                   # 2^-10 starts faster than the baseline run
    assert tuned[:, :window].mean() > first[1]


def cut_counts(returns, p_end):
    """Episodes cut at 1000 steps, runs with one, the last one (0: none), runs ending p < 0.01."""
    cut = returns <= -1000
    last = int(np.flatnonzero(cut.any(axis=0))[-1]) + 1 if cut.any() else 0
    return int(cut.sum()), int(cut.any(axis=1).sum()), last, int((p_end < 0.01).sum())


counts = {"no baseline, 2^-10": cut_counts(tuned, tuned_p),
          "no baseline, 2^-9": cut_counts(big, big_p),
          "with baseline, 2^-9": cut_counts(with_b, with_b_p)}
print()
print(f"{'':20} {'cut episodes':>12} {'runs with one':>14} {'last one':>9} "
      f"{'runs ending p < 0.01':>21}")
for name, (n_cut, n_runs, last, n_stuck) in counts.items():
    print(f"{name:20} {n_cut:12} {n_runs:14} {last:9} {n_stuck:21}")
if not QUICK:   # the baseline's larger step is one that runs recover from (full settings)
    no_b, with_it = counts["no baseline, 2^-9"], counts["with baseline, 2^-9"]
    assert no_b[0] > 10 * with_it[0] and no_b[3] >= 1
    assert with_it[2] <= window and with_it[3] == 0
'''),
md(r'''
So the book's figure compares plain REINFORCE at the book's step size with the baseline
at a larger one; with the full settings, plain REINFORCE at $2^{-10}$ even starts faster
than the baseline run (over the first 100 episodes, printed above; not so on the few runs
of the quick settings). `sample_episodes` cuts an episode at 1000 steps, and a cut episode
shows as a return of $-1000$: with the full settings the baseline run's first episodes
include some (the table above), from runs whose first large steps went the wrong way, which
pull its early average down. What the
baseline buys is a larger step that runs recover from: at $2^{-9}$ without it, runs that
go wrong stay wrong much longer. With the full settings the table above shows it: at
$2^{-9}$ about as many runs have a cut episode with the baseline as without it, but
without it they have 1805 cut episodes in all, one of them in the last episode, and one run
ends at $p(\text{right}) < 0.01$; with it, 76, none after episode 70, and no run ends
stuck (Exercise 2 varies the step sizes). The exact values are for episodes of any length.

## Summary

- On a small known MDP the value of a policy is a linear solve, so $J$, its optimum and its
  gradient are exact. The closed form $J(p) = -2(2-p)/(p(1-p))$ has its maximum at
  $p^* = 2-\sqrt2$, $J \approx -11.66$.
- The best policy is stochastic; $\varepsilon$-greedy choices are stuck at $-82$ or $-44$.
- The exact gradient, finite differences of the exact $J$, and the REINFORCE estimate agree
  (the last within its standard error).
- The book's update after every step and one update per episode agree to first order in
  $\alpha$, but not on the long first episodes, where $\alpha \sum_t |G_t|$ is about 1:
  there they can differ in which step sizes are stable.
- A learned baseline allows a larger step that runs recover from, as in Figure 13.2;
  against plain REINFORCE at the book's step size it learns much faster, though with one
  update per episode a better-tuned plain step size starts as fast (full settings).

## Exercises

1. Use a `BernoulliPolicy(1)` instead of the softmax. What is the relation between the two
   parameterizations, and between their exact gradients?
2. The book's Figure 13.1 is plain REINFORCE at $\alpha = 2^{-12}$, $2^{-13}$ and
   $2^{-14}$, with its update after every step. Repeat Figure 13.2 at these step sizes
   without baseline, with `runs_of(alpha, per_step=True)` (the book's schedule) and with
   the default one update per episode; then $2^{-11}$ and $2^{-9}$ without baseline and
   $2^{-8}$ with it. Which step sizes are slow, and which unstable, under each schedule?
   Count the episodes cut at 1000 steps (returns of $-1000$) and the runs that end near
   $p = 0$ or $p = 1$ (the second value `runs_of` returns is each run's final
   $p(\text{right})$). The per-step runs take longer to compute: one score per step.
3. Add discounting, $\gamma = 0.9$, with `exact_start_value(p, gamma)`. Where is the optimum
   now?
4. Replace the per-episode update by one update per batch of 10 episodes with the same
   total step size per episode (`policy_gradient` averages over the batch's episodes:
   which $\alpha$ gives that?). Does anything change?
'''),
]
