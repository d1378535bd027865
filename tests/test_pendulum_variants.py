"""scripts/pendulum_variants.py: paired comparisons of Pendulum training variants."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def variants(load_script):
    return load_script("pendulum_variants")


def test_seed_range(variants):
    assert variants.seed_range("0-9") == list(range(10))
    assert variants.seed_range("12") == [12]


def test_the_same_variant_scores_the_same_and_another_differs(variants):
    """Training is seeded and every policy meets the same starts: a variant run twice under
    two names gets identical scores, so a difference between variants is the training's."""
    table = variants.compare({"preset": {}, "again": {}, "kl": {"lr": 0.2}}, [0, 1],
                             episodes=6, eval_episodes=8, n_envs=4, jobs=1)
    assert table.shape == (3, 2)
    np.testing.assert_array_equal(table[0], table[1])
    assert not np.array_equal(table[0], table[2])
    lines = variants.table_rows(["preset", "again", "kl"], table)
    assert "+0.0 +- 0.0" in lines[2]
    diff = table[2] - table[0]
    assert f"{diff.mean():+.1f} +- {diff.std(ddof=1) / np.sqrt(2):.1f}" in lines[3]
    assert lines[3].split()[1] == f"{table[2].mean():.1f}"


def test_a_shrinking_sigma_goes_from_start_to_end(variants):
    from linear_pg import train

    kwargs = variants.shrinking_sigma(0.5, -1.0, 6)
    run = train("Pendulum-v1", episodes=6, batch_episodes=3, seed=0, **kwargs)
    assert run.policy.log_std_mode == "fixed"
    np.testing.assert_allclose(run.mean_std, np.exp([0.5, -0.25]))    # sigma of each batch
    np.testing.assert_allclose(run.policy.log_std, [-1.0])            # after the last update


def test_theta_average_is_the_mean_of_the_averaged_updates(variants):
    from linear_pg import train

    average = variants.ThetaAverage(0.5, 12)
    seen = []
    run = train("Pendulum-v1", episodes=12, batch_episodes=3, seed=0,
                callback=lambda r: (average(r), seen.append(r.policy.theta.copy())))
    # four updates, after 3, 6, 9 and 12 episodes: only the last two are past half-way
    assert average.count == 2
    np.testing.assert_allclose(average.mean(), (seen[2] + seen[3]) / 2, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(seen[3], run.policy.theta)
    with pytest.raises(ValueError, match="theta_average"):
        variants.ThetaAverage(0.0, 12)
    with pytest.raises(ValueError, match="no update"):
        variants.ThetaAverage(0.5, 12).mean()


def test_theta_average_is_a_variant_key(variants):
    table = variants.compare({"last": {}, "avg": {"theta_average": 1.0}}, [0], episodes=6,
                             eval_episodes=4, n_envs=2, jobs=1)
    assert np.all(np.isfinite(table)) and table[0, 0] != table[1, 0]


def test_theta_average_refuses_a_second_callback(variants):
    with pytest.raises(ValueError, match="cannot be combined"):
        variants.score({"theta_average": 0.5, "log_std_schedule": [0.5, 0.0]}, 0, 6, 4, 2)
