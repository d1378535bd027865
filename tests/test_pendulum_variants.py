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
