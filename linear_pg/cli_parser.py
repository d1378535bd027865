"""The argument parser of ``linear-pg``: its commands, their options and the checks of
their values, each a one-line usage error."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any, NoReturn

from ._console import EXIT_BAD_ARGS

DESCRIPTION = """\
Policy gradients (REINFORCE) with linear policies, every gradient derived by hand.

Train a linear policy on a gymnasium environment, plot its learning curve, evaluate and
render the trained policy, check every hand-derived gradient against finite differences,
and benchmark the implementation.

A run directory holds one sub-directory per seed (DIR/seed-0, DIR/seed-1, ...), each with
history.csv (one row per training episode), config.json (every hyperparameter used) and
checkpoint.npz (the policy and its fitted features); DIR/learning_curve.png and .svg show
all seeds. Hyperparameters not given on the command line come from the environment's
preset (CartPole-v1, Pendulum-v1, MountainCarContinuous-v0) or from generic defaults.
"""

EXAMPLES = """\
examples:
  python -m linear_pg train CartPole-v1 --out runs/cartpole
  python -m linear_pg train Pendulum-v1 --seeds 4 --out runs/pendulum
  python -m linear_pg resume runs/pendulum
  python -m linear_pg plot runs/cartpole
  python -m linear_pg evaluate runs/cartpole --episodes 100
  python -m linear_pg render runs/cartpole --out cartpole.gif
  python -m linear_pg gradcheck
  python -m linear_pg bench --quick --json bench.json

Run `python -m linear_pg COMMAND --help` for the options of a command.
"""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    commands: dict[str, ArgumentParser]
    """The top-level parser's subcommand parsers by name (set by :func:`build_parser`)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_ARGS, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind: type, low: float, strict: bool, high: float | None = None) -> Any:
    """An argparse type: ``kind(text)`` that must be > low (strict) or >= low, and at most
    ``high`` when it is given."""
    relation = ">" if strict else ">="
    bounds = f"{relation} {low}" if high is None else f"in [{low + strict}, {high}]"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (value > low if strict else value >= low) \
                or value == float("inf") or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {kind.__name__} {bounds}, "
                                             f"got {text!r}")
        return value

    return parse


MAX_SEEDS = 10_000
"""The most seeds a command takes: each seed is a training run and a directory, more is a
typo, and listing them would make the command hang before it says anything."""

_positive_int = _number(int, 0, strict=True)
_seed_count = _number(int, 0, strict=True, high=MAX_SEEDS)
_nonnegative_int = _number(int, 0, strict=False)
_positive_float = _number(float, 0.0, strict=True)


def _json_object(text: str) -> dict[str, Any]:
    """--env-kwargs: a JSON object such as '{"g": 9.81}'."""
    import json

    def no_constant(name: str) -> None:   # NaN, Infinity: not JSON, and not storable
        raise ValueError(f"{name} is not a JSON number")

    def finite(number: str) -> float:     # 1e400 would be parsed as Infinity
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(f"{number} is beyond the range of a float64")
        return value

    try:
        value = json.loads(text, parse_constant=no_constant, parse_float=finite)
    except ValueError as err:             # json.JSONDecodeError is one
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"g\": 9.81}}', "
                                         f"got {text!r} ({err})") from err
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"g\": 9.81}}', "
                                         f"got {type(value).__name__} {text!r}")
    return value


def _nonempty(text: str) -> str:
    """--out: a path, not the empty string (which would mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def _clip_norm(text: str) -> float:
    """--max-grad-norm: a float > 0, or "inf" for no clipping (where the preset clips)."""
    return math.inf if text.strip().lower() == "inf" else _positive_float(text)


def _command(sub: Any, name: str, help: str, description: str, examples: str
             ) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description,
                          epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> ArgumentParser:
    """The argparse parser of ``linear-pg`` and all its subcommands."""
    from .baselines import BASELINES
    from .features import FEATURE_NAMES
    from .models import POLICY_NAMES
    from .optim import OPTIMIZERS
    from .settings import ESTIMATORS, LR_SCHEDULES

    parser = ArgumentParser(prog="linear-pg", description=DESCRIPTION, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"linear_pg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.commands = sub.choices          # name -> the command's parser

    p = _command(sub, "train", "train a linear policy, one process per seed",
                 "Train a linear policy with REINFORCE and write one run directory per seed.\n\n"
                 "ENV is a gymnasium id (CartPole-v1) or a preset's short name (cartpole,\n"
                 "pendulum, mountaincarcontinuous). Options left out come from the preset.\n"
                 "Writes OUT/seed-<k>/{history.csv, config.json, checkpoint.npz} and\n"
                 "OUT/learning_curve.{png,svg}. Training again into OUT replaces the\n"
                 "seeds trained; an OUT with runs of another env (or of this one with\n"
                 "other --env-kwargs) is refused.",
                 "  python -m linear_pg train CartPole-v1 --out runs/cartpole\n"
                 "  python -m linear_pg train CartPole-v1 --seeds 4 --estimator total_return \\\n"
                 "      --baseline none --optimizer adam --lr 0.01 --out runs/plain\n"
                 "  python -m linear_pg train Pendulum-v1 --episodes 1000 --n-envs 3\n"
                 "  python -m linear_pg train Pendulum-v1 --env-kwargs '{\"g\": 2.0}' "
                 "--out runs/low-g\n")
    p.add_argument("env", metavar="ENV", help="gymnasium id or preset name")
    p.add_argument("--out", metavar="DIR", type=_nonempty,
                   help="output directory (default: runs/ENV)")
    p.add_argument("--episodes", type=_positive_int, metavar="N",
                   help="training episodes per seed (default: the preset's)")
    p.add_argument("--seeds", type=_seed_count, default=1, metavar="K",
                   help="number of seeds, trained in parallel (default: 1)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S",
                   help="first seed; the seeds are S, S+1, ..., S+K-1 (default: 0)")
    p.add_argument("--jobs", type=_positive_int, metavar="J",
                   help="parallel processes for several seeds (default: min(K, CPUs))")
    p.add_argument("--policy", choices=POLICY_NAMES,
                   help="policy family; must fit the action space (default: preset)")
    p.add_argument("--features", choices=FEATURE_NAMES, help="feature map (default: preset)")
    p.add_argument("--estimator", choices=ESTIMATORS,
                   help="what weights each score (default: preset)")
    p.add_argument("--baseline", choices=BASELINES, help="subtracted baseline (default: preset)")
    p.add_argument("--normalize-weights", action=argparse.BooleanOptionalAction,
                   help="standardize the weights of each batch (default: preset)")
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="sgd, adam or npg, the natural gradient (default: preset)")
    p.add_argument("--lr", type=_positive_float,
                   help="step size (the KL radius for npg) (default: preset)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                   help="linear: decay the step size to LR_END x lr by the last update "
                        "(default: preset)")
    p.add_argument("--lr-end", type=float,
                   help="final fraction of lr for --lr-schedule linear, in [0, 1] "
                        "(default: preset)")
    p.add_argument("--gamma", type=float, help="discount factor in [0, 1] (default: preset)")
    p.add_argument("--batch", type=_positive_int, metavar="N",
                   help="episodes per update (default: preset)")
    p.add_argument("--n-envs", type=_positive_int, default=1, metavar="N",
                   help="parallel sub-environments per seed (gymnasium.make_vec) (default: 1)")
    p.add_argument("--entropy-coef", type=float, help="entropy bonus weight (default: preset)")
    p.add_argument("--max-grad-norm", type=_clip_norm,
                   help="clip the gradient norm; 'inf' for no clipping (default: preset)")
    p.add_argument("--mean-bound-coef", type=float,
                   help="penalty on a Gaussian mean outside the action box (default: preset)")
    p.add_argument("--env-kwargs", type=_json_object, metavar="JSON",
                   help="keyword arguments of the env, e.g. '{\"g\": 9.81}' (default: "
                        "preset)")
    for part, example in (("features", '{"n_centers": [5, 5]}'),
                          ("policy", '{"init_log_std": 0.0}'),
                          ("optimizer", '{"damping": 0.1}')):
        p.add_argument(f"--{part}-kwargs", type=_json_object, metavar="JSON",
                       help=f"keyword arguments of the {part}, e.g. '{example}'; they replace "
                            f"the preset's as a whole (default: preset)")
    p.add_argument("--mirror", action=argparse.BooleanOptionalAction,
                   help="also learn from every episode's mirror image (Gaussian policies on "
                        "envs with a known reflection: Pendulum-v1) (default: preset; "
                        "Pendulum's is off with --features, --policy or their kwargs other "
                        "than the preset's)")
    p.add_argument("--checkpoint-every", type=_positive_int, default=10, metavar="N",
                   help="save each seed's checkpoint every N updates while it trains "
                        "(default: 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = _command(sub, "resume", "train the seeds of a run directory on from their checkpoints",
                 "Go on training each seed in RUN_DIR from its checkpoint.npz, exactly where it\n"
                 "stopped (the last completed update): a run stopped with Ctrl-C and resumed\n"
                 "ends as if it had never stopped. Seeds that already have their episodes are\n"
                 "skipped, as are diverged ones; history.csv, config.json, the checkpoint and\n"
                 "the figure are rewritten. Several seeds run in parallel processes, and\n"
                 "Ctrl-C stops them as it stops train.",
                 "  python -m linear_pg resume runs/pendulum\n"
                 "  python -m linear_pg resume runs/cartpole --episodes 500\n")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory (or one seed directory)")
    p.add_argument("--episodes", type=_positive_int, metavar="N",
                   help="total training episodes per seed (default: each run's own)")
    p.add_argument("--checkpoint-every", type=_positive_int, default=10, metavar="N",
                   help="save each seed's checkpoint every N updates (default: 10)")
    p.add_argument("--jobs", type=_positive_int, metavar="J",
                   help="parallel processes for several seeds (default: min(seeds, CPUs))")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = _command(sub, "plot", "learning curves of run directories (PNG and SVG)",
                 "Plot the learning curves of one or several run directories.\n\n"
                 "Each DIR (a seed directory or a directory of seed-* directories) is one\n"
                 "group: faint lines per seed (moving average of the return), their mean and a\n"
                 "95% Student-t confidence interval of the mean across seeds, and the env's\n"
                 "reward threshold (gymnasium spec) as a dashed line when it has one.",
                 "  python -m linear_pg plot runs/cartpole\n"
                 "  python -m linear_pg plot runs/rtg runs/total --labels reward-to-go total \\\n"
                 "      --out figures/compare.png\n")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="run directories")
    p.add_argument("--out", metavar="FILE", type=_nonempty,
                   help="figure path; writes FILE.png and FILE.svg, or learning_curve.png "
                        "and .svg inside FILE if it is a directory (default with one DIR: "
                        "DIR/learning_curve; required with several)")
    p.add_argument("--labels", nargs="+", metavar="NAME", help="legend name of each DIR")
    p.add_argument("--title", help="figure title (default: the env id)")
    p.add_argument("--window", type=_positive_int, default=100, metavar="N",
                   help="moving-average window in episodes (default: 100)")
    p.add_argument("--threshold", type=float, metavar="Y",
                   help="draw a dashed target line at return Y instead of the env's reward "
                        "threshold (e.g. 195 for CartPole-v0's)")

    p = _command(sub, "evaluate", "mean ± std return of a trained policy",
                 "Load the checkpoint of each seed in each RUN_DIR and run fresh episodes.\n\n"
                 "Acts with the mean (Gaussian) or most likely (discrete) action, or samples\n"
                 "from the policy with --sample. Prints the mean return ± its sample std, and\n"
                 "the standard error of the mean.",
                 "  python -m linear_pg evaluate runs/cartpole\n"
                 "  python -m linear_pg evaluate runs/cartpole/seed-0 --episodes 20 --sample\n"
                 "  python -m linear_pg evaluate runs/cartpole runs/plain\n"
                 "  python -m linear_pg evaluate runs/pendulum --env-kwargs '{\"g\": 12.0}'\n")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="run directories (or seed directories)")
    p.add_argument("--episodes", type=_positive_int, default=100, metavar="N",
                   help="evaluation episodes per seed (default: 100)")
    p.add_argument("--sample", action="store_true", help="sample actions from the policy")
    p.add_argument("--seed", type=_nonnegative_int, metavar="S",
                   help="seed of the evaluation episodes (default: training seed + 1000003)")
    p.add_argument("--env-kwargs", type=_json_object, metavar="JSON",
                   help="keyword arguments of the env, replacing the run's own, e.g. "
                        "'{\"g\": 12.0}' (default: the run's)")
    p.add_argument("--n-envs", type=_positive_int, default=1, metavar="N",
                   help="parallel sub-environments (gymnasium.make_vec); the episodes' "
                        "starts depend on --seed and --n-envs together (default: 1)")

    p = _command(sub, "render", "animated GIF of one episode of a trained policy",
                 "Run one episode of the trained policy (the first seed of RUN_DIR) and write\n"
                 "the environment's frames as a looping GIF.",
                 "  python -m linear_pg render runs/cartpole --out cartpole.gif\n"
                 "  python -m linear_pg render runs/pendulum --frame-skip 2 --scale 0.5\n")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory")
    p.add_argument("--out", metavar="FILE.gif", type=_nonempty,
                   help="GIF path, or a directory to write episode.gif in "
                        "(default: RUN_DIR/episode.gif)")
    p.add_argument("--frame-skip", type=_positive_int, default=1, metavar="N",
                   help="keep every N-th frame (default: 1)")
    p.add_argument("--max-frames", type=_positive_int, metavar="N",
                   help="keep at most N frames (default: the whole episode)")
    p.add_argument("--fps", type=_positive_float,
                   help="frames per second, at most 50 (default: real time)")
    p.add_argument("--scale", type=_positive_float, default=1.0,
                   help="shrink frames by this factor in (0, 1] (default: 1)")
    p.add_argument("--sample", action="store_true", help="sample actions from the policy")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S",
                   help="seed of the episode (default: 0)")
    p.add_argument("--env-kwargs", type=_json_object, metavar="JSON",
                   help="keyword arguments of the env, replacing the run's own (default: "
                        "the run's)")

    p = _command(sub, "gradcheck", "check every analytic score against finite differences",
                 "Compare grad log pi of every policy family with central finite differences\n"
                 "at random parameters, features and actions. Prints one table per policy;\n"
                 "the exit code is 1 if any check fails.",
                 "  python -m linear_pg gradcheck\n"
                 "  python -m linear_pg gradcheck --seed 3\n")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S",
                   help="seed of the random test points (default: 0)")

    p = _command(sub, "bench", "speed and sample-efficiency benchmark",
                 "Measure, side by side on this machine: training env-steps/s against raw\n"
                 "env.step (one CartPole env and a vector env of 64), the batch gradient\n"
                 "against a per-step Jacobian loop and PyTorch autograd (if installed), and\n"
                 "the sample efficiency of every preset over seeds. Prints a markdown table\n"
                 "(metric, measured, target, pass); --json writes every number.",
                 "  python -m linear_pg bench --quick\n"
                 "  python -m linear_pg bench --json bench.json\n")
    p.add_argument("--quick", action="store_true",
                   help="a few seconds: tiny budgets, 1 seed; checks that everything runs "
                        "(timings are rough, sample efficiency is not judged)")
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    p.add_argument("--seeds", type=_seed_count, metavar="K",
                   help="seeds for sample efficiency (default: 10, or 1 with --quick)")
    p.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="J",
                   help="parallel processes for the sample-efficiency runs "
                        "(default: the number of CPUs)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return parser
