"""The command line: ``python -m linear_pg`` (or ``linear-pg``) and its subcommands.

Each subcommand is one function ``cmd_<name>(args) -> exit code``; :func:`main` parses
(:mod:`linear_pg.cli_parser`), dispatches and turns the library's ValueError / TypeError /
OSError into a one-line message on stderr with exit code 2, so a bad argument never ends
in a traceback. Training and resuming into run directories, in worker processes, is
:mod:`linear_pg.jobs`; the messages' and warnings' form is :mod:`linear_pg._console`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._console import (
    EXIT_BAD_ARGS,
    EXIT_BROKEN_PIPE,
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    command_prefix,
    one_line,
    print_warning,
    signals_as_ctrl_c,
    warnings_as_lines,
)
from ._files import check_output_file, replacing
from .cli_parser import build_parser
from .jobs import (
    PLOT_FILE,
    Progress,
    resume_seed_dir,
    resumed_seed,
    runs_in,
    seeds_in_workers,
    train_to_dir,
)


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


def cmd_train(args: argparse.Namespace) -> int:
    from .plotting import plot_run_dirs
    from .rundir import find_runs, seed_dir

    env_id = resolve_env(args.env)
    out = Path(args.out) if args.out is not None else Path("runs") / env_id
    seeds = range(args.seed, args.seed + args.seeds)
    n_jobs = args.jobs if args.jobs is not None else min(args.seeds, os.cpu_count() or 1)
    held = {d.name for d in runs_in(out)}
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
        print_warning(args.command, f"--n-envs {args.n_envs} is more than the episodes per "
                                    f"update ({whose} {batch}): {args.n_envs - batch} of the "
                                    f"{args.n_envs} sub-environments step idle; give --n-envs "
                                    f"{batch} or a larger --batch")


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
            print_warning("train", f"{d} was trained with other settings ({shown}"
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
        task = functools.partial(resume_seed_dir, out, args.episodes, args.checkpoint_every)
        runs = seeds_in_workers(task, out, seeds, n_jobs=n_jobs, progress=not args.quiet,
                                desc="resume")
        done = [(seed_dir(out, run.seed), run) for run in runs]
    else:
        done = []
        for run_dir, seed, _ in todo:
            done.append((run_dir, _resume_here(run_dir, args, seed)))
            if done[-1][1].stopped_reason == "interrupted":
                waiting = [str(d) for d, _, _ in todo[len(done):]]
                if waiting:                             # Ctrl-C: the other seeds wait
                    print(f"{command_prefix()} not resumed (interrupted before they started): "
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
            run_dir.resolve() in {d.resolve() for d in runs_in(parent)}:
        return parent
    return run_dir


def _resume_here(run_dir: Path, args: argparse.Namespace, seed: int) -> Any:
    """Resume one seed directory in this process, with a progress bar."""
    from .rundir import write_run

    callback = Progress(f"resume seed {seed}", enabled=not args.quiet)
    try:
        run = resumed_seed(run_dir, args.episodes, args.checkpoint_every, callback)
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

    from ._validation import count_noun
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
                  f"{count_noun(returns.size, 'episode')}, {_acting(run, args.sample)}")
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


# ---------------------------------------------------------------------------- main
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


COMMANDS = {"train": cmd_train, "resume": cmd_resume, "plot": cmd_plot, "evaluate": cmd_evaluate,
            "render": cmd_render, "gradcheck": cmd_gradcheck, "bench": cmd_bench}
"""Each command's function, ``cmd_<name>(args) -> exit code`` (the parser is in
:mod:`linear_pg.cli_parser`)."""


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
        with signals_as_ctrl_c(), warnings_as_lines(args.command):
            code = COMMANDS[args.command](args)
            sys.stdout.flush()            # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:               # `linear-pg ... | head -1`: the reader has left
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (ValueError, TypeError, OSError, gym.error.Error) as err:
        message = _name_options(one_line(err), args, parser.commands[args.command])
        print(f"linear-pg {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_ARGS
    except MemoryError as err:            # e.g. --n-envs 100000000: buffers of 763 GiB
        print(f"linear-pg {args.command}: error: out of memory ({one_line(err)}); ask for "
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
