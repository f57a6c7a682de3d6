"""The team-wide index of recent orders: every attempt of the same order, whoever sent it.

An order's identity is its customer email and its set of products. The index maps an identity to a
short summary of each recent attempt (outcome, operator, time), in the same store as the history
(files, or Redis when REDIS_URL is set), so the likely-duplicate guard is one direct lookup that
sees every session, browser and operator. `lock(identity)` holds one lock per identity across
threads, processes and instances: checking for an earlier attempt and recording "sending" happen
under it, so two posts of the same order cannot both pass the check.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from contextlib import contextmanager, suppress

from webapp.storage.files import SWEEP_EVERY, ExpiringFolder, lock_file, write_atomically, write_new

#: The fields of an attempt the index keeps (no customer data beyond the identity's own email).
#: `said`: the desk's own words of `text`, to be said again in the reader's language (i18n.desk_text).
SUMMARY_FIELDS = ("id", "at", "outcome", "operator", "operator_name", "token", "code", "text", "said",
                  "bill_id")
#: How long a lock may be waited for; a store that cannot give one by then is treated as down.
LOCK_WAIT = 5.0


log = logging.getLogger(__name__)


class StoreBusy(Exception):
    """The lock on an order could not be had in time: nothing may be sent."""


def identity(params: dict, secret: str) -> str:
    """The order's key: customer email and products, keyed with the app secret so that store
    names reveal no email."""
    products = ",".join(sorted(params.get("product_names", "").split(",")))
    text = f"{params.get('customer_email', '').casefold()}\n{products}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def summary(entry: dict) -> dict:
    return {name: entry.get(name) for name in SUMMARY_FIELDS}


class Locked:
    """What may be done while an identity is locked: read its attempts, write one."""

    def __init__(self, recent, put):
        self.recent, self.put = recent, put


class FileIndex(ExpiringFolder):
    """A JSON file per identity, rewritten whole under an flock of its own lock file."""

    def __init__(self, root: str, lifetime: float, sweep_every: float = SWEEP_EVERY):
        super().__init__(root, lifetime, folders=False, sweep_every=sweep_every)

    @contextmanager
    def lock(self, key: str):
        # flock is per open file: threads of one process exclude each other as processes do.
        with open(os.path.join(self.root, f"{key}.lock"), "a") as handle:
            if not lock_file(handle, LOCK_WAIT):
                raise StoreBusy(key)
            os.utime(handle.fileno())  # in use: the sweep must not remove it under its holder
            try:
                yield Locked(lambda: self._read(key), lambda entry: self._put(key, entry))
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, key: str, entry: dict) -> None:
        with self.lock(key) as locked:
            locked.put(entry)

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
        """The identity's attempts, read without the lock (each write replaces the file whole)."""
        return self._read(key)

    def _read(self, key: str) -> list[dict]:
        try:
            with open(os.path.join(self.root, f"{key}.json"), encoding="utf-8") as f:
                items = json.load(f)
        except FileNotFoundError:
            return []
        cutoff = time.time() - self.lifetime
        return [item for item in items if item.get("stamp", 0) >= cutoff]

    def _put(self, key: str, entry: dict) -> None:
        items = [item for item in self._read(key) if item["id"] != entry["id"]]
        items.insert(0, {**summary(entry), "stamp": time.time()})
        write_atomically(os.path.join(self.root, f"{key}.json"), json.dumps(items, ensure_ascii=False))
        self._maybe_sweep()


# Release a lock only if it is still ours: it may have expired and been taken by another sender.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIndex:
    """A hash per identity (attempt id -> summary), and a lock key per identity (SET NX PX)."""

    prefix = "orderdesk:orders:"

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))
        self._unlock = client.register_script(_UNLOCK)

    @contextmanager
    def lock(self, key: str):
        name, owner = self.prefix + key + ":lock", secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT
        # Expires by itself, so a worker killed while holding it blocks the order only briefly.
        while not self.client.set(name, owner, nx=True, px=int(LOCK_WAIT * 2000)):
            if time.monotonic() >= deadline:
                raise StoreBusy(key)
            time.sleep(0.01)
        try:
            yield Locked(lambda: self._read(key), lambda entry: self.put(key, entry))
        finally:
            self._unlock(keys=[name], args=[owner])

    def put(self, key: str, entry: dict) -> None:
        pipe = self.client.pipeline()
        pipe.hset(self.prefix + key, entry["id"], json.dumps(summary(entry), ensure_ascii=False))
        pipe.expire(self.prefix + key, self.ttl)
        pipe.execute()

    def recent(self, key: str) -> list[dict]:
        return self._read(key)

    def memory_since(self) -> float:
        """When this index began to remember (unix time). A Redis restarted empty (no persistence) has
        forgotten every order: the marker is gone with them, and is set afresh."""
        self.client.set(self.prefix + "since", repr(time.time()), nx=True)
        return float(self.client.get(self.prefix + "since"))

    def _read(self, key: str) -> list[dict]:
        return [json.loads(raw) for raw in self.client.hvals(self.prefix + key)]


def make_index(app, redis_client=None):
    """The order index: in Redis when the app has a client for it, else files under instance/orders/."""
    lifetime = app.permanent_session_lifetime.total_seconds()
    if redis_client is not None:
        _warn_without_persistence(redis_client)
        return RedisIndex(redis_client, lifetime)
    return FileIndex(os.path.join(app.instance_path, "orders"), lifetime)


def _warn_without_persistence(client) -> None:
    """A Redis that keeps nothing on disk forgets every order when it restarts: the guard then asks
    JustClick for a while (see sending), but the team should know. Managed Redis may refuse to say."""
    try:
        info = client.info("persistence")
        saves = client.config_get("save").get("save", "")
    except Exception:
        return
    if not info.get("aof_enabled") and not saves.strip():
        log.warning("REDIS_URL's Redis keeps nothing on disk (no RDB snapshots, no AOF): a restart empties "
                    "the order index behind the duplicate guard. Give it persistence.")
