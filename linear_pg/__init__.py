"""linear_pg: policy gradients with linear policies, every gradient derived by hand.

The policies (:mod:`linear_pg.policies`) hold the analytic scores; :mod:`linear_pg.returns`
computes what multiplies them; :mod:`linear_pg.estimator` turns both into the REINFORCE
estimate; :mod:`linear_pg.gradcheck` proves each formula with finite differences, and
:mod:`linear_pg.score_mean` checks that a score averages to zero over the policy's actions;
:mod:`linear_pg.bugs` keeps the classic mistakes beside their correct twins.

Training on gymnasium: :mod:`linear_pg.trainer` runs the loop, with the episodes from
:mod:`linear_pg.rollout`, the weights and gradient of each update from
:mod:`linear_pg.update`, and the step from :mod:`linear_pg.optim`; its settings, envs,
policy and features come from :mod:`linear_pg.settings`, :mod:`linear_pg.envs` and
:mod:`linear_pg.models`, and :mod:`linear_pg.checkpoint` and :mod:`linear_pg.resuming` save
and continue a :class:`~linear_pg.run.Run`.
"""

from . import bugs
from .check_report import GradCheckReport, relative_error
from .checkpoint import CheckpointError, load_checkpoint, load_run, save_checkpoint
from .corridor import (
    ShortCorridorEnv,
    exact_policy_gradient,
    exact_start_value,
    optimal_p_right,
)
from .envs import make_env
from .estimator import policy_gradient, surrogate_loss
from .evaluation import evaluate
from .features import (
    FeatureMap,
    PendulumFeatures,
    PolyFeatures,
    RandomRBFFeatures,
    RawFeatures,
    RBFFeatures,
    StandardFeatures,
    make_features,
)
from .finite_diff import numerical_gradient, numerical_jacobian
from .gradcheck import (
    check_all_policies,
    check_function,
    check_grad_log_prob,
    check_policy_gradient,
)
from .models import make_policy_for_env
from .optim import SGD, Adam, NaturalGradient, fisher
from .policies import (
    BernoulliPolicy,
    GaussianPolicy,
    LinearPolicy,
    PolicyClassError,
    SoftmaxPolicy,
    check_policy_class,
)
from .resuming import resume
from .returns import bootstrap_truncated, episode_returns, normalize, reward_to_go, total_return
from .run import Run
from .score_mean import ScoreMeanReport, check_score_mean
from .seeds import train_seeds
from .trainer import StopTraining, train

__version__ = "0.1.0"

__all__ = [
    "bugs",
    "BernoulliPolicy",
    "GaussianPolicy",
    "LinearPolicy",
    "SoftmaxPolicy",
    "PolicyClassError",
    "check_policy_class",
    "bootstrap_truncated",
    "episode_returns",
    "normalize",
    "policy_gradient",
    "reward_to_go",
    "surrogate_loss",
    "total_return",
    "GradCheckReport",
    "ShortCorridorEnv",
    "check_all_policies",
    "check_function",
    "check_grad_log_prob",
    "check_policy_gradient",
    "check_score_mean",
    "ScoreMeanReport",
    "exact_policy_gradient",
    "exact_start_value",
    "numerical_gradient",
    "numerical_jacobian",
    "optimal_p_right",
    "relative_error",
    "FeatureMap",
    "PendulumFeatures",
    "PolyFeatures",
    "RandomRBFFeatures",
    "RawFeatures",
    "RBFFeatures",
    "StandardFeatures",
    "make_features",
    "CheckpointError",
    "load_checkpoint",
    "load_run",
    "resume",
    "save_checkpoint",
    "Adam",
    "NaturalGradient",
    "SGD",
    "fisher",
    "Run",
    "StopTraining",
    "evaluate",
    "make_env",
    "make_policy_for_env",
    "train",
    "train_seeds",
]
