"""resume(): a run stopped anywhere and trained on ends bit for bit as if it never stopped."""

import json

import numpy as np
import pytest

import linear_pg.trainer
from linear_pg import load_run, resume, save_checkpoint, train

# Pendulum: the natural gradient, the value baseline, the mirror and a decaying KL size;
# CartPole: Adam (whose moments must come back) and one episode per update.
SETTINGS = {
    "pendulum": dict(env_id="Pendulum-v1", episodes=12, batch_episodes=3, seed=4),
    "cartpole": dict(env_id="CartPole-v1", episodes=12, seed=5),
    "vector": dict(env_id="CartPole-v1", episodes=12, batch_episodes=4, n_envs=2, seed=6),
}


def _same(a, b):
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.episode_lengths, b.episode_lengths)
    np.testing.assert_array_equal(a.update_episodes, b.update_episodes)
    np.testing.assert_array_equal(a.grad_norm, b.grad_norm)
    np.testing.assert_array_equal(a.policy.theta, b.policy.theta)
    assert a.stopped_reason is None and b.stopped_reason is None


def _stop_at_update(k):
    def callback(run):
        if run.update_episodes.size == k:
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("name", list(SETTINGS))
def test_ctrl_c_between_updates_then_resume_is_the_uninterrupted_run(name, tmp_path):
    kwargs = dict(SETTINGS[name])
    env_id = kwargs.pop("env_id")
    whole = train(env_id, **kwargs)
    path = tmp_path / "c.npz"
    part = train(env_id, checkpoint_path=path, callback=_stop_at_update(2), **kwargs)
    assert part.stopped_reason == "interrupted" and part.n_episodes < whole.n_episodes
    _same(resume(path), whole)


@pytest.mark.parametrize("where", ["collecting", "stepping"])
def test_ctrl_c_inside_a_batch_then_resume_is_the_uninterrupted_run(where, tmp_path,
                                                                   monkeypatch):
    """Stopped while the third batch is collected (the generator has moved on), or after
    that batch entered the history but before its update ended: the checkpoint's train
    state is the second update's, and resume trains the third batch again."""
    whole = train("Pendulum-v1", episodes=12, batch_episodes=3, seed=4)
    target = {"collecting": "collect_unchecked", "stepping": "clip_grad_norm"}[where]
    real, calls = getattr(linear_pg.trainer, target), []

    def stop_at_third(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(linear_pg.trainer, target, stop_at_third)
    path = tmp_path / "c.npz"
    part = train("Pendulum-v1", episodes=12, batch_episodes=3, seed=4, checkpoint_path=path)
    monkeypatch.setattr(linear_pg.trainer, target, real)
    assert part.stopped_reason == "interrupted"
    assert part.update_episodes.size == {"collecting": 2, "stepping": 3}[where]
    assert load_run(path).train_state["updates"] == 2
    _same(resume(path), whole)
    # to another total: it goes on from episode 6 (the batch caught stepping is redone),
    # which the config recorded as 9
    assert resume(path, episodes=15).config["resumed"] == [
        {"at_episode": 6, "episodes_before": 12}]


def test_resume_to_more_episodes_and_keep_saving(tmp_path):
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=6, seed=1, checkpoint_path=path)
    more = resume(path, episodes=10, checkpoint_path=path, checkpoint_every=1)
    assert more.n_episodes == 10 and more.config["episodes"] == 10
    np.testing.assert_array_equal(more.policy.theta, train("CartPole-v1", episodes=10,
                                                           seed=1).policy.theta)
    back = load_run(path)                   # the file now holds the longer run
    assert back.n_episodes == 10 and back.train_state["updates"] == 10
    assert np.all(np.diff(more.wall_time) >= 0)          # the clock goes on from the saved


def test_train_state_round_trips(tmp_path):
    run = train("Pendulum-v1", episodes=6, batch_episodes=3, seed=0)
    back = load_run(save_checkpoint(run, tmp_path / "c.npz"))
    assert back.train_state["updates"] == run.train_state["updates"] == 2
    assert back.train_state["rng"] == run.train_state["rng"]
    for part in ("baseline", "optimizer"):
        assert back.train_state[part].keys() == run.train_state[part].keys()
        for k, v in run.train_state[part].items():
            np.testing.assert_array_equal(back.train_state[part][k], v)
    np.testing.assert_array_equal(back.train_state["theta"], run.policy.theta)


def _without_train_state(path):
    with np.load(path) as d:
        arrays = {k: v for k, v in d.items() if not k.startswith("train_state/")}
    meta = json.loads(str(arrays["meta"]))
    del meta["train_state"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_what_cannot_be_resumed_is_a_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=4, seed=0, checkpoint_path=path)
    with pytest.raises(ValueError, match="has already trained 4 episodes; pass episodes= "
                                         "above that"):
        resume(path)
    with pytest.raises(ValueError, match="episodes must be >= 1"):
        resume(path, episodes=0)
    with pytest.raises(TypeError, match="callback must be a callable"):
        resume(path, episodes=6, callback=3)
    _without_train_state(path)
    with pytest.raises(ValueError, match="holds no training state to resume from"):
        resume(path, episodes=6)
    with pytest.raises(TypeError, match="path must be a str or a path, got NoneType"):
        resume(None)                  # was pathlib's "expected str, bytes or os.PathLike"


def test_a_diverged_run_is_not_resumed(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    monkeypatch.setattr(linear_pg.trainer, "collapse_reason",
                        lambda *args: "a test's collapse")
    with pytest.warns(RuntimeWarning, match="training stopped, diverged"):
        run = train("CartPole-v1", episodes=6, seed=0, checkpoint_path=path)
    assert run.stopped_reason.startswith("diverged")
    with pytest.raises(ValueError, match="is a run that diverged: a test's collapse"):
        resume(path)


@pytest.mark.parametrize("entry, value", [
    ("train_state/baseline/v_", np.zeros(3)),             # Pendulum's baseline has 133
    ("train_state/optimizer/m_", np.zeros(5)),            # Adam, CartPole's 10 parameters
])
def test_a_training_state_that_does_not_fit_is_a_clear_error(tmp_path, entry, value):
    env_id = "Pendulum-v1" if "baseline" in entry else "CartPole-v1"
    path = tmp_path / "c.npz"
    train(env_id, episodes=6, batch_episodes=3, seed=0, checkpoint_path=path)
    with np.load(path) as d:
        arrays = dict(d)
    assert entry in arrays
    arrays[entry] = value
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="corrupted or mismatched checkpoint .* its training "
                                         "state cannot be restored"):
        resume(path, episodes=9)


def _edit_meta(path, change):
    """Rewrite the checkpoint at ``path`` with ``change(meta)`` applied to its metadata."""
    with np.load(path) as d:
        arrays = dict(d)
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_an_unreadable_generator_state_is_a_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta["train_state"].__setitem__(
        "rng", {"bit_generator": "MT19937"}))
    with pytest.raises(ValueError, match="metadata 'train_state' 'rng' must be the state "
                                         "of a PCG64 generator"):
        resume(path, episodes=5)


@pytest.mark.parametrize("key, value, words", [
    ("batch_episodes", 0, "batch_episodes must be >= 1"),
    ("batch_episodes", "2", "batch_episodes must be an int"),
    ("gamma", "x", "gamma"),
    ("entropy_coef", -1.0, "entropy_coef must be >= 0"),
    ("max_grad_norm", -5.0, "max_grad_norm must be > 0"),
    ("lr_schedule", "foo", "lr_schedule must be one of"),
    ("normalize_weights", "yes", "normalize_weights"),
    ("estimator", 3, "estimator"),
])
def test_a_hand_edited_checkpoint_config_is_refused_by_resume(tmp_path, key, value, words):
    # resume trained on with whatever the file said (a negative entropy bonus, clipping at
    # -5) or failed deep inside NumPy ("operands could not be broadcast ... (0,) (4,)")
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta["config"].__setitem__(key, value))
    with pytest.raises(ValueError, match="corrupted or mismatched checkpoint") as info:
        resume(path, episodes=5)
    assert words in str(info.value)


def test_more_sub_environments_than_episodes_is_refused_by_resume(tmp_path):
    # train refuses n_envs > episodes; resume built them all: n_envs=10**6 in a corrupted
    # config made sub-environments until memory ran out
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta["config"].__setitem__("n_envs", 6))
    with pytest.raises(ValueError, match=r"cannot be resumed to 5 episodes: its config's "
                                         r"n_envs must be <= episodes \(5\)"):
        resume(path, episodes=5)


@pytest.mark.parametrize("value", [3, [1, -1], {"obs_sign": [1, -1, -1]}])
def test_a_mirror_setting_that_is_not_a_mirror_is_named_by_resume(tmp_path, value):
    # was Python's "Mirror() argument after ** must be a mapping, not int" or
    # "Mirror.__init__() missing 1 required positional argument: 'action_sign'"
    path = tmp_path / "c.npz"
    train("Pendulum-v1", episodes=3, batch_episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta["config"].__setitem__("mirror", value))
    with pytest.raises(ValueError, match=r"its training state cannot be restored \(config "
                                         r"'mirror' must be null or a dict of obs_sign and "
                                         r"action_sign \(Mirror.to_dict\), got "):
        resume(path, episodes=6)


def test_a_checkpoint_edited_to_another_env_or_generator_is_refused_by_resume(tmp_path):
    path = tmp_path / "c.npz"
    train("CartPole-v1", episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta.__setitem__("env_id", "Acrobot-v1"))
    with pytest.raises(ValueError, match="observations of size 4, but this env's "
                                         "observations have size 6"):
        resume(path, episodes=5)
    train("CartPole-v1", episodes=3, seed=0, checkpoint_path=path)
    _edit_meta(path, lambda meta: meta["train_state"]["rng"]["state"].__setitem__(
        "state", -1))
    with pytest.raises(ValueError, match="metadata 'train_state' 'rng' must be the state "
                                         "of a PCG64 generator"):
        resume(path, episodes=5)
