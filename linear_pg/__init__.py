"""linear_pg: policy gradients with linear policies, every gradient derived by hand.

The policies (:mod:`linear_pg.policies`) hold the analytic scores; :mod:`linear_pg.returns`
computes what multiplies them; :mod:`linear_pg.estimator` turns both into the REINFORCE
estimate; :mod:`linear_pg.gradcheck` proves each formula with finite differences.
"""

from .estimator import policy_gradient, surrogate_loss
from .policies import BernoulliPolicy, GaussianPolicy, LinearPolicy, SoftmaxPolicy
from .returns import episode_returns, normalize, reward_to_go, total_return

__version__ = "0.1.0"

__all__ = [
    "BernoulliPolicy",
    "GaussianPolicy",
    "LinearPolicy",
    "SoftmaxPolicy",
    "episode_returns",
    "normalize",
    "policy_gradient",
    "reward_to_go",
    "surrogate_loss",
    "total_return",
]
