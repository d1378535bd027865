"""Environments beyond the presets: observations that are not vectors, episodes without a
time limit, and the defaults they get."""

import gymnasium as gym
import numpy as np
import pytest

from linear_pg import evaluate, train
from linear_pg.checkpoint import load_run
from linear_pg.envs import DEFAULT_MAX_EPISODE_STEPS, make_env
from linear_pg.presets import default_preset, is_one_hot
from linear_pg.render import record_episode


class SequenceObservations(gym.Env):
    """A toy env whose observations are sequences: no fixed-length vector for them."""

    observation_space = gym.spaces.Sequence(gym.spaces.Discrete(3))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return (0, 1), {}

    def step(self, action):
        return (1,), 0.0, True, False, {}


gym.register(id="LinearPGTestSequence-v0", entry_point=SequenceObservations,
             max_episode_steps=5)


@pytest.mark.parametrize("n_envs", [1, 3])
def test_a_discrete_state_becomes_its_one_hot_vector(n_envs):
    env = make_env("FrozenLake-v1", {"is_slippery": False}, n_envs)
    space = env.single_observation_space if n_envs > 1 else env.observation_space
    assert space.shape == (16,) and is_one_hot(space)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(np.reshape(obs, (n_envs, 16)).sum(axis=1), 1)
    assert np.reshape(obs, (n_envs, 16))[0, 0] == 1          # the start is state 0
    env.close()


def test_the_parts_of_a_tuple_are_one_hot_and_concatenated():
    env = make_env("Blackjack-v1")
    assert env.observation_space.shape == (32 + 11 + 2,)
    obs, _ = env.reset(seed=0)
    assert obs.sum() == 3                                      # one hot entry per part
    run = train("Blackjack-v1", episodes=20, seed=0)
    assert run.config["features"]["name"] == "raw" and run.policy.n_features == 46  # + bias


def test_vector_observations_are_left_alone():
    env = make_env("Acrobot-v1")
    assert not isinstance(env, gym.wrappers.FlattenObservation)
    assert not is_one_hot(env.observation_space)
    assert default_preset(env)["features"] == "standard"
    assert default_preset(make_env("Taxi-v4"))["features"] == "raw"


def test_observations_that_cannot_be_flattened_are_a_clear_error():
    with pytest.raises(ValueError, match="cannot be flattened into a vector of features"):
        make_env("LinearPGTestSequence-v0")
    with pytest.raises(ValueError, match="cannot be flattened"):
        train("LinearPGTestSequence-v0", episodes=2, seed=0)


def test_an_env_without_a_time_limit_gets_one():
    assert gym.spec("CliffWalking-v1").max_episode_steps is None
    assert make_env("CliffWalking-v1").spec.max_episode_steps == DEFAULT_MAX_EPISODE_STEPS
    short = make_env("CliffWalking-v1", {"max_episode_steps": 30})
    assert short.spec.max_episode_steps == 30
    venv = make_env("CliffWalking-v1", {"max_episode_steps": 7}, n_envs=2)
    venv.reset(seed=0)
    for _ in range(6):
        *_, truncated, _ = venv.step(np.array([0, 0]))          # "up" at the start: stays
        assert not truncated.any()
    assert venv.step(np.array([0, 0]))[3].all()
    run = train("CliffWalking-v1", episodes=4, seed=0, env_kwargs={"max_episode_steps": 50})
    assert run.episode_lengths.max() <= 50


def test_a_tabular_policy_learns_the_frozen_lake():
    """On the 4 x 4 lake without slipping, the default (a softmax on the one-hot state, the
    natural gradient) finds the goal: the reward is 1 there and 0 everywhere else."""
    run = train("FrozenLake-v1", episodes=200, seed=0, env_kwargs={"is_slippery": False})
    returns = run.episode_returns
    assert returns[:50].mean() < 0.1 and returns[-50:].mean() > 0.8
    assert evaluate(run, 50, mean_action=False).mean() > 0.8    # sampled actions


def test_a_flattened_run_checkpoints_and_evaluates_after_loading(tmp_path):
    path = tmp_path / "lake.npz"
    run = train("FrozenLake-v1", episodes=10, seed=1, checkpoint_path=str(path))
    back = load_run(path)
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)
    np.testing.assert_array_equal(evaluate(back, 20, mean_action=False),
                                  evaluate(run, 20, mean_action=False))


def test_an_episode_of_a_tabular_policy_renders():
    """record_episode steps the env itself: one action must reach FrozenLake as a key its
    transition table can look up (a NumPy integer, not a 0-d array)."""
    run = train("FrozenLake-v1", episodes=5, seed=0)
    frames, total = record_episode(run.policy, run.features, "FrozenLake-v1", seed=3,
                                   max_frames=4)
    assert 1 <= len(frames) <= 4 and frames[0].ndim == 3 and total in (0.0, 1.0)


@pytest.mark.parametrize("env_id, env_kwargs, match", [
    ("FrozenLake-v1", {"map_name": "9x9"},
     r"'FrozenLake-v1' could not be made with env_kwargs \{'map_name': '9x9'\}: KeyError"),
    ("CartPole-v1", {"max_episode_steps": 0},
     r"'CartPole-v1' could not be made with env_kwargs \{'max_episode_steps': 0\}: "
     r"ValueError: Expect the `max_episode_steps` to be positive"),
    ("CartPole-v1", {"no_such_argument": 1},
     r"env_kwargs \{'no_such_argument': 1\} are not accepted by 'CartPole-v1'"),
])
def test_an_env_its_constructor_refuses_is_a_clear_error(env_id, env_kwargs, match):
    # the env's own exception (KeyError, ValueError, ...) with the arguments it was given
    with pytest.raises(ValueError, match=match):
        make_env(env_id, env_kwargs)


@pytest.mark.filterwarnings("ignore:.*maximum and minimum values are equal")  # the corridor
def test_record_episode_refuses_an_env_that_cannot_render_or_other_observations():
    corridor = train("linear_pg/ShortCorridor-v0", episodes=2, seed=0)
    with pytest.raises(ValueError, match=r"'linear_pg/ShortCorridor-v0' cannot render frames: "
                                         r"its render modes are \[\], without 'rgb_array'"):
        record_episode(corridor.policy, corridor.features, "linear_pg/ShortCorridor-v0")
    lake = train("FrozenLake-v1", episodes=2, seed=0)
    with pytest.raises(ValueError, match="fitted on observations of size 16, but this env's "
                                         "observations have size 64"):
        record_episode(lake.policy, lake.features, "FrozenLake-v1", env_kwargs={"map_name": "8x8"})


ENV_MODULE = '''
import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Target(gym.Env):
    """Reward -|a - target|; the action box may have infinite bounds."""

    def __init__(self, low=(-1.0, 0.0, 5.0), high=(3.0, 10.0, np.inf), scale=1.0):
        self.observation_space = spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = spaces.Box(np.array(low, np.float32), np.array(high, np.float32))
        self.scale = scale

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 2).astype(np.float32), {}

    def step(self, a):
        self.t += 1
        r = -float(np.abs(np.asarray(a, float) - np.array([1.0, 5.0, 8.0])).sum())
        return (self.np_random.uniform(-1, 1, 2).astype(np.float32), self.scale * r,
                self.t >= 5, False, {})


gym.register("LinearPGTestTarget-v0", entry_point=Target)
'''


@pytest.fixture
def env_module(tmp_path, monkeypatch):
    """A module of the user's own, importable from the current directory, that registers
    LinearPGTestTarget-v0."""
    (tmp_path / "lpg_test_target.py").write_text(ENV_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return "lpg_test_target:LinearPGTestTarget-v0"


def test_an_env_of_your_own_is_named_module_colon_id(env_module, capsys):
    # train() and the command line looked the id up without importing the module: "not a
    # registered gymnasium environment", so no env of one's own could be used from the CLI
    from linear_pg.cli import main

    run = train(env_module, episodes=4, seed=0)
    assert run.env_id == env_module and run.n_episodes == 4
    assert main(["train", env_module, "--episodes", "4", "--seeds", "2", "--jobs", "2",
                 "--out", "own", "--quiet"]) == 0              # the workers import it too
    assert main(["evaluate", "own", "--episodes", "2"]) == 0
    with pytest.raises(ValueError, match="its module 'no_such_module' cannot be imported"):
        make_env("no_such_module:X-v0")


def test_the_bounds_penalty_acts_on_the_finite_sides_of_a_box(env_module):
    # a box with one infinite bound turned the penalty off altogether, silently
    plain = train(env_module, episodes=10, seed=0, optimizer="adam", lr=0.1)
    bounded = train(env_module, episodes=10, seed=0, optimizer="adam", lr=0.1,
                    mean_bound_coef=10.0)
    assert not np.array_equal(plain.policy.theta, bounded.policy.theta)
    with pytest.raises(ValueError, match="has no finite bound"):
        train(env_module, episodes=2, mean_bound_coef=1.0,
              env_kwargs={"low": (-np.inf,) * 3, "high": (np.inf,) * 3})


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_a_gradient_whose_norm_overflows_stops_training(env_module):
    # rewards near 1e200 without standardized weights: |g| and the optimizers' squares of
    # g are inf, and every step was silently 0
    with pytest.warns(RuntimeWarning, match="a gradient whose norm overflows"):
        run = train(env_module, episodes=6, seed=0, normalize_weights=False,
                    env_kwargs={"scale": 1e200})
    assert run.stopped_reason.startswith("diverged: a gradient whose norm overflows")


def test_a_type_error_inside_an_env_is_not_blamed_on_env_kwargs_never_given():
    class Broken(gym.Env):
        def __init__(self):
            self.x = None + 1

    if "LinearPGTestBroken-v0" not in gym.registry:
        gym.register("LinearPGTestBroken-v0", entry_point=Broken)
    with pytest.raises(ValueError, match=r"'LinearPGTestBroken-v0' could not be made: "
                                         r"TypeError"):
        make_env("LinearPGTestBroken-v0")


def test_an_integer_box_gets_the_nearest_allowed_action():
    from linear_pg.rollout import env_action

    space = gym.spaces.Box(0, 10, (2,), dtype=np.int64)
    np.testing.assert_array_equal(env_action(space, np.array([0.79, 12.4])), [1, 10])


@pytest.mark.filterwarnings("ignore:.*not within the observation space")   # the NaN itself
def test_a_nan_observation_while_fitting_the_features_names_the_environment():
    class NaNObs(gym.Env):
        observation_space = gym.spaces.Box(-1.0, 1.0, (2,))
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return np.zeros(2, np.float32), {}

        def step(self, action):
            self.t += 1
            return np.full(2, np.nan, np.float32), 0.0, self.t >= 2, False, {}

    if "LinearPGTestNaNObs-v0" not in gym.registry:
        gym.register("LinearPGTestNaNObs-v0", entry_point=NaNObs)
    with pytest.raises(ValueError, match="the environment returned a non-finite observation "
                                         r"\[nan, nan\] in the 5 random-action episodes"):
        train("LinearPGTestNaNObs-v0", episodes=2, features="standard")


def test_a_single_action_is_a_clear_error():
    from linear_pg.models import make_policy_for_env

    with pytest.raises(ValueError, match=r"Discrete\(1\) has a single action"):
        make_policy_for_env(gym.spaces.Discrete(1), "softmax", 3)
    # a string said "action space Discrete(2) is not supported: need Discrete ..."
    with pytest.raises(TypeError, match="space must be a gymnasium action space .* got str"):
        make_policy_for_env("Discrete(2)", "softmax", 3)
    with pytest.raises(ValueError, match=r"is not supported: need Discrete or a 1-D Box"):
        make_policy_for_env(gym.spaces.MultiBinary(2), "softmax", 3)


def test_a_module_qualified_id_of_a_preset_env_gets_the_preset():
    # the preset (and the mirror's table) were looked up by the whole string
    run = train("gymnasium.envs.classic_control.cartpole:CartPole-v1", episodes=2, seed=0)
    assert (run.config["optimizer"], run.config["lr"], run.config["batch_episodes"]) == \
        ("adam", 0.1, 1)
    pendulum = train("gymnasium.envs.classic_control:Pendulum-v1", episodes=2, seed=0)
    assert pendulum.config["mirror"] is not None and pendulum.config["env_kwargs"] == {"g": 10.0}


def test_the_installed_script_imports_an_env_module_from_the_current_directory(env_module,
                                                                              tmp_path):
    # `linear-pg` (unlike `python -m linear_pg`) had no current directory on sys.path
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "linear-pg"
    if not script.exists():
        pytest.skip("the linear-pg script is not installed next to this Python")
    done = subprocess.run([str(script), "train", env_module, "--episodes", "2", "--out",
                           "own", "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in __import__("os").environ.items()
                                            if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("value", [[9.81], (9.81,), {"g": 9.81}])
def test_a_number_argument_of_the_env_given_as_a_list_or_dict_is_named(value):
    # a checkpoint whose config said {"g": [9.81]} failed at Pendulum's first step, in
    # resume and evaluate: "unsupported operand type(s) for /: 'list' and 'float'"
    from types import SimpleNamespace

    from linear_pg.envs import _check_number_kwargs, make_env

    with pytest.raises(TypeError, match=r"env_kwargs\['g'\] must be a number \(the default "
                                        r"of 'Pendulum-v1' is 10.0\), got "):
        make_env("Pendulum-v1", {"g": value})

    def sized(size: float | tuple[float, float] = 1.0, scale: float = 1.0):
        pass

    spec = SimpleNamespace(id="Sized-v0", entry_point=sized)
    _check_number_kwargs(spec, {"size": (1.0, 2.0)})     # its annotation allows a tuple
    with pytest.raises(TypeError, match=r"env_kwargs\['scale'\] must be a number"):
        _check_number_kwargs(spec, {"scale": [2.0]})


def test_a_number_argument_of_the_env_given_as_text_is_named():
    # {"g": "x"} failed at Pendulum's first step: "unsupported operand type(s) for /"
    from linear_pg.envs import make_env

    with pytest.raises(TypeError, match=r"env_kwargs\['g'\] must be a number \(the default "
                                        r"of 'Pendulum-v1' is 10.0\), got 'x'"):
        make_env("Pendulum-v1", {"g": "x"})
    make_env("Pendulum-v1", {"g": 9}).close()
    make_env("Pendulum-v1", {"g": np.array(9.81)}).close()
    # only a float default whose annotation allows no text is checked: Ant-v5's
    # main_body (int | str = 1) takes a body's name
    from types import SimpleNamespace

    from linear_pg.envs import _check_number_kwargs

    def body(main_body: int | str = 1, scale: float = 1.0):
        pass

    spec = SimpleNamespace(id="Body-v0", entry_point=body)
    _check_number_kwargs(spec, {"main_body": "torso", "scale": 2})
    with pytest.raises(TypeError, match=r"env_kwargs\['scale'\] must be a number"):
        _check_number_kwargs(spec, {"scale": "big"})
