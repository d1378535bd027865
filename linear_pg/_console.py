"""What the command line says besides its results: its exit codes, ``linear-pg COMMAND:``
messages, warnings as one line each, and SIGTERM stopping a command as Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

EXIT_DIVERGED = 1
"""The exit code of a train or resume in which a seed diverged (it is saved all the same)."""
EXIT_BAD_ARGS = 2
EXIT_BROKEN_PIPE = 141
"""The exit code when the reader of stdout has gone (``| head``): 128 + SIGPIPE, as a
process killed by it reports."""
EXIT_INTERRUPTED = 130
"""The exit code of a command that a Ctrl-C stopped, whatever it saved first: 128 + SIGINT,
as shells report it."""

_running_command = "train"
"""The command running in this process (set by :func:`warnings_as_lines`), which the
worker processes' warnings are printed under."""


def command_prefix() -> str:
    """``linear-pg COMMAND:``, the start of the command's messages."""
    return f"linear-pg {_running_command}:"


_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
"""Terminal colour codes, as in gymnasium's "\x1b[33mWARN: ...\x1b[0m"."""


def print_warning(command: str, text: str, file: Any = None) -> None:
    """``linear-pg COMMAND: warning: text`` on ``file`` (stderr), in one write: the lines of
    workers sharing stderr stay whole. The command's own warnings and Python's (through
    :func:`warning_as_line`) print so."""
    (file if file is not None else sys.stderr).write(
        f"linear-pg {command}: warning: {text}\n")


def warning_as_line(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints ``linear-pg COMMAND: warning: ...``."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        # gymnasium colours its warnings
        print_warning(command, _ANSI_STYLE.sub("", one_line(message)), file)
    return show


@contextlib.contextmanager
def warnings_as_lines(command: str) -> Iterator[None]:
    """A context in which a warning prints as one line, ``linear-pg COMMAND: warning:
    ...``, like the command's errors, rather than Python's file:line and source line (the
    worker processes of several seeds print theirs so too:
    :func:`linear_pg.jobs._seed_in_worker`)."""
    import warnings

    global _running_command
    previous, _running_command = _running_command, command
    try:
        with warnings.catch_warnings():
            warnings.showwarning = warning_as_line(command)
            yield
    finally:
        _running_command = previous


@contextlib.contextmanager
def signals_as_ctrl_c() -> Iterator[None]:
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


def one_line(err: BaseException | str) -> str:
    return " ".join(str(err).split()) or type(err).__name__
