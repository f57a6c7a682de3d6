"""A SQLite file in the instance folder that every worker of the instance opens.

Each process keeps one connection to it and lends it to one operation at a time. An operation is a
statement (or a few, without a network call between them): SQLite runs it without yielding, so no
greenlet ever holds the file's lock across a switch, and other processes wait for at most a
statement (BUSY_TIMEOUT). Opening a connection per operation cost more than most statements.

The connection kept open also keeps the write-ahead log: when a file's last connection closes,
SQLite checkpoints and deletes the log, then creates and syncs it again for the next write (two
flushes to disk, about 20 ms on a busy machine). With the log kept, a write is synced only at the
periodic checkpoints (synchronous=NORMAL): a write may be lost in a power cut, never in a crash of
the desk.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager

BUSY_TIMEOUT = 5.0  # seconds a statement waits for another process's


class SQLiteFile:
    def __init__(self, path: str, schema: tuple[str, ...]):
        self.path = path
        with closing(self._open()) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            for statement in schema:
                db.execute(statement)
        self._kept: tuple[int, sqlite3.Connection] | None = None  # (pid, this process's connection)
        self._turn = threading.Lock()  # one operation at a time on it (a greenlet lock under gevent)

    def _open(self, **options) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, **options)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, for one operation: `with file.connect() as db: ...`."""
        with self._turn:
            if self._kept is None or self._kept[0] != os.getpid():  # a forked child opens its own
                db = self._open(check_same_thread=False)  # threads take turns (self._turn)
                db.execute("PRAGMA synchronous=NORMAL")  # see above
                self._kept = (os.getpid(), db)
            try:
                yield self._kept[1]
            except sqlite3.Error:  # a file replaced or a disk lost: the next operation opens afresh
                self._kept[1].close()
                self._kept = None
                raise
