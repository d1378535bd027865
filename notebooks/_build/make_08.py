from nbtools import code, md, setup

NAME = "08_continuous_control"

CELLS = [
md(r'''
# 8. Continuous control: Pendulum and MountainCarContinuous

**What you will learn**

- how a *linear* Gaussian policy can swing up a pendulum: the nonlinearity lives in the
  features (Gaussian bumps over angle and angular velocity, plus the energy-pumping term of
  classic swing-up control), the policy stays linear in them;
- the natural gradient against Adam on the same problem, its Fisher matrix sampled or in
  closed form, and why it needs damping on bump features;
- how the pendulum's mirror symmetry gives every episode a free twin, and keeps the policy
  from preferring one direction of swing;
- what the learned controller looks like: the mean torque as a map over the state space;
- a swing-up animation, rendered with `linear_pg.render`;
- the same recipe on MountainCarContinuous, where the reward arrives only at the goal.
'''),
setup('''
from IPython.display import Image, display

from linear_pg.plotting import learning_curve_figure
from linear_pg.presets import get_preset
from linear_pg.render import render_gif
from linear_pg import evaluate, train_seeds
'''),
md(r'''
## Pendulum with gravity

The observation is $(\cos\vartheta, \sin\vartheta, \dot\vartheta)$, the action a torque in
$[-2, 2]$, and the reward $-(\vartheta^2 + 0.1\,\dot\vartheta^2 + 0.001\,a^2)$ per step for 200
steps: the pendulum must be swung up from a random angle and held upright. The motor is too
weak to lift it directly, so the controller has to pump energy first. That is a nonlinear
function of the state, which a policy linear in the raw observation cannot express.

**Features.** Most of the preset's features are Gaussian bumps (`RBFFeatures`) on a grid
over the angle (on the circle, $\vartheta$ and $\vartheta + 2\pi$ are the same point) and the
angular velocity, here 12 by 11, plus a bias:
$x_k(s) = \exp\!\big(-\tfrac12\sum_i (\Delta_i/ (\text{width}\cdot h_i))^2\big)$. The policy
$\mu(s) = x(s)\cdot W$ is then any smooth function of the state that the grid resolves, and
everything derived in notebook 4 applies unchanged, because the score is still
$x \otimes (a-\mu)/\sigma^2$.

**The energy term.** Per unit of the rod's inertia, the pendulum's energy is
$E = \tfrac12\dot\vartheta^2 + \tfrac{3g}{2}\cos\vartheta$, and $E^* = \tfrac{3g}{2}$ ($= 15$) is
its value at rest upright. Gymnasium's dynamics, $\ddot\vartheta = \tfrac{3g}{2}\sin\vartheta + 3a$,
give $\dot E = 3\,a\,\dot\vartheta$: a torque along $\dot\vartheta$ adds energy, one against it
removes energy. The swing-up law of energy control (Åström and Furuta 2000), in its torque form, pushes
along $\dot\vartheta$ in proportion to the energy still missing, $a = k\,\dot\vartheta\,(E^* - E)$.
The preset's features (`features="pendulum"`, `PendulumFeatures`, derivation in its
docstring) are the bumps and the bias plus that product as one more feature,
$x_{\text{pump}} = \dot\vartheta\,(E^* - E)/(2E^*)$, so its weight is the gain $k$ (up to the
scale $2E^*$) and the bumps shape the rest of the controller around it. A positive weight
pumps energy in below $E^*$ and takes it out above. Unlike a bump, the term is global,
nonzero almost everywhere, and it is odd under the mirror described below, as a torque must
be. The preset also adds an entropy bonus of 0.03 (`entropy_coef`: $0.03$ times the
policy's entropy at each visited state joins the objective, which for this Gaussian pushes
only on $\log\sigma$, against its shrinking). Together the two gain about one point of return
over the bumps-only preset: `scripts/pendulum_variants.py` (the mean action of each trained
policy on the same 2000 starts) measures $-147.4$ against $-148.4$ on seeds 0-9
($+1.0 \pm 0.4$) and $-146.8$ against $-148.0$ on seeds 10-29 ($+1.2 \pm 0.4$). Below, the
library's feature map at a few states against the formula, and one step of the env with the
torque along $\dot\vartheta$ and against it.
'''),
code('''
from linear_pg.envs import make_env
from linear_pg.models import fit_features

preset = get_preset("Pendulum-v1")
env = make_env("Pendulum-v1", preset["env_kwargs"])
phi = fit_features(preset["features"], env, np.random.default_rng(0), **preset["features_kwargs"])
top = 1.5 * env.unwrapped.g                                  # E* = 3 g / 2
th = np.array([np.pi, 2.5, -2.0, 1.5, 0.5, -0.3])            # pi: hanging down
v = np.array([1.0, -2.0, 3.0, -4.0, 6.0, -5.0])
obs = np.c_[np.cos(th), np.sin(th), v]
x = phi.transform(obs)
energy = v ** 2 / 2 + top * np.cos(th)
by_hand = v * (top - energy) / (2 * top)
print(f"{type(phi).__name__}, g = {phi.g:g}: {x.shape[1]} features "
      f"({phi.centers_.shape[0]} bumps, the bias, the energy term)")
print("E - E*:              ", np.round(energy - top, 3))
print("last feature:        ", np.round(x[:, -1], 3))
print("th' (E* - E) / (2E*):", np.round(by_hand, 3))
assert np.allclose(x[:, -1], by_hand)
assert np.allclose(phi.transform(obs * [1, -1, -1])[:, -1], -x[:, -1])   # odd under the mirror

# one step from each state with the torque 2 along th', and with 2 against it
dt, gained = env.unwrapped.dt, []
for th0, v0 in zip(th, v, strict=True):
    after = []
    for u in (2 * np.sign(v0), -2 * np.sign(v0)):
        env.reset(seed=0)
        env.unwrapped.state = np.array([th0, v0])
        o, *_ = env.step(np.array([u]))
        after.append(o[2] ** 2 / 2 + top * o[0])
    gained.append(after[0] - after[1])
env.close()
print("energy gained along th' over against it:", np.round(gained, 3))
print("2 * 3 |a th'| dt:                       ", np.round(2 * 3 * 2 * np.abs(v) * dt, 3))
assert np.all(np.array(gained) > 0)
assert np.allclose(gained, 2 * 3 * 2 * np.abs(v) * dt, rtol=0.1)   # dE/dt = 3 a th'
'''),
md(r'''
Some tutorials switch gravity off to make Pendulum easier; here it is on ($g = 10$, the
default). The preset's optimizer is the natural gradient: $\Delta\theta = \alpha F^{-1}\hat g$
with $F$ the Fisher matrix at the batch's states and $\alpha$ chosen so that the step has
length $\delta$ in the damped metric $F + \lambda I$ (damping below):
$\Delta\theta^\top (F + \lambda I)\,\Delta\theta = \delta$. So $\Delta\theta^\top F\,\Delta\theta$ is at
most $\delta$, and the KL divergence between successive policies at most about $\delta/2$
(notebook 7). $\delta$ starts at 0.02 and decays linearly to 0 over training
(`lr_schedule="linear"`), so that the final policy, which is evaluated by its mean action,
settles. On CartPole (notebook 7) $F$ is the
mean outer product of the batch's scores, $\frac1T\sum_t s_t s_t^\top$, one sampled action
per state. Here the expectation over the action is taken exactly instead
(`fisher="expected"`, `LinearPolicy.fisher`): with $z = (a-\mu)/\sigma \sim N(0, 1)$ the
score is $(x\,z/\sigma,\; z^2 - 1)$, and $E[z^2] = 1$, $E[z(z^2-1)] = 0$,
$E[(z^2-1)^2] = 2$ give
$F = \frac1T\sum_t \begin{pmatrix} x_t x_t^\top/\sigma^2 & 0 \\ 0 & 2\end{pmatrix}$:
the same matrix in expectation, without the noise of the sampled actions (the section after
the learning curves compares the two). $F$ also gets a **damping** term, $F + \lambda I$
with $\lambda = 0.2\,\overline{\operatorname{diag} F}$; that section shows why. We train three variants on the same features: the preset, the same natural
gradient with almost no damping ($\lambda = 10^{-4}\,\overline{\operatorname{diag} F}$, the
optimizer's default), and Adam (step size 0.1, its preset value). Three seeds show the
undamped failure clearly (asserted below in the full run); they cannot separate the damped natural gradient from Adam, whose
difference (a few points of return) needs many seeds: see the summary.

**Mirror symmetry.** The pendulum looks the same in a mirror: reflect the state,
$(\vartheta, \dot\vartheta) \to (-\vartheta, -\dot\vartheta)$, and the torque $-a$ does to the
reflected pendulum what $a$ did to the original; start states, dynamics and rewards do not
change. For a policy with the same symmetry, $\mu(-\vartheta, -\dot\vartheta) =
-\mu(\vartheta, \dot\vartheta)$, every trajectory's reflection is exactly as likely as the
trajectory itself, so each batch comes with a second batch of valid episodes for free: the
REINFORCE estimate averages the scores of both, $\tfrac{1}{2N}\sum_t w_t\,[\nabla\log\pi(a_t\mid
s_t) + \nabla\log\pi(-a_t\mid P s_t)]$, and stays unbiased. The preset does this
(`mirror=True`, derivation in `linear_pg.symmetry`); the trainer keeps $W$ exactly symmetric
and checks the symmetry on every batch. All three variants below use it.
'''),
code('''
print({k: preset[k] for k in ("env_kwargs", "features", "features_kwargs", "policy_kwargs",
                              "estimator", "baseline", "optimizer", "optimizer_kwargs", "lr",
                              "lr_schedule", "gamma", "batch_episodes", "entropy_coef",
                              "mirror")})
seeds = range(1) if QUICK else range(3)
episodes = 200 if QUICK else 500
PRESET, UNDAMPED, ADAM = "natural gradient, damped (preset)", "natural gradient, undamped", "Adam"
pendulum = {
    PRESET: train_seeds("Pendulum-v1", seeds, episodes=episodes),
    UNDAMPED: train_seeds("Pendulum-v1", seeds, episodes=episodes,
                          optimizer_kwargs={"damping": 1e-4, "fisher": "expected"}),
    ADAM: train_seeds("Pendulum-v1", seeds, episodes=episodes, optimizer="adam"),
}
run = pendulum[PRESET][0]
print(f"{run.features.n_features_out_} features, {run.policy.n_params} parameters")
print("Adam's step size:", pendulum[ADAM][0].config["lr"])

# the learned mean torque is odd: mu(P s) = -mu(s) on random states, for every run
from linear_pg.symmetry import MIRRORS

mirror = MIRRORS["Pendulum-v1"]
rng = np.random.default_rng(0)
th, v = rng.uniform(-np.pi, np.pi, 1000), rng.uniform(-8, 8, 1000)
states = np.c_[np.cos(th), np.sin(th), v]
for name, rs in pendulum.items():
    gap = max(np.abs(r.policy.mean(r.features.transform(mirror.observations(states)))
                     + r.policy.mean(r.features.transform(states))).max() for r in rs)
    print(f"{name:35s} max |mu(P s) + mu(s)| = {gap:.1e}")
    assert gap < 1e-8
'''),
code('''
fig = learning_curve_figure({k: [r.episode_returns for r in rs] for k, rs in pendulum.items()},
                            title="Linear Gaussian policy on bumps + energy term, Pendulum-v1 (g = 10)",
                            window=20)
fig.savefig(FIG_DIR / "nb08_pendulum_learning_curves.png", dpi=120)
plt.show()

k = 20 if QUICK else 50


def improvement(r):
    """Mean return of the last k minus the first k episodes, in standard errors."""
    first, last = r.episode_returns[:k], r.episode_returns[-k:]
    se = np.sqrt(first.var(ddof=1) / k + last.var(ddof=1) / k)
    print(f"seed {r.seed}: first {k} episodes {first.mean():8.1f}, last {k} {last.mean():8.1f}"
          f"  (difference {last.mean() - first.mean():+.1f} +- {se:.1f})")
    return (last.mean() - first.mean()) / se


n_greedy = 20 if QUICK else 100
z, greedy_mean, greedy_se = {}, {}, {}
for name, rs in pendulum.items():
    print(name)
    z[name] = np.array([improvement(r) for r in rs])
    assert all(r.stopped_reason is None for r in rs)
for name, rs in pendulum.items():
    greedy = np.concatenate([evaluate(r, episodes=n_greedy) for r in rs])
    greedy_mean[name] = greedy.mean()
    greedy_se[name] = greedy.std(ddof=1) / np.sqrt(greedy.size)
    print(f"{name:35s} mean action, {greedy.size} episodes: {greedy_mean[name]:7.1f} "
          f"+- {greedy_se[name]:.1f}")
assert np.all(z[PRESET] > 3) and np.all(z[ADAM] > 3)   # every seed learned, beyond the noise
if not QUICK:                                          # one seed of 200 episodes cannot tell
    gap_se = np.hypot(greedy_se[PRESET], greedy_se[UNDAMPED])
    assert greedy_mean[UNDAMPED] < greedy_mean[PRESET] - 3 * gap_se
'''),
md(r'''
## The Fisher matrix: sampled or expected, and why it needs damping here

First, the two estimates of $F$ on one batch of the trained preset policy: the mean outer
product of the scores of the actions that were taken (`linear_pg.optim.fisher`), and the
policy's own expectation over the action at the same states (`run.policy.fisher`, derived
in `GaussianPolicy._fisher`). They estimate the same matrix; the first also carries the
noise of one sampled action per state, which many sampled actions per state average away.

Then the damping. $F$ is estimated from one batch. A bump far from every state of that batch is near 0 at
each step, so are the scores of its weights, and $F$ is nearly singular along those
directions. $F^{-1}\hat g$ is then huge there. The step size $\alpha$ bounds the
step's Fisher length, and so its KL divergence, *on the batch's states*, and says nothing
about the states the batch did not visit, which the next episodes may well reach. Damping, $F + \lambda I$,
caps the step in the directions the batch cannot see.

That argument is about the bumps, which are local. Two features are not: the bias is 1
everywhere, and the energy term $\dot\vartheta\,(E^* - E)/(2E^*)$ is nonzero almost everywhere
and largest where the pendulum is fast, up to $8 \cdot 32/30 \approx 8.5$ at full speed upright,
far more than on the states a batch of the trained policy visits (printed below). Every
batch sees these two features, so $F$ is well conditioned along their weights and damping
hardly restrains them; with the bumps' directions capped, the damped step even has more of
its length left for them. A change $\Delta w$ of the energy term's weight changes the mean
torque by $\Delta w\,x_{\text{pump}}(s)$ at every state $s$, so even the damped step moves the
torque across the whole state space along that one direction, most at the fast states the
batch did not visit. Below: the eigenvalues of the batch's (expected) $F$, and how much one
step with each damping changes the mean torque, on the batch's states and on a grid over
the whole state space, in total and split into the part that comes from the bumps' weights
and the part from the bias and the energy term.
'''),
code('''
from linear_pg.estimator import policy_gradient
from linear_pg.optim import NaturalGradient, fisher
from linear_pg.returns import normalize, reward_to_go
from linear_pg.rollout import collect

env = make_env("Pendulum-v1", run.config["env_kwargs"])
batch = collect(env, run.policy, run.features, 5, np.random.default_rng(7))
env.close()
S = run.policy.grad_log_prob(batch.X, batch.actions)
F = run.policy.fisher(batch.X)        # the expectation over the action, in closed form
F_sampled = fisher(S)                 # from one sampled action per state
gap = np.linalg.norm(F_sampled - F) / np.linalg.norm(F)
print(f"|F_sampled - F| / |F| = {gap:.3f} on the batch's {batch.X.shape[0]} states")
# a thousand sampled actions at each of every 50th state: the estimate closes in on F there
X_few = batch.X[::50]
X_rep = np.repeat(X_few, 1000, axis=0)
S_rep = run.policy.grad_log_prob(X_rep, run.policy.sample(X_rep, np.random.default_rng(1)))
F_few = run.policy.fisher(X_few)
gap_many = np.linalg.norm(fisher(S_rep) - F_few) / np.linalg.norm(F_few)
print(f"with 1000 sampled actions per state: {gap_many:.3f}")
assert gap_many < gap / 5
eig = np.linalg.eigvalsh(F)
small = np.mean(eig < 1e-4 * np.mean(np.diag(F)))
print(f"F is {F.shape[0]} x {F.shape[0]}; {small:.0%} of its eigenvalues are below "
      f"1e-4 mean(diag F), the largest is {eig[-1] / np.mean(np.diag(F)):.0f} times mean(diag F)")

w = normalize(reward_to_go(batch.rewards, run.config["gamma"], batch.lengths))
g = policy_gradient(run.policy, batch.X, batch.actions, w, batch.lengths)
# a grid over the whole state space (angle, angular velocity), also used for the map below
TH, THD = np.meshgrid(np.linspace(-np.pi, np.pi, 181), np.linspace(-8, 8, 161))
obs = np.column_stack([np.cos(TH).ravel(), np.sin(TH).ravel(), THD.ravel()])
X_grid = run.features.transform(obs)
print(f"largest |energy term|: on the batch's states {np.abs(batch.X[:, -1]).max():.2f}, "
      f"on the grid {np.abs(X_grid[:, -1]).max():.2f}")
n_bumps = run.features.centers_.shape[0]     # the bumps come first, then the bias and the term
parts = {"all": slice(None), "bumps": slice(0, n_bumps), "bias + energy": slice(n_bumps, None)}
change = {}
for damping in (1e-4, 0.2):
    moved = run.policy.copy()
    step = NaturalGradient(delta=run.config["lr"], damping=damping, fisher="expected")
    moved.theta = run.policy.theta + step.step(g, fisher_matrix=F)
    dw = (moved.W - run.policy.W)[:, 0]      # one action: the change of each feature's weight
    change[damping] = {name: [np.abs(Z[:, part] @ dw[part]).max() for Z in (batch.X, X_grid)]
                       for name, part in parts.items()}
    assert np.isclose(change[damping]["all"][1], np.abs(moved.mean(X_grid)
                                                        - run.policy.mean(X_grid)).max())
    print(f"damping {damping:g}: largest change of the mean torque on the batch's states / "
          f"anywhere on the grid (energy term's weight {dw[-1]:+.2f})")
    for name, (on_batch, on_grid) in change[damping].items():
        print(f"    from {name:14s} {on_batch:5.2f} / {on_grid:5.2f}")
ratio = {name: change[1e-4][name][1] / change[0.2][name][1] for name in parts}
print(f"undamped / damped on the grid: all {ratio['all']:.1f}, bumps {ratio['bumps']:.1f}")
assert small > 0.1                        # F is nearly singular along many directions
undamped, damped = change[1e-4], change[0.2]
assert undamped["all"][1] > 2 * undamped["all"][0]   # undamped: the big changes are off the batch
assert ratio["bumps"] > 3                 # damping keeps the bumps' part of the step small,
assert damped["bumps"][1] < 1.5 * damped["bumps"][0]   # and local: no larger off the batch
# the global features' part is not local: largest where the batch did not go
assert damped["bias + energy"][1] > 2 * damped["bias + energy"][0]
'''),
md(r'''
In the full run, undamped, the bumps' weights move the mean torque by up to about 16 on the
grid against about 6 on the batch's states: the largest changes are where the batch was not.
Damped, the bumps' part is about 1.1 on both, about 14 times smaller off the batch: damping
keeps *that* part local. The bias and the energy term move it by up to about 2.7 on the
batch's states and 7 on the grid, nearly all of the damped step's largest change there, so
over all features damping shrinks the largest change on the grid only about 2.4 times. The
global part is not what damping is for: every batch sees the energy term, so damping does
not cap its weight, and a change of that weight acts on every state in proportion to the
term, most at the fast states near the top, which a swing-up that works rarely reaches.
'''),
md(r'''
## The learned controller

The mean torque $\mu(s)$ of a trained policy over a grid of angles and angular velocities
($\vartheta = 0$ is upright). The policy shown here and in the next sections is the one of
the preset's and Adam's runs above with the highest return over its last episodes (its
seed and optimizer are in the figure's title): any of them shows the same pattern. Swing-up controllers show a characteristic
pattern: near the top, torque opposes the deviation (a stabilizing band through the
centre); away from it, torque follows the velocity to pump energy, with the sign flipping
along the diagonal bands. Part of that pumping is the energy term's: its weight, the gain
$k$ of the energy law times $2E^*$, is printed below the map; positive, it pumps
energy in below $E^*$ and takes it out above.
'''),
code('''
best = max(pendulum[PRESET] + pendulum[ADAM], key=lambda r: r.episode_returns[-k:].mean())
mu = best.policy.mean(best.features.transform(obs)).reshape(TH.shape)   # on the grid above

fig, ax = plt.subplots(figsize=(7, 4.5))
mesh = ax.pcolormesh(TH, THD, np.clip(mu, -2, 2), cmap="RdBu_r", vmin=-2, vmax=2,
                     shading="auto")
fig.colorbar(mesh, ax=ax, label="mean torque $\\\\mu(s)$ (clipped to [-2, 2])")
ax.set_xlabel("angle $\\\\vartheta$ (0 = upright)")
ax.set_ylabel("angular velocity $\\\\dot\\\\vartheta$")
ax.set_title(f"learned policy (seed {best.seed}, {best.config['optimizer']})")
fig.tight_layout()
fig.savefig(FIG_DIR / "nb08_pendulum_policy_heatmap.png", dpi=120)
plt.show()

# the map is the policy itself: its greedy action at the same states
greedy = best.policy.act(best.features.transform(obs[:100]))[:, 0]
assert np.allclose(greedy, mu.ravel()[:100]) and np.all(np.isfinite(mu))
for name, rs in ((PRESET, pendulum[PRESET]), (ADAM, pendulum[ADAM])):
    print(f"{name:35s} weight of the energy term, by seed:",
          np.round([r.policy.W[-1, 0] for r in rs], 2))
assert best.policy.W[-1, 0] > 0               # the learned gain has the energy law's sign
'''),
md(r'''
## Evaluation and a swing-up

Greedy evaluation (the mean action, no sampling) on fresh starts, compared with the
untrained policy, and one episode rendered as a GIF by `linear_pg.render.render_gif`.
'''),
code('''
n_eval = 10 if QUICK else 20
trained = evaluate(best, episodes=n_eval)
untrained_policy = best.policy.copy()
untrained_policy.theta = np.zeros(untrained_policy.n_params)
untrained = evaluate(untrained_policy, episodes=n_eval, env_id="Pendulum-v1",
                     features=best.features, env_kwargs=best.config["env_kwargs"])
se = np.sqrt(trained.var(ddof=1) / n_eval + untrained.var(ddof=1) / n_eval)
for name, returns in (("trained", trained), ("untrained", untrained)):
    print(f"greedy return, {name:9s}: {returns.mean():8.1f} "
          f"+- {returns.std(ddof=1) / np.sqrt(n_eval):.1f}")
assert trained.mean() - untrained.mean() > 3 * se

gif_path, n_frames, episode_return = render_gif(
    best, FIG_DIR / "nb08_pendulum_swingup.gif", seed=3, frame_skip=2, scale=0.5,
    max_frames=20 if QUICK else None)
print(f"{n_frames} frames, episode return {episode_return:.1f}")
assert gif_path.exists() and n_frames > 0
display(Image(filename=str(gif_path)))
'''),
md(r'''
## How precise is a 100-episode evaluation?

The benchmark's Pendulum target asks for a mean-action return of at least $-160$, averaged
over 100 evaluation episodes. That average is itself a random number. The start angle is
uniform on the circle: a pendulum that starts hanging at rest costs about $-300$ even under
the best controller, one that starts upright close to 0. Below, the trained policy runs on
1000 fresh starts (200 in the quick run), and the returns are cut into disjoint
"evaluations" of 100 episodes each.
'''),
code('''
n_check = 200 if QUICK else 1000
check = evaluate(best, episodes=n_check, seed=2024, n_envs=50)
per_100 = check.reshape(-1, 100).mean(axis=1)
se_100 = check.std(ddof=1) / np.sqrt(100)
print(f"{n_check} episodes: mean {check.mean():.1f}, per-episode std {check.std(ddof=1):.1f}")
print(f"standard error of a 100-episode mean: {se_100:.1f}")
print("disjoint 100-episode means:", np.round(per_100, 1))
assert check.std(ddof=1) > 50      # the start state, not the policy, dominates the spread
'''),
md(r'''
With a standard error of 8 to 10, a policy whose true average is $-148$ (about what the
preset's policies reach: in `python -m linear_pg bench`, seeds 0-9 average $-151.8$ to
$-144.8$ over 1000 episodes each, median $-147.7$) falls below $-160$ in about one
evaluation out of ten, and ten seeds give ten chances. The benchmark's run of this preset
passed on all ten (its 100-episode evaluations from $-159.4$ to $-138.4$, median $-149.2$),
the lowest with little to spare. For scale,
`scripts/pendulum_optimum.py` computes a near-optimal controller by dynamic programming on a
fine grid: it averages $-136$ over 5000 episodes, and its 100-episode means have a standard
deviation of 7.5, so it would pass ten of ten such evaluations 99% of the time. The linear
policies here lose about 12 points to it, mostly on starts near the bottom. That is why
`python -m linear_pg bench` reports, beside the target's 100 episodes, each seed's mean
over 1000 more.
'''),
md(r'''
## MountainCarContinuous

A car in a valley must rock back and forth to reach the flag on the right hill. Each step
costs $0.1\,a^2$ and reaching the goal pays $+100$. Until the first success, the only
signal is the action cost, which teaches the policy to do nothing; the preset therefore
starts with a large $\sigma$ ($\log\sigma = 1$), so some random pushes reach the goal
early. linear_pg clips each sampled action to the action box $[-1, 1]$ before it reaches
the environment (`linear_pg.rollout.env_action`; the score uses the unclipped sample,
notebook 4), so the action cost is that of the clipped push. (Gymnasium's MountainCar would
clip the force itself but charge the cost on the unclipped action.) Features are bumps over position and velocity.

Two more settings of the preset matter for the *greedy* policy that is evaluated. With
$\sigma$ large the mean $\mu$ can drift far outside $[-1, 1]$, where the clip hides it from
the return, so no gradient pulls it back, and the greedy action then pays the full action
cost. A penalty $\tfrac{c}{2}\,|\mu - \mathrm{clip}(\mu)|^2$ on the part of the mean outside the box
(`mean_bound_coef`, its gradient in `linear_pg.update.mean_bound_grad`) keeps $\mu$ near the
box, and a step size that decays linearly to zero (`lr_schedule="linear"`) lets the final
policy settle.

Whether the goal is found early is still luck: a seed whose random pushes never reach the
flag sees only the action cost and learns to stand still (a return near 0). The check below
therefore asks that every seed that reached the goal in more than half of its training
episodes learned to reach it with its greedy action, and that at least one seed did.

This preset keeps the natural gradient's own defaults: the sampled $F$ and a damping of
only $10^{-4}\,\overline{\operatorname{diag} F}$, the setting that failed on Pendulum. Its
$F$ is nearly singular too (on a batch of five episodes, about a third of its 38
eigenvalues are below $10^{-4}\,\overline{\operatorname{diag} F}$), but its 36 bumps are wide
and every one of them is seen by every batch (each bump's feature reaches at least 0.1),
so no weight belongs to a part of the state space the batch did not visit. With these
settings all ten benchmark seeds reach the goal; the damping was not tuned here.
'''),
code('''
car_seeds = range(1) if QUICK else range(3)
car_episodes = 60 if QUICK else 150
car = train_seeds("MountainCarContinuous-v0", car_seeds, episodes=car_episodes)
fig = learning_curve_figure({"natural gradient (preset)": [r.episode_returns for r in car]},
                            title="Linear Gaussian policy on RBF features, "
                                  "MountainCarContinuous-v0", threshold=90, window=10)
fig.savefig(FIG_DIR / "nb08_mountaincar_learning_curves.png", dpi=120)
plt.show()
found = []
for r in car:
    ev = evaluate(r, episodes=n_eval)
    success = np.mean(r.episode_returns > 0)
    print(f"seed {r.seed}: goal reached in {success:.0%} of training "
          f"episodes; greedy evaluation {ev.mean():.1f} +- {ev.std(ddof=1) / np.sqrt(n_eval):.1f}")
    if success > 0.5:              # a seed that found the goal learned to reach it greedily
        assert ev.mean() > 50
    found.append(success > 0.5)
assert any(found)
'''),
md(r'''
## Summary

- A linear Gaussian policy on good features swings the pendulum up with gravity on: the
  features carry the nonlinearity, the score stays $x\otimes(a-\mu)/\sigma^2$. The preset's
  are 132 bumps, the bias and the energy-pumping term $\dot\vartheta\,(E^*-E)/(2E^*)$, whose
  weight is the gain of the classic energy-control law; with the entropy bonus of 0.03 they
  gain about a point of return over the bumps alone (`scripts/pendulum_variants.py`, 2000
  shared starts: $-147.4$ / $-146.8$ on seeds 0-9 / 10-29 against $-148.4$ / $-148.0$).
- The learned mean torque is a readable map over (angle, velocity): stabilize near the top,
  pump energy elsewhere.
- The natural gradient needs its Fisher matrix damped on Pendulum's narrow bumps: $F$ (135
  by 135 here) comes from three episodes and their mirror images, which leave most bumps
  unvisited, and the undamped step moves the policy most where the batch cannot see.
  Damping keeps the bumps' part of the step local; the energy term is global, so along its
  weight even the damped step moves the torque over the whole state space.
  Measured over the benchmark's seeds 0-9 (500 episodes, mean action over 100 evaluation
  episodes) with an earlier preset (bumps only, the sampled $F$ at a KL size of 0.03): with
  the optimizer's default damping $10^{-4}\,\overline{\operatorname{diag} F}$, -958.8 on average;
  Adam (step size 0.1), -156.1; damped, -152.5.
- The Fisher matrix in closed form, $E_a[s s^\top]$ at the batch's states, trains a little
  better than the mean outer product of the sampled actions' scores:
  `scripts/pendulum_variants.py` (the mean action of each trained policy on the same 2000
  starts) gives -148.4 / -148.0 on seeds 0-9 / 10-29 with it (the bumps-only preset, KL size
  0.02) against -149.9 / -150.1 with the sampled one (KL size 0.03).
- The mirror's twin episodes cost no environment steps, and they help more than real
  episodes do. With an earlier preset (bumps only, the sampled $F$ at a KL size of 0.03), mean
  action over 100 evaluation episodes on seeds 0-29: three episodes per update without the
  mirror score -158.4 (17 of 30 seeds at -160 or better), five, closer to the mirror's six
  episodes of data per update, -154.0 (19 of 30), and three with the mirror -150.9 (25 of
  30). Unconstrained, the policy learns a
  preferred direction of swing, which the mean action then uses even when the pendulum
  starts moving the other way. `python -m linear_pg bench` measures the preset.
- With sparse reward (MountainCarContinuous) exploration must be built in: a large initial
  $\sigma$, with the score computed at the unclipped sample. A seed whose random pushes
  never reach the goal would settle for doing nothing; with the preset, all ten benchmark
  seeds found it.

## Exercises

1. Train Pendulum on `features="raw"`. What is the best return a linear function of
   $(\cos\vartheta,\sin\vartheta,\dot\vartheta)$ reaches, and why?
2. Change the grid of bumps and their width, starting from the preset's settings:
   `features_kwargs={**PRESETS["Pendulum-v1"]["features_kwargs"], "n_centers": [6, 5]},
   mirror=True` (`from linear_pg.presets import PRESETS`; a `features_kwargs` of your own
   turns the preset's mirror off unless `mirror=True` is given too, which would confound
   the grid with the mirror; the energy term stays). How does the heatmap change? Then
   drop the energy term and the entropy bonus: `features="rbf",
   features_kwargs=PRESETS["Pendulum-v1"]["features_kwargs"], entropy_coef=0.0,
   mirror=True` trains the bumps-only preset. How many seeds do you need to see a
   difference of one point?
3. Use `policy_kwargs={"log_std_mode": "linear", "init_log_std": 0.5}, mirror=True` so that
   $\sigma$ depends on the state (the dict replaces the preset's whole dict, and turns the
   mirror off unless given). Plot $\sigma(s)$ (`run.policy.std(X)`) as a heatmap after
   training. Where is the policy most certain?
4. Start MountainCarContinuous with a small $\sigma$,
   `policy_kwargs={"log_std_mode": "vector", "init_log_std": -1.0}` (the dict replaces the
   preset's). Does it find the goal, and how soon? Try several seeds: some do, some do not.
5. Train Pendulum with `optimizer_kwargs={"damping": d, "fisher": "expected"}` for d = 0.01,
   0.2, 5 and 100 (a dict of your own replaces the preset's whole dict). The damping is
   $\lambda = d \cdot \mathrm{mean}(\mathrm{diag}\,F)$, and $F$'s largest eigenvalue is
   about a hundred times its mean diagonal (printed in the damping section), so $d = 5$ is
   not yet large: compare the step's
   direction with the gradient's for each $d$. When $F + \lambda I \approx \lambda I$,
   which optimizer does the natural gradient turn into, and what does its step size become?
'''),
]
