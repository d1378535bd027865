"""train / evaluate / Run / train_seeds: learning, determinism, errors, interrupts."""

import math
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from linear_pg.baselines import Baseline, MeanBaseline
from linear_pg.checkpoint import load_run
from linear_pg.divergence import collapse_reason
from linear_pg.evaluation import evaluate
from linear_pg.features import RawFeatures, RBFFeatures
from linear_pg.optim import SGD
from linear_pg.policies import BernoulliPolicy, GaussianPolicy, SoftmaxPolicy
from linear_pg.rollout import Batch
from linear_pg.run import Run
from linear_pg.seeds import train_seeds
from linear_pg.trainer import train
from linear_pg.update import bootstrap_with_baseline, lr_factor, mean_bound_grad, score_weights


def test_cartpole_learns_in_a_short_run():
    run = train("CartPole-v1", episodes=120, seed=0)        # the preset
    R = run.episode_returns
    assert R.shape == (120,) and run.stopped_reason is None
    assert R[-20:].mean() > 3 * R[:20].mean()


def test_pendulum_improves_clearly():
    run = train("Pendulum-v1", episodes=80, seed=0)
    R = run.episode_returns
    assert R[-10:].mean() > R[:10].mean() + 150


@pytest.mark.parametrize("fisher", ["expected", "sampled"])
def test_the_natural_gradient_gets_the_fisher_matrix_it_asked_for(fisher, monkeypatch):
    """"expected": the policy's own Fisher at the update's states (the batch and its mirror
    image), no scores; "sampled": the scores, no matrix."""
    from linear_pg.optim import NaturalGradient

    seen, step = [], NaturalGradient._step           # what the trainer calls

    def spy(self, g, scores=None, fisher_matrix=None):
        seen.append((scores, fisher_matrix))
        return step(self, g, scores, fisher_matrix)

    states, own = [], GaussianPolicy._fisher

    def fisher_spy(self, X):
        states.append((X.copy(), self.theta.copy()))
        return own(self, X)

    monkeypatch.setattr(NaturalGradient, "_step", spy)
    monkeypatch.setattr(GaussianPolicy, "_fisher", fisher_spy)
    run = train("Pendulum-v1", episodes=4, seed=0, batch_episodes=2,
                optimizer_kwargs={"damping": 0.2, "fisher": fisher})
    assert len(seen) == 2
    if fisher == "sampled":
        assert states == [] and all(S is not None and F is None for S, F in seen)
        return
    assert len(states) == 2 and all(S is None for S, _ in seen)
    for (X, theta), (_, F) in zip(states, seen, strict=True):
        assert X.shape[0] == 2 * 2 * 200           # two episodes and their mirror images
        pi = run.policy.copy()
        pi.theta = theta
        with threadpool_limits(limits=1):          # as train computes it (linear_pg._threads)
            np.testing.assert_array_equal(F, own(pi, X))


def test_a_seed_trains_the_same_whatever_the_blas_threads():
    """Two OpenBLAS threads round the sums of Pendulum's 133 x 133 matrix products
    differently from one: before train ran with one thread, the preset's run in a notebook
    and in a joblib worker (which loky limits to one thread) parted after ~50 episodes."""
    with threadpool_limits(limits=2):
        here = train("Pendulum-v1", episodes=90, seed=0)
    with threadpool_limits(limits=1):
        one = train("Pendulum-v1", episodes=90, seed=0)
    np.testing.assert_array_equal(here.policy.theta, one.policy.theta)
    workers = train_seeds("Pendulum-v1", [0], n_jobs=2, episodes=90)[0]
    np.testing.assert_array_equal(workers.policy.theta, here.policy.theta)


def test_same_seed_is_bit_identical_and_other_seed_differs():
    a = train("CartPole-v1", episodes=12, seed=5, batch_episodes=4)
    b = train("CartPole-v1", episodes=12, seed=5, batch_episodes=4)
    c = train("CartPole-v1", episodes=12, seed=6, batch_episodes=4)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.policy.theta, b.policy.theta)
    assert not np.array_equal(a.episode_returns, c.episode_returns)


def test_run_history_columns_have_equal_length():
    run = train("Pendulum-v1", episodes=5, seed=0, batch_episodes=2)
    h = run.history()
    assert {"episode", "return", "length", "update", "grad_norm", "entropy", "mean_std",
            "wall_time"} <= set(h)
    assert {v.shape for v in h.values()} == {(5,)}
    np.testing.assert_array_equal(h["update"], [1, 1, 2, 2, 3])
    u = run.update_history()
    assert {v.shape for v in u.values()} == {(3,)} and np.all(u["mean_std"] > 0)
    import json

    json.dumps(run.to_dict())
    json.dumps(run.config)


def test_to_dict_is_strict_json_for_a_discrete_policy():
    # mean_std is NaN for a policy without sigma: json.dumps wrote NaN, which strict
    # parsers (allow_nan=False, JavaScript, jq) refuse
    import json

    run = train("CartPole-v1", episodes=3, seed=0)
    d = json.loads(json.dumps(run.to_dict(), allow_nan=False))
    assert d["history"]["mean_std"] == [None, None, None]
    assert d["history"]["return"] == run.episode_returns.tolist()
    assert d["policy"]["theta"] == run.policy.theta.tolist()


def test_evaluate_and_policy_instances():
    run = train("CartPole-v1", episodes=4, seed=0, policy="bernoulli", batch_episodes=2)
    assert run.policy.kind == "bernoulli"
    R = evaluate(run, episodes=3)
    assert R.shape == (3,) and np.all(R >= 1)
    np.testing.assert_array_equal(R, evaluate(run.policy, 3, env_id="CartPole-v1",
                                             features=run.features, seed=run.seed + 1_000_003))
    pi = SoftmaxPolicy(5, 2, init_scale=0.1)
    r2 = train("CartPole-v1", episodes=2, policy=pi, features=run.features)
    assert not np.shares_memory(r2.policy.theta, pi.theta)


def _cartpole_with_three_actions():
    """CartPole (4-dim observations) whose action space says Discrete(3): action 2 pushes left."""
    import gymnasium as gym

    env = gym.make("CartPole-v1").unwrapped
    env.action_space = gym.spaces.Discrete(3)
    return gym.wrappers.TimeLimit(env, 500)


@pytest.fixture(scope="module")
def cartpole_run():
    return train("CartPole-v1", episodes=2, seed=0, batch_episodes=2)


@pytest.mark.parametrize("args, exc, match", [
    ({"env_id": "Acrobot-v1"}, ValueError, "fitted on observations of size 4.*size 6"),
    ({"env_id": "linear_pg_test/CartPole3-v0"}, ValueError, "does not fit this env"),
    ({"run": "gaussian"}, ValueError, "needs a continuous"),
    ({"run": SoftmaxPolicy(5, 3)}, ValueError, "does not fit this env"),
    ({"run": SoftmaxPolicy(4, 2)}, ValueError, "does not fit this env"),
    ({"features": "raw"}, TypeError, "features must be a fitted FeatureMap"),
    ({"features": "unfitted"}, ValueError, "not fitted"),
    ({"env_kwargs": [1]}, TypeError, "env_kwargs must be a dict"),
    ({"mean_action": "no"}, TypeError, "mean_action must be a bool"),
])
def test_evaluate_checks_the_policy_and_features_fit_the_env(cartpole_run, args, exc, match):
    import gymnasium as gym

    from linear_pg.features import RawFeatures

    if "linear_pg_test/CartPole3-v0" not in gym.registry:
        gym.register("linear_pg_test/CartPole3-v0", entry_point=_cartpole_with_three_actions)
    args = dict(args)
    if args.get("features") == "unfitted":
        args["features"] = RawFeatures()
    if args.get("run") == "gaussian":
        args["run"] = GaussianPolicy(cartpole_run.policy.n_features)
    if "run" in args or "features" in args:           # a bare policy needs env and features
        args.setdefault("run", cartpole_run.policy)
        args.setdefault("env_id", "CartPole-v1")
        args.setdefault("features", cartpole_run.features)
    run = args.pop("run", cartpole_run)
    with pytest.raises(exc, match=match):
        evaluate(run, 1, **args)


def test_evaluate_a_run_with_other_features_uses_them(cartpole_run):
    from linear_pg.features import RawFeatures

    own = evaluate(cartpole_run, 3)
    np.testing.assert_array_equal(evaluate(cartpole_run, 3, features=cartpole_run.features), own)
    with pytest.raises(ValueError, match="fitted on observations of size 3"):   # not ignored
        evaluate(cartpole_run, 1, features=RawFeatures().fit(np.zeros((2, 3))))
    # the cart position, magnified, decides the push: other actions, other returns
    other = RawFeatures(scale=[1e-3, 1e3, 1e3, 1e3]).fit(np.zeros((2, 4)))
    assert not np.array_equal(evaluate(cartpole_run, 3, features=other), own)


def test_vector_env_training_runs():
    run = train("CartPole-v1", episodes=9, seed=0, n_envs=3, batch_episodes=3)
    assert run.episode_returns.shape == (9,)


def test_other_envs_get_defaults():
    run = train("Acrobot-v1", episodes=2, seed=0)
    assert run.policy.kind == "softmax" and run.policy.n_actions == 3
    run = train("MountainCarContinuous-v0", episodes=1, seed=0)
    assert run.policy.kind == "gaussian"


def test_settings_that_belong_to_a_choice_follow_the_users_choice():
    preset = train("Pendulum-v1", episodes=1, seed=0).config
    assert (preset["optimizer"], preset["lr"], preset["optimizer_kwargs"]) == \
        ("npg", 0.02, {"damping": 0.2, "fisher": "expected"})
    adam = train("Pendulum-v1", episodes=1, seed=0, optimizer="adam").config
    assert (adam["lr"], adam["optimizer_kwargs"]) == (0.1, {})   # Adam's rate, no npg settings
    mine = train("Pendulum-v1", episodes=1, seed=0, optimizer="adam", lr=0.05).config
    assert mine["lr"] == 0.05                                     # the user's value wins
    assert train("CartPole-v1", episodes=1, seed=0, policy="bernoulli").config["lr"] == 0.2
    # the preset's bump settings belong to its bumps: other features start from their defaults
    raw = train("Pendulum-v1", episodes=1, seed=0, features="raw").config
    assert raw["features"]["name"] == "raw" and raw["features_kwargs"] == {}
    # a policy object gets its kind's settings too; the preset's building settings
    # (policy_kwargs, features_kwargs) are not recorded as if they had built it
    given = train("CartPole-v1", episodes=1, seed=0, policy=BernoulliPolicy(5)).config
    assert given["lr"] == 0.2 and given["policy_kwargs"] == {}
    pend = train("Pendulum-v1", episodes=1, seed=0, policy=GaussianPolicy(133, 1),
                 features=RBFFeatures(n_centers=[12, 11], angle_pairs=[[0, 1]])).config
    assert pend["policy_kwargs"] == {} and pend["features_kwargs"] == {}


@pytest.mark.parametrize("env_id, optimizer, lr, kwargs", [
    ("CartPole-v1", "sgd", 0.01, {}),
    ("CartPole-v1", "npg", 0.005, {"damping": 0.2, "fisher": "expected"}),
    ("Pendulum-v1", "sgd", 0.1, {}),
    ("MountainCarContinuous-v0", "adam", 0.01, {}),
    ("MountainCarContinuous-v0", "sgd", 0.0003, {}),
    ("Acrobot-v1", "adam", 0.1, {}),             # the generic defaults
    ("Acrobot-v1", "sgd", 0.02, {}),
    ("Acrobot-v1", "npg", 0.02, {"damping": 0.2, "fisher": "expected"}),
])
def test_every_preset_has_a_step_size_for_every_optimizer(env_id, optimizer, lr, kwargs):
    config = train(env_id, episodes=1, seed=0, optimizer=optimizer).config
    assert (config["lr"], config["optimizer_kwargs"]) == (lr, kwargs)
    mine = train(env_id, episodes=1, seed=0, optimizer=optimizer,
                 optimizer_kwargs={"damping": 0.5} if optimizer == "npg" else {}).config
    assert mine["optimizer_kwargs"] == ({"damping": 0.5} if optimizer == "npg" else {})


def test_cartpole_learns_with_the_natural_gradient_preset_step():
    # with the natural gradient's own defaults (KL 0.01, damping 1e-4, sampled F) and one
    # episode per update, this policy collapsed to ~9 steps per episode
    run = train("CartPole-v1", episodes=150, seed=0, optimizer="npg")
    first, last = run.episode_returns[:20].mean(), run.episode_returns[-20:].mean()
    assert last > 200 and last > 5 * first


def test_an_unfitted_feature_map_is_fitted_like_its_name():
    from linear_pg.features import RBFFeatures

    settings = {"n_centers": [5, 4], "angle_pairs": [(0, 1)], "low": [-8.0], "high": [8.0]}
    mine = RBFFeatures(**settings)
    run = train("Pendulum-v1", episodes=4, seed=2, features=mine)
    named = train("Pendulum-v1", episodes=4, seed=2, features="rbf", features_kwargs=settings)
    assert run.config["features"] == named.config["features"]
    np.testing.assert_array_equal(run.policy.theta, named.policy.theta)
    assert not mine._is_fitted() and run.features is not mine      # a fitted copy


def test_an_unfitted_map_of_the_users_own_class_is_fitted_on_random_episodes():
    from linear_pg.features import FeatureMap

    class Squares(FeatureMap):                # the observation and its squares, and a bias
        name = "squares"

        def _fit(self, obs):
            assert obs.shape[0] > 1           # random-action episodes, not one observation
            self.n_features_out_ = 2 * obs.shape[1] + 1

        def _transform(self, obs):
            return np.hstack([obs, obs**2, np.ones((obs.shape[0], 1))])

    run = train("CartPole-v1", episodes=3, seed=0, features=Squares(),
                policy=SoftmaxPolicy(9, 2))
    assert run.n_episodes == 3 and run.features.n_features_in_ == 4


def test_max_grad_norm_inf_turns_the_presets_clip_off(monkeypatch):
    import linear_pg.trainer as trainer

    seen = []

    def spy(g, max_norm):
        seen.append(max_norm)
        return g

    monkeypatch.setattr(trainer, "clip_grad_norm", spy)
    assert train("CartPole-v1", episodes=2, seed=0).config["max_grad_norm"] == 100.0
    assert train("CartPole-v1", episodes=2, seed=0, max_grad_norm=None).config[
        "max_grad_norm"] == 100.0                                   # None keeps the preset's
    off = train("CartPole-v1", episodes=2, seed=0, max_grad_norm=math.inf)
    assert off.config["max_grad_norm"] is None
    assert seen == [100.0] * 4 + [None] * 2


def test_callback_and_interrupt_keep_history():
    seen = []

    def cb(run):
        seen.append(run.n_episodes)
        if len(seen) == 2:
            raise KeyboardInterrupt

    run = train("CartPole-v1", episodes=50, seed=0, batch_episodes=5, callback=cb)
    assert run.stopped_reason == "interrupted"
    assert seen == [5, 10] and run.n_episodes == 10


def test_divergence_stops_with_warning_and_keeps_finite_theta():
    with pytest.warns(RuntimeWarning, match="diverged"):
        run = train("CartPole-v1", episodes=40, seed=0, optimizer="sgd", lr=1e305,
                    batch_episodes=2, normalize_weights=False)
    assert run.stopped_reason.startswith("diverged")
    assert np.all(np.isfinite(run.policy.theta))


def _cartpole_breaking_at_step_300(part):
    """An env maker: CartPole whose ``part`` turns NaN from the 300th step of its life on:
    "reward", "obs" (every observation) or "final obs" (only the one ending an episode)."""
    import gymnasium as gym

    class Breaking(gym.Wrapper):
        steps = 0

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.steps += 1
            if self.steps >= 300:
                if part == "reward":
                    reward = np.nan
                elif part == "obs" or terminated or truncated:
                    obs = np.full_like(obs, np.nan)
            return obs, reward, terminated, truncated, info

    return lambda **kwargs: Breaking(gym.make("CartPole-v1", **kwargs))


@pytest.mark.filterwarnings("ignore:n_envs=3 is more than batch_episodes=2")
@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("part, message", [
    ("reward", r"non-finite reward \(nan\) at step \d+ of training episode \d+"),
    ("obs", r"non-finite observation \[nan, nan, nan, nan\] at step \d+ of training "
            r"episode \d+"),
    ("final obs", r"non-finite observation after the last step of training episode \d+"),
])
def test_a_non_finite_env_output_stops_training_and_keeps_the_run(tmp_path, n_envs, part,
                                                                  message):
    import gymnasium as gym

    env_id = f"linear_pg_test/NaN{part.title().replace(' ', '')}CartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=_cartpole_breaking_at_step_300(part))
    path = tmp_path / "nan.npz"
    with pytest.warns(RuntimeWarning, match=message):
        run = train(env_id, episodes=200, seed=0, batch_episodes=2, n_envs=n_envs,
                    features="raw", checkpoint_path=path)
    assert run.stopped_reason.startswith("diverged: the environment returned a non-finite")
    assert 0 < run.n_episodes < 200 and run.update_episodes[-1] == run.n_episodes
    assert np.all(np.isfinite(run.episode_returns)) and np.all(np.isfinite(run.policy.theta))
    back = load_run(path)
    assert back.stopped_reason == run.stopped_reason
    np.testing.assert_array_equal(back.episode_returns, run.episode_returns)
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)


@pytest.mark.filterwarnings("ignore:.*is not within the observation space")
@pytest.mark.parametrize("n_envs", [1, 2])
def test_evaluate_refuses_non_finite_env_output(n_envs):
    # it returned [nan nan], where train stops with a 'diverged' message
    run = train("Pendulum-v1", episodes=2, seed=0)
    with pytest.raises(ValueError, match=r"the environment returned a non-finite "
                                         r"observation \[nan, nan, nan\] at step 2 of "
                                         r"evaluation episode \d"):
        evaluate(run, episodes=2, env_kwargs={"g": float("nan")}, n_envs=n_envs)
    assert np.all(np.isfinite(evaluate(run, episodes=2, n_envs=n_envs)))


class _LogFeatures(RawFeatures):
    """log(|x| - shift): finite for CartPole's observations until one comes within
    ``shift`` of 0 (shift 0: only an exact 0 gives -inf)."""

    name = "log_test"

    def __init__(self, shift=0.0):
        super().__init__()
        self.shift = shift

    def _transform(self, obs):
        with np.errstate(all="ignore"):
            return super()._transform(np.log(np.abs(obs) - self.shift))


@pytest.mark.filterwarnings("ignore:n_envs=3 is more than batch_episodes=2")
@pytest.mark.parametrize("n_envs", [1, 3])
def test_non_finite_features_stop_training_and_name_the_feature_map(n_envs):
    # (a step's observation, or the one after an episode's last step, whichever comes first)
    with pytest.warns(RuntimeWarning, match=r"the feature map returned non-finite features "
                      r"of the observation (after the last step )?\[.*\] (at step \d+ )?of "
                      r"training episode \d+"):
        run = train("CartPole-v1", episodes=50, seed=0, batch_episodes=2, n_envs=n_envs,
                    features=_LogFeatures(shift=0.02), mirror=False)
    assert run.stopped_reason.startswith("diverged: the feature map returned non-finite")
    assert np.all(np.isfinite(run.policy.theta))


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
@pytest.mark.parametrize("fisher", ["expected", "sampled"])
def test_a_fisher_matrix_that_overflows_stops_training_as_diverged(fisher):
    # features of ~1e160: their squares in F overflow to inf
    with pytest.warns(RuntimeWarning, match="a (non-finite (Fisher matrix|update)|gradient "
                                            "whose norm overflows) after"):
        run = train("CartPole-v1", episodes=6, seed=0, batch_episodes=2, optimizer="npg",
                    features=RawFeatures(scale=[1e-160] * 4),
                    optimizer_kwargs={"fisher": fisher})
    assert run.stopped_reason.startswith(("diverged: a non-finite", "diverged: a gradient whose"))
    assert np.all(np.isfinite(run.policy.theta))


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"env_id": "NoSuchEnv-v0"}, ValueError, "env_id 'NoSuchEnv-v0' is not a registered"),
    ({"policy": "bernoulli", "env_id": "Acrobot-v1"}, ValueError, "exactly 2 actions"),
    ({"policy": "softmax", "env_id": "Pendulum-v1"}, ValueError, "needs a Discrete"),
    ({"policy": "gaussian"}, ValueError, "needs a continuous"),
    ({"policy": "tanh"}, ValueError, "policy must be one of"),
    ({"gamma": 1.5}, ValueError, r"gamma must lie in \[0, 1\], got 1.5"),
    ({"lr": -0.1}, ValueError, "lr must be > 0.0, got -0.1"),
    ({"episodes": 0}, ValueError, "episodes must be >= 1, got 0"),
    ({"batch_episodes": 2.5}, TypeError, "batch_episodes must be an int"),
    ({"estimator": "gae"}, ValueError, "estimator must be one of"),
    ({"baseline": "critic"}, ValueError, "baseline must be one of"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
    ({"normalize_weights": "yes"}, TypeError, "normalize_weights must be a bool"),
    ({"features": "fourier"}, ValueError, "features must be one of"),
    ({"policy": SoftmaxPolicy(7, 2)}, ValueError, "does not fit this env"),
    ({"policy": SoftmaxPolicy(5, 2), "policy_kwargs": {"init_scale": 1.0}}, ValueError,
     "policy_kwargs are the settings of a policy that train builds from a name; policy is "
     "a SoftmaxPolicy object"),
    ({"features": RawFeatures(), "features_kwargs": {"scale": [1, 1, 1, 1]}}, ValueError,
     "features_kwargs are the settings of a feature map"),
    ({"policy_kwargs": {"init_sclae": 1.0}}, TypeError,
     r"policy_kwargs for policy 'softmax' must be among \['init_scale'\], got \['init_sclae'\]"),
    ({"policy": "bernoulli", "policy_kwargs": {"log_std_mode": "fixed"}}, TypeError,
     r"policy_kwargs for policy 'bernoulli' must be among \['init_scale'\]"),
    ({"features_kwargs": {"scael": [1, 1, 1, 1]}}, TypeError,
     r"the settings \(features_kwargs\) of features 'raw' must be among \['scale'\], got "
     r"\['scael'\]"),
    ({"n_envs": 0}, ValueError, "n_envs must be >= 1"),
    ({"lr_schedule": "cosine"}, ValueError, "lr_schedule must be one of"),
    ({"lr_end": 1.5}, ValueError, "lr_end must be"),
    ({"mean_bound_coef": -1.0}, ValueError, "mean_bound_coef must be"),
    ({"lr_end": 0.5}, ValueError, "lr_end is where lr_schedule='linear' ends; this run's "
                                  "lr_schedule is 'constant'"),
    ({"mean_bound_coef": 1.0}, ValueError, "a 'softmax' policy has none"),
])
def test_bad_arguments_give_clear_errors(kwargs, exc, match):
    kwargs = {"env_id": "CartPole-v1", "episodes": 2, **kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            train(kwargs.pop("env_id"), **kwargs)


def _needs_a_missing_package(**kwargs):
    import gymnasium as gym

    raise gym.error.DependencyNotInstalled("SomePhysics is not installed, run `pip install x`")


@pytest.mark.parametrize("env_id, match", [
    ("linear_pg_test/NeedsPackage-v0",
     "'linear_pg_test/NeedsPackage-v0' is registered but needs a package that is not "
     "installed .*pip install x"),
    ("linear_pg_test/Versioned-v0", "'linear_pg_test/Versioned-v0' is a deprecated version"),
    ("linear_pg_test/Versioned-v7", "'linear_pg_test/Versioned-v7' is not a registered"),
])
def test_an_env_gymnasium_cannot_make_is_named_with_the_reason(env_id, match):
    import gymnasium as gym

    for name in ("linear_pg_test/NeedsPackage-v0", "linear_pg_test/Versioned-v1"):
        if name not in gym.registry:
            gym.register(name, entry_point=_needs_a_missing_package)
    with pytest.raises(ValueError, match=match):
        train(env_id, episodes=1, seed=0)


def _never_called(run):
    raise AssertionError("training started despite a bad argument")


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"checkpoint_path": "DIR"}, ValueError, "checkpoint_path must be a file path.*directory"),
    ({"checkpoint_path": 3}, TypeError, "checkpoint_path must be a str or an os.PathLike"),
    ({"checkpoint_path": "FILE/run.npz"}, ValueError, "is an existing file, not a directory"),
    ({"features": "RAW3"}, ValueError, "fitted on observations of size 3.*size 4"),
    ({"policy_kwargs": {"seed": 1}}, ValueError, r"policy_kwargs must not set \['seed'\]"),
    ({"policy_kwargs": {"n_actions": 3}}, ValueError, "policy_kwargs must not set"),
    ({"policy_kwargs": [1]}, TypeError, "policy_kwargs must be a dict"),
    ({"optimizer_kwargs": "x"}, TypeError, "optimizer_kwargs must be a dict"),
    ({"features_kwargs": ["scale"]}, TypeError, "features_kwargs must be a dict"),
])
def test_bad_arguments_are_caught_before_training(kwargs, exc, match, tmp_path):
    (tmp_path / "FILE").write_text("not a directory")
    from linear_pg.features import RawFeatures

    values = {"DIR": str(tmp_path), "FILE/run.npz": str(tmp_path / "FILE" / "run.npz"),
              "RAW3": RawFeatures().fit(np.zeros((1, 3)))}
    kwargs = {k: values.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(exc, match=match):
        train("CartPole-v1", episodes=4, batch_episodes=2, callback=_never_called, **kwargs)


def test_a_callback_that_is_not_callable_is_an_error_before_training():
    with pytest.raises(TypeError, match="callback must be a callable"):
        train("CartPole-v1", episodes=2, callback=3, checkpoint_path=None)


def test_checkpoint_path_directories_are_created_before_training(tmp_path):
    path = tmp_path / "new" / "dir" / "run.npz"
    run = train("CartPole-v1", episodes=2, batch_episodes=1, checkpoint_path=path)
    assert path.is_file() and run.n_episodes == 2


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"seeds": 1.0}, TypeError, "seeds must be an int n .* or a sequence of ints, got float"),
    ({"seeds": None}, TypeError, "seeds must be an int n"),
    ({"seeds": "01"}, TypeError, "seeds must be an int n"),
    ({"seeds": []}, ValueError, "seeds must hold at least one seed"),
    ({"seeds": 2, "seed": 3}, TypeError, "train_seeds takes seeds="),
    ({"seeds": [3, 1, 3, 1, 2]}, ValueError,
     r"seeds must be distinct .*, got \[3, 1, 3, 1, 2\] with 1, 3 more than once"),
    ({"seeds": 2, "n_jobs": 0}, ValueError, "n_jobs must be >= 1, or -1 for one process per"),
    ({"seeds": 2, "n_jobs": -2}, ValueError, "n_jobs must be >= 1, or -1"),
    ({"seeds": 2, "n_jobs": 1.5}, TypeError, "n_jobs must be an int"),
])
def test_train_seeds_bad_seeds(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train_seeds("CartPole-v1", episodes=2, **kwargs)


@pytest.mark.parametrize("n_envs, exc, match", [
    (0, ValueError, "n_envs must be >= 1, got 0"),
    ("a", TypeError, "n_envs must be an int, got str"),
])
def test_make_env_checks_n_envs(n_envs, exc, match):
    from linear_pg.envs import make_env

    with pytest.raises(exc, match=match):
        make_env("CartPole-v1", n_envs=n_envs)


def test_train_seeds_parallel_equals_sequential():
    par = train_seeds("CartPole-v1", [0, 1], n_jobs=2, episodes=4, batch_episodes=2)
    seq = train_seeds("CartPole-v1", 2, episodes=4, batch_episodes=2)
    assert all(isinstance(r, Run) for r in par)
    for p, s in zip(par, seq, strict=True):
        np.testing.assert_array_equal(p.episode_returns, s.episode_returns)
        np.testing.assert_array_equal(p.policy.theta, s.policy.theta)


def test_train_seeds_runs_on_the_joblib_backend_the_caller_chooses():
    # the promise behind "switch to Dask or Ray with joblib.parallel_config": train_seeds
    # names no backend itself. The threading backend runs the seeds in this process, so the
    # callback sees where they ran; the runs are those of a sequential loop.
    import threading

    import joblib

    where = []

    def record(run):
        where.append((run.seed, threading.current_thread() is threading.main_thread()))

    with joblib.parallel_config(backend="threading"):
        par = train_seeds("CartPole-v1", [0, 1], n_jobs=2, episodes=4, batch_episodes=2,
                          callback=record)
    assert sorted(where) == [(0, False), (0, False), (1, False), (1, False)]
    seq = train_seeds("CartPole-v1", 2, episodes=4, batch_episodes=2)
    for p, s in zip(par, seq, strict=True):
        np.testing.assert_array_equal(p.policy.theta, s.policy.theta)


def test_train_seeds_trains_an_env_the_script_registered_in_its_workers():
    import gymnasium as gym
    from gymnasium.envs.classic_control import CartPoleEnv

    class ShortCartPole(CartPoleEnv):          # local: pickled by value, as __main__'s are
        pass

    env_id = "linear_pg_test/RegisteredHere-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=ShortCartPole, max_episode_steps=50)
    par = train_seeds(env_id, 2, n_jobs=2, episodes=4, batch_episodes=2)
    seq = train_seeds(env_id, 2, episodes=4, batch_episodes=2)
    for p, s in zip(par, seq, strict=True):
        np.testing.assert_array_equal(p.episode_returns, s.episode_returns)


@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_train_seeds_writes_one_checkpoint_per_seed(tmp_path, n_jobs):
    runs = train_seeds("CartPole-v1", [3, 4], n_jobs=n_jobs, episodes=4, batch_episodes=2,
                       checkpoint_path=str(tmp_path / "seed-{seed}.npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed-3.npz", "seed-4.npz"]
    for run in runs:
        back = load_run(tmp_path / f"seed-{run.seed}.npz")
        assert back.seed == run.seed
        np.testing.assert_array_equal(back.policy.theta, run.policy.theta)


def test_train_seeds_workers_follow_the_callers_working_directory(tmp_path, monkeypatch):
    # joblib reuses its worker processes: started before the caller's chdir, they wrote a
    # relative checkpoint_path into the old directory and could not import a module that
    # only the new directory (or a path added since) holds
    train_seeds("CartPole-v1", 2, n_jobs=2, episodes=2)           # the workers start here
    (tmp_path / "lpg_test_late.py").write_text(
        'import gymnasium as gym\n'
        'gym.register("LinearPGTestLate-v0", max_episode_steps=20,\n'
        '             entry_point="gymnasium.envs.classic_control:CartPoleEnv")\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    runs = train_seeds("lpg_test_late:LinearPGTestLate-v0", [0, 1], n_jobs=2, episodes=2,
                       checkpoint_path="ck-{seed}.npz")
    assert sorted(p.name for p in tmp_path.glob("ck-*.npz")) == ["ck-0.npz", "ck-1.npz"]
    assert [load_run(tmp_path / f"ck-{r.seed}.npz").seed for r in runs] == [0, 1]


def test_train_seeds_refuses_one_checkpoint_file_for_several_seeds(tmp_path):
    with pytest.raises(ValueError, match=r"would be written by all 2 seeds; put \{seed\}"):
        train_seeds("CartPole-v1", 2, episodes=2, checkpoint_path=tmp_path / "run.npz")
    assert list(tmp_path.iterdir()) == []
    one = train_seeds("CartPole-v1", [5], episodes=2, checkpoint_path=tmp_path / "run.npz")
    assert load_run(tmp_path / "run.npz").seed == one[0].seed == 5


def test_evaluate_in_another_env_does_not_take_the_runs_env_kwargs():
    pendulum = train("Pendulum-v1", episodes=2, seed=0)
    assert pendulum.config["env_kwargs"] == {"g": 10.0}
    with pytest.raises(ValueError, match="fitted on observations of size 3, but this "
                                         "env's observations have size 4"):
        evaluate(pendulum, 1, env_id="CartPole-v1")        # not: CartPole rejects g=10
    same = evaluate(pendulum, 2, env_id="Pendulum-v1", seed=1)
    np.testing.assert_array_equal(same, evaluate(pendulum, 2, seed=1))   # kwargs kept


def test_linear_lr_schedule_decays_the_step_to_its_end_fraction(monkeypatch):
    assert lr_factor("constant", 0.7) == 1.0
    assert lr_factor("linear", 0.0) == 1.0 and lr_factor("linear", 1.0) == 0.0
    assert lr_factor("linear", 0.5, end=0.2) == pytest.approx(0.6)
    seen = []
    monkeypatch.setattr(SGD, "set_lr", lambda self, lr: (seen.append(lr),
                                                          setattr(self, "lr", lr)))
    run = train("CartPole-v1", episodes=8, seed=0, batch_episodes=2, optimizer="sgd",
                lr=0.4, lr_schedule="linear", lr_end=0.5)
    np.testing.assert_allclose(seen, [0.4, 0.35, 0.3, 0.25])   # 0.4 * (1 - 0.5 * k / 4)
    assert run.config["lr_schedule"] == "linear" and run.config["lr_end"] == 0.5


def test_gaussian_at_its_sigma_floor_is_not_collapsed_but_a_deterministic_softmax_is():
    X = np.ones((4, 3))
    gauss = GaussianPolicy(3)
    gauss.log_std[...] = -10.0                            # clamped to the lower bound
    assert collapse_reason(gauss, float(np.mean(gauss.entropy(X))), np.array([1.0, 2.0])) is None
    soft = SoftmaxPolicy(3, 2)
    soft.W[:, 0] = 100.0
    ent = float(np.mean(soft.entropy(X)))
    assert "collapsed" in collapse_reason(soft, ent, np.array([1.0, 2.0]))
    assert collapse_reason(soft, ent, np.array([3.0, 3.0])) is None   # finished, not broken
    assert "not finite" in collapse_reason(gauss, float("nan"), np.array([1.0, 2.0]))


def test_mean_bound_grad_is_the_gradient_of_the_penalty_and_zero_inside_the_box():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    pi = GaussianPolicy(3, action_dim=2, init_scale=2.0, seed=1)
    low, high = np.array([-1.0, -0.5]), np.array([1.0, 0.5])

    def penalty(theta):
        q = pi.copy()
        q.theta = theta
        mu = X @ q.W
        return -0.5 * np.sum((mu - np.clip(mu, low, high)) ** 2) / 2   # N = 2 episodes

    g = mean_bound_grad(pi, X, low, high, 2)
    eps = 1e-6
    num = [(penalty(pi.theta + eps * e) - penalty(pi.theta - eps * e)) / (2 * eps)
           for e in np.eye(pi.n_params)]
    np.testing.assert_allclose(g, num, atol=1e-6)
    assert np.any(g != 0) and np.all(g[6:] == 0)               # log sigma is not penalized
    inside = GaussianPolicy(3, action_dim=2, init_scale=1e-3, seed=1)
    assert np.all(mean_bound_grad(inside, X, 10 * low, 10 * high, 2) == 0)
    assert np.all(mean_bound_grad(SoftmaxPolicy(3, 2), X, low, high, 2) == 0)


def test_mean_bound_penalty_keeps_mountain_car_means_near_the_box():
    kw = {"episodes": 40, "seed": 0, "lr_schedule": "linear", "batch_episodes": 10}
    X = np.random.default_rng(0).uniform([-1.2, -0.07], [0.6, 0.07], (200, 2))
    free = train("MountainCarContinuous-v0", mean_bound_coef=0.0, **kw)
    held = train("MountainCarContinuous-v0", mean_bound_coef=10.0, **kw)
    out = [np.mean(np.abs(r.policy.act(r.features.transform(X))) > 1.0) for r in (free, held)]
    assert out[1] < 0.5 * out[0]      # measured: 0.70 without the penalty, 0.28 with it


def test_more_sub_environments_than_episodes_is_refused_before_they_are_made():
    # n_envs=10**8 on Pendulum built one env after another until memory ran out
    with pytest.raises(ValueError, match=r"n_envs must be <= episodes \(5\)"):
        train("Pendulum-v1", episodes=5, n_envs=10**8)


@pytest.mark.filterwarnings("ignore:n_envs=")      # the idle sub-environments: as intended
def test_a_run_saved_with_more_sub_environments_than_episodes_still_resumes(tmp_path):
    # such runs were allowed before the refusal above: resume called them corrupted
    from linear_pg import resume, save_checkpoint

    run = train("CartPole-v1", episodes=2, seed=0, n_envs=2)
    run.config["n_envs"] = 4                 # what train(episodes=2, n_envs=4) recorded
    save_checkpoint(run, tmp_path / "c.npz")
    assert resume(tmp_path / "c.npz", episodes=6).n_episodes == 6


def test_more_sub_environments_than_episodes_per_update_is_a_warning():
    # each update starts batch_episodes episodes: the other sub-envs stepped idle, unsaid
    with pytest.warns(UserWarning, match="n_envs=4 is more than batch_episodes=1: each "
                                         "update starts only 1 episode"):
        train("CartPole-v1", episodes=4, seed=0, n_envs=4)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train("CartPole-v1", episodes=4, seed=0, n_envs=2, batch_episodes=2)


@pytest.mark.parametrize("env_id, kwargs", [
    ("CartPole-v1", {"max_grad_norm": math.inf, "policy": "bernoulli", "baseline": "mean"}),
    ("Pendulum-v1", {"mirror": False}),
    ("Pendulum-v1", {}),
    ("CartPole-v1", {"lr_schedule": "linear", "lr_end": 0.1, "optimizer": "sgd"}),
])
def test_a_recorded_config_trains_the_same_run_again(env_id, kwargs, tmp_path):
    # the config could not be fed back: lr_end refused with a constant schedule, features
    # recorded as a dict, and None (off) for a clip or mirror meant "the preset's" to train
    import json

    from linear_pg.rundir import write_run
    from linear_pg.settings import train_kwargs

    run = train(env_id, episodes=6, seed=2, **kwargs)
    again = train(env_id, seed=2, **run.train_kwargs())
    np.testing.assert_array_equal(again.policy.theta, run.policy.theta)
    assert again.config == run.config
    write_run(run, tmp_path / "seed-2")
    recorded = json.loads((tmp_path / "seed-2" / "config.json").read_text())["config"]
    from_file = train(env_id, seed=2, **train_kwargs(recorded))
    np.testing.assert_array_equal(from_file.episode_returns, run.episode_returns)


def test_a_run_resumed_to_another_total_says_so(tmp_path):
    from linear_pg import resume

    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=4, seed=0, checkpoint_path=str(path))
    longer = resume(path, episodes=7)
    assert longer.config["resumed"] == [{"at_episode": 4, "episodes_before": 4}]
    assert longer.config["episodes"] == 7
    with pytest.raises(ValueError, match="resumed from another total of episodes"):
        longer.train_kwargs()
    # an interrupted run finished to its own total is the same run: nothing to record

    def stop_at_4(run):
        if run.n_episodes == 4:
            raise KeyboardInterrupt

    stopped = train("CartPole-v1", episodes=8, seed=0, checkpoint_path=str(path),
                    callback=stop_at_4)
    assert stopped.stopped_reason == "interrupted"
    finished = resume(path)
    assert "resumed" not in finished.config
    assert finished.train_kwargs() == train("CartPole-v1", episodes=8, seed=0).train_kwargs()


def test_a_feature_object_and_config_json_as_a_whole_are_replayed(tmp_path):
    # a built-in feature object's settings (PolyFeatures(degree=3)) were replaced by the
    # class defaults, and config.json given whole gave near-empty kwargs without a word
    import json

    from linear_pg.features import PolyFeatures, RawFeatures
    from linear_pg.rundir import write_run
    from linear_pg.settings import train_kwargs

    for features in (PolyFeatures(degree=3), RawFeatures(scale=[2.0, 1.0, 0.5, 1.0])):
        run = train("CartPole-v1", episodes=4, seed=1, features=features)
        again = train("CartPole-v1", seed=1, **run.train_kwargs())
        assert again.config["features"] == run.config["features"]
        np.testing.assert_array_equal(again.policy.theta, run.policy.theta)
    write_run(run, tmp_path / "seed-1")
    whole = json.loads((tmp_path / "seed-1" / "config.json").read_text())
    assert train_kwargs(whole) == run.train_kwargs()
    with pytest.raises(ValueError, match="'episodes' among its keys; got keys"):
        train_kwargs({"env_id": "CartPole-v1", "seed": 1})
    with pytest.raises(TypeError, match="config must be a run's recorded config"):
        train_kwargs([("episodes", 3)])


def test_a_hand_edited_config_meets_trains_own_messages():
    # train_kwargs built the feature class from features_kwargs, whose TypeError
    # ("unexpected keyword argument") came before train's message
    from linear_pg.settings import train_kwargs

    config = dict(train("CartPole-v1", episodes=2, seed=0).config, features_kwargs={"bogus": 1})
    with pytest.raises(TypeError, match=r"the settings \(features_kwargs\) of features 'raw' "
                                        r"must be among \['scale'\], got \['bogus'\]"):
        train("CartPole-v1", seed=0, **train_kwargs(config))


def _cartpole_with_huge_rewards(**kwargs):
    import gymnasium as gym

    class Huge(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward * 1e308, terminated, truncated, info

    return Huge(gym.make("CartPole-v1", **kwargs))


def test_returns_that_overflow_stop_training_as_diverged():
    # finite rewards of 1e308 sum to inf: train raised "G must be finite" and lost the run
    import gymnasium as gym

    env_id = "linear_pg_test/HugeRewardCartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=_cartpole_with_huge_rewards)
    with pytest.warns(RuntimeWarning, match=r"the returns of the batch after 0 episodes "
                                            r"overflow float64 \(rewards up to 1e\+308"):
        run = train(env_id, episodes=5, seed=0, features="raw")
    assert run.stopped_reason.startswith("diverged: the returns of the batch")
    assert run.n_episodes == 0 and np.all(np.isfinite(run.policy.theta))


def test_a_zero_dimensional_array_in_a_setting_is_stored_as_a_number(tmp_path):
    # np.array(9.0) in env_kwargs failed deep inside with "iteration over a 0-d array"
    from linear_pg import load_run

    run = train("Pendulum-v1", episodes=3, seed=0, env_kwargs={"g": np.array(9.0)},
                checkpoint_path=tmp_path / "c.npz")
    assert run.config["env_kwargs"] == {"g": 9.0}
    assert load_run(tmp_path / "c.npz").config["env_kwargs"] == {"g": 9.0}


def test_a_callback_stops_training_with_stop_training_and_resume_goes_on(tmp_path):
    # there was no documented way to stop early; raising anything else lost the run
    from linear_pg import StopTraining, load_run, resume

    def enough(run):
        if run.n_episodes >= 15:
            raise StopTraining("15 episodes are enough")

    run = train("CartPole-v1", episodes=60, seed=2, callback=enough,
                checkpoint_path=tmp_path / "c.npz")
    assert run.n_episodes == 15
    assert run.stopped_reason == "stopped by the callback: 15 episodes are enough"
    saved = load_run(tmp_path / "c.npz")
    assert saved.n_episodes == 15 and saved.stopped_reason == run.stopped_reason
    whole = train("CartPole-v1", episodes=60, seed=2)
    done = resume(tmp_path / "c.npz")
    np.testing.assert_array_equal(done.episode_returns, whole.episode_returns)
    np.testing.assert_array_equal(done.policy.theta, whole.policy.theta)


def test_another_exception_in_a_callback_goes_on_after_the_checkpoint_is_saved(tmp_path):
    # the checkpoint kept the last periodic save (10 updates), not the 15 completed ones
    from linear_pg import load_run

    class BrokenCallbackError(Exception):
        pass

    def broken(run):
        if run.n_episodes >= 15:
            raise BrokenCallbackError

    with pytest.raises(BrokenCallbackError):
        train("CartPole-v1", episodes=60, seed=2, callback=broken,
              checkpoint_path=tmp_path / "c.npz")
    saved = load_run(tmp_path / "c.npz")
    assert saved.n_episodes == 15 and saved.stopped_reason == "error: BrokenCallbackError: "


def test_an_error_before_the_first_update_keeps_the_file_there(tmp_path, monkeypatch):
    # nothing to keep yet, and the file may be another run's
    import linear_pg.trainer as trainer

    def env_fails(*args, **kwargs):
        raise RuntimeError("the env broke")

    monkeypatch.setattr(trainer, "collect_unchecked", env_fails)
    (tmp_path / "other.npz").write_bytes(b"another run")
    with pytest.raises(RuntimeError, match="the env broke"):
        train("CartPole-v1", episodes=60, seed=2, checkpoint_path=tmp_path / "other.npz")
    assert (tmp_path / "other.npz").read_bytes() == b"another run"


def _two_episodes():
    """Episode 0 (2 steps) cut off by the time limit, episode 1 (3 steps) terminated; all
    rewards 1. The state after each episode's last step (final_X) differs from the last
    state seen in it."""
    X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    final_X = np.array([[2.0, 1.0], [4.0, 1.0]])
    return Batch(obs=X[:, :1], X=X, actions=np.zeros(5, np.int64), rewards=np.ones(5),
                 lengths=np.array([2, 3]), terminated=np.array([False, True]),
                 final_X=final_X, final_obs=final_X[:, :1])


def test_bootstrapping_adds_gamma_v_of_the_state_after_a_truncated_episode_only():
    class Linear(Baseline):
        def _predict(self, X):
            return X @ np.array([3.0, 0.5])

    batch = _two_episodes()
    # V(final_X[0]) = 6.5 (not V(X[1]) = 3.5, the last state seen): r_1 = 1 + 0.9 * 6.5;
    # episode 1 terminated, V = 0 there: its rewards are left alone
    np.testing.assert_allclose(bootstrap_with_baseline(batch, Linear(), 0.9),
                               [1.0, 6.85, 1.0, 1.0, 1.0], rtol=1e-15)
    np.testing.assert_array_equal(batch.rewards, np.ones(5))          # a copy


@pytest.mark.parametrize("estimator", ["reward_to_go", "total_return"])
def test_weights_are_the_bootstrapped_return_minus_the_earlier_batches_baseline(estimator):
    baseline = MeanBaseline()
    baseline.update(np.ones((2, 2)), np.array([4.0, 4.0]))        # b = 4, from earlier data
    cfg = {"gamma": 0.9, "estimator": estimator, "normalize_weights": False}
    w = score_weights(cfg, _two_episodes(), baseline)
    # bootstrapped rewards (1, 1 + 0.9 * 4, 1, 1, 1); by hand, reward-to-go
    # G = (1 + 0.9 * 4.6, 4.6, 1 + 0.9 + 0.81, 1 + 0.9, 1) = (5.14, 4.6, 2.71, 1.9, 1)
    G = np.array([5.14, 4.6, 2.71, 1.9, 1.0])
    R = G if estimator == "reward_to_go" else np.array([5.14, 5.14, 2.71, 2.71, 2.71])
    np.testing.assert_allclose(w, R - 4.0, rtol=1e-12)             # b before this batch
    # the baseline learns the reward-to-go of this batch afterwards, for the next one
    np.testing.assert_allclose(baseline.predict(np.ones((1, 2))), [G.mean()], rtol=1e-12)


def test_the_entropy_bonus_adds_its_gradient_summed_over_the_episodes(monkeypatch):
    # g = REINFORCE + c * sum_t grad H(x_t) / N: the same first batch trained with c = 0
    # and c = 0.5 gives gradients that differ by exactly 0.5 * sum_t grad H(x_t) / N
    import linear_pg.trainer as trainer

    batches, grads, collect = [], [], trainer.collect_unchecked

    def collect_spy(*args, **kwargs):
        batches.append(collect(*args, **kwargs))
        return batches[-1]

    def clip_spy(g, max_norm):
        grads.append(g.copy())
        return g

    monkeypatch.setattr(trainer, "collect_unchecked", collect_spy)
    monkeypatch.setattr(trainer, "clip_grad_norm", clip_spy)
    pi = SoftmaxPolicy(5, 2, init_scale=1.0, seed=3)      # not uniform: grad H != 0
    for coef in (0.0, 0.5):
        train("CartPole-v1", episodes=3, batch_episodes=3, seed=0, policy=pi.copy(),
              optimizer="sgd", lr=0.01, entropy_coef=coef)
    np.testing.assert_array_equal(batches[0].X, batches[1].X)          # one batch twice
    bonus = 0.5 * pi.grad_entropy(batches[0].X).sum(axis=0) / 3
    assert np.linalg.norm(bonus) > 1e-3
    np.testing.assert_allclose(grads[1] - grads[0], bonus, rtol=1e-9, atol=1e-12)
