"""Writing outputs without ever destroying an input: refuse a target that is an input, write atomically.

Every file cohortlab writes (a report, the weights file, the demo project, a new project's
scaffold) is written to a temporary file in the target's folder and renamed onto the target
only once complete, so an interrupted, failed or concurrent run never leaves a half-written
file, and a target that already exists keeps its old content until the new one is whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cohortlab.errors import InputError


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file: after resolving symbolic links and ``..``, or as hard links."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def refuse_inputs(outputs: dict[str, Path], inputs: Iterable[tuple[str, Path]],
                  reserved: Callable[[Path], str | None] = lambda path: None) -> None:
    """Raise :class:`InputError` when an output would land on an input or on another output of the same run.

    ``outputs`` maps an option (``--output``) to its path; ``inputs`` are (what it is, path) pairs, e.g.
    ("the experiment", experiments/onboarding-v2.yaml) or ("a data file of the source", data/revenue.csv);
    ``reserved`` says what else a path is kept for (a name the source would take for a table), or None.
    """
    inputs = list(inputs)
    named = list(outputs.items())
    for index, (option, path) in enumerate(named):
        for what, source in [*inputs, (reserved(path), path)]:
            if what is not None and same_file(path, source):
                raise InputError(f"{option} {path} is {what} ({source}); cohortlab never writes over its inputs",
                                 hint=f"choose another file name for {option}")
        for other, other_path in named[index + 1:]:
            if same_file(path, other_path):
                raise InputError(f"{option} and {other} are the same file ({path})",
                                 hint="each output needs its own file")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (a hidden name with the same suffix) to write to; renamed onto ``path``
    when the block completes.

    If the block raises (an error, Ctrl-C), the temporary file is removed and ``path`` is untouched.
    The new file gets the permissions a plain ``open(path, "w")`` would give it (those of the file it
    replaces, if any).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    if path.exists() and not path.is_file():  # a device or a pipe (/dev/null, /dev/stdout, <(…)): no file to replace
        try:
            yield path
        except OSError as error:
            raise InputError(f"cannot write {path}: {error.strerror or error}") from None
        return
    if path.is_symlink():  # write through the link: the file it points to is replaced, the link stays
        path = Path(os.path.realpath(path))
    if path.exists() and not os.access(path, os.W_OK):  # replacing it would get round its permissions
        raise InputError(f"cannot write {path}: it is read-only")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=folder)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise InputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        _remove(temporary)
        raise


@contextmanager
def held_interrupts() -> Iterator[Callable[[], None]]:
    """A function that, once called, holds Ctrl-C back until the block ends, when it is delivered: for the
    renames of several outputs, which must all happen or none. Only the main thread can hold it, and only
    where signals can be masked (POSIX); elsewhere the call does nothing."""
    import signal
    import threading

    held = []

    def hold() -> None:
        if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
            held.append(signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}))

    try:
        yield hold
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_SETMASK, held[0])


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
