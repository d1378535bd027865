"""scripts/generic_step_sizes.py: the sweep behind default_preset's step sizes."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sizes(load_script):
    return load_script("generic_step_sizes")


def test_mean_ranks_share_ties_and_average_over_envs(sizes):
    results = {"a": np.array([[1.0, 3.0], [5.0, 5.0], [0.0, 0.0]]),   # means 2, 5, 0
               "b": np.array([[7.0], [7.0], [1.0]])}                   # a tie for first
    np.testing.assert_array_equal(sizes.mean_ranks(results), [1.75, 1.25, 3.0])
    rows = sizes.table_rows([0.01, 0.02, 0.1], results)
    assert rows[0] == "| env | lr 0.01 | lr 0.02 | lr 0.1 |"
    assert rows[2] == "| a | 2.00 | 5.00 | 0.00 |"
    assert rows[-1] == "| mean rank | 1.75 | 1.25 | 3.00 |"


def test_a_rate_run_twice_scores_the_same_and_each_env_gets_its_own_table(sizes):
    envs = {"CartPole-v1": {}, "FrozenLake-v1": {"is_slippery": False}}
    results = sizes.sweep("adam", [0.02, 0.02, 0.5], [0, 1], envs=envs, episodes=4, jobs=1)
    assert list(results) == list(envs) and results["CartPole-v1"].shape == (3, 2)
    table = results["CartPole-v1"]
    np.testing.assert_array_equal(table[0], table[1])
    expected = sizes.score("CartPole-v1", {}, "adam", 0.5, 1, 4)
    assert table[2, 1] == expected
    assert set(np.unique(results["FrozenLake-v1"])) <= {0.0, 0.25, 0.5, 0.75, 1.0}
