"""Linear policies with hand-derived scores."""

from .base import LinearPolicy
from .bernoulli import BernoulliPolicy, log_sigmoid
from .gaussian import LOG_STD_BOUNDS, GaussianPolicy
from .softmax import SoftmaxPolicy, log_softmax, softmax

__all__ = [
    "LinearPolicy",
    "SoftmaxPolicy",
    "BernoulliPolicy",
    "GaussianPolicy",
    "LOG_STD_BOUNDS",
    "log_softmax",
    "softmax",
    "log_sigmoid",
]
