"""Linear policies with hand-derived scores."""

from .base import LinearPolicy
from .bernoulli import BernoulliPolicy, log_sigmoid
from .contract import PolicyClassError, check_policy_class, check_policy_fisher
from .gaussian import LOG_STD_BOUNDS, GaussianPolicy
from .softmax import SoftmaxPolicy, log_softmax, softmax

POLICY_CLASSES: dict[str, type[LinearPolicy]] = {
    "softmax": SoftmaxPolicy, "bernoulli": BernoulliPolicy, "gaussian": GaussianPolicy}
"""The policy class of each kind (``policy.kind``)."""

__all__ = [
    "LinearPolicy",
    "SoftmaxPolicy",
    "BernoulliPolicy",
    "GaussianPolicy",
    "LOG_STD_BOUNDS",
    "POLICY_CLASSES",
    "PolicyClassError",
    "check_policy_class",
    "check_policy_fisher",
    "log_softmax",
    "softmax",
    "log_sigmoid",
]
