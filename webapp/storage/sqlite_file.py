"""A SQLite file in the instance folder that every worker of the instance opens.

Each operation is a statement (or one short transaction) in its own short connection: no greenlet
ever holds a lock across a switch, and other processes wait for at most a statement (BUSY_TIMEOUT).

Each process also keeps one connection open that does nothing. Without it every short connection is
the database's last one, and SQLite checkpoints and deletes the write-ahead log when its last
connection closes, then creates and syncs it again for the next write: two flushes to disk (about
20 ms on a busy machine) in every order sent. With the log kept, a write is synced only at the
periodic checkpoints (synchronous=NORMAL): a write may be lost in a power cut, never in a crash of
the desk.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing

BUSY_TIMEOUT = 5.0  # seconds a statement waits for another process's


class SQLiteFile:
    def __init__(self, path: str, schema: tuple[str, ...]):
        self.path = path
        with closing(self._open()) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            for statement in schema:
                db.execute(statement)
        self._kept: tuple[int, sqlite3.Connection] | None = None  # (pid, the connection kept open)

    def _open(self, **options) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, **options)

    def connect(self) -> sqlite3.Connection:
        """A short connection; close it when done (contextlib.closing)."""
        if self._kept is None or self._kept[0] != os.getpid():  # a forked child opens its own
            kept = self._open(check_same_thread=False)
            kept.execute("SELECT count(*) FROM sqlite_master").fetchall()  # it joins the log; holds no lock
            self._kept = (os.getpid(), kept)
        db = self._open()
        db.execute("PRAGMA synchronous=NORMAL")  # see above
        return db
