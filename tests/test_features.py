"""Feature maps: shapes, bias column, periodic angles, state round trip."""

import numpy as np
import pytest

from linear_pg.features import (
    PendulumFeatures,
    PolyFeatures,
    RandomRBFFeatures,
    RawFeatures,
    RBFFeatures,
    StandardFeatures,
    features_from_state,
    make_features,
)

OBS = np.random.default_rng(0).normal(size=(50, 3))
PRESET_GRID = {"n_centers": [12, 11], "angle_pairs": [[0, 1]], "low": [-8.0], "high": [8.0],
               "width": 0.8}


@pytest.mark.parametrize("phi", [RawFeatures(), RawFeatures(scale=[2.0, 0.5, 0.1]),
                                 StandardFeatures(), PolyFeatures(2),
                                 RandomRBFFeatures(n_components=20),
                                 RBFFeatures(n_centers=3), PendulumFeatures(n_centers=3)])
def test_shape_bias_and_state_round_trip(phi):
    X = phi.fit(OBS).transform(OBS)
    assert X.shape == (50, phi.n_features_out_)
    # the bias: last (poly: first; pendulum: before its energy term)
    assert np.all(X[:, -1] == 1.0) or np.all(X[:, 0] == 1.0) or np.all(X[:, -2] == 1.0)
    clone = features_from_state(phi.get_config(), phi.get_state())
    np.testing.assert_array_equal(clone.transform(OBS), X)


@pytest.mark.parametrize("phi", [RawFeatures(), RawFeatures(scale=[2.0, 0.5, 0.1]),
                                 StandardFeatures(), PolyFeatures(2),
                                 RandomRBFFeatures(n_components=20),
                                 RBFFeatures(n_centers=3), PendulumFeatures(n_centers=3)])
def test_one_row_transform_is_a_row_of_the_batch(phi):
    # the rollout's per-step call, on the float32 observations environments return
    X = phi.fit(OBS).transform(OBS.astype(np.float32))
    for t in range(5):
        np.testing.assert_allclose(phi._transform_one(OBS[t].astype(np.float32)), X[t],
                                   rtol=1e-12, atol=1e-12)


ANGLES = np.random.default_rng(1).uniform(-np.pi, np.pi, size=50)
PENDULUM_OBS = np.column_stack([np.cos(ANGLES), np.sin(ANGLES), OBS[:, 0]])   # (cos, sin, w)


def _pendulum_rbf():
    return RBFFeatures(n_centers=3, angle_pairs=[(0, 1)])


@pytest.mark.parametrize("phi, key, value, match", [
    (StandardFeatures(), "mean_", np.zeros(1),
     r"'mean_' of 'standard' must be an array of real numbers of shape \(3,\) "
     r"\(n_features_in_ = 3\), got array of shape \(1,\)"),
    (StandardFeatures(), "scale_", np.ones(1), r"'scale_' of 'standard' .* shape \(3,\)"),
    (StandardFeatures(), "scale_", np.zeros(3), "'scale_' of 'standard' must be > 0, got 0.0 "
                                                "at index 0"),
    (StandardFeatures(), "scale_", np.array([1.0, -2.0, 1.0]), "must be > 0, got -2.0 at "
                                                               "index 1"),
    (StandardFeatures(), "mean_", np.array(["a", "b", "c"]), "must be an array of real"),
    (RandomRBFFeatures(n_components=5), "scale_", np.zeros(3),
     "'scale_' of 'random_rbf' must be > 0"),
    (RandomRBFFeatures(n_components=5), "mean_", np.zeros((3, 1)), r"shape \(3,\)"),
    (RandomRBFFeatures(n_components=5), "weights_", np.zeros((2, 5)),
     r"'weights_' of 'random_rbf' must be .* of shape \(3, k\)"),
    (RandomRBFFeatures(n_components=5), "weights_", np.zeros((3, 0)), r"shape \(3, k\)"),
    (RandomRBFFeatures(n_components=5), "offset_", np.zeros(4),
     r"'offset_' of 'random_rbf' .* shape \(5,\)"),
    (_pendulum_rbf(), "centers_", np.zeros(5), r"'centers_' of 'rbf' .* shape \(k, 2\)"),
    (_pendulum_rbf(), "bandwidth_", np.zeros(2), "'bandwidth_' of 'rbf' must be > 0"),
    (_pendulum_rbf(), "periodic_", np.array([0, 1]), r"must be 1 for the 1 angle\(s\), which "
                                                     r"come first, and 0 for the other"),
    (_pendulum_rbf(), "periodic_", np.ones((2, 2)), r"'periodic_' .* integers of shape \(2,\)"),
    (_pendulum_rbf(), "angle_pairs_", np.array([[0, 3]]),
     r"'angle_pairs_' of 'rbf' must be pairs of distinct column indices in \[0, 3\)"),
    (_pendulum_rbf(), "angle_pairs_", np.array([[0, 0]]), "distinct column indices"),
    (_pendulum_rbf(), "angle_pairs_", np.array([0, 1]), r"shape \(k, 2\)"),
])
def test_a_fitted_state_that_does_not_fit_its_map_is_refused(phi, key, value, match):
    # StandardFeatures took mean_ and scale_ of size 1 and broadcast them; a scale_ of 0
    # gave infinite features; the RBF maps failed with IndexError or computed others
    state = phi.fit(PENDULUM_OBS if isinstance(phi, RBFFeatures) else OBS).get_state()
    state[key] = value
    with pytest.raises(ValueError, match=f"feature state '{key}' of '{phi.name}' must be") as err:
        features_from_state(phi.get_config(), state)
    assert err.match(match)


@pytest.mark.parametrize("make", [RawFeatures, StandardFeatures, PolyFeatures, RBFFeatures,
                                  RandomRBFFeatures, PendulumFeatures])
@pytest.mark.parametrize("state", [None, "junk", [("n_features_in_", 3)]])
def test_set_state_refuses_what_is_not_a_dict(make, state):
    # StandardFeatures().set_state(None): "argument of type 'NoneType' is not iterable"
    with pytest.raises(TypeError, match="state must be a dict from get_state, got "):
        make().set_state(state)


def test_standard_features_are_standardized():
    X = StandardFeatures().fit(OBS).transform(OBS)
    np.testing.assert_allclose(X[:, :-1].mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X[:, :-1].std(0), 1.0, atol=1e-6)


def test_raw_features_in_fixed_units():
    scale = [2.0, 0.5, 0.1]
    X = RawFeatures(scale=scale).fit(OBS).transform(OBS)
    np.testing.assert_allclose(X[:, :-1], OBS / scale, rtol=1e-15)
    np.testing.assert_array_equal(RawFeatures(scale=None).fit(OBS).transform(OBS)[:, :-1], OBS)


def test_rbf_angles_are_periodic():
    phi = RBFFeatures(n_centers=[8, 5], angle_pairs=[(0, 1)], low=[-8.0], high=[8.0])
    phi.fit(np.zeros((1, 3)))
    eps = 1e-3
    a = phi.transform([[np.cos(np.pi - eps), np.sin(np.pi - eps), 1.0]])
    b = phi.transform([[np.cos(-np.pi + eps), np.sin(-np.pi + eps), 1.0]])
    np.testing.assert_allclose(a, b, atol=1e-2)
    assert phi.n_features_out_ == 8 * 5 + 1


def test_rbf_centres_span_low_to_high_and_a_bump_has_the_grid_spacing_as_its_sd():
    # 5 centres on [0, 4]: at 0, 1, 2, 3, 4 (spacing 1, the sd of each bump at width 1);
    # at the centre 2 the bumps are exp(-d^2 / 2) of the distance d to each centre
    phi = RBFFeatures(n_centers=5, low=[0.0], high=[4.0]).fit(np.zeros((1, 1)))
    np.testing.assert_allclose(phi.transform([[2.0]]),
                               [np.r_[np.exp(-0.5 * np.array([4, 1, 0, 1, 4])), 1.0]],
                               rtol=1e-15)
    wide = RBFFeatures(n_centers=5, low=[0.0], high=[4.0], width=2.0).fit(np.zeros((1, 1)))
    np.testing.assert_allclose(wide.transform([[3.0]])[0, :-1],
                               np.exp(-0.5 * (np.array([3, 2, 1, 0, -1]) / 2.0) ** 2),
                               rtol=1e-15)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="features must be one of"):
        make_features("nope")
    phi = RawFeatures().fit(OBS)
    with pytest.raises(ValueError, match=r"obs must have shape \(T, 3\)"):
        phi.transform(np.zeros((2, 4)))
    with pytest.raises(Exception, match="not fitted"):
        RawFeatures().transform(OBS)
    for bad in ([1.0, 2.0], [1.0, 0.0, 1.0], [1.0, np.inf, 1.0]):
        with pytest.raises(ValueError, match="scale must be"):
            RawFeatures(scale=bad).fit(OBS)
    with pytest.raises(ValueError, match="angle_pairs"):
        RBFFeatures(angle_pairs=[(0, 7)]).fit(OBS)


# ---------------------------------------------------------------------- input errors (audit)
OBS20 = np.random.default_rng(0).normal(size=(20, 3))


@pytest.mark.parametrize("make, exc, match", [
    (lambda: RBFFeatures(n_centers=3, width=0), ValueError, "width must be > 0.0, got 0.0"),
    (lambda: RBFFeatures(n_centers=3, width=np.nan), ValueError, "width must be finite"),
    (lambda: RBFFeatures(n_centers=3, width="a"), TypeError, "width must be a real number"),
    (lambda: RBFFeatures(n_centers=3, low=[np.nan] * 3, high=[1.0] * 3), ValueError,
     "low must be finite"),
    (lambda: RBFFeatures(n_centers=3, low=[0.0] * 3, high=[np.inf] * 3), ValueError,
     "high must be finite"),
    (lambda: RBFFeatures(n_centers=2.7), TypeError, "n_centers must be an int, got float"),
    (lambda: RBFFeatures(n_centers="a"), TypeError, "n_centers must be an int, got str"),
    (lambda: RBFFeatures(n_centers=(3, 3)), ValueError, "n_centers must be one int or 3 ints"),
    (lambda: RBFFeatures(n_centers=[3, 3, 0]), ValueError, "n_centers must be >= 1, got 0"),
    (lambda: RBFFeatures(n_centers=10**6), ValueError,
     r"MAX_RBF_FEATURES = 100000 .* = about 10\^18 bumps over 3 coordinates; use "
     r"fewer centres, angle_pairs .* or 'random_rbf'"),
    (lambda: RBFFeatures(angle_pairs=[(0, 0)]), ValueError,
     r"angle_pairs must name each column at most once"),
    (lambda: RBFFeatures(angle_pairs=[(0, 1), (1, 2)]), ValueError,
     r"angle_pairs must name each column at most once.*\(1, 2\)"),
    (lambda: RBFFeatures(angle_pairs=[(0, 1, 2)]), ValueError,
     r"angle_pairs must be pairs of column indices \(cos, sin\), e.g. \[\(0, 1\)\], got "
     r"\[\(0, 1, 2\)\]"),
    (lambda: RBFFeatures(angle_pairs=[(0.5, 1)]), ValueError, "angle_pairs must be pairs of"),
    (lambda: RBFFeatures(angle_pairs=[(0, 1), (2,)]), ValueError,   # NumPy's "inhomogeneous"
     r"angle_pairs must be pairs of column indices \(cos, sin\), e.g. \[\(0, 1\)\], got "
     r"\[\(0, 1\), \(2,\)\]"),
    (lambda: RandomRBFFeatures(seed=-1), ValueError, "seed must be >= 0, got -1"),
    (lambda: RandomRBFFeatures(seed=2**32), ValueError, "seed must be <= 4294967295, got 4294"),
    (lambda: RandomRBFFeatures(n_components=0), ValueError, "n_components must be >= 1"),
    (lambda: RandomRBFFeatures(gamma=-1.0), ValueError, "gamma must be > 0.0, got -1.0"),
    (lambda: PolyFeatures(degree=2.5), TypeError, "degree must be an int, got float"),
    (lambda: PolyFeatures(degree=-1), ValueError, "degree must be >= 0, got -1"),
    (lambda: StandardFeatures(eps=0), ValueError, "eps must be > 0.0, got 0.0"),
    (lambda: StandardFeatures(eps="a"), TypeError, "eps must be a real number"),
    (lambda: PendulumFeatures(g=0.0), ValueError, "g must be > 0.0, got 0.0"),
])
def test_feature_parameters_are_checked_in_fit(make, exc, match):
    phi = make()                       # the scikit-learn convention: the constructor stores
    with pytest.raises(exc, match=match):
        phi.fit(OBS20)


def test_a_huge_grid_is_refused_in_a_short_message():
    # Taxi's one-hot state has 500 coordinates: 7^500 bumps, not a 430-digit number
    with pytest.raises(ValueError) as err:
        RBFFeatures(n_centers=7).fit(np.zeros((2, 500)))
    assert "a grid of 7 x 7 x ... x 7 = about 10^422 bumps over 500 coordinates" in \
        str(err.value)
    assert len(str(err.value)) < 400


def test_rbf_grid_at_the_size_limit_is_accepted():
    from linear_pg.features import MAX_RBF_FEATURES
    phi = RBFFeatures(n_centers=[MAX_RBF_FEATURES, 1, 1]).fit(OBS20[:2])
    assert phi.n_features_out_ == MAX_RBF_FEATURES + 1
    with pytest.raises(ValueError, match="MAX_RBF_FEATURES"):
        RBFFeatures(n_centers=[MAX_RBF_FEATURES + 1, 1, 1]).fit(OBS20[:1])


@pytest.mark.parametrize("phi", [RawFeatures(), StandardFeatures(), PolyFeatures(),
                                 RBFFeatures(n_centers=3), RandomRBFFeatures(n_components=5),
                                 PendulumFeatures()])
def test_every_map_transforms_no_rows_to_no_rows(phi):
    # PolyFeatures raised scikit-learn's "Found array with 0 sample(s)"
    X = phi.fit(OBS20).transform(np.zeros((0, 3)))
    assert X.shape == (0, phi.n_features_out_) and X.dtype == np.float64


@pytest.mark.parametrize("phi", [RawFeatures(), StandardFeatures(), PolyFeatures(),
                                 RBFFeatures(n_centers=3), RandomRBFFeatures(n_components=5),
                                 PendulumFeatures()])
def test_fit_on_no_rows_and_complex_observations_are_errors(phi):
    with pytest.raises(ValueError, match=r"obs must have at least one row to fit on"):
        phi.fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"obs must have at least one column"):
        phi.fit(np.zeros((3, 0)))        # was accepted, and the map then could not be saved
    with pytest.raises(TypeError, match="obs must be real-valued, got complex"):
        phi.fit(OBS20 + 1j)
    phi.fit(OBS20)
    with pytest.raises(TypeError, match="obs must be real-valued, got complex"):
        phi.transform(OBS20 + 1j)
    assert np.all(np.isfinite(phi.transform(OBS20)))


def test_integer_like_n_centers_still_work():
    a = RBFFeatures(n_centers=np.int64(3)).fit(OBS20)
    b = RBFFeatures(n_centers=np.array([3, 3, 3])).fit(OBS20)
    np.testing.assert_array_equal(a.transform(OBS20), b.transform(OBS20))


def test_poly_features_refuse_more_monomials_than_the_limit():
    from linear_pg.features import MAX_POLY_FEATURES

    wide = np.zeros((2, 20))
    with pytest.raises(ValueError, match=r"MAX_POLY_FEATURES = 100000 monomials, got "
                                         r"degree=12 on 20 inputs: C\(20 \+ 12, 12\) = "
                                         r"225792840"):
        PolyFeatures(degree=12).fit(wide)
    assert PolyFeatures(degree=5).fit(wide).n_features_out_ == 53130 <= MAX_POLY_FEATURES


def test_a_constant_dimension_is_centred_but_not_scaled():
    obs = np.column_stack([np.arange(5.0), np.full(5, 3.0)])     # column 1 never changes
    phi = StandardFeatures().fit(obs)
    np.testing.assert_array_equal(phi.scale_[1], 1.0)
    x = phi.transform([[2.0, 3.0], [2.0, 3.5]])
    np.testing.assert_array_equal(x[:, 1], [0.0, 0.5])     # not 0.5 / 1e-8 = 5e7
    np.testing.assert_allclose(x[:, 0], 0.0)
    assert phi.scale_[0] == obs[:, 0].std() + 1e-8               # other columns unchanged


def test_fit_sets_n_features_out_for_a_map_of_your_own():
    from linear_pg.features import FeatureMap

    class Pairs(FeatureMap):                 # _fit learns nothing and leaves the size to fit
        name = "pairs"

        def _fit(self, obs):
            pass

        def _transform(self, obs):
            return np.hstack([obs, obs[:, :1] * obs[:, 1:]])

    phi = Pairs().fit(OBS)
    assert phi.n_features_out_ == 5 and phi.transform(OBS).shape == (50, 5)
    assert phi.fit(OBS[:, :2]).n_features_out_ == 3      # a refit on other data


def test_random_rbf_does_not_blow_up_a_coordinate_constant_in_the_fit():
    # scale_ = sd + 1e-8 made a change of 1e-6 in a constant coordinate move every feature
    from linear_pg.features import RandomRBFFeatures

    phi = RandomRBFFeatures(n_components=4).fit([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]])
    near = phi.transform([[1e-6, 2.0]]) - phi.transform([[0.0, 2.0]])
    assert np.max(np.abs(near)) < 1e-5


def test_rbf_coordinate_without_range_keeps_its_bumps_alive():
    # a spacing of 1e-12 zeroed every feature away from the one fitted value
    with pytest.warns(UserWarning, match=r"coordinate\(s\) \[0\] .* never change"):
        phi = RBFFeatures(n_centers=3).fit([[0.5, 0.5], [0.5, 1.5]])
    x = phi.transform([[0.6, 1.0]])[0, :-1]
    assert x.max() == pytest.approx(np.exp(-0.5 * 0.1**2))


def test_standardizing_observations_whose_spread_overflows_is_refused():
    # StandardFeatures().fit([[1e308], [1e308]]) transformed everything to NaN
    from linear_pg.features import StandardFeatures

    with pytest.raises(ValueError, match="too large to standardize"):
        StandardFeatures().fit([[1e308], [1e308]])


@pytest.mark.parametrize("obs", [[[1e200, 0.0], [-1e200, 1.0]], [[1e308], [1e308]]])
def test_random_rbf_refuses_observations_whose_spread_overflows_as_standard_does(obs):
    # the sd of [1e200, -1e200] overflowed: RandomRBFFeatures fitted a scale_ of inf
    # silently, mapped that column to 0 and could not be saved
    from linear_pg.features import RandomRBFFeatures, StandardFeatures

    for make in (StandardFeatures, RandomRBFFeatures):
        with pytest.raises(ValueError, match="too large to standardize: their mean or "
                                             "standard deviation overflows float64"):
            make().fit(obs)


def test_rbf_fitted_where_a_coordinate_never_changes_says_so():
    # fitted on the reset observation alone, all centres of the velocity sat at one value
    with pytest.warns(UserWarning, match="give low and high"):
        RBFFeatures(n_centers=[12, 11], angle_pairs=[(0, 1)], width=0.8).fit(
            np.array([[1.0, 0.0, -0.46]]))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RBFFeatures(n_centers=[12, 11], angle_pairs=[(0, 1)], low=[-8.0], high=[8.0]).fit(
            np.array([[1.0, 0.0, -0.46]]))


def test_random_rbf_inner_products_approximate_the_rbf_kernel():
    # Rahimi and Recht: with u the standardized observation, x(u) . x(v) (the bias left
    # out) estimates exp(-gamma |u - v|^2), with a standard error of about 1 / sqrt(2 n)
    obs = np.random.default_rng(0).normal(loc=[1.0, -2.0, 0.0], scale=[0.5, 3.0, 1.0],
                                          size=(400, 3))
    n, gamma = 4000, 0.5
    Z = RandomRBFFeatures(n_components=n, gamma=gamma, seed=1).fit(obs).transform(obs[:6])[:, :-1]
    U = (obs[:6] - obs.mean(axis=0)) / obs.std(axis=0)
    kernel = np.exp(-gamma * ((U[:, None, :] - U[None, :, :]) ** 2).sum(axis=2))
    np.testing.assert_allclose(Z @ Z.T, kernel, atol=0.06)


def test_the_pendulum_maps_last_feature_is_the_energy_a_torque_along_it_adds():
    # th' (E* - E) / (2 E*) with E = th'^2 / 2 + (3 g / 2) cos th: gymnasium's Pendulum,
    # stepped from the same states with the torque +1 / -1 times the sign of the feature,
    # ends with more / less energy whenever the energy is below E* (and the feature not 0)
    import gymnasium as gym

    g = 10.0
    phi = PendulumFeatures(g=g).fit(PENDULUM_OBS)
    env = gym.make("Pendulum-v1", g=g).unwrapped
    th = np.random.default_rng(2).uniform(-np.pi, np.pi, 200)
    w = np.random.default_rng(3).uniform(-4.0, 4.0, 200)
    obs = np.column_stack([np.cos(th), np.sin(th), w])
    energy = 0.5 * w**2 + 1.5 * g * np.cos(th)
    pump = phi.transform(obs)[:, -1]
    np.testing.assert_allclose(pump, w * (15.0 - energy) / 30.0, rtol=1e-12, atol=1e-15)

    def energy_after(u):
        out = []
        for t in range(th.size):
            env.reset(seed=0)
            env.state = np.array([th[t], w[t]])
            s, *_ = env.step(np.array([u[t]]))
            out.append(0.5 * s[2] ** 2 + 1.5 * g * s[0])
        return np.array(out)

    along = np.sign(pump)
    up, down = energy_after(2.0 * along), energy_after(-2.0 * along)
    below = (energy < 15.0) & (np.abs(pump) > 0.05)
    assert below.sum() > 100 and np.all(up[below] > down[below])
    assert phi.n_features_out_ == 12 * 11 + 2              # the preset's grid, the bias, it


def test_the_pendulum_map_takes_pendulums_observations_only():
    with pytest.raises(ValueError, match=r"needs Pendulum's observations .* 3 columns, got 4"):
        PendulumFeatures().fit(np.zeros((2, 4)))


def test_the_pendulum_preset_takes_g_from_the_env_it_trains_on():
    from linear_pg import train

    assert train("Pendulum-v1", episodes=1, seed=0).features.g == 10.0
    run = train("Pendulum-v1", episodes=1, seed=0, env_kwargs={"g": 4.0})
    assert run.features.g == 4.0 and run.config["features"]["g"] == 4.0
    given = train("Pendulum-v1", episodes=1, seed=0, env_kwargs={"g": 4.0},
                  features_kwargs={**PRESET_GRID, "g": 9.0}, mirror=True)
    assert given.features.g == 9.0


def test_an_unfitted_pendulum_map_takes_g_from_the_env_as_its_name_does():
    # train fits an unfitted map as it fits its name: the env's g, not gymnasium's default
    from linear_pg import train

    phi = PendulumFeatures()
    run = train("Pendulum-v1", episodes=1, seed=0, env_kwargs={"g": 4.0}, features=phi)
    assert run.features.g == 4.0 and run.config["features"]["g"] == 4.0
    assert phi.g is None                                   # the object itself is not fitted
    again = train("Pendulum-v1", seed=0, **run.train_kwargs())    # its config trains it again
    assert again.config == run.config
    np.testing.assert_array_equal(again.policy.theta, run.policy.theta)
    by_hand = PendulumFeatures().fit(PENDULUM_OBS)         # no env: gymnasium's g = 10
    np.testing.assert_allclose(by_hand.transform([[-1.0, 0.0, 2.0]])[0, -1], 2 * 28 / 30)
