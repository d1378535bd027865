"""Checkpoints: exact round trip, atomic save, clear errors."""

import json

import numpy as np
import pytest

from linear_pg import checkpoint as ck
from linear_pg.checkpoint import load_checkpoint, load_run, save_checkpoint
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


def test_mismatched_files(run, tmp_path):
    p = save_checkpoint(run, tmp_path / "r.npz")
    with pytest.raises(ValueError, match="is for env_id 'Pendulum-v1', expected 'CartPole-v1'"):
        load_run(p, env_id="CartPole-v1")
    with np.load(p) as d:
        arrays = dict(d)
    arrays["theta"] = np.zeros(3)
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match="inconsistent"):
        load_run(tmp_path / "short.npz")
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = 99
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format_version 99"):
        load_run(tmp_path / "future.npz")


def test_failed_save_keeps_previous_checkpoint(run, tmp_path, monkeypatch):
    p = save_checkpoint(run, tmp_path / "r.npz")
    before = p.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ck.np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(run, p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.npz"]   # no temp file left
