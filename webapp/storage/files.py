"""The file backend: every store in a folder of the instance folder, and what they share (atomic
writes, locks, expiry).

Files serve the workers of one instance without Redis; every write is whole or absent, and what
no session can reach any more is swept away now and then. The folder names and file formats are
what deployed desks hold: never change them.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager, suppress

from webapp.storage.interfaces import LOCK_WAIT, Locked, StoreBusy, operator_name
from webapp.storage.sqlite_file import SQLiteFile

SWEEP_EVERY = 600.0  # seconds between two sweeps of one store in one process
WRITTEN_KEPT = 10_000  # file names a history remembers writing (see FileHistory)


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


class FileHistory(ExpiringFolder):
    """A directory per history id, one JSON file per attempt named `<time_ns>-<id>.json`."""

    def __init__(self, root: str, lifetime: float, sweep_every: float = SWEEP_EVERY):
        super().__init__(root, lifetime, folders=True, sweep_every=sweep_every)
        # The file names this process has written, by attempt id: an outcome is written over its
        # "sending" record without listing the folder (hundreds of names in a long session).
        self._written: dict[str, str] = {}

    def _folder(self, hid: str) -> str:
        if not hid.isalnum():  # it becomes a path
            raise ValueError(f"bad history id {hid!r}")
        return os.path.join(self.root, hid)

    def append(self, hid: str, entry: dict, limit: int) -> None:
        folder = self._folder(hid)
        name = f"{time.time_ns():020d}-{entry['id']}.json"
        data = json.dumps(entry, ensure_ascii=False, default=str)
        for attempt in range(2):  # a sweep or a clear may remove the folder between makedirs and write
            os.makedirs(folder, exist_ok=True)
            try:
                write_atomically(os.path.join(folder, name), data)
                break
            except FileNotFoundError:
                if attempt:
                    raise
        if len(self._written) >= WRITTEN_KEPT:
            self._written.clear()  # a cache of names: forgetting costs one listing per outcome
        self._written[entry["id"]] = name
        if len(self._names(folder)) > limit:
            self._trim(folder, limit)
        self._maybe_sweep()

    def update(self, hid: str, entry: dict, limit: int) -> None:
        folder = self._folder(hid)
        name = self._name_of(folder, entry["id"])
        if name is None:  # trimmed, cleared or lost: the outcome is worth a new record
            self.append(hid, entry, limit)
        else:
            write_atomically(os.path.join(folder, name), json.dumps(entry, ensure_ascii=False, default=str))

    def _name_of(self, folder: str, entry_id: str) -> str | None:
        written = self._written.get(entry_id)
        if written and os.path.exists(os.path.join(folder, written)):
            return written
        return next((n for n in self._names(folder) if n.endswith(f"-{entry_id}.json")), None)

    def _trim(self, folder: str, limit: int) -> None:
        # One trimmer at a time (threads and processes alike), so each dropped file counts once.
        with open(os.path.join(folder, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            excess = self._names(folder)[limit:]
            for name in excess:
                with suppress(OSError):
                    os.unlink(os.path.join(folder, name))
            if excess:
                write_atomically(os.path.join(folder, "dropped"), str(self._dropped(folder) + len(excess)))

    @staticmethod
    def _names(folder: str) -> list[str]:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted((n for n in names if n.endswith(".json") and not n.startswith(".")), reverse=True)

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        folder = self._folder(hid)
        names = self._names(folder)[:limit]  # names sort by time: the newest come first
        return [e for name in names if (e := self._read(os.path.join(folder, name)))]

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:  # trimmed or cleared while we listed
            return None

    def find(self, hid: str, entry_id: str) -> dict | None:
        folder = self._folder(hid)
        name = self._name_of(folder, entry_id)
        return self._read(os.path.join(folder, name)) if name else None

    def dropped(self, hid: str) -> int:
        return self._dropped(self._folder(hid))

    @staticmethod
    def _dropped(folder: str) -> int:
        try:
            with open(os.path.join(folder, "dropped"), encoding="utf-8") as f:
                return int(f.read() or 0)
        except FileNotFoundError:
            return 0

    def clear(self, hid: str) -> None:
        shutil.rmtree(self._folder(hid), ignore_errors=True)


_TOKEN_NAME = re.compile(r"[A-Za-z0-9_-]+")


class FileTokens(ExpiringFolder):
    """A file per claimed token, named by the token, holding the attempt id."""

    def __init__(self, directory: str, lifetime: float, sweep_every: float = SWEEP_EVERY):
        super().__init__(directory, lifetime, folders=False, sweep_every=sweep_every)

    def _path(self, token: str) -> str:
        if not _TOKEN_NAME.fullmatch(token):  # it becomes a path
            raise ValueError("bad token")
        return os.path.join(self.root, token)

    def claim(self, token: str, entry_id: str) -> bool:
        path = self._path(token)
        self._maybe_sweep()
        fd, draft = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(entry_id)
            # link() creates the name only if it is free, and the file appears with its content:
            # exactly one claimer wins, and nobody ever reads a claim without its attempt id.
            os.link(draft, path)
        except FileExistsError:
            return False
        finally:
            with suppress(OSError):
                os.unlink(draft)
        return True

    def outcome(self, token: str) -> str | None:
        try:
            with open(self._path(token), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def release(self, token: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self._path(token))


class FileIndex(ExpiringFolder):
    """A JSON file per order (a list of its attempts, newest first, each with its write time as
    "stamp"), rewritten whole under an flock of the order's own lock file."""

    def __init__(self, root: str, lifetime: float, sweep_every: float = SWEEP_EVERY,
                 lock_wait: float = LOCK_WAIT):
        super().__init__(root, lifetime, folders=False, sweep_every=sweep_every)
        self.lock_wait = lock_wait

    @contextmanager
    def lock(self, key: str):
        # flock is per open file: threads of one process exclude each other as processes do.
        with open(os.path.join(self.root, f"{key}.lock"), "a") as handle:
            if not lock_file(handle, self.lock_wait):
                raise StoreBusy(key)
            os.utime(handle.fileno())  # in use: the sweep must not remove it under its holder
            try:
                yield Locked(lambda: self.recent(key), lambda record: self._put(key, record))
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, key: str, record: dict) -> None:
        with self.lock(key) as locked:
            locked.put(record)

    def memory_since(self) -> float:
        """When this index began to remember (unix time): a new instance folder starts afresh."""
        path = os.path.join(self.root, ".since")
        try:
            with open(path, encoding="ascii") as f:
                return float(f.read())
        except (FileNotFoundError, ValueError):
            with suppress(FileExistsError):
                write_new(path, repr(time.time()))
            with open(path, encoding="ascii") as f:
                return float(f.read())

    def recent(self, key: str) -> list[dict]:
        """The order's attempts, read without the lock (each write replaces the file whole)."""
        return [{name: value for name, value in item.items() if name != "stamp"} for item in self._read(key)]

    def _read(self, key: str) -> list[dict]:
        try:
            with open(os.path.join(self.root, f"{key}.json"), encoding="utf-8") as f:
                items = json.load(f)
        except FileNotFoundError:
            return []
        cutoff = time.time() - self.lifetime
        return [item for item in items if item.get("stamp", 0) >= cutoff]

    def _put(self, key: str, record: dict) -> None:
        items = [item for item in self._read(key) if item["id"] != record["id"]]
        items.insert(0, {**record, "stamp": time.time()})
        write_atomically(os.path.join(self.root, f"{key}.json"), json.dumps(items, ensure_ascii=False))
        self._maybe_sweep()


class FilePreferences:
    """A JSON file per operator under instance/preferences/."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def get(self, username: str) -> dict:
        try:
            with open(os.path.join(self.root, operator_name(username) + ".json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def set(self, username: str, **choices) -> None:
        # Two tabs choosing at once: the last write wins, which is what either operator would expect.
        record = {**self.get(username), **choices}
        write_atomically(os.path.join(self.root, operator_name(username) + ".json"), json.dumps(record))


class FileArchive:
    """The team's attempts in one SQLite file of the instance folder: a table row per attempt, with the
    time it was made (indexed: lists read a range of it), its row and its record as JSON."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS attempts (id TEXT PRIMARY KEY, made_at REAL NOT NULL,"
              " row TEXT NOT NULL, record TEXT NOT NULL, text TEXT NOT NULL)",
              "CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts (made_at, id)")

    def __init__(self, path: str, retention: float, sweep_every: float = SWEEP_EVERY):
        self.path, self.retention, self.sweep_every = path, retention, sweep_every
        self._file = SQLiteFile(path, self.SCHEMA)
        self._next_sweep = 0.0

    def put(self, made_at: float, record: dict, row: dict, text: str) -> None:
        with self._file.connect() as db:
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + self.sweep_every
                db.execute("DELETE FROM attempts WHERE made_at < ?", (time.time() - self.retention,))
            db.execute("INSERT INTO attempts (id, made_at, row, record, text) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT (id) DO UPDATE SET row = excluded.row, record = excluded.record,"
                       " text = excluded.text", (record["id"], made_at, _json(row), _json(record), text))

    def get(self, entry_id: str) -> dict | None:
        with self._file.connect() as db:
            found = db.execute("SELECT record FROM attempts WHERE id = ? AND made_at >= ?",
                               (entry_id, time.time() - self.retention)).fetchone()
        return json.loads(found[0]) if found else None

    def rows(self, since: float, until: float, limit: int | None = None, words=()) -> list[dict]:
        return self._select("row", since, until, limit, words)

    def records(self, since: float, until: float, limit: int | None = None, words=()) -> list[dict]:
        return self._select("record", since, until, limit, words)

    def _select(self, column: str, since: float, until: float, limit: int | None, words) -> list[dict]:
        if any(not alternatives for alternatives in words) or limit == 0:
            return []  # one of nothing holds in no text
        # instr(): a plain substring, with no LIKE wildcards to escape in what an operator types.
        holds = "".join(f" AND ({' OR '.join(['instr(text, ?) > 0'] * len(alternatives))})"
                        for alternatives in words)
        with self._file.connect() as db:
            found = db.execute(f"SELECT {column} FROM attempts WHERE made_at >= ? AND made_at < ?{holds}"  # noqa: S608
                               " ORDER BY made_at DESC, id DESC LIMIT ?",
                               (max(since, time.time() - self.retention), until,
                                *(word for alternatives in words for word in alternatives),
                                -1 if limit is None else limit)).fetchall()
        return [json.loads(raw) for (raw,) in found]


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
