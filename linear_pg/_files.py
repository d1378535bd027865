"""Result files: a path checked before a long job, and a write that replaces the old file
only once the new one is complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to, renamed over ``path`` when the block
    ends, removed if it fails: a failed write leaves no partial file behind, and an earlier
    file at ``path`` survives it. (A plain new file, unlike tempfile's, gets the usual
    permissions.) The directories above ``path`` are created if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "r+b") as written:  # on disk before the rename, as checkpoints are
            os.fsync(written.fileno())     # (Windows fsyncs only a handle open for writing)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output_file(path: object, name: str, example: str) -> Path:
    """``path`` as a Path, checked to be a file this process can create or replace.

    Creates the missing directories above ``path`` and tries a temporary file there, then
    removes both: the check leaves nothing behind, the writer creates the directories. Run
    before a long job (training, the benchmark), so that a bad path is an error at once
    rather than after the job, with its result lost. ``example`` is a file name to suggest
    when ``path`` is a directory.

    Raises
    ------
    TypeError
        If ``path`` is not a str or an ``os.PathLike``.
    ValueError
        If it names an existing directory, lies under an existing file, or its directory
        cannot be created or written.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a str or an os.PathLike file path, got "
                        f"{type(path).__name__}")
    path = Path(path)
    check_file_path(path, name, example)
    parent, created = missing_directories(path.parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as err:               # its strerror: the file name is the probe's own
        raise ValueError(f"{name} {str(path)!r} cannot be written: "
                         f"{err.strerror or err} in {str(parent)!r}") from err
    finally:                              # a check leaves nothing behind: the writer makes them
        remove_empty(created)
    return path


def check_file_path(path: Path, name: str, example: str) -> None:
    """ValueError unless ``path`` can name a file: it is not an existing directory (the
    message suggests ``path / example``), nor does it lie under an existing file."""
    if str(path) in ("", ".") or path.is_dir():
        raise ValueError(f"{name} must be a file path, got {str(path)!r}, which is a "
                         f"directory (e.g. {str(path / example)!r})")
    ancestor = _existing_ancestor(path.parent)
    if not ancestor.is_dir():
        raise ValueError(f"{name} {str(path)!r} cannot be created: {str(ancestor)!r} is an "
                         f"existing file, not a directory")


def missing_directories(directory: str | os.PathLike) -> tuple[Path, list[Path]]:
    """``directory`` as an absolute, normalized path, and those of it and its parents that do
    not exist yet, deepest first: what ``mkdir(parents=True)`` would create. (Normalized
    first: through "missing/../existing" an existing directory would count as missing, and
    :func:`remove_empty` would remove it.)"""
    directory = Path(os.path.normpath(Path(directory).absolute()))
    return directory, [d for d in (directory, *directory.parents) if not d.exists()]


def remove_empty(directories: list[Path]) -> None:
    """rmdir each of ``directories`` (deepest first) that is empty: what a check or a failed
    job created and did not use."""
    for d in directories:
        with contextlib.suppress(OSError):
            d.rmdir()


def _existing_ancestor(directory: Path) -> Path:
    """The nearest of ``directory`` and its parents that exists (the one mkdir starts from)."""
    directory = directory.absolute()
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory
