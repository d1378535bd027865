"""Checkpoints: exact round trip, atomic save, clear errors."""

import json

import numpy as np
import pytest

from linear_pg import checkpoint as ck
from linear_pg.checkpoint import load_checkpoint, load_run, save_checkpoint
from linear_pg.features import FeatureMap, RawFeatures
from linear_pg.policies import GaussianPolicy, SoftmaxPolicy
from linear_pg.resuming import resume
from linear_pg.trainer import train


@pytest.fixture(scope="module")
def run():
    return train("Pendulum-v1", episodes=4, seed=3, batch_episodes=2)


def test_round_trip_is_exact(run, tmp_path):
    p = save_checkpoint(run, tmp_path / "r.npz")
    back = load_run(p)
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)
    assert back.policy.get_config() == run.policy.get_config()
    assert back.config == run.config and back.env_id == run.env_id and back.seed == run.seed
    for k, v in run.history().items():
        np.testing.assert_array_equal(back.history()[k], v)
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(back.features.transform(X), run.features.transform(X))
    meta = load_checkpoint(p)["meta"]
    assert {"linear_pg", "numpy", "gymnasium"} <= set(meta["versions"])


def test_train_writes_checkpoint(tmp_path):
    p = tmp_path / "sub" / "c.npz"
    r = train("CartPole-v1", episodes=6, batch_episodes=2, checkpoint_path=str(p),
              checkpoint_every=1)
    np.testing.assert_array_equal(load_run(p).episode_returns, r.episode_returns)


def test_corrupted_file(tmp_path):
    p = tmp_path / "bad.npz"
    p.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="corrupted or not a linear_pg checkpoint"):
        load_run(p)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="lacks the 'meta' and 'theta'"):
        load_run(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load_run(tmp_path / "missing.npz")
    import pickle

    (tmp_path / "pickled.npz").write_bytes(pickle.dumps({"theta": [1.0]}))
    (tmp_path / "junk.npz").write_text("junk\n")
    for name in ("pickled.npz", "junk.npz"):
        with pytest.raises(ValueError, match="neither a .npz archive nor a .npy file") as err:
            load_run(tmp_path / name)
        assert "allow_pickle" not in str(err.value)      # no advice to load it unsafely


def test_mismatched_files(run, tmp_path):
    p = save_checkpoint(run, tmp_path / "r.npz")
    with pytest.raises(ValueError, match="is for env_id 'Pendulum-v1', expected 'CartPole-v1'"):
        load_run(p, env_id="CartPole-v1")
    with np.load(p) as d:
        arrays = dict(d)
    meta = json.loads(str(arrays["meta"]))
    arrays["theta"] = np.zeros(3)
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match=r"mismatched checkpoint .*'train_state/theta' must "
                                         r"have the shape of 'theta' \(3,\)"):
        load_run(tmp_path / "short.npz")
    del arrays["train_state/theta"], meta["train_state"]      # a file without a train state
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match="inconsistent"):
        load_run(tmp_path / "short.npz")
    meta["format_version"] = 99
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format_version 99"):
        load_run(tmp_path / "future.npz")


@pytest.mark.parametrize("failing", [(ck.np, "savez"), (ck.os, "fsync")])
def test_failed_save_keeps_previous_checkpoint(run, tmp_path, monkeypatch, failing):
    # the archive is built in memory (savez) and then written to a temporary file (fsync)
    p = save_checkpoint(run, tmp_path / "r.npz")
    before = p.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(*failing, boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(run, p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.npz"]   # no temp file left


def _resized_policy(run):
    run.policy = SoftmaxPolicy(run.policy.n_features, 3)     # theta no longer train_state's


@pytest.mark.parametrize("change, match", [
    (lambda r: setattr(r, "episode_returns", r.episode_returns[-3:]),
     r"history columns \['episode_returns', 'episode_lengths'\] must have equal lengths"),
    (lambda r: setattr(r, "features", RawFeatures().fit(np.zeros((2, 3)))),
     "the features give 4 columns, the policy expects 5"),
    (_resized_policy, r"'train_state/theta' must have the shape of 'theta' \(15,\)"),
    (lambda r: setattr(r, "seed", -1), "metadata 'seed' must be >= 0, got -1"),
    (lambda r: setattr(r, "seed", "3"), "metadata 'seed' must be an int, got str '3'"),
    (lambda r: setattr(r, "env_id", 5), "metadata 'env_id' must be a str, got int 5"),
    (lambda r: setattr(r, "stopped_reason", 3), "'stopped_reason' must be a str or null"),
    (lambda r: setattr(r, "config", [1]), "metadata 'config' must be a dict, got list"),
    (lambda r: setattr(r, "episode_lengths", np.zeros_like(r.episode_lengths)),
     "episode_lengths must be whole numbers of steps >= 1"),
    (lambda r: r.train_state.__setitem__("updates", 99),
     r"'train_state' must hold 'updates' \(an int, 4 or 5:"),
    (lambda r: setattr(r, "grad_norm", r.grad_norm.astype(object)),
     r"its entries \['history/grad_norm'\] are arrays of Python objects"),
], ids=["returns_cut", "features_misfit", "policy_resized", "seed_negative", "seed_str",
        "env_id_int", "stopped_reason_int", "config_list", "zero_lengths", "updates_99",
        "object_history"])
def test_a_run_that_would_not_load_is_not_saved(tmp_path, change, match):
    # each was saved, replacing the good checkpoint, and then refused by load_run
    from linear_pg.rundir import write_run

    path = tmp_path / "c.npz"
    run = train("CartPole-v1", episodes=5, seed=0, checkpoint_path=path)
    before = path.read_bytes()
    change(run)
    with pytest.raises(ValueError, match="run cannot be saved") as err:
        save_checkpoint(run, path)
    assert err.match(match)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]
    with pytest.raises(ValueError, match=match):
        write_run(run, tmp_path / "seed-0")          # refused before anything is written
    assert sorted(tmp_path.iterdir()) == [path]


def _rewrite(run, tmp_path, name, change):
    """Save ``run``, let ``change(arrays, meta)`` corrupt its entries, write it as ``name``."""
    p = save_checkpoint(run, tmp_path / "r.npz")
    with np.load(p) as d:
        arrays = dict(d)
    meta = json.loads(str(arrays["meta"]))
    change(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


def _drop(key):
    return lambda arrays, meta: meta.pop(key)


def _set_meta(key, value):
    return lambda arrays, meta: meta.__setitem__(key, value)


def _set_array(key, value):
    return lambda arrays, meta: arrays.__setitem__(key, value)


def _set_train_state(key, value):
    return lambda arrays, meta: meta["train_state"].__setitem__(key, value)


@pytest.mark.parametrize("change, match", [
    (_drop("env_id"), r"metadata lacks \['env_id'\]"),
    (_drop("seed"), r"metadata lacks \['seed'\]"),
    (_drop("config"), r"metadata lacks \['config'\]"),
    (_drop("stopped_reason"), r"metadata lacks \['stopped_reason'\]"),
    (_drop("policy_config"), r"metadata lacks \['policy_config'\]"),
    (_set_meta("policy_config", [1, 2]), "'policy_config' must be a dict, got list"),
    (_set_meta("config", "x"), "'config' must be a dict, got str"),
    (_set_meta("seed", -1), "'seed' must be >= 0"),
    (_set_meta("stopped_reason", 3), "'stopped_reason' must be a str or null"),
    (_set_meta("features_class", 3), "'features_class' must be a str, got 3"),
    (lambda arrays, meta: meta["features_config"].__setitem__("name", ["rbf"]),
     r"'features_config' must hold the feature map's 'name', a str, got \['rbf'\]"),
    (lambda arrays, meta: meta["features_config"].pop("name"),
     "'features_config' must hold the feature map's 'name', a str, got None"),
    (_set_array("history/episode_returns", np.zeros(7)), "must have equal lengths"),
    (_set_array("history/grad_norm", np.zeros(5)), "must have equal lengths"),
    (_set_array("history/episode_returns", np.array(["a", "b", "c", "d"])),
     "'history/episode_returns' must be a 1-D array of real numbers"),
    (_set_array("theta", np.zeros(10, dtype=complex)), "'theta' must be a 1-D array of real"),
    # the fixture's run: 4 episodes of 200 steps, updates after episodes 2 and 4
    (_set_array("history/episode_lengths", np.array([200, 0, 200, 200])),
     r"episode_lengths must be whole numbers of steps >= 1, got \[200, 0, 200, 200\]"),
    (_set_array("history/episode_lengths", np.array([200, 2.5, 200, 200])),
     "episode_lengths must be whole numbers"),
    (_set_array("history/episode_lengths", np.array([200, np.inf, 200, 200])),
     "episode_lengths must be whole numbers"),
    (_set_array("history/update_episodes", np.array([4, 2])),
     r"update_episodes must be whole numbers that increase from >= 1 to the number of "
     r"episodes \(4\), got \[4, 2\]"),
    (_set_array("history/update_episodes", np.array([2, 3])), "update_episodes must be"),
    (_set_array("history/update_episodes", np.array([0, 4])), "update_episodes must be"),
    (_set_array("history/update_episodes", np.array([2.0, np.nan])), "update_episodes must be"),
    (lambda arrays, meta: arrays.update({f"history/{k}": np.zeros(0) for k in (
        "update_episodes", "grad_norm", "entropy", "mean_std", "wall_time")}),
     r"update_episodes must be .* \(4\), got \[\] \(0 values\)"),
    # resume rewound the history to the 'updates' given and trained again, dropping the
    # saved episodes after it (the command line then saved the retrained run over them)
    (_set_train_state("updates", 0), r"'train_state' must hold 'updates' \(an int, 1 or 2:"),
    (_set_train_state("updates", True), r"'train_state' must hold 'updates' \(an int, 1 or 2"),
    # loaded, then resume failed with the policy's "theta must be finite, got NaN or inf"
    (lambda arrays, meta: arrays["train_state/theta"].__setitem__(1, np.nan),
     "'train_state/theta' must be finite, got nan"),
    # loaded: the mean return of the run, and of a resumed one, was NaN
    (_set_array("history/episode_returns", np.array([-900.0, np.nan, -800.0, -700.0])),
     r"history/episode_returns must not hold NaN .*, got \[-900, nan, -800, -700\]"),
])
def test_corrupted_or_mismatched_metadata_and_arrays(run, tmp_path, change, match):
    p = _rewrite(run, tmp_path, "bad.npz", change)
    with pytest.raises(ValueError, match="corrupted or mismatched checkpoint") as err:
        load_run(p)
    assert err.match(match)


def _set_rng(key, value):
    def change(arrays, meta):
        rng = meta["train_state"]["rng"]
        if key in rng["state"]:
            rng = rng["state"]
        if value is None:
            del rng[key]
        else:
            rng[key] = value
    return change


@pytest.mark.parametrize("change", [
    _set_rng("has_uint32", -1),           # these two loaded and resumed with other draws
    _set_rng("inc", 1.5),
    _set_rng("state", "x"),               # these failed in NumPy: "string indices must be
    _set_rng("has_uint32", None),         # integers, not 'str'", "'has_uint32'"
    _set_rng("bit_generator", "MT19937"),
], ids=["has_uint32_negative", "inc_float", "state_str", "has_uint32_missing", "mt19937"])
def test_a_generator_state_numpy_would_not_give_back_is_refused(run, tmp_path, change):
    p = _rewrite(run, tmp_path, "bad.npz", change)
    with pytest.raises(ValueError, match="corrupted or mismatched checkpoint .*: metadata "
                                         "'train_state' 'rng' must be the state of a PCG64 "
                                         "generator"):
        load_run(p)


def _set_policy_config(key, value):
    return lambda arrays, meta: meta["policy_config"].__setitem__(key, value)


@pytest.mark.parametrize("change, match", [
    (_set_policy_config("log_std_bounds", None), "log_std_bounds must be a pair of floats"),
    (_set_array("features/centers_", np.zeros(5)),
     r"feature state 'centers_' of 'pendulum' must be an array of real numbers of shape \(k, 2\)"),
    (_set_array("features/periodic_", np.zeros((2, 2), dtype=bool)),
     r"feature state 'periodic_' of 'pendulum' must be an array of integers of shape \(2,\)"),
    (_set_array("features/bandwidth_", np.full(4, np.nan)),
     "feature state 'bandwidth_' of 'pendulum' holds non-finite values"),
    (_set_array("features/n_features_in_", np.array(0)),
     "feature state 'n_features_in_' of 'pendulum' must be an integer >= 1"),
])
def test_inconsistent_entries_are_a_clear_error(run, tmp_path, change, match):
    # each passes the checks of the file's layout, but cannot rebuild the policy or features
    p = _rewrite(run, tmp_path, "bad.npz", change)
    with pytest.raises(ValueError, match="is inconsistent") as err:
        load_run(p)
    assert err.match(match)


@pytest.mark.parametrize("entries, match", [
    ({"features/mean_": np.zeros(1), "features/scale_": np.ones(1)},
     r"feature state 'mean_' of 'standard' must be an array of real numbers of shape \(4,\)"),
    ({"features/scale_": np.zeros(4)}, "feature state 'scale_' of 'standard' must be > 0"),
], ids=["size_1", "scale_0"])
def test_a_feature_state_that_does_not_fit_is_refused_by_load_run(tmp_path, entries, match):
    # both loaded: mean_ and scale_ of size 1 broadcast, and a scale_ of 0 gave inf features
    run = train("CartPole-v1", episodes=2, seed=0, features="standard")
    p = _rewrite(run, tmp_path, "bad.npz", lambda arrays, meta: arrays.update(entries))
    with pytest.raises(ValueError, match="is inconsistent: its features_config and features/ "
                                         "entries do not rebuild a StandardFeatures") as err:
        load_run(p)
    assert err.match(match)


def test_resume_needs_the_settings_training_goes_on_with(run, tmp_path):
    from linear_pg import resume

    p = _rewrite(run, tmp_path, "bad.npz", _set_meta("config", {"episodes": 10}))
    with pytest.raises(ValueError, match=r"its config lacks the settings \['batch_episodes', "):
        resume(p)


def test_save_checkpoint_checks_its_arguments(run, tmp_path):
    with pytest.raises(TypeError, match="run must be a linear_pg Run .*, got str"):
        save_checkpoint("run", tmp_path / "a.npz")
    with pytest.raises(TypeError, match="path must be a str or a path, got int"):
        save_checkpoint(run, 3)


def test_bad_arguments_are_named_not_raw_errors(run, tmp_path):
    # were AttributeError 'n_features_in_', IsADirectoryError, FileExistsError from mkdir,
    # pathlib's "expected str, bytes or os.PathLike object", and "expected 5"
    from dataclasses import replace

    with pytest.raises(ValueError, match="run.features must be fitted, got an unfitted "
                                         "RawFeatures"):
        save_checkpoint(replace(run, features=RawFeatures()), tmp_path / "a.npz")
    with pytest.raises(TypeError, match="run.policy must be a LinearPolicy .*, got str"):
        save_checkpoint(replace(run, policy="softmax"), tmp_path / "a.npz")
    with pytest.raises(ValueError, match=r"path must be a file path, got '.*', which is a "
                                         r"directory \(e.g. '.*checkpoint.npz'\)"):
        save_checkpoint(run, tmp_path)
    assert list(tmp_path.iterdir()) == []
    p = save_checkpoint(run, tmp_path / "r.npz")
    with pytest.raises(ValueError, match=r"path '.*r.npz/c.npz' cannot be created: '.*r.npz' "
                                         r"is an existing file, not a directory"):
        save_checkpoint(run, p / "c.npz")
    for load in (load_run, load_checkpoint):
        with pytest.raises(TypeError, match="path must be a str or a path, got NoneType"):
            load(None)
    with pytest.raises(TypeError, match="env_id must be a str such as 'CartPole-v1', or None, "
                                        "got int"):
        load_run(p, env_id=5)


def test_a_npy_file_is_not_a_checkpoint(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"corrupted or not a linear_pg checkpoint.*\.npy"):
        load_run(tmp_path / "a.npy")


def test_checkpoint_gets_the_mode_of_a_new_file(run, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        p = save_checkpoint(run, tmp_path / "r.npz")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_runs_that_stopped_early_still_load(tmp_path):
    import warnings

    from linear_pg.run import Run

    def interrupt(run):
        raise KeyboardInterrupt

    first = train("CartPole-v1", episodes=5, seed=0, callback=interrupt)
    empty = Run(env_id="CartPole-v1", seed=0, config=first.config, policy=first.policy,
                features=first.features, stopped_reason="interrupted")   # no update yet
    assert load_run(save_checkpoint(empty, tmp_path / "e.npz")).n_episodes == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diverged = train("CartPole-v1", episodes=40, seed=0, optimizer="sgd", lr=1e305,
                         batch_episodes=2, normalize_weights=False)
    back = load_run(save_checkpoint(diverged, tmp_path / "d.npz"))
    assert back.stopped_reason.startswith("diverged")
    np.testing.assert_array_equal(back.update_episodes, diverged.update_episodes)


@pytest.mark.parametrize("init", [9.0, 2.0])
def test_a_gaussian_policy_saved_with_init_log_std_beyond_its_bounds_still_loads(run, tmp_path,
                                                                                 init):
    # written before GaussianPolicy required init_log_std within log_std_bounds (9.0), or
    # strictly inside them for a learned log sigma (2.0, the upper bound)
    def old_init(arrays, meta):
        meta["policy_config"]["init_log_std"] = [init]
    p = _rewrite(run, tmp_path, "old.npz", old_init)
    back = load_run(p)
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)
    X = np.random.default_rng(0).normal(size=(4, run.policy.n_features))
    np.testing.assert_array_equal(back.policy.std(X), run.policy.std(X))


def test_a_fixed_sigma_set_by_the_user_is_trained_and_saved(tmp_path):
    pi = GaussianPolicy(4, 1, log_std_mode="fixed")
    pi.log_std[...] = -2.0
    r = train("Pendulum-v1", episodes=2, policy=pi, features="raw", optimizer="adam", lr=0.01,
              mirror=False, checkpoint_path=str(tmp_path / "c.npz"))
    np.testing.assert_allclose(r.mean_std, np.exp([-2.0]), rtol=1e-15)
    back = load_run(tmp_path / "c.npz")
    X = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_array_equal(back.policy.std(X), np.full((3, 1), np.exp(-2.0)))


# ------------------------------------------------------------- classes of your own
class Doubled(RawFeatures):
    """A subclass that keeps its parent's name "raw" but computes other features."""

    def _transform(self, obs):
        return 2.0 * super()._transform(obs)


class Squares(FeatureMap):
    """A map of its own, whose _fit leaves n_features_out_ to FeatureMap.fit."""

    name = "squares"

    def _fit(self, obs):
        pass

    def _transform(self, obs):
        return np.hstack([obs, obs**2, np.ones((obs.shape[0], 1))])


class Forgetful(FeatureMap):
    """A map whose _fit learns mu_ but does not list it in _state_keys."""

    name = "forgetful"

    def _fit(self, obs):
        self.mu_ = obs.mean(axis=0)

    def _transform(self, obs):
        return np.hstack([obs - self.mu_, np.ones((obs.shape[0], 1))])


class Remembers(Forgetful):
    name = "remembers"
    _state_keys = ("mu_",)


def test_a_map_that_would_not_load_back_is_refused_before_saving(tmp_path):
    path = tmp_path / "c.npz"
    with pytest.raises(ValueError, match=r"Forgetful cannot be saved: .* AttributeError: "
                       r".*'mu_'; list every attribute that _fit learns in _state_keys"):
        train("CartPole-v1", episodes=2, features=Forgetful(), checkpoint_path=str(path))
    assert not path.exists()                           # refused before the first episode
    run = train("CartPole-v1", episodes=2, features=Remembers(), checkpoint_path=str(path))
    before = path.read_bytes()
    run.features = Forgetful().fit(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Forgetful cannot be saved"):
        save_checkpoint(run, path)
    assert path.read_bytes() == before                 # the saved run is kept
    run = train("CartPole-v1", episodes=2, features=Remembers())
    save_checkpoint(run, tmp_path / "d.npz")
    back = load_run(tmp_path / "d.npz", classes=[Remembers])
    X = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_array_equal(back.features.transform(X), run.features.transform(X))


def test_a_map_whose_features_do_not_have_its_declared_size_is_refused_by_fit():
    class Miscounted(FeatureMap):
        name = "miscounted"

        def _fit(self, obs):
            self.n_features_out_ = 3

        def _transform(self, obs):
            return np.hstack([obs, np.ones((obs.shape[0], 1))])

    with pytest.raises(ValueError, match=r"Miscounted._transform must return an array of "
                       r"shape \(T, n_features_out_\) = \(1, 3\) for one observation, got "
                       r"shape \(1, 5\)"):
        Miscounted().fit(np.zeros((2, 4)))


class Tempered(SoftmaxPolicy):
    """A policy subclass (kind "softmax")."""


def test_a_map_that_keeps_its_parents_name_does_not_load_as_the_parent(tmp_path):
    run = train("CartPole-v1", episodes=2, features=Doubled(), checkpoint_path=tmp_path / "d.npz")
    with pytest.raises(ValueError, match=r"saved with features of class "
                       r"'test_checkpoint\.Doubled', which is not linear_pg's own: pass "
                       r"classes=\[Doubled\] to load_run or resume"):
        load_run(tmp_path / "d.npz")
    with pytest.raises(ValueError, match=r"pass classes=\[Doubled\] to load_run or resume"):
        resume(tmp_path / "d.npz", episodes=4)          # it said load_run only
    back = load_run(tmp_path / "d.npz", classes=[Doubled])
    X = np.ones((3, 4))
    assert type(back.features) is Doubled
    np.testing.assert_array_equal(back.features.transform(X), run.features.transform(X))


def test_own_map_and_policy_round_trip_with_their_classes(tmp_path):
    p = tmp_path / "own.npz"
    run = train("CartPole-v1", episodes=2, features=Squares(), policy=Tempered(9, 2),
                checkpoint_path=p)
    with pytest.raises(ValueError, match="saved with policy of class .*Tempered"):
        load_run(p, classes=[Squares])
    with pytest.raises(ValueError, match="saved with features of class .*Squares"):
        load_run(p, classes=[Tempered])

    class Squares2(Squares):                   # another class: neither module nor name match
        pass

    with pytest.raises(ValueError, match="classes=\\[Squares\\]"):
        load_run(p, classes=[Squares2, Tempered])
    back = load_run(p, classes=(Tempered, Squares))
    assert type(back.policy) is Tempered and type(back.features) is Squares
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)
    X = np.ones((2, 4))
    np.testing.assert_array_equal(back.features.transform(X), run.features.transform(X))


def test_a_class_is_also_found_by_its_name_alone(tmp_path):
    p = save_checkpoint(train("CartPole-v1", episodes=2, features=Squares()), tmp_path / "s.npz")

    def elsewhere():
        class Squares(FeatureMap):           # the same map, defined in another place
            name = "squares"
            _fit = globals()["Squares"]._fit
            _transform = globals()["Squares"]._transform
        return Squares

    cls = elsewhere()
    assert type(load_run(p, classes=[cls]).features) is cls

    policy_named_squares = type("Squares", (SoftmaxPolicy,), {})   # not a feature map
    with pytest.raises(ValueError, match="saved with features of class .*Squares"):
        load_run(p, classes=[policy_named_squares])


def test_checkpoints_without_recorded_classes_load_as_linear_pgs_own(run, tmp_path):
    def before(arrays, meta):
        del meta["policy_class"], meta["features_class"]
    back = load_run(_rewrite(run, tmp_path, "old.npz", before))
    assert type(back.features).__name__ == "PendulumFeatures"
    np.testing.assert_array_equal(back.policy.theta, run.policy.theta)


@pytest.mark.parametrize("classes, match", [
    (Doubled, "classes must be a list of classes, got"),
    ([Doubled, "Squares"], "classes must hold FeatureMap or LinearPolicy subclasses, got"),
    ([int], "classes must hold FeatureMap or LinearPolicy subclasses"),
])
def test_classes_must_be_feature_map_or_policy_classes(run, tmp_path, classes, match):
    p = save_checkpoint(run, tmp_path / "r.npz")
    with pytest.raises(TypeError, match=match):
        load_run(p, classes=classes)


class Sines(FeatureMap):
    """A map with a function among its settings, which JSON cannot store."""

    name = "sines"

    def __init__(self, fn=np.sin):
        self.fn = fn

    def _fit(self, obs):
        pass

    def _transform(self, obs):
        return np.hstack([self.fn(obs), np.ones((obs.shape[0], 1))])


UNSTORABLE = r"\['fn'\] = <ufunc 'sin'> \(ufunc\) cannot be saved: checkpoints and config.json"


def test_settings_json_cannot_store_are_refused_before_training(tmp_path):
    def no_update(run):
        raise AssertionError("trained although the checkpoint cannot be saved")

    with pytest.raises(ValueError, match=UNSTORABLE):
        train("CartPole-v1", episodes=30, features=Sines(), callback=no_update,
              checkpoint_path=tmp_path / "c.npz")
    assert list(tmp_path.iterdir()) == []
    run = train("CartPole-v1", episodes=2, features=Sines())     # without checkpoints: fine
    assert run.n_episodes == 2


def test_saving_such_a_run_keeps_what_was_there(tmp_path):
    from linear_pg.rundir import write_run

    run = train("CartPole-v1", episodes=2, features=Sines())
    old = save_checkpoint(train("CartPole-v1", episodes=2), tmp_path / "c.npz").read_bytes()
    with pytest.raises(ValueError, match=UNSTORABLE):
        save_checkpoint(run, tmp_path / "c.npz")
    assert (tmp_path / "c.npz").read_bytes() == old
    with pytest.raises(ValueError, match=UNSTORABLE):
        write_run(run, tmp_path / "seed-0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


class Ranged(FeatureMap):
    """A valid map that refuses observations far outside the range it was fitted on, and
    restores its feature count without transforming anything."""

    name = "ranged"
    _state_keys = ("lo_", "hi_")

    def _fit(self, obs):
        self.lo_, self.hi_ = obs.min(axis=0) - 1.0, obs.max(axis=0) + 1.0

    def _transform(self, obs):
        if np.any(obs < self.lo_ - 10) or np.any(obs > self.hi_ + 10):
            raise ValueError("observation outside the fitted range")
        return np.hstack([(obs - self.lo_) / (self.hi_ - self.lo_), np.ones((len(obs), 1))])

    def _restore(self):
        self.n_features_out_ = self.lo_.size + 1


def test_a_map_that_refuses_the_probe_observations_is_still_saved(tmp_path):
    # the check's probes (zeros, ones, a random row) may lie outside what a map accepts;
    # it was refused although it loads back
    phi = Ranged().fit(np.array([[100.0, 200.0], [101.0, 203.0]]))
    with pytest.raises(ValueError):
        phi.transform(np.zeros((1, 2)))
    phi.check_restorable()


def test_a_directory_given_as_a_checkpoint_is_told_what_it_holds(tmp_path):
    # was "corrupted or not a linear_pg checkpoint: [Errno 21] Is a directory"
    from linear_pg.rundir import write_run

    write_run(train("CartPole-v1", episodes=2, seed=0), tmp_path / "runs" / "seed-0")
    with pytest.raises(ValueError, match=r"is a directory, not a checkpoint file; it holds "
                                         r".*seed-0/checkpoint.npz; load_run also takes a "
                                         r"seed directory"):
        load_run(tmp_path / "runs")


def test_a_directory_given_as_a_checkpoint_is_searched_two_levels_deep(tmp_path):
    # load_run("/") globbed the whole disk for checkpoint.npz
    from linear_pg.rundir import write_run

    write_run(train("CartPole-v1", episodes=2, seed=0), tmp_path / "a" / "b" / "seed-0")
    with pytest.raises(ValueError, match="is a directory, not a checkpoint file; "
                                         "load_run also takes a seed directory"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match="it holds .*b/seed-0/checkpoint.npz"):
        load_run(tmp_path / "a" / "b")


def test_config_json_records_the_versions_that_wrote_it(tmp_path):
    # a checkpoint recorded them; config.json, read by people and by train_kwargs, did not
    import json

    import gymnasium

    from linear_pg import __version__
    from linear_pg.rundir import write_run

    write_run(train("CartPole-v1", episodes=2, seed=0), tmp_path / "seed-0")
    written = json.loads((tmp_path / "seed-0" / "config.json").read_text())
    assert written["versions"] == {"linear_pg": __version__, "numpy": np.__version__,
                                   "gymnasium": gymnasium.__version__}


def test_load_run_takes_a_seed_directory(tmp_path):
    # a newcomer's load_run("runs/x/seed-0") was "a directory, not a checkpoint file"
    from linear_pg.rundir import write_run

    run = train("CartPole-v1", episodes=3, seed=0)
    write_run(run, tmp_path / "seed-0")
    np.testing.assert_array_equal(load_run(tmp_path / "seed-0").policy.theta,
                                  run.policy.theta)


def test_any_damage_to_the_archive_is_a_clear_error(tmp_path):
    # a zip flag bit or a broken .npy header escaped as NotImplementedError or
    # tokenize.TokenError; an object array was called "neither a .npz archive nor .npy"
    path = tmp_path / "c.npz"
    save_checkpoint(train("CartPole-v1", episodes=2, seed=0), path)
    src = path.read_bytes()
    flag = bytearray(src)
    flag[src.find(b"PK\x01\x02") + 8] |= 0x20
    header = bytearray(src)
    at = src.find(b"'shape': (", src.find(b"{'descr'")) + 10
    header[at] = ord("[")
    for damaged in (flag, header):
        (tmp_path / "d.npz").write_bytes(bytes(damaged))
        with pytest.raises(ValueError, match="is corrupted or not a linear_pg checkpoint"):
            load_run(tmp_path / "d.npz")
    np.savez(tmp_path / "o.npz", meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="an entry holds Python objects"):
        load_run(tmp_path / "o.npz")


def test_every_refusal_of_a_checkpoint_is_a_checkpoint_error(run, tmp_path):
    # some refusals were plain ValueErrors: a caller catching CheckpointError missed them
    good = save_checkpoint(run, tmp_path / "good.npz")
    arrays = dict(np.load(good))
    meta = json.loads(str(arrays["meta"]))

    def variant(name, **changes):
        path = tmp_path / name
        np.savez(path, **{**arrays, **changes})
        return path

    cases = {
        "garbage": (tmp_path / "garbage.npz", {}),
        "directory": (tmp_path, {}),
        "no meta": (variant("no_meta.npz", meta=np.array("{")), {}),
        "format": (variant("format.npz", meta=np.array(json.dumps({**meta, "format": "x"}))),
                   {}),
        "version": (variant("version.npz",
                            meta=np.array(json.dumps({**meta, "format_version": 99}))), {}),
        "env": (good, {"env_id": "CartPole-v1"}),         # the run is Pendulum's
    }
    (tmp_path / "garbage.npz").write_bytes(b"not a checkpoint")
    for name, (path, kwargs) in cases.items():
        with pytest.raises(ck.CheckpointError, match="checkpoint") as info:
            load_run(path, **kwargs)
        assert str(path) in str(info.value), name


def test_checkpoint_error_is_exported_from_the_package(tmp_path):
    # a caller catching load refusals should not need to know the submodule
    import linear_pg

    assert linear_pg.CheckpointError is ck.CheckpointError
    assert "CheckpointError" in linear_pg.__all__
    (tmp_path / "garbage.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(linear_pg.CheckpointError):
        load_run(tmp_path / "garbage.npz")
