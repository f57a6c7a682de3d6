"""What the desk asks of its stores: one Protocol per store, exactly the calls the rest of the code makes.

Each has two backends: files in the instance folder (storage/files.py), shared by the workers of one
instance, and Redis (storage/redis.py), shared by every instance. `open_stores` chooses between them,
once; tests/storage/test_contract.py holds both to every promise written here.

Beside the Protocols: what both backends share (the lock's wait, its exception, an operator's name).

"Expires" means: gone `lifetime` seconds (the session's) after its last write. Redis drops it on time;
the files may keep it until their next sweep, which a write starts at most every SWEEP_EVERY seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

#: How long a lock may be waited for; a store that cannot give one by then is treated as down.
LOCK_WAIT = 5.0


class StoreBusy(Exception):
    """The lock on an order could not be had in time: nothing may be sent."""


class HistoryStore(Protocol):
    """Each browser session's attempts (`hid`: an alphanumeric history id), newest first."""

    def append(self, hid: str, entry: dict, limit: int) -> None:
        """Add `entry` (a dict with an "id") as the newest, atomically; beyond `limit` the oldest are
        dropped and counted. The history expires."""

    def update(self, hid: str, entry: dict, limit: int) -> None:
        """Write `entry` over the record with its id, in its place; append it if that record is gone."""

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        """The newest `limit` entries (all when None), newest first; [] for an unknown history."""

    def find(self, hid: str, entry_id: str) -> dict | None:
        """The entry with that id, or None."""

    def dropped(self, hid: str) -> int:
        """How many entries the cap has dropped from this history."""

    def clear(self, hid: str) -> None:
        """Forget the history: its entries and its dropped count."""


class TokenStore(Protocol):
    """Claimed submission tokens (URL-safe names), each holding the attempt id it was claimed for."""

    def claim(self, token: str, entry_id: str) -> bool:
        """True for exactly one caller per token, across threads, processes (and, in Redis, instances);
        the claim appears with its attempt id, never without. A claim expires."""

    def outcome(self, token: str) -> str | None:
        """The attempt id the token was claimed for; None if unclaimed (or expired)."""

    def release(self, token: str) -> None:
        """Give the claim back: the token may be claimed again."""


class LockedOrders(Protocol):
    """What may be done with one order's attempts while its lock is held."""

    recent: Callable[[], list[dict]]
    put: Callable[[dict], None]


class OrderIndex(Protocol):
    """The team's recent attempts per order (`key`: a hex identity), each a small dict with an "id"."""

    def lock(self, key: str) -> AbstractContextManager[LockedOrders]:
        """Hold the order's lock, one holder at a time across threads, processes (and, in Redis,
        instances); released when the block exits, however it exits. A holder that dies keeps it at
        most 2 x LOCK_WAIT (Redis) or not at all (files). Raises StoreBusy after LOCK_WAIT seconds."""

    def put(self, key: str, record: dict) -> None:
        """Keep `record` as the order's attempt with its id, replacing one with the same id, atomically
        for readers. The order's attempts expire."""

    def recent(self, key: str) -> list[dict]:
        """The order's unexpired attempts, exactly as put, in no particular order; no lock needed."""

    def memory_since(self) -> float:
        """When this index began to remember (unix time): set by the first call on an empty store,
        the same for every later call and every process, kept while the store keeps its data."""


class OrderArchive(Protocol):
    """Every attempt the team made, whoever sent it and however: its whole record by its id, its row (the
    few fields the team's list shows, a small dict) and its text (what the list's search and filters
    look in). Kept `retention` seconds after the attempt was made (ORDER_RETENTION_DAYS), then gone:
    never found or listed once older, removed from the backend by a sweep (at most every SWEEP_EVERY
    seconds of writes; Redis also lets each record expire by itself)."""

    def put(self, made_at: float, record: dict, row: dict, text: str) -> None:
        """Keep the attempt `record["id"]` (made at `made_at`, unix time) whole, its row and its text,
        replacing all three, atomically for readers. The first `made_at` given for an id is kept."""

    def get(self, entry_id: str) -> dict | None:
        """The whole record, or None."""

    def rows(self, since: float, until: float, limit: int | None = None,
             words: Sequence[Sequence[str]] = ()) -> list[dict]:
        """The rows of the attempts made at `since` or later and before `until` whose text holds, for
        every item of `words`, one of its alternatives (exactly as given: the caller folds the case);
        newest first (those of one second by id, descending); at most `limit` (all when None)."""

    def records(self, since: float, until: float, limit: int | None = None,
                words: Sequence[Sequence[str]] = ()) -> list[dict]:
        """The whole records of the attempts `rows` would list, in its order, read in one go."""


class PreferenceStore(Protocol):
    """Each operator's choices (text values), kept for good."""

    def get(self, username: str) -> dict:
        """The operator's choices; {} when they made none."""

    def set(self, username: str, **choices: str) -> None:
        """Add or replace these choices, keeping the others. Never expires."""


class Cache(Protocol):
    """A cachelib cache: the bulk tables and the list cache."""

    def get(self, key: str) -> Any:
        """The value, or None when absent or expired."""

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        """Store `value` whole; True once stored. It expires after `timeout` seconds (0: never)."""

    def delete(self, key: str) -> bool:
        """Forget the key (absent is fine)."""


@dataclass(frozen=True)
class Locked:
    """A held lock's view of one order, as both backends give it."""

    recent: Callable[[], list[dict]]
    put: Callable[[dict], None]


def operator_name(username: str) -> str:
    """Usernames may hold anything JSON allows; a file or key name holds a digest of it instead."""
    return hashlib.sha256(username.encode()).hexdigest()[:32]
