"""Where rootwatch writes a result: always a new path, never through a symlink, refused before any
work when it cannot be written. `rootwatch run` and `rootwatch events` share these rules, and
neither loads more than this module to apply them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from rootwatch.errors import ParameterError

NEVER_OVERWRITE = "rootwatch never writes into an existing path; choose a new one"


def usable_output(target: Path, what: str) -> None:
    """Refuse, before anything is written, an output that is already there (a symlink too, even dangling:
    it would be followed), or whose directory cannot take it (missing, not a directory, read-only, /proc)."""
    refuse_existing(target, what)
    parent = target.absolute().parent
    if not parent.is_dir() and not (what == "the run directory" and not parent.exists()):
        raise ParameterError(f"{what} {target}: {parent} is not an existing directory",
                             "create the directory first, or choose another path")
    probe = parent if parent.exists() else next(p for p in parent.parents if p.exists())
    if not os.access(probe, os.W_OK | os.X_OK) or not _writable_filesystem(probe):
        raise ParameterError(f"{what} {target}: {probe} cannot be written to", "choose a directory you can write")


def _writable_filesystem(directory: Path) -> bool:
    """Whether files can be made in ``directory``: root passes every permission check, yet /proc and
    read-only mounts refuse to create anything."""
    try:
        handle, name = tempfile.mkstemp(prefix=".rootwatch-probe-", dir=directory)
    except OSError:
        return False
    os.close(handle)
    os.unlink(name)
    return True


def refuse_existing(path: Path, what: str, hint: str = NEVER_OVERWRITE) -> None:
    """ParameterError when anything is at ``path``, a symlink too (even dangling: it would be followed)."""
    if path.is_symlink() or path.exists():
        raise ParameterError(f"{what} {path} already exists{' (a symlink)' if path.is_symlink() else ''}", hint)


def new_file(path: Path, what: str, hint: str = NEVER_OVERWRITE) -> BinaryIO:
    """``path`` created for writing; ParameterError when anything is there already. A symlink planted
    since the last check is never followed (O_NOFOLLOW), nor a file made since overwritten (O_EXCL)."""
    try:
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb")
    except FileExistsError:
        refuse_existing(path, what, hint)
        raise ParameterError(f"{what} {path} appeared while rootwatch was working", hint) from None
