"""Rate-limit counters in a SQLite file in the instance folder, for a desk without Redis.

Flask-Limiter's memory storage counts in each worker: with two workers a limit of 5 failed sign-ins
let 11 through. A file every worker of the instance opens counts once for all of them. Registered
with the `limits` library under its own scheme, so Flask-Limiter (and the desk's own uses of
`limiter.limiter`) take it like any storage: RATELIMIT_STORAGE_URI = "orderdesk+sqlite:///path".

The file is a storage.sqlite_file.SQLiteFile: a connection per process, the write-ahead log kept. A
counter may lose its last increments in a power cut, never in a crash of the desk, and a count of the
last minute's orders can afford that.
"""

from __future__ import annotations

import random
import sqlite3
import time

from limits.storage import Storage

from webapp.storage.sqlite_file import SQLiteFile

SWEEP_CHANCE = 0.01  # of an increment also deleting every expired counter


class SQLiteStorage(Storage):
    """Fixed-window counters: (key, value, expires)."""

    STORAGE_SCHEME = ["orderdesk+sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = (uri or "").split("://", 1)[1]
        self._file = SQLiteFile(self.path, ("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY,"
                                            " value INTEGER NOT NULL, expires REAL NOT NULL)",))

    def _connect(self):
        return self._file.connect()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._connect() as db:
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
        with self._connect() as db:
            found = db.execute("SELECT value FROM counters WHERE key = ? AND expires > ?",
                               (key, time.time())).fetchone()
        return found[0] if found else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._connect() as db:
            found = db.execute("SELECT expires FROM counters WHERE key = ? AND expires > ?",
                               (key, now)).fetchone()
        return found[0] if found else now

    def check(self) -> bool:
        try:
            with self._connect() as db:
                db.execute("SELECT 1 FROM counters LIMIT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with self._connect() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
