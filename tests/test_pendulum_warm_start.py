"""scripts/pendulum_warm_start.py: the fit is a ridge fit on the preset's bumps, and it works."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def warm_start(load_script):
    return load_script("pendulum_warm_start")


def test_fit_recovers_a_policy_the_bumps_can_represent(warm_start):
    features = warm_start.preset_features()
    rng = np.random.default_rng(0)
    states = np.stack([rng.uniform(-np.pi, np.pi, 4000), rng.uniform(-8, 8, 4000)], axis=1)
    X = features.transform(warm_start.observations(states[:, 0], states[:, 1]))
    W_true = rng.normal(size=X.shape[1])
    policy = warm_start.fit_policy(features, states, X @ W_true / 4.0, ridge=1e-10)
    np.testing.assert_allclose(policy.W[:, 0], W_true, rtol=1e-5, atol=1e-5)
    assert policy.log_std == pytest.approx(
        warm_start.PRESET["policy_kwargs"]["init_log_std"])


def test_fit_of_a_coarse_dp_controller_swings_up_and_training_keeps_it(warm_start):
    opt = warm_start.load_optimum()
    grid = opt.Grid(61, 41)
    torques = np.linspace(-2.0, 2.0, 21)
    V_100 = opt.cost_to_go(grid, torques)[opt.HORIZON // 2]

    def controller(th, v):
        return opt.greedy_torque(grid, V_100, torques, th, v)

    states = warm_start.fit_states(opt, controller, 200, 5000, np.random.default_rng(0))
    features = warm_start.preset_features()
    warm = warm_start.fit_policy(features, states, controller(states[:, 0], states[:, 1]))
    assert warm_start.mean_return(warm, features, 20, seed=5) > -250   # zero policy: ~-1200
    r = warm_start.train_both(0, warm, features, episodes=6, eval_episodes=20, eval_seed=5)
    assert r.from_zero < -600 and r.from_fit > -250
    assert r.torque_from_fit == pytest.approx(warm_start.probe_torque(warm, features), abs=1.0)
    assert len(r.line) == len(warm_start.LINE) and r.line[-1] > r.from_zero   # 3/4: better
    sampled = r.line_sampled
    assert len(sampled) == len(warm_start.LINE) + 2 and sampled[-1] > sampled[0]
    initial_sigma = np.exp(warm_start.PRESET["policy_kwargs"]["init_log_std"])
    assert r.sigma_from_zero == pytest.approx(initial_sigma, rel=0.2)   # after 6 episodes
    assert len(r.regions) == len(warm_start.REGIONS)


def test_between_interpolates_the_mean_weights_only(warm_start):
    start = warm_start.GaussianPolicy(4, 1, init_log_std=0.3)
    end = warm_start.GaussianPolicy(4, 1, init_log_std=-1.0)
    start.W, end.W = np.ones((4, 1)), np.arange(4.0)[:, None]
    mid = warm_start.between(start, end, 0.25)
    np.testing.assert_allclose(mid.W[:, 0], 0.75 + 0.25 * np.arange(4.0))
    assert mid.log_std == pytest.approx(0.3) and start.W[0, 0] == 1.0    # start unchanged
    rows = warm_start.between(start, end, np.array([0.0, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(rows.W[:, 0], [1.0, 1.0, 1.0, 3.0])


def test_regions_split_the_bumps_and_leave_the_bias(warm_start):
    features = warm_start.preset_features()
    masks = [warm_start.region_mask(features, *b) for b in warm_start.REGIONS.values()]
    np.testing.assert_array_equal(np.sum(masks, axis=0),
                                  np.append(np.ones(features.n_features_out_ - 1), 0.0))
    assert all(0 < m.sum() < features.n_features_out_ - 1 for m in masks)


def test_probe_torque_is_the_mean_at_the_probe_state(warm_start):
    features = warm_start.preset_features()
    policy = warm_start.GaussianPolicy(features.n_features_out_, 1)
    policy.W = np.arange(features.n_features_out_, dtype=float)[:, None]
    x = features.transform([[np.cos(1.0), np.sin(1.0), 0.0]])[0]
    assert warm_start.probe_torque(policy, features) == pytest.approx(x @ policy.W[:, 0])


def test_main_prints_one_row_per_seed(warm_start, capsys):
    assert warm_start.main(["--seeds", "2", "--jobs", "1", "--n-theta", "31",
                            "--n-velocity", "21", "--n-torques", "11", "--episodes", "3",
                            "--eval-episodes", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("least-squares fit") and "132 bumps" in lines[0]
    rows = [line.split() for line in lines[3:6]]
    assert [r[0] for r in rows] == ["0", "1", "mean"]
    assert [len(r) for r in rows] == [5, 5, 3]
    assert lines[6].startswith("mean action on the straight line")
    line_rows = [line.split() for line in lines[8:10]]
    assert [r[0] for r in line_rows] == ["0", "1"]
    assert [len(r) for r in line_rows] == [len(warm_start.LINE) + 3] * 2
    assert line_rows[0][1] == rows[0][1] and line_rows[1][-1] == line_rows[0][-1]
    assert lines[10].startswith("the same line with actions sampled at the sigma")
    sampled_rows = [line.split() for line in lines[12:14]]
    assert [r[0] for r in sampled_rows] == ["0", "1"]
    assert [len(r) for r in sampled_rows] == [len(warm_start.LINE) + 4] * 2
    assert lines[14].startswith("the policy trained from zero with only the bumps")
    assert [len(line.split()) for line in lines[16:]] == [4, 4]
