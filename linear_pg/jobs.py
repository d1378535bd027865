"""Training and resuming seeds into run directories, for the command line: one seed in this
process with a progress bar, several in joblib worker processes. Each seed saves its
checkpoint, history.csv and config.json as it trains; Ctrl-C or SIGTERM stops every seed
after its current update, and what the seeds saved is kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _console
from ._console import command_prefix, one_line, warning_as_line
from ._files import check_output_file, missing_directories, remove_empty
from ._workers import Place, callers_place, take_place

if TYPE_CHECKING:
    from tqdm import tqdm

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop training as Ctrl-C does: the run so far is saved."""

PLOT_FILE = "learning_curve"
"""The name of a run directory's learning-curve figure (.png and .svg)."""


class Progress:
    """A train callback driving a tqdm bar: episodes done and the 100-episode mean return.

    The bar is created at the first update, so an error raised before training starts
    (a bad argument) leaves stderr with its one-line message only. Into a file or pipe it
    is redrawn every 30 s at most, so that a log holds a few lines, not thousands.
    """

    bar: tqdm | None

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

    runs = runs_in(out)
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


def runs_in(out: Path) -> list[Path]:
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
        callback = Progress(f"{env_id} seed {seeds[0]}", enabled=progress)
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
                              f"after {run.n_episodes} episodes ({one_line(err)}); training "
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


def resumed_seed(run_dir: Path, episodes: int | None, checkpoint_every: int,
                 callback: Callable[[Any], None]) -> Any:
    """Resume the seed directory ``run_dir`` from its checkpoint with ``callback``, saving
    the checkpoint and, at each, history.csv and config.json there; return the Run."""
    from .resuming import resume
    from .rundir import CHECKPOINT_FILE

    path = run_dir / CHECKPOINT_FILE
    return resume(path, episodes=episodes, checkpoint_path=path,
                  checkpoint_every=checkpoint_every,
                  callback=_with_history(callback, run_dir, checkpoint_every))


def resume_seed_dir(out: Path, episodes: int | None, checkpoint_every: int, seed: int,
                    callback: Callable[[Any], None]) -> Any:
    """Resume ``out/seed-<seed>`` from its checkpoint with ``callback``, rewrite the
    directory, return the Run."""
    from .rundir import seed_dir, write_run

    run = resumed_seed(seed_dir(out, seed), episodes, checkpoint_every, callback)
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
            warnings.showwarning = warning_as_line(command)
        return task(seed, stop_if_asked)


class _StopOnSigint:
    """While active, the first SIGINT or SIGTERM creates ``stop_file`` (the workers stop at
    their next update); the next one raises KeyboardInterrupt as usual (stop at once)."""

    previous: dict[signal.Signals, Any]
    """The handlers that ``signal.signal`` replaced, to restore."""

    def __init__(self, stop_file: str) -> None:
        self.stop_file, self.previous = stop_file, {}

    def __enter__(self) -> _StopOnSigint:
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        Path(self.stop_file).touch()
        # a second SIGTERM stops as Ctrl-C does only inside main (signals_as_ctrl_c);
        # elsewhere its default handler would end the process with nothing kept
        term_as_ctrl_c = self.previous.get(signal.SIGTERM) is signal.default_int_handler
        self._restore()
        again = ("another SIGTERM or a Ctrl-C" if signum == signal.SIGTERM and term_as_ctrl_c
                 else "Ctrl-C again")
        print(f"{command_prefix()} interrupted, stopping every seed after its current update and "
              f"saving it ({again} to stop at once, keeping the last checkpoints)",
              file=sys.stderr)

    def _restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}

    def __exit__(self, *exc: object) -> None:
        self._restore()


def _train_seeds_to_dir(env_id: str, out: Path, seeds: list[int], *, n_jobs: int,
                        progress: bool, **train_kwargs: Any) -> list[Any]:
    """Several seeds trained in parallel processes (:func:`seeds_in_workers`)."""
    import functools

    return seeds_in_workers(functools.partial(_train_seed_to_dir, env_id, out, train_kwargs),
                            out, seeds, n_jobs=n_jobs, progress=progress, desc=env_id)


def seeds_in_workers(task: Callable[[int, Callable[[Any], None]], Any], out: Path,
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
                                         _console._running_command)
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
        print(f"{command_prefix()} a worker process was still starting when Ctrl-C came and "
              "stopped with it; the seeds that had not finished keep their last checkpoint",
              file=sys.stderr)
        unfinished = [s for s in seeds if s not in {r.seed for r in runs}]
        runs.extend(_keep_checkpoints(out, unfinished, earlier))
        reported.update(unfinished)
    except Exception as err:
        # an error in a seed's training (the env's, say): the seeds that saved a checkpoint
        # in this job get their history.csv and config.json from it, then the error goes on.
        # The seed that failed saved "error: ..." itself; the others, stopped with the job
        # while they trained, are told apart from a Ctrl-C
        unfinished = [s for s in seeds if s not in {r.seed for r in runs}]
        _keep_checkpoints(out, _saved_in_this_job(out, unfinished, earlier), earlier,
                          reason=f"interrupted: the job stopped at another seed's error "
                                 f"({type(err).__name__})")
        raise
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(stop_dir, ignore_errors=True)
    skipped = sorted(set(seeds) - {r.seed for r in runs} - reported)
    if skipped:
        print(f"{command_prefix()} interrupted before seeds {skipped} started; they have no "
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
                      earlier: dict[int, tuple[int, int, int] | None] | None = None,
                      reason: str = "interrupted") -> list[Any]:
    """After a hard stop: write each seed's directory from its last checkpoint, and say so;
    returns the Runs kept. A checkpoint that is still the one ``earlier`` recorded before
    this job started is an earlier run's, not this job's: it is left as it was. A run
    saved in the middle of its training (a periodic checkpoint) is recorded as stopped
    for ``reason``; one that saved its own reason keeps it."""
    from .checkpoint import load_run
    from .rundir import seed_dir, write_run

    kept = []
    for seed in seeds:
        path = _checkpoint_path(out, seed)
        if not path.is_file():
            print(f"{command_prefix()} {seed_dir(out, seed)}: no checkpoint yet, nothing kept",
                  file=sys.stderr)
            continue
        if earlier is not None and earlier.get(seed) == _stamp(path):
            print(f"{command_prefix()} {seed_dir(out, seed)}: no checkpoint of this run yet; its "
                  f"earlier files are left as they were", file=sys.stderr)
            continue
        try:
            run = load_run(path)
            if run.stopped_reason is None and run.n_episodes < run.config["episodes"]:
                run.stopped_reason = reason
            write_run(run, seed_dir(out, seed))
        except (ValueError, OSError) as err:
            print(f"{command_prefix()} {seed_dir(out, seed)}: its checkpoint could not be read "
                  f"back ({one_line(err)}); kept as it is", file=sys.stderr)
            continue
        print(f"{command_prefix()} {seed_dir(out, seed)}: kept its last checkpoint "
              f"({run.n_episodes} episodes)", file=sys.stderr)
        kept.append(run)
    return kept


@contextlib.contextmanager
def _quiet_idle_envs() -> Iterator[None]:
    """A context in which train's IdleEnvsWarning is not shown (the CLI said it once)."""
    import warnings

    from .settings import IdleEnvsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdleEnvsWarning)
        yield
