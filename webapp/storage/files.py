"""What the file-backed stores (history, submission tokens) share: atomic writes and expiry.

Files serve the workers of one instance without Redis; every write is whole or absent, and what
no session can reach any more is swept away now and then.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import time
from contextlib import suppress

SWEEP_EVERY = 600.0  # seconds between two sweeps of one store in one process


def folder_of(store) -> str | None:
    """The folder a store writes its files to, as the store itself names it; None for a store that
    keeps nothing on this disk (Redis, or no store at all). Used to check them all at start-up."""
    for name in ("root", "_path"):  # the desk's own stores; cachelib's FileSystemCache
        folder = getattr(store, name, None)
        if isinstance(folder, str):
            return folder
    path = getattr(store, "path", None)  # a store in one file (the journal, the sandbox's order book)
    if isinstance(path, str):
        return os.path.dirname(os.path.abspath(path))
    inner = getattr(store, "cache", None)  # a store kept in a cachelib store (the tables, the lists)
    return folder_of(inner) if inner is not None and inner is not store else None


def write_atomically(path: str, data: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(temp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise


def write_new(path: str, data: str) -> None:
    """Write a file that must not exist yet (FileExistsError if it does), whole or not at all."""
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(data)
    try:
        os.link(temporary, path)  # atomic, and refuses an existing file
    finally:
        os.unlink(temporary)


def lock_file(handle, wait: float) -> bool:
    """flock `handle` exclusively, trying until `wait` seconds have passed; True once held.

    Never a blocking flock: under gevent workers, one greenlet blocked in the kernel on a lock that
    another greenlet of the same process holds (across a network call) would stop them both."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)


class ExpiringFolder:
    """A folder whose entries (sub-folders or files) expire `lifetime` seconds after their last change."""

    def __init__(self, root: str, lifetime: float, *, folders: bool, sweep_every: float = SWEEP_EVERY):
        self.root, self.lifetime, self.folders, self.sweep_every = root, lifetime, folders, sweep_every
        self._next_sweep = 0.0
        os.makedirs(root, exist_ok=True)

    def _maybe_sweep(self) -> None:
        if time.monotonic() >= self._next_sweep:  # cheap: at most every `sweep_every` seconds
            self._next_sweep = time.monotonic() + self.sweep_every
            self.sweep()

    def sweep(self) -> int:
        """Remove the entries untouched for longer than the lifetime; returns how many."""
        cutoff = time.time() - self.lifetime
        removed = 0
        with suppress(OSError), os.scandir(self.root) as found:
            for item in list(found):
                if item.name.startswith("."):  # the folder's own files (a marker), not entries
                    continue
                with suppress(OSError):
                    if item.is_dir() == self.folders and item.stat().st_mtime < cutoff:
                        if self.folders:
                            shutil.rmtree(item.path)
                        else:
                            os.unlink(item.path)
                        removed += 1
        return removed
