"""Mirror augmentation: the reflection, its permutation of the features, the projection,
the identity that makes the mirrored samples exact, and the trainer's use of it."""

import gymnasium as gym
import numpy as np
import pytest

from linear_pg.features import (
    PendulumFeatures,
    PolyFeatures,
    RawFeatures,
    RBFFeatures,
    StandardFeatures,
)
from linear_pg.policies import GaussianPolicy
from linear_pg.symmetry import (
    MIRRORS,
    Mirror,
    MirrorAugmentation,
    check_symmetric,
    feature_permutation,
    resolve_mirror,
)
from linear_pg.trainer import train

PENDULUM = MIRRORS["Pendulum-v1"]


def pendulum_obs(n, seed=0):
    rng = np.random.default_rng(seed)
    th, v = rng.uniform(-np.pi, np.pi, n), rng.uniform(-8, 8, n)
    return np.c_[np.cos(th), np.sin(th), v]


def grid(**kw):
    kw = {"n_centers": (12, 11), "angle_pairs": ((0, 1),), "low": [-8.0], "high": [8.0], **kw}
    return RBFFeatures(**kw).fit(np.zeros((1, 3)))


@pytest.mark.parametrize("phi", [
    grid(), grid(n_centers=(7, 6)), RawFeatures().fit(np.zeros((1, 3))),
    RawFeatures(scale=[1.0, 2.0, 8.0]).fit(np.zeros((1, 3))),
    PolyFeatures(degree=2).fit(np.zeros((1, 3))), PolyFeatures(degree=4).fit(np.zeros((1, 3))),
    PendulumFeatures().fit(np.zeros((1, 3)))],
    ids=["rbf 12x11", "rbf 7x6", "raw", "raw scaled", "poly 2", "poly 4", "pendulum"])
def test_the_reflection_permutes_the_features(phi):
    obs = pendulum_obs(500)
    perm, sign = feature_permutation(phi, PENDULUM)
    np.testing.assert_allclose(phi.transform(PENDULUM.observations(obs)),
                               phi.transform(obs)[:, perm] * sign, atol=1e-12)


def test_the_pendulum_maps_energy_term_needs_a_mirror_that_keeps_cos_th():
    upside_down = Mirror(obs_sign=(-1.0, -1.0, -1.0), action_sign=(-1.0,))
    with pytest.raises(ValueError, match=r"keeps cos th \(obs_sign\[0\] = 1\)"):
        feature_permutation(PendulumFeatures().fit(np.zeros((1, 3))), upside_down)


def test_grids_and_maps_the_reflection_does_not_permute_are_refused():
    with pytest.raises(ValueError, match="does not map the rbf grid onto itself"):
        feature_permutation(grid(low=[-8.0], high=[6.0]), PENDULUM)
    standard = StandardFeatures().fit(pendulum_obs(50))
    with pytest.raises(ValueError, match="supports 'raw', 'poly', 'rbf' and 'pendulum' features"):
        feature_permutation(standard, PENDULUM)


def test_projection_makes_the_mean_equivariant_and_keeps_a_symmetric_one():
    phi = grid()
    pi = GaussianPolicy(phi.n_features_out_, 1, init_scale=1.0, seed=3)
    aug = MirrorAugmentation(PENDULUM, phi, pi)
    obs = pendulum_obs(300)
    X, Xm = phi.transform(obs), phi.transform(PENDULUM.observations(obs))
    assert np.abs(pi.mean(X) + pi.mean(Xm)).max() > 1.0        # random W: not symmetric
    aug.project(pi)
    np.testing.assert_allclose(pi.mean(Xm), -pi.mean(X), atol=1e-12)
    W = pi.W.copy()
    aug.project(pi)                                              # a projection: idempotent
    np.testing.assert_array_equal(pi.W, W)


def test_projection_makes_a_linear_log_std_invariant():
    """In "linear" mode sigma depends on the state; the projection makes it even,
    sigma(P s) = sigma(s), while the mean becomes odd; projecting W alone is not enough."""
    phi = grid(n_centers=(7, 6))
    pi = GaussianPolicy(phi.n_features_out_, 1, log_std_mode="linear", init_log_std=-0.2,
                        init_scale=1.0, seed=4)
    pi.W_std[...] = np.random.default_rng(5).normal(scale=0.3, size=pi.W_std.shape)
    obs = pendulum_obs(300)
    X, Xm = phi.transform(obs), phi.transform(PENDULUM.observations(obs))
    aug = MirrorAugmentation(PENDULUM, phi, pi)
    only_mean = pi.copy()
    only_mean.W = 0.5 * (pi.W + aug._permute(pi.W) * PENDULUM.action_sign[0])
    np.testing.assert_allclose(only_mean.mean(Xm), -only_mean.mean(X), atol=1e-12)
    assert np.abs(only_mean.std(Xm) - only_mean.std(X)).max() > 0.05
    aug.project(pi)
    np.testing.assert_allclose(pi.mean(Xm), -pi.mean(X), atol=1e-12)
    np.testing.assert_allclose(pi.std(Xm), pi.std(X), rtol=1e-12)
    np.testing.assert_allclose(pi.log_std, -0.2)                 # the bias of log sigma stays
    A = pi.sample(X, np.random.default_rng(0))
    check_symmetric(pi.log_prob(X, A), pi.log_prob(Xm, PENDULUM.actions(A)))


def symmetric_pendulum_policy():
    """The grid, a Gaussian policy on it projected onto the mirror-symmetric ones, and the
    augmentation that projected it."""
    phi = grid()
    pi = GaussianPolicy(phi.n_features_out_, 1, init_scale=1.0, init_log_std=-0.3, seed=1)
    aug = MirrorAugmentation(PENDULUM, phi, pi)
    aug.project(pi)
    return phi, pi, aug


def test_mirrored_sample_has_the_same_probability_and_the_reflected_score():
    # For a symmetric policy, log pi(D a | P s) = log pi(a | s), and its score is the
    # real sample's score with W's rows permuted and signed: the mirrored half of the
    # estimate is exactly the reflection of the real half.
    phi, pi, aug = symmetric_pendulum_policy()
    obs = pendulum_obs(200, seed=2)
    X, Xm = phi.transform(obs), phi.transform(PENDULUM.observations(obs))
    A = pi.sample(X, np.random.default_rng(0))
    Am = PENDULUM.actions(A)
    np.testing.assert_allclose(pi.log_prob(Xm, Am), pi.log_prob(X, A), atol=1e-12)
    S, Sm = pi.grad_log_prob(X, A), pi.grad_log_prob(Xm, Am)
    d = phi.n_features_out_
    SW, SWm = S[:, :d], Sm[:, :d]
    reflected = np.empty_like(SW)
    reflected[:, aug.perm] = SW * aug.sign * PENDULUM.action_sign[0]
    np.testing.assert_allclose(SWm, reflected, atol=1e-12)
    np.testing.assert_allclose(Sm[:, d:], S[:, d:], atol=1e-12)   # the log-std part


def test_samples_append_the_mirror_image_with_the_same_weights_over_twice_the_episodes():
    # g = 1/(2N) sum_t w_t [score(a_t | s_t) + score(D a_t | P s_t)]: the mirrored half has
    # the real half's weights (the same rewards-to-go) and the episodes count twice
    from types import SimpleNamespace

    phi, pi, aug = symmetric_pendulum_policy()
    obs = pendulum_obs(6, seed=3)
    X = phi.transform(obs)
    A = pi.sample(X, np.random.default_rng(0))
    w = np.arange(1.0, 7.0)
    batch = SimpleNamespace(obs=obs, X=X, actions=A, n_episodes=2)
    Xs, As, ws, n = aug.samples(pi, batch, w)
    np.testing.assert_array_equal(Xs, np.concatenate([X, phi.transform(obs * [1, -1, -1])]))
    np.testing.assert_array_equal(As, np.concatenate([A, -A]))
    np.testing.assert_array_equal(ws, np.concatenate([w, w]))
    assert n == 4


def test_check_symmetric_refuses_an_asymmetric_policy():
    check_symmetric(np.array([-1.0, -2.0]), np.array([-1.0, -2.0]))
    with pytest.raises(ValueError, match="not mirror-symmetric"):
        check_symmetric(np.array([-1.0, -2.0]), np.array([-1.0, -2.5]))


def test_check_symmetric_takes_equal_infinities_as_equal_and_names_mismatched_shapes():
    # -inf on both sides was "not mirror-symmetric ... nan"; shapes (3,) and (2,) were
    # NumPy's "operands could not be broadcast together"
    check_symmetric(np.array([-np.inf, -2.0]), np.array([-np.inf, -2.0]))
    for mirrored in ([-np.inf, -2.5], [-3.0, -2.0], [np.inf, -2.0]):
        with pytest.raises(ValueError, match="not mirror-symmetric"):
            check_symmetric(np.array([-np.inf, -2.0]), np.array(mirrored))
    with pytest.raises(ValueError, match="not mirror-symmetric"):
        check_symmetric(np.array([np.nan, -2.0]), np.array([np.nan, -2.0]))
    with pytest.raises(ValueError, match=r"log_p and log_p_mirrored must have one shape .* "
                                         r"got shapes \(3,\) and \(2,\)"):
        check_symmetric(np.zeros(3), np.zeros(2))


def test_mirror_names_observations_or_actions_it_cannot_reflect():
    mirror = Mirror((1, -1), (-1,))
    with pytest.raises(ValueError, match=r"obs must have shape \(T, 2\) \(one column per entry "
                                         r"of obs_sign\), got shape \(2, 3\)"):
        mirror.observations(np.zeros((2, 3)))          # a NumPy broadcast error
    with pytest.raises(ValueError, match=r"A must have shape \(T, 1\)"):
        mirror.actions(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="A must be numeric, got text"):
        mirror.actions(np.array(["a"]))                # NumPy's UFuncTypeError
    np.testing.assert_array_equal(mirror.observations([[1, 2]]), [[1.0, -2.0]])
    np.testing.assert_array_equal(mirror.actions(np.array([0.5], dtype=np.float32)), [-0.5])


@pytest.mark.parametrize("kwargs, atol", [
    ({"episodes": 30}, 1e-9),                                    # the preset mirrors
    ({"episodes": 6, "features": "poly", "features_kwargs": {"degree": 3}, "mirror": True},
     1e-12),
    ({"episodes": 9, "policy_kwargs": {"log_std_mode": "linear", "init_log_std": 0.5},
      "mirror": True}, 1e-9)], ids=["preset rbf", "poly 3", "linear log-std"])
def test_training_with_the_mirror_keeps_the_policy_symmetric(kwargs, atol):
    run = train("Pendulum-v1", seed=0, **kwargs)
    assert run.config["mirror"] == PENDULUM.to_dict()
    obs = pendulum_obs(1000)
    X, Xm = run.features.transform(obs), run.features.transform(PENDULUM.observations(obs))
    mu = run.policy.mean(X)
    assert np.abs(mu).max() > 0.1                              # it learned something
    np.testing.assert_allclose(run.policy.mean(Xm), -mu, atol=atol)
    sigma = run.policy.std(X)
    np.testing.assert_allclose(run.policy.std(Xm), sigma, rtol=atol)
    if run.policy.log_std_mode == "linear":
        assert np.ptp(sigma) > 0.01                              # sigma depends on the state


def test_the_mirror_changes_the_updates():
    on = train("Pendulum-v1", episodes=9, seed=0)
    off = train("Pendulum-v1", episodes=9, seed=0, mirror=False)
    assert off.config["mirror"] is None
    np.testing.assert_array_equal(on.episode_returns[:3], off.episode_returns[:3])  # batch 1
    assert not np.array_equal(on.policy.theta, off.policy.theta)


def test_a_users_own_model_drops_the_presets_mirror_unless_asked_for():
    assert train("Pendulum-v1", episodes=3, seed=0, features="raw").config["mirror"] is None
    run = train("Pendulum-v1", episodes=3, seed=0, features="raw", mirror=True)
    assert run.config["mirror"] == PENDULUM.to_dict()
    with pytest.raises(ValueError, match="supports 'raw', 'poly', 'rbf' and 'pendulum' features"):
        train("Pendulum-v1", episodes=3, seed=0, features="standard", mirror=True)
    # NumPy's bools mean what Python's do (np.True_ was "not a bool, got bool")
    assert train("Pendulum-v1", episodes=3, seed=0, features="raw",
                 mirror=np.True_).config["mirror"] == PENDULUM.to_dict()
    assert train("Pendulum-v1", episodes=3, seed=0, mirror=np.False_).config["mirror"] is None


@pytest.mark.parametrize("mirror, exc, match", [
    (True, ValueError, "has none"),
    ("yes", TypeError, "mirror must be a bool, a Mirror or its dict"),
    ({"obs": [1, -1]}, TypeError,
     r"the keys of the mirror dict must be among \['obs_sign', 'action_sign'\], got \['obs'\]"),
    ({"obs_sign": [1, -1]}, TypeError, r"needs the keys .* missing \['action_sign'\]"),
])
def test_mirrors_train_cannot_use_are_clear_errors(mirror, exc, match):
    with pytest.raises(exc, match=match):
        train("MountainCarContinuous-v0", episodes=2, seed=0, mirror=mirror)


@pytest.mark.parametrize("kwargs, match", [
    ({"obs_sign": (1, 0, -1), "action_sign": (-1,)}, "obs_sign must be a non-empty sequence"),
    ({"obs_sign": (1, -1, -1), "action_sign": ()}, "action_sign must be a non-empty"),
    ({"obs_sign": "abc", "action_sign": (-1,)}, "obs_sign must be"),
])
def test_bad_mirrors_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Mirror(**kwargs)


def test_a_mirror_that_does_not_fit_the_env_is_a_clear_error():
    pendulum = gym.make("Pendulum-v1")
    with pytest.raises(ValueError, match="one sign per observation coordinate"):
        resolve_mirror(Mirror((1, -1), (-1,)), "Pendulum-v1", pendulum)
    with pytest.raises(ValueError, match="one sign per action coordinate"):
        resolve_mirror({"obs_sign": (1, -1, -1), "action_sign": (-1, 1)}, "x", pendulum)
    with pytest.raises(ValueError, match="needs a Box action space"):
        resolve_mirror(Mirror((1, 1, 1, 1), (-1,)), "CartPole-v1", gym.make("CartPole-v1"))
    car = gym.make("MountainCarContinuous-v0")
    assert resolve_mirror(Mirror((1, 1), (1,)), "x", car) is not None
    assert resolve_mirror(False, "Pendulum-v1", pendulum) is None


@pytest.mark.filterwarnings("ignore:training stopped", "ignore:overflow encountered")
def test_a_policy_that_loses_its_symmetry_to_rounding_stops_as_diverged():
    # SGD at lr 1000 grows the weights until the mirror's check fails on rounding alone;
    # that was a ValueError (exit code 2 on the command line) and a run that could not
    # be resumed, instead of the divergence it is
    bumps = {"n_centers": [12, 11], "angle_pairs": [[0, 1]], "low": [-8.0], "high": [8.0],
             "width": 0.8}
    run = train("Pendulum-v1", optimizer="sgd", lr=1000.0, episodes=40, seed=0, features="rbf",
                features_kwargs=bumps, entropy_coef=0.0, mirror=True)
    assert run.stopped_reason.startswith("diverged: mirror: the policy is not "
                                         "mirror-symmetric")
    assert 0 < run.n_episodes < 40 and np.all(np.isfinite(run.policy.theta))
