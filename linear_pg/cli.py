"""The command line: ``python -m linear_pg`` (or ``linear-pg``) and its subcommands.

Each subcommand is one function ``cmd_<name>(args) -> exit code``; :func:`main` parses,
dispatches and turns the library's ValueError / TypeError / OSError into a one-line
message on stderr with exit code 2, so a bad argument never ends in a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._files import check_output_file, missing_directories, remove_empty, replacing
from ._workers import Place, callers_place, take_place

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop training as Ctrl-C does: the run so far is saved."""

EXIT_DIVERGED = 1
"""The exit code of a train or resume in which a seed diverged (it is saved all the same)."""
EXIT_BAD_ARGS = 2
EXIT_BROKEN_PIPE = 141
"""The exit code when the reader of stdout has gone (``| head``): 128 + SIGPIPE, as a
process killed by it reports."""
EXIT_INTERRUPTED = 130
"""The exit code of a command that a Ctrl-C stopped, whatever it saved first: 128 + SIGINT,
as shells report it."""

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


# Each seed is a training run and a directory: more than this many is a typo, and listing
# them would make the command hang before it says anything.
MAX_SEEDS = 10_000

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


# ---------------------------------------------------------------------------- train
def resolve_env(name: str) -> str:
    """A gymnasium id from an id or a preset's short name ("cartpole" -> "CartPole-v1").

    A name that is neither is returned unchanged (the trainer reports it if unknown).
    """
    from .presets import PRESETS

    if name in PRESETS:
        return name
    key = name.lower().replace("_", "").replace("-", "")
    for env_id in PRESETS:
        if key in (env_id.lower().replace("-", ""), env_id.split("-v")[0].lower()):
            return env_id
    return name


def _train_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``train`` keyword arguments from the options (None: the preset's, as in ``train``)."""
    return {"episodes": args.episodes, "policy": args.policy, "features": args.features,
              "estimator": args.estimator, "baseline": args.baseline,
              "normalize_weights": args.normalize_weights, "optimizer": args.optimizer,
              "lr": args.lr, "gamma": args.gamma, "batch_episodes": args.batch,
              "n_envs": args.n_envs, "entropy_coef": args.entropy_coef,
              "max_grad_norm": args.max_grad_norm, "mirror": args.mirror,
              "lr_schedule": args.lr_schedule, "lr_end": args.lr_end,
              "mean_bound_coef": args.mean_bound_coef, "env_kwargs": args.env_kwargs,
              "features_kwargs": args.features_kwargs, "policy_kwargs": args.policy_kwargs,
              "optimizer_kwargs": args.optimizer_kwargs,
              "checkpoint_every": args.checkpoint_every}


class _Progress:
    """A train callback driving a tqdm bar: episodes done and the 100-episode mean return.

    The bar is created at the first update, so an error raised before training starts
    (a bad argument) leaves stderr with its one-line message only. Into a file or pipe it
    is redrawn every 30 s at most, so that a log holds a few lines, not thousands.
    """

    def __init__(self, desc: str, enabled: bool = True) -> None:
        self.desc, self.enabled, self.bar = desc, enabled, None

    def __call__(self, run: Any) -> None:
        from tqdm import tqdm

        if not self.enabled:
            return
        if self.bar is None:
            # into a file or a pipe (a log), a line every 30 s rather than ~10 a second
            interval = 0.1 if sys.stderr.isatty() else 30.0
            self.bar = tqdm(total=run.config["episodes"], desc=self.desc, unit="ep",
                            mininterval=interval)
        self.bar.set_postfix(avg_return=f"{run.episode_returns[-100:].mean():.1f}",
                             refresh=False)          # drawn by update, with the count
        self.bar.update(run.n_episodes - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_out_dir(out: str | os.PathLike, name: str = "--out") -> Path:
    """``out`` as a directory that exists (created if needed), or a clear ValueError.

    Checked before training, so that a path naming an existing file is an error at once
    instead of after the training, with nothing saved.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{name} {str(out)!r} is an existing file, expected a directory "
                         f"(it gets one seed-<k> directory per seed)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{name} {str(out)!r} cannot be created as a directory: "
                         f"{err.strerror or err}") from err
    return out


def check_same_env(out: Path, env_id: str, env_kwargs: dict[str, Any] | None = None,
                   name: str = "--out") -> None:
    """A ValueError if the directory ``out`` holds runs of another environment, or of the
    same one with other ``env_kwargs`` (other physics, such as Pendulum's g).

    Training there would replace the seeds it trains and plot the others in the same figure
    as the new runs; runs of the same environment are a re-run (the seeds trained again are
    replaced, the command says so). ``env_kwargs`` are those the new runs will use (None:
    the preset's, as ``train`` takes them).
    """
    from .presets import preset_env_kwargs, registered_id
    from .rundir import env_label, recorded_env

    runs = _runs_in(out)
    if not runs:                        # nothing, or other files but no runs: nothing to mix
        return
    if env_kwargs is None:
        env_kwargs = preset_env_kwargs(env_id)
    new = env_label(env_id, env_kwargs)
    others: dict[str, list[str]] = {}
    for run_dir in runs:
        held_id, held_kwargs = recorded_env(run_dir)   # config.json, else the checkpoint
        if held_id is None:             # neither readable: it may be anything, keep it
            others.setdefault("an environment its files do not tell", []).append(run_dir.name)
        elif (registered_id(held_id), held_kwargs) != (registered_id(env_id), env_kwargs):
            # {"g": 10} == {"g": 10.0}; "module:Env-v0" is "Env-v0"
            others.setdefault(env_label(held_id, held_kwargs), []).append(run_dir.name)
    if others:
        held = "; ".join(f"{env} ({', '.join(dirs)})" for env, dirs in others.items())
        raise ValueError(f"{name} {str(out)!r} holds runs of {held}; training {new} there "
                         f"would replace or plot together with them: choose another {name}")


def _runs_in(out: Path) -> list[Path]:
    """The seed directories of runs under ``out``; none if it holds no run (or no ``out``)."""
    from .rundir import find_runs

    try:
        return find_runs(out)
    except (ValueError, FileNotFoundError):
        return []


def train_to_dir(env_id: str, out: str | os.PathLike, seeds: Sequence[int], *,
                 n_jobs: int = 1, progress: bool = True, **train_kwargs: Any) -> list[Any]:
    """Train one run per seed and write each to ``out/seed-<k>``; returns the Runs.

    One seed trains in this process with a live progress bar (episodes and the moving
    average of the return); several seeds train in ``n_jobs`` parallel processes
    (joblib), with a bar over the seeds that have finished. Every seed saves its
    checkpoint every ``checkpoint_every`` updates while it trains.

    Ctrl-C returns the runs so far, each written to its directory: one seed stops like
    :func:`~linear_pg.trainer.train`; several seeds are told to stop after their current
    update and each writes its own directory (see :func:`_train_seeds_to_dir`).
    """
    created = missing_directories(out)[1]
    out = check_out_dir(out)
    try:
        runs = _train_into(env_id, out, list(seeds), n_jobs, progress, **train_kwargs)
    except BaseException:
        remove_empty(created)             # a refused or failed train leaves no directory
        raise
    if not runs:
        remove_empty(created)
    return runs


def _train_into(env_id: str, out: Path, seeds: list[int], n_jobs: int, progress: bool,
                **train_kwargs: Any) -> list[Any]:
    """:func:`train_to_dir` once ``out`` exists."""
    from .rundir import CHECKPOINT_FILE, HISTORY_FILE, seed_dir, write_run

    if (out / HISTORY_FILE).is_file() or (out / CHECKPOINT_FILE).is_file():
        raise ValueError(f"--out {str(out)!r} is the directory of one seed's run; train writes "
                         f"a seed-<k> directory per seed inside --out: give the directory "
                         f"that holds it ({str(out.resolve().parent)!r}) or another one")
    check_same_env(out, env_id, train_kwargs.get("env_kwargs"))
    seeds = list(seeds)
    _check_files_to_write(out, seeds)
    if len(seeds) == 1:
        callback = _Progress(f"{env_id} seed {seeds[0]}", enabled=progress)
        earlier = {seeds[0]: _stamp(_checkpoint_path(out, seeds[0]))}
        try:
            run = _train_seed(env_id, out, train_kwargs, seeds[0], callback)
        except Exception:
            # an error in training (the env's, say): train saved the completed updates;
            # write the seed's history.csv and config.json to match, then let it go on
            _keep_checkpoints(out, _saved_in_this_job(out, seeds, earlier), earlier)
            raise
        finally:
            callback.close()
        write_run(run, seed_dir(out, seeds[0]), checkpoint=False)   # train saved it
        return [run]
    return _train_seeds_to_dir(env_id, out, seeds, n_jobs=n_jobs, progress=progress,
                               **train_kwargs)


def _check_files_to_write(out: Path, seeds: Sequence[int]) -> None:
    """Before training: each file train writes at the end can be written (not, say, a
    directory of that name), so that the runs are not lost to an error after training."""
    from .rundir import CHECKPOINT_FILE, CONFIG_FILE, HISTORY_FILE, seed_dir

    files = [seed_dir(out, seed) / name for seed in seeds
             for name in (HISTORY_FILE, CONFIG_FILE, CHECKPOINT_FILE)]
    files += [out / f"{PLOT_FILE}{suffix}" for suffix in (".png", ".svg")]
    for path in files:
        if path.is_dir():
            raise ValueError(f"--out {str(out)!r} holds a directory {str(path)!r} where train "
                             f"writes a file: remove it or choose another --out")
        check_output_file(path, "--out", path.name)


def _with_history(callback: Callable[[Any], None], directory: Path,
                  every: int) -> Callable[[Any], None]:
    """``callback``, followed, after each update that train ends by saving its checkpoint
    (every ``every``-th), by the run's history.csv and config.json in ``directory``: the
    seed directory holds the files of one run, at most one checkpoint period apart (a
    kill between the writes leaves history.csv a period ahead). Killed outright, by
    SIGKILL or a power cut, it held the new run's checkpoint beside an earlier run's
    history and config, or, in a fresh directory, the checkpoint alone. (Within the first
    period of a run trained into an earlier run's directory, a kill between the writes can
    still leave the new history beside the old checkpoint.) A failed write is a warning:
    the training goes on, and the files are written again later."""
    from .rundir import write_run
    from .trainer import checkpoint_due

    def call(run: Any) -> None:
        callback(run)
        if checkpoint_due(run, every):
            try:
                write_run(run, directory, checkpoint=False)
            except (OSError, ValueError) as err:    # e.g. history.csv locked by an editor
                import warnings

                warnings.warn(f"{directory}: could not write history.csv and config.json "
                              f"after {run.n_episodes} episodes ({_one_line(err)}); training "
                              f"goes on, and they are written again at the next checkpoint "
                              f"and at the end", RuntimeWarning, stacklevel=2)
    return call


def _checkpoint_path(out: Path, seed: int) -> Path:
    from .rundir import CHECKPOINT_FILE, seed_dir

    return seed_dir(out, seed) / CHECKPOINT_FILE


def _train_seed(env_id: str, out: Path, train_kwargs: dict[str, Any], seed: int,
                callback: Callable[[Any], None]) -> Any:
    """Train one seed with ``callback``, saving its checkpoint and, at each checkpoint, its
    history.csv and config.json in ``out/seed-<seed>``; return the Run."""
    from .rundir import seed_dir
    from .trainer import CHECKPOINT_EVERY, train

    every = train_kwargs.get("checkpoint_every", CHECKPOINT_EVERY)
    with _quiet_idle_envs():
        return train(env_id, seed=seed,
                     callback=_with_history(callback, seed_dir(out, seed), every),
                     checkpoint_path=_checkpoint_path(out, seed), **train_kwargs)


def _train_seed_to_dir(env_id: str, out: Path, train_kwargs: dict[str, Any], seed: int,
                       callback: Callable[[Any], None]) -> Any:
    """Train one seed with ``callback``, write ``out/seed-<seed>``, return the Run."""
    from .rundir import seed_dir, write_run

    run = _train_seed(env_id, out, train_kwargs, seed, callback)
    write_run(run, seed_dir(out, seed), checkpoint=False)          # train saved it
    return run


def _resumed(run_dir: Path, episodes: int | None, checkpoint_every: int,
             callback: Callable[[Any], None]) -> Any:
    """Resume the seed directory ``run_dir`` from its checkpoint with ``callback``, saving
    the checkpoint and, at each, history.csv and config.json there; return the Run."""
    from .resuming import resume
    from .rundir import CHECKPOINT_FILE

    path = run_dir / CHECKPOINT_FILE
    return resume(path, episodes=episodes, checkpoint_path=path,
                  checkpoint_every=checkpoint_every,
                  callback=_with_history(callback, run_dir, checkpoint_every))


def _resume_seed_dir(out: Path, episodes: int | None, checkpoint_every: int, seed: int,
                     callback: Callable[[Any], None]) -> Any:
    """Resume ``out/seed-<seed>`` from its checkpoint with ``callback``, rewrite the
    directory, return the Run."""
    from .rundir import seed_dir, write_run

    run = _resumed(seed_dir(out, seed), episodes, checkpoint_every, callback)
    write_run(run, seed_dir(out, seed), checkpoint=False)          # resume saved it
    return run


def _seed_in_worker(task: Callable[[int, Callable[[Any], None]], Any], seed: int,
                    stop_file: str, parent_pid: int, here: Place, command: str) -> Any:
    """In a worker process, from the parent's directory and Python path ``here``
    (:mod:`linear_pg._workers`): ``task(seed, callback)``, which trains one seed and writes
    its directory, with a callback that stops it when the parent asks. Its warnings print
    as one line under ``command``, as the parent's do.

    The parent asks every worker to stop by creating ``stop_file``: the worker checks for it
    after every update and stops as at Ctrl-C (``stopped_reason="interrupted"``), or does not
    start at all (returns None). A worker process (not ``parent_pid``, which runs the
    seeds itself when n_jobs is 1) ignores SIGINT, which a Ctrl-C in a terminal sends to
    every process of the group: an idle loky worker would die of it and take the whole
    pool, and the runs in it, down with it. It ignores SIGTERM too (a scheduler may send it
    to the whole group): the parent's handler stops the seeds through ``stop_file``.
    """
    import warnings

    in_worker = os.getpid() != parent_pid
    if in_worker:
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        take_place(here)
    if os.path.exists(stop_file):
        return None

    def stop_if_asked(run: Any) -> None:
        if os.path.exists(stop_file):
            raise KeyboardInterrupt

    with warnings.catch_warnings():       # restored after the task: loky reuses the worker
        if in_worker:
            warnings.showwarning = _warning_as_line(command)
        return task(seed, stop_if_asked)


class _StopOnSigint:
    """While active, the first SIGINT or SIGTERM creates ``stop_file`` (the workers stop at
    their next update); the next one raises KeyboardInterrupt as usual (stop at once)."""

    def __init__(self, stop_file: str) -> None:
        self.stop_file, self.previous = stop_file, {}

    def __enter__(self) -> _StopOnSigint:
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        Path(self.stop_file).touch()
        # a second SIGTERM stops as Ctrl-C does only inside main (_signals_as_ctrl_c);
        # elsewhere its default handler would end the process with nothing kept
        term_as_ctrl_c = self.previous.get(signal.SIGTERM) is signal.default_int_handler
        self._restore()
        again = ("another SIGTERM or a Ctrl-C" if signum == signal.SIGTERM and term_as_ctrl_c
                 else "Ctrl-C again")
        print(f"{_me()} interrupted, stopping every seed after its current update and "
              f"saving it ({again} to stop at once, keeping the last checkpoints)",
              file=sys.stderr)

    def _restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}

    def __exit__(self, *exc: object) -> None:
        self._restore()


_running_command = "train"
"""The command running in this process (set by :func:`_warnings_as_lines`), which the
worker processes' warnings are printed under."""


def _me() -> str:
    """``linear-pg COMMAND:``, the start of the command's messages."""
    return f"linear-pg {_running_command}:"


_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
"""Terminal colour codes, as in gymnasium's "\x1b[33mWARN: ...\x1b[0m"."""


def _print_warning(command: str, text: str, file: Any = None) -> None:
    """``linear-pg COMMAND: warning: text`` on ``file`` (stderr), in one write: the lines of
    workers sharing stderr stay whole. The command's own warnings and Python's (through
    :func:`_warning_as_line`) print so."""
    (file if file is not None else sys.stderr).write(
        f"linear-pg {command}: warning: {text}\n")


def _warning_as_line(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints ``linear-pg COMMAND: warning: ...``."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        # gymnasium colours its warnings
        _print_warning(command, _ANSI_STYLE.sub("", _one_line(message)), file)
    return show


@contextlib.contextmanager
def _warnings_as_lines(command: str) -> Iterator[None]:
    """A context in which a warning prints as one line, ``linear-pg COMMAND: warning:
    ...``, like the command's errors, rather than Python's file:line and source line (the
    worker processes of several seeds print theirs so too: :func:`_seed_in_worker`)."""
    import warnings

    global _running_command
    previous, _running_command = _running_command, command
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_as_line(command)
            yield
    finally:
        _running_command = previous


@contextlib.contextmanager
def _signals_as_ctrl_c() -> Iterator[None]:
    """A context in which SIGTERM (``kill``, ``timeout``, a job scheduler) raises
    KeyboardInterrupt, as Ctrl-C does: a run stops after its current update and is saved,
    and parallel seeds stop too (killed outright, the parent left its worker processes
    training on, and a seed directory half old run, half new)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _train_seeds_to_dir(env_id: str, out: Path, seeds: list[int], *, n_jobs: int,
                        progress: bool, **train_kwargs: Any) -> list[Any]:
    """Several seeds trained in parallel processes (:func:`_seeds_in_workers`)."""
    import functools

    return _seeds_in_workers(functools.partial(_train_seed_to_dir, env_id, out, train_kwargs),
                             out, seeds, n_jobs=n_jobs, progress=progress, desc=env_id)


def _seeds_in_workers(task: Callable[[int, Callable[[Any], None]], Any], out: Path,
                      seeds: list[int], *, n_jobs: int, progress: bool,
                      desc: str) -> list[Any]:
    """``task(seed, callback)`` for every seed in parallel processes, each writing its own
    directory ``out/seed-<k>``; returns the Runs of the seeds that ran.

    A first Ctrl-C stops every seed after its current update (each writes its run so far);
    a second one stops at once, and the seeds not written yet are rebuilt from their last
    periodic checkpoint (:func:`_keep_checkpoints`) before the KeyboardInterrupt goes on.
    """
    import shutil
    import tempfile
    from concurrent.futures.process import BrokenProcessPool

    from joblib import Parallel, delayed
    from tqdm import tqdm

    earlier = {s: _stamp(_checkpoint_path(out, s)) for s in seeds}   # before this job
    stop_dir = tempfile.mkdtemp(prefix="linear_pg-stop-")
    stop_file = os.path.join(stop_dir, "stop")
    runs, bar = [], None        # the bar appears with the first finished seed
    reported: set[int] = set()  # seeds whose fate a message has told
    try:
        with _StopOnSigint(stop_file):
            jobs = Parallel(n_jobs=min(n_jobs, len(seeds)), return_as="generator")(
                delayed(_seed_in_worker)(task, s, stop_file, os.getpid(), callers_place(),
                                         _running_command)
                for s in seeds)
            for run in jobs:
                if run is None:
                    continue
                runs.append(run)
                if progress:
                    bar = bar or tqdm(total=len(seeds), desc=f"{desc} seeds", unit="seed")
                    bar.update(1)
                    bar.set_postfix(last_avg_return=f"{run.episode_returns[-100:].mean():.1f}")
    except KeyboardInterrupt:
        _keep_checkpoints(out, [s for s in seeds if s not in {r.seed for r in runs}], earlier)
        raise
    except BrokenProcessPool:
        if not os.path.exists(stop_file):
            raise
        # The Ctrl-C reached a worker that was still starting (before it could ignore
        # SIGINT) and killed it, and with it the pool: keep what the others saved.
        print(f"{_me()} a worker process was still starting when Ctrl-C came and stopped "
              "with it; the seeds that had not finished keep their last checkpoint",
              file=sys.stderr)
        unfinished = [s for s in seeds if s not in {r.seed for r in runs}]
        runs.extend(_keep_checkpoints(out, unfinished, earlier))
        reported.update(unfinished)
    except Exception:
        # an error in a seed's training (the env's, say): the seeds that saved a checkpoint
        # in this job get their history.csv and config.json from it, then the error goes on
        unfinished = [s for s in seeds if s not in {r.seed for r in runs}]
        _keep_checkpoints(out, _saved_in_this_job(out, unfinished, earlier), earlier)
        raise
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(stop_dir, ignore_errors=True)
    skipped = sorted(set(seeds) - {r.seed for r in runs} - reported)
    if skipped:
        print(f"{_me()} interrupted before seeds {skipped} started; they have no "
              f"directory", file=sys.stderr)
    return runs


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, modification time) of a file, None if there is none: a checkpoint
    written since has another (it is written to a new file that replaces the old one)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _saved_in_this_job(out: Path, seeds: list[int],
                       earlier: dict[int, tuple[int, int, int] | None]) -> list[int]:
    """The seeds whose checkpoint this job has written: there now, and not the one
    ``earlier`` recorded (:func:`_stamp`) before it started."""
    return [s for s in seeds if _stamp(_checkpoint_path(out, s)) not in (None, earlier[s])]


def _keep_checkpoints(out: Path, seeds: list[int],
                      earlier: dict[int, tuple[int, int, int] | None] | None = None
                      ) -> list[Any]:
    """After a hard stop: write each seed's directory from its last checkpoint, and say so;
    returns the Runs kept. A checkpoint that is still the one ``earlier`` recorded before
    this job started is an earlier run's, not this job's: it is left as it was."""
    from .checkpoint import load_run
    from .rundir import seed_dir, write_run

    kept = []
    for seed in seeds:
        path = _checkpoint_path(out, seed)
        if not path.is_file():
            print(f"{_me()} {seed_dir(out, seed)}: no checkpoint yet, nothing kept",
                  file=sys.stderr)
            continue
        if earlier is not None and earlier.get(seed) == _stamp(path):
            print(f"{_me()} {seed_dir(out, seed)}: no checkpoint of this run yet; its "
                  f"earlier files are left as they were", file=sys.stderr)
            continue
        try:
            run = load_run(path)
            if run.stopped_reason is None and run.n_episodes < run.config["episodes"]:
                run.stopped_reason = "interrupted"
            write_run(run, seed_dir(out, seed))
        except (ValueError, OSError) as err:
            print(f"{_me()} {seed_dir(out, seed)}: its checkpoint could not be read back "
                  f"({_one_line(err)}); kept as it is", file=sys.stderr)
            continue
        print(f"{_me()} {seed_dir(out, seed)}: kept its last checkpoint "
              f"({run.n_episodes} episodes)", file=sys.stderr)
        kept.append(run)
    return kept


def cmd_train(args: argparse.Namespace) -> int:
    from .plotting import plot_run_dirs
    from .rundir import find_runs, seed_dir

    env_id = resolve_env(args.env)
    out = Path(args.out) if args.out is not None else Path("runs") / env_id
    seeds = range(args.seed, args.seed + args.seeds)
    n_jobs = args.jobs if args.jobs is not None else min(args.seeds, os.cpu_count() or 1)
    held = {d.name for d in _runs_in(out)}
    replaced = [seed_dir(out, s).name for s in seeds if seed_dir(out, s).name in held]
    _warn_idle_envs(env_id, args)
    runs = train_to_dir(env_id, out, seeds, n_jobs=n_jobs, progress=not args.quiet,
                        **_train_kwargs(args))
    if not runs:                          # a Ctrl-C before any seed could save anything
        print(f"linear-pg train: interrupted before any seed saved a run; nothing written "
              f"in {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    figures = plot_run_dirs([out])        # before any print: a closed pipe stops at one
    for run in runs:
        print(f"{seed_dir(out, run.seed)}: {run.n_episodes} episodes, {_outcome(run)}")
    print(f"wrote history.csv, config.json, checkpoint.npz in each {out}/seed-<k>")
    if args.mirror is None and runs[0].config.get("mirror") is None and \
            (_preset(env_id) or {}).get("mirror"):
        print(f"note: {env_id}'s preset mirror (learning from each episode's mirror image) is "
              f"off with other --features, --policy or their kwargs; add --mirror to keep it",
              file=sys.stderr)
    if replaced:
        print(f"note: replaced {', '.join(replaced)} of an earlier run in {out}")
    older = [d for d in find_runs(out) if d not in {seed_dir(out, s) for s in seeds}]
    if older:
        print(f"note: {out} also holds {', '.join(d.name for d in older)} from an earlier "
              f"run; the figure includes them")
        _warn_other_settings(out, older, runs[0].config)
    print(f"wrote {', '.join(str(p) for p in figures)}")
    return _exit_code(runs)


def _warn_idle_envs(env_id: str, args: argparse.Namespace) -> None:
    """Before training: say so (in the options' names) when --n-envs is more than the
    episodes per update, instead of train's IdleEnvsWarning from every seed."""
    from .settings import resolved_settings

    if args.n_envs <= 1:
        return
    settings = {k: v for k, v in _train_kwargs(args).items() if k != "checkpoint_every"}
    try:
        batch = resolved_settings(env_id, **settings)["batch_episodes"]
    except (ValueError, TypeError):
        return                              # train says what is wrong with the settings
    if args.n_envs > batch:
        whose = ("--batch" if args.batch is not None else
                 "the preset's --batch" if _preset(env_id) is not None else
                 "the default --batch")
        _print_warning(args.command, f"--n-envs {args.n_envs} is more than the episodes per "
                                     f"update ({whose} {batch}): {args.n_envs - batch} of the "
                                     f"{args.n_envs} sub-environments step idle; give --n-envs "
                                     f"{batch} or a larger --batch")


@contextlib.contextmanager
def _quiet_idle_envs() -> Iterator[None]:
    """A context in which train's IdleEnvsWarning is not shown (the CLI said it once)."""
    import warnings

    from .settings import IdleEnvsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdleEnvsWarning)
        yield


def _preset(env_id: str) -> dict[str, Any] | None:
    """The preset of ``env_id``, or None if it has none (train then derives defaults from
    its spaces, which have no mirror)."""
    from .presets import get_preset

    try:
        return get_preset(env_id)
    except ValueError:
        return None


def _warn_other_settings(out: Path, older: list[Path], config: dict[str, Any]) -> None:
    """Say which of ``older``'s seeds were trained with settings other than ``config``:
    the figure, ``evaluate`` and ``plot`` of ``out`` average them all together."""
    from .rundir import recorded_config, settings_differ

    for d in older:
        theirs = recorded_config(d)[1]    # config.json, else the checkpoint's
        if not theirs:
            continue                      # unreadable: the env guard has said what it can
        differ = settings_differ(config, theirs)
        if differ:
            shown = "; ".join(f"{k} {json.dumps(theirs.get(k))} there, "
                              f"{json.dumps(config.get(k))} here" for k in differ[:3])
            _print_warning("train", f"{d} was trained with other settings ({shown}"
                                    f"{'; ...' if len(differ) > 3 else ''}): {out}'s figure, "
                                    f"evaluate and plot average it with this run's seeds; give "
                                    f"another --out to keep them apart")


# ---------------------------------------------------------------------------- resume
def cmd_resume(args: argparse.Namespace) -> int:
    import functools

    from .checkpoint import load_run
    from .plotting import plot_run_dirs
    from .rundir import CHECKPOINT_FILE, find_runs, seed_dir

    run_dirs = find_runs(args.run_dir)
    missing = [str(d / CHECKPOINT_FILE) for d in run_dirs if not (d / CHECKPOINT_FILE).is_file()]
    if missing:
        raise FileNotFoundError(f"no checkpoint to resume from: {', '.join(missing)}")
    todo: list[tuple[Path, int, int]] = []     # (its directory, training seed, episodes)
    for run_dir in run_dirs:
        saved = load_run(run_dir / CHECKPOINT_FILE)
        target = args.episodes if args.episodes is not None else saved.config["episodes"]
        state = saved.train_state
        redo = state is not None and state["updates"] < saved.update_episodes.size
        if saved.n_episodes >= target and not redo:     # even if Ctrl-C came after the end
            print(f"{run_dir}: {saved.n_episodes} episodes already, nothing to resume")
        elif saved.stopped_reason is not None and saved.stopped_reason.startswith("diverged"):
            print(f"{run_dir}: not resumed, it stopped as {saved.stopped_reason}")
        else:
            todo.append((run_dir, saved.seed, saved.n_episodes))
    out = Path(args.run_dir)
    seeds = [seed for _, seed, _ in todo]
    n_jobs = args.jobs if args.jobs is not None else min(len(todo), os.cpu_count() or 1)
    # worker processes write out/seed-<seed>: only for directories named by distinct seeds
    if n_jobs > 1 and len(todo) > 1 and len(set(seeds)) == len(seeds) and \
            all(d == seed_dir(out, seed) for d, seed, _ in todo):
        task = functools.partial(_resume_seed_dir, out, args.episodes, args.checkpoint_every)
        runs = _seeds_in_workers(task, out, seeds, n_jobs=n_jobs, progress=not args.quiet,
                                 desc="resume")
        done = [(seed_dir(out, run.seed), run) for run in runs]
    else:
        done = []
        for run_dir, seed, _ in todo:
            done.append((run_dir, _resume_here(run_dir, args, seed)))
            if done[-1][1].stopped_reason == "interrupted":
                waiting = [str(d) for d, _, _ in todo[len(done):]]
                if waiting:                             # Ctrl-C: the other seeds wait
                    print(f"{_me()} not resumed (interrupted before they started): "
                          f"{', '.join(waiting)}", file=sys.stderr)
                break
    before = {run_dir: n for run_dir, _, n in todo}
    figures = plot_run_dirs([_figure_dir(args.run_dir)])  # before any print (a closed pipe)
    for run_dir, run in done:
        print(f"{run_dir}: {before.get(run_dir, '?')} -> {run.n_episodes} episodes, "
              f"{_outcome(run)}")
    print(f"wrote {', '.join(str(p) for p in figures)}")
    return _exit_code([run for _, run in done])


def _exit_code(runs: Sequence[Any]) -> int:
    """0; EXIT_INTERRUPTED when a Ctrl-C stopped any of ``runs`` (each saved as it stood):
    the job is not complete, and a script that goes on with ``&&`` should not go on; else
    EXIT_DIVERGED when any of them diverged (saved with its last finite parameters)."""
    reasons = [r.stopped_reason or "" for r in runs]
    if "interrupted" in reasons:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if any(r.startswith("diverged") for r in reasons) else 0


def _figure_dir(run_dir: str | os.PathLike) -> Path:
    """Where the figure of a resumed run goes: the directory of all its seeds when
    ``run_dir`` is one of them (``RUN/seed-0``: RUN/learning_curve, the figure train wrote),
    else ``run_dir`` itself."""
    import re

    run_dir = Path(run_dir)
    parent = run_dir.parent if run_dir.name else run_dir.resolve().parent   # "." too
    if re.match(r"^seed-\d+$", run_dir.resolve().name) and \
            run_dir.resolve() in {d.resolve() for d in _runs_in(parent)}:
        return parent
    return run_dir


def _resume_here(run_dir: Path, args: argparse.Namespace, seed: int) -> Any:
    """Resume one seed directory in this process, with a progress bar."""
    from .rundir import write_run

    callback = _Progress(f"resume seed {seed}", enabled=not args.quiet)
    try:
        run = _resumed(run_dir, args.episodes, args.checkpoint_every, callback)
    finally:
        callback.close()
    write_run(run, run_dir, checkpoint=False)                     # resume saved it
    return run


def _outcome(run: Any) -> str:
    """'mean return of the last 100 487.3' and, if it stopped early, why."""
    last = run.episode_returns[-100:]
    status = f", stopped: {run.stopped_reason}" if run.stopped_reason else ""
    if last.size == 0:                    # stopped in its first batch
        return f"no training episode kept{status}"
    return f"mean return of the last {last.size} {last.mean():.1f}{status}"


# ---------------------------------------------------------------------------- plot
def cmd_plot(args: argparse.Namespace) -> int:
    from .plotting import plot_run_dirs

    if len(args.dirs) > 1 and args.out is None:
        raise ValueError(f"--out FILE is required to plot several DIRs together (the default "
                         f"DIR/learning_curve would replace the figure of {args.dirs[0]} "
                         f"with the comparison)")
    paths = plot_run_dirs(args.dirs, plot_out(args.out), labels=args.labels,
                          title=args.title, window=args.window, threshold=args.threshold)
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0


PLOT_FILE = "learning_curve"


def _file_or_inside(out: str, name: str) -> Path:
    """``out`` as a file path, or ``out/name`` when ``out`` is an existing directory or ends
    with a path separator (``plot --out`` and ``render --out``)."""
    if out.endswith(("/", os.sep)) or Path(out).is_dir():
        return Path(out) / name
    return Path(out)


def plot_out(out: str | None) -> Path | None:
    """The figure path of ``plot --out``: as given, or learning_curve inside ``out`` when it
    is an existing directory or ends with a path separator (as ``render --out``)."""
    return None if out is None else _file_or_inside(out, PLOT_FILE)


# ---------------------------------------------------------------------------- evaluate
def cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .divergence import _count
    from .evaluation import evaluate
    from .rundir import env_label, find_runs, load_run_dir, repeated_dirs

    groups = [(d, find_runs(d)) for d in args.run_dirs]   # every DIR checked before any run
    twice = repeated_dirs([r for _, run_dirs in groups for r in run_dirs])
    if twice:
        raise ValueError(f"the run directories given hold the same seed directory more than "
                         f"once: {twice}")
    for d, run_dirs in groups:
        means = []
        for run_dir in run_dirs:
            run = load_run_dir(run_dir)
            returns = evaluate(run, args.episodes, mean_action=not args.sample, seed=args.seed,
                               env_kwargs=args.env_kwargs, n_envs=args.n_envs)
            means.append(returns.mean())
            print(f"{run_dir} ({env_label(run.env_id, _used_env_kwargs(run, args))}, seed "
                  f"{run.seed}): return {_spread(returns)} over "
                  f"{_count(returns.size, 'episode')}, {_acting(run, args.sample)}")
        if len(means) > 1:
            where = f"{d}: " if len(groups) > 1 else ""
            print(f"{where}over {len(means)} seeds: {_spread(np.array(means))} of the "
                  f"per-seed means")
    return 0


def _acting(run: Any, sample: bool) -> str:
    """How evaluate acted: the policy's samples, or its mean or most likely action."""
    if sample:
        return "sampled actions"
    return "mean action" if run.policy.kind == "gaussian" else "most likely action"


def _spread(values: Any) -> str:
    """"mean ± sample std (standard error s)" of ``values``; one value is only its mean.

    The sample std (ddof 1) and the standard error are those of
    :func:`linear_pg.benchmark.standard_error` and the figures' t-intervals.
    """
    from .benchmark import standard_error

    if values.size < 2:
        return f"{values.mean():.2f}"
    return (f"{values.mean():.2f} ± {values.std(ddof=1):.2f} (mean ± std; standard error "
            f"{standard_error(values):.2f})")


def _used_env_kwargs(run: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The env_kwargs evaluate and render use: ``--env-kwargs``, else the run's own."""
    return args.env_kwargs if args.env_kwargs is not None else run.config.get("env_kwargs", {})


# ---------------------------------------------------------------------------- render
RENDER_FILE = "episode.gif"


def render_out(out: str | None, run_dir: str) -> Path:
    """The GIF path of ``render --out``: RUN_DIR/episode.gif by default, and episode.gif
    inside ``out`` when it is an existing directory or ends with a path separator."""
    path = Path(run_dir) / RENDER_FILE if out is None else _file_or_inside(out, RENDER_FILE)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"--out {out!r} must name a .gif file or a directory (an animated "
                         f"GIF is written)")
    return path


def cmd_render(args: argparse.Namespace) -> int:
    from .render import render_gif
    from .rundir import env_label, find_runs, load_run_dir

    runs = find_runs(args.run_dir)
    run = load_run_dir(runs[0])
    out = render_out(args.out, args.run_dir)
    path, n_frames, total = render_gif(run, out, seed=args.seed, mean_action=not args.sample,
                                       frame_skip=args.frame_skip, max_frames=args.max_frames,
                                       fps=args.fps, scale=args.scale,
                                       env_kwargs=args.env_kwargs)
    which = f"the first of {len(runs)} seeds, " if len(runs) > 1 else ""
    print(f"{runs[0]} ({which}{env_label(run.env_id, _used_env_kwargs(run, args))}): "
          f"episode return {total:.1f}")
    print(f"wrote {path} ({n_frames} frame{'s' if n_frames != 1 else ''})")
    return 0


# ---------------------------------------------------------------------------- gradcheck
def cmd_gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import check_all_policies

    reports = check_all_policies(args.seed)
    for report in reports:
        print(report)
        print()
    failed = [r for r in reports if not r.passed]
    print(f"{len(reports) - len(failed)} of {len(reports)} gradient checks passed")
    return 1 if failed else 0


# ---------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    import json

    from ._json import to_builtin
    from .speed import benchmark_report, markdown_table

    path = None if args.json is None else check_out_file(args.json, "--json", "bench.json")
    report = benchmark_report(quick=args.quick, seeds=args.seeds, n_jobs=args.jobs,
                              progress=not args.quiet)
    print(markdown_table(report["rows"]))
    if path is not None:
        text = json.dumps(to_builtin(report, finite_only=True), indent=2, allow_nan=False)
        with replacing(path) as tmp:      # an earlier file survives a failed write
            tmp.write_text(text + "\n")
        print(f"wrote {path}")
    return 0


def check_out_file(out: str, name: str, example: str) -> Path:
    """``out`` as the path of a file to write after a long job (``_files.check_output_file``,
    which checks now that it can be written); a trailing path separator also names a
    directory."""
    if out.endswith(("/", os.sep)):
        raise ValueError(f"{name} {out!r} is a directory, expected a file path such as "
                         f"{str(Path(out) / example)!r}")
    return check_output_file(out, name, example)


# ---------------------------------------------------------------------------- parser
def _command(sub: Any, name: str, help: str, description: str, examples: str
             ) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description,
                          epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
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
    p.set_defaults(func=cmd_train)

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
    p.set_defaults(func=cmd_resume)

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
    p.set_defaults(func=cmd_plot)

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
    p.set_defaults(func=cmd_evaluate)

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
    p.set_defaults(func=cmd_render)

    p = _command(sub, "gradcheck", "check every analytic score against finite differences",
                 "Compare grad log pi of every policy family with central finite differences\n"
                 "at random parameters, features and actions. Prints one table per policy;\n"
                 "the exit code is 1 if any check fails.",
                 "  python -m linear_pg gradcheck\n"
                 "  python -m linear_pg gradcheck --seed 3\n")
    p.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S",
                   help="seed of the random test points (default: 0)")
    p.set_defaults(func=cmd_gradcheck)

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
    p.set_defaults(func=cmd_bench)
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


# train's keyword arguments that an option of another name sets (the others are the option's
# name with "_" for "-")
_PYTHON_NAMES = {"batch": "batch_episodes"}


def _name_options(message: str, args: argparse.Namespace,
                  command: argparse.ArgumentParser) -> str:
    """The library's messages name its Python arguments (``lr_end must be <= 1.0``); on the
    command line, name the option instead (``--lr-end must be <= 1.0``).

    A snake_case argument is named wherever it stands as a word of its own (not inside a
    path). A one-word one (``gamma``) only when its option was given with a value other
    than its default, and as the message's first word, where it is the subject
    (``features`` in the middle of a message is the word, not the option).
    """
    for action in command._actions:
        if not action.option_strings:
            continue
        option = next((o for o in action.option_strings if o.startswith("--")),
                      action.option_strings[0])       # --mirror, not --no-mirror
        name = _PYTHON_NAMES.get(action.dest, action.dest)
        if "_" in name:
            message = re.sub(rf"(?<![\w/\\.-]){name}(?![\w/\\-])", option, message)
            message = message.replace(f"{option}, {option}", option)  # "frame_skip, --..."
            continue
        value = getattr(args, action.dest, None)
        given = value not in (None, False) and value != command.get_default(action.dest)
        if given and message.split(" ", 1)[0] == name:
            message = option + message[len(name):]
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    Errors in the arguments (including those the library finds: an unknown env, a policy
    that does not fit the action space, a missing checkpoint, a directory that is not a
    run) print one line on stderr and return 2.
    """
    import gymnasium as gym

    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:       # the parser of the command they follow says so, with its --help
            given, first = list(sys.argv[1:] if argv is None else argv), unknown[0]
            after = first not in given or (args.command in given and
                                           given.index(args.command) < given.index(first))
            (parser.commands[args.command] if after else parser).error(
                f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    _import_from_cwd()
    try:
        with _signals_as_ctrl_c(), _warnings_as_lines(args.command):
            code = args.func(args)
            sys.stdout.flush()            # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:               # `linear-pg ... | head -1`: the reader has left
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (ValueError, TypeError, OSError, gym.error.Error) as err:
        message = _name_options(_one_line(err), args, parser.commands[args.command])
        print(f"linear-pg {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_ARGS
    except MemoryError as err:            # e.g. --n-envs 100000000: buffers of 763 GiB
        print(f"linear-pg {args.command}: error: out of memory ({_one_line(err)}); ask for "
              f"fewer --n-envs, seeds or episodes", file=sys.stderr)
        return EXIT_BAD_ARGS
    except KeyboardInterrupt:
        print(f"linear-pg {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _import_from_cwd() -> None:
    """Let modules in the current directory be imported, as ``python -m linear_pg`` does
    and the installed ``linear-pg`` script does not: an env id ``"myenvs:Target-v0"``
    imports ``myenvs`` from there."""
    if not ({"", ".", os.getcwd()} & set(sys.path)):
        sys.path.insert(0, os.getcwd())


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still
    buffered does not fail again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # stdout without a file descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
