"""Outcomes the store could not take, kept until it can.

When the history store fails after JustClick has answered (Redis stopped, a disk turned read-only),
the outcome must not be lost: it is appended to a journal file in the instance folder and kept in
this process's memory, and written into the store as soon as the store answers again. The guard
and twin posts read the memory too, so this process still knows what it sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict

from webapp.storage.files import lock_file

log = logging.getLogger(__name__)

MEMORY = 1000  # outcomes kept in memory at most; the oldest go first (the file still has them)
RETRY_EVERY = 5.0  # seconds between two replays that are not forced, while the store is failing
LOCK_WAIT = 10.0  # seconds to wait for the journal file: a replay may be writing a few outcomes


class Journal:
    def __init__(self, path: str):
        self.path = path
        self._pending: OrderedDict[str, dict] = OrderedDict()  # attempt id -> record
        self._lock = threading.Lock()
        self._next_try = 0.0

    def append(self, record: dict) -> None:
        """Keep `record` ({"hid", "key", "entry"}) until `replay` stores it. Raises if the file
        cannot take it; the memory has it all the same."""
        with self._lock:
            self._pending[record["entry"]["id"]] = record
            while len(self._pending) > MEMORY:
                self._pending.popitem(last=False)
        with open(self.path, "a", encoding="utf-8") as f:
            if not lock_file(f, LOCK_WAIT):
                raise TimeoutError("the journal is locked")
            f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def known(self, entry_id: str) -> dict | None:
        """The attempt as this process last knew it, while the store lacks it."""
        record = self._pending.get(entry_id)
        return record["entry"] if record else None

    def pending_for(self, key: str) -> list[dict]:
        """The attempts of one order (index key) that the store has not got yet."""
        with self._lock:
            return [record["entry"] for record in self._pending.values() if record["key"] == key]

    def replay(self, store, force: bool = False) -> bool:
        """Write every kept outcome into the store (`store(record)`, an upsert), then forget them.
        True when nothing is left to write. Cheap when there is nothing: one stat. A failing store
        keeps them for the next try; tries that are not forced come at most every RETRY_EVERY s."""
        with self._lock:
            pending = list(self._pending.values())
        if not pending and not self._file_has_records():
            return True
        if not force and time.monotonic() < self._next_try:
            return False
        try:
            if self._file_has_records():
                with open(self.path, "r+", encoding="utf-8") as f:
                    if not lock_file(f, LOCK_WAIT):  # one replayer at a time; the next finds it empty
                        raise TimeoutError("the journal is locked")
                    for line in f.read().splitlines():
                        store(json.loads(line))
                    f.truncate(0)  # kept, empty: removing it could lose a line appended meanwhile
            for record in pending:
                store(record)
                with self._lock:
                    self._pending.pop(record["entry"]["id"], None)
        except Exception:
            self._next_try = time.monotonic() + RETRY_EVERY
            log.warning("journal: the store is not taking outcomes yet; kept for later")
            return False
        return True

    def _file_has_records(self) -> bool:
        try:
            return os.stat(self.path).st_size > 0
        except OSError:
            return False
