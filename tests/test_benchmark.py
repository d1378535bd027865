"""The sample-efficiency benchmark's rows and summaries (its targets are not asserted)."""

import numpy as np
import pytest

from linear_pg.benchmark import benchmark_one, standard_error, summarize
from linear_pg.speed import sample_efficiency


def test_standard_error_is_sample_std_over_root_n():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert standard_error(x) == pytest.approx(np.std(x, ddof=1) / 2.0, rel=1e-15)
    assert np.isnan(standard_error(np.array([3.0])))


def test_pendulum_row_has_standard_error_and_a_check_on_other_starts():
    row = benchmark_one("Pendulum-v1", 0, episodes=2, eval_episodes=3, check_episodes=4)
    assert np.isfinite(row["value_se"]) and row["value_se"] > 0
    assert row["check_episodes"] == 4 and np.isfinite(row["check_value"])
    assert row["check_value"] != row["value"]      # other starts, not the same episodes


def test_check_evaluation_can_be_skipped():
    row = benchmark_one("Pendulum-v1", 0, episodes=2, eval_episodes=2, check_episodes=0)
    assert "check_value" not in row and "value_se" in row


def test_bad_check_episodes_is_a_clear_error():
    with pytest.raises(ValueError, match="check_episodes"):
        benchmark_one("Pendulum-v1", 0, episodes=1, eval_episodes=2, check_episodes=-1)


def _row(value, se, check=None):
    row = {"env_id": "Pendulum-v1", "metric": "eval_mean_return", "value": value,
           "value_se": se, "reached": value >= -160.0, "episodes": 500, "seconds": 1.0}
    if check is not None:
        row.update(check_value=check, check_episodes=1000)
    return row


def test_summary_reports_the_range_of_errors_and_the_check_values():
    rows = [_row(-150.0, 8.0, -148.0), _row(-165.0, 10.0, -152.0), _row(-140.0, 9.0, -146.0)]
    s, = summarize(rows)
    assert (s["reached"], s["target_met"]) == (2, False)
    assert (s["se_min"], s["se_max"]) == (8.0, 10.0)
    assert (s["check_median"], s["check_min"], s["check_max"]) == (-148.0, -152.0, -146.0)


def test_summary_without_check_values_has_no_check_keys():
    s, = summarize([_row(-150.0, 8.0), _row(-140.0, 9.0, -146.0)])
    assert "check_median" not in s and s["se_max"] == 9.0


def test_table_row_shows_the_evaluation_error():
    report = sample_efficiency(quick=True)
    pendulum = next(r for r in report["rows"] if "Pendulum-v1" in r["metric"])
    assert "standard error of each seed's mean" in pendulum["measured"]
    cartpole = next(r for r in report["rows"] if "CartPole-v1" in r["metric"])
    assert "standard error" not in cartpole["measured"]
