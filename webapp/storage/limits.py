"""Rate-limit counters in a SQLite file in the instance folder, for a desk without Redis.

Flask-Limiter's memory storage counts in each worker: with two workers a limit of 5 failed sign-ins
let 11 through. A file every worker of the instance opens counts once for all of them. Registered
with the `limits` library under its own scheme, so Flask-Limiter (and the desk's own uses of
`limiter.limiter`) take it like any storage: RATELIMIT_STORAGE_URI = "orderdesk+sqlite:///path".

Each operation is one statement in its own short connection: no greenlet ever holds a lock across
a switch, and other processes wait for at most a statement (busy timeout below).

Each process also keeps one connection open that does nothing. Without it every short connection is
the database's last one, and SQLite checkpoints and deletes the write-ahead log when its last
connection closes, then creates and syncs it again for the next write: two flushes to disk (about
20 ms on a busy machine) in every order sent. With the log kept, a write is synced only at the
periodic checkpoints (synchronous=NORMAL): a counter may lose its last increments in a power cut,
never in a crash of the desk, and a count of the last minute's orders can afford that.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from contextlib import closing

from limits.storage import Storage

BUSY_TIMEOUT = 5.0  # seconds a statement waits for another process's
SWEEP_CHANCE = 0.01  # of an increment also deleting every expired counter


class SQLiteStorage(Storage):
    """Fixed-window counters: (key, value, expires)."""

    STORAGE_SCHEME = ["orderdesk+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = (uri or "").split("://", 1)[1]
        with closing(self._open()) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            db.execute("CREATE TABLE IF NOT EXISTS counters"
                       " (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)")
        self._kept: tuple[int, sqlite3.Connection] | None = None  # (pid, the connection kept open)

    def _open(self, **options) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, **options)

    def _connect(self) -> sqlite3.Connection:
        if self._kept is None or self._kept[0] != os.getpid():  # a forked child opens its own
            kept = self._open(check_same_thread=False)
            kept.execute("SELECT 1 FROM counters LIMIT 1").fetchall()  # it joins the log; holds no lock
            self._kept = (os.getpid(), kept)
        db = self._open()
        db.execute("PRAGMA synchronous=NORMAL")  # see above
        return db

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with closing(self._connect()) as db:
            if random.random() < SWEEP_CHANCE:
                db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            # One statement: a counter whose window has passed starts again, atomically across processes.
            (value,) = db.execute(
                "INSERT INTO counters (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " value = CASE WHEN expires <= ? THEN excluded.value ELSE value + excluded.value END,"
                " expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END"
                " RETURNING value", (key, amount, now + expiry, now, now)).fetchone()
        return value

    def get(self, key: str) -> int:
        with closing(self._connect()) as db:
            found = db.execute("SELECT value FROM counters WHERE key = ? AND expires > ?",
                               (key, time.time())).fetchone()
        return found[0] if found else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with closing(self._connect()) as db:
            found = db.execute("SELECT expires FROM counters WHERE key = ? AND expires > ?",
                               (key, now)).fetchone()
        return found[0] if found else now

    def check(self) -> bool:
        try:
            with closing(self._connect()) as db:
                db.execute("SELECT 1 FROM counters LIMIT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with closing(self._connect()) as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
