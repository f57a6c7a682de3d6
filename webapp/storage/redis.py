"""The Redis backend: every store in one Redis, shared by every instance of the desk.

Every key the desk writes is named in KEYS below, and nowhere else. Deployed desks hold their data
under these names: never rename one.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from contextlib import contextmanager

import redis

from webapp.storage.interfaces import LOCK_WAIT, Locked, StoreBusy, operator_name

#: Every Redis key, by store. The parts in braces are filled in; the rest is fixed for good.
KEYS = {
    "session": "orderdesk:session:{sid}",  # Flask-Session's (SESSION_KEY_PREFIX)
    "cache": "orderdesk:cache:{name}",  # the list cache (cachelib's RedisCache): catalog:<list>
    "table": "orderdesk:{name}",  # bulk tables (cachelib's RedisCache): bulk:<hid>:<table id>[:stop]
    "history": "orderdesk:history:{hid}",  # a list of attempt ids, newest first
    "history_dropped": "orderdesk:history:{hid}:dropped",  # how many the cap dropped
    "history_attempt": "orderdesk:history:{hid}:attempt:{entry_id}",  # one attempt, JSON
    "token": "orderdesk:token:{token}",  # a claimed token: its attempt id
    "orders": "orderdesk:orders:{key}",  # a hash per order: attempt id -> summary, JSON
    "orders_lock": "orderdesk:orders:{key}:lock",  # the guard's lock on one order
    "orders_since": "orderdesk:orders:since",  # when the index began to remember
    "preferences": "orderdesk:preferences:{name}",  # a hash per operator: choice -> value
    "archive": "orderdesk:archive:{entry_id}",  # the team's attempt, JSON, expiring with the retention
    "archive_rows": "orderdesk:archive-rows",  # a hash: attempt id -> its row, JSON
    "archive_text": "orderdesk:archive-text",  # a hash: attempt id -> what the list's search reads
    "archive_times": "orderdesk:archive-times",  # a sorted set: attempt id, scored by when it was made
}


def key_of(name: str, /, **parts: str) -> str:
    return KEYS[name].format(**parts)


def prefix(name: str) -> str:
    """The fixed start of a key, for whatever adds the rest itself (cachelib, Flask-Session, a script)."""
    return KEYS[name].split("{", 1)[0]


log = logging.getLogger(__name__)


def connect(url: str) -> redis.Redis:
    # Timeouts: a Redis that stops answering must become an error page, not a hung worker.
    return redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)


def warn_without_persistence(client) -> None:
    """A Redis that keeps nothing on disk forgets every order when it restarts: the guard then asks
    JustClick for a while (see attempts.sending), but the team should know. Managed Redis may refuse
    to say."""
    try:
        info = client.info("persistence")
        saves = client.config_get("save").get("save", "")
    except Exception:
        return
    if not info.get("aof_enabled") and not saves.strip():
        log.warning("REDIS_URL's Redis keeps nothing on disk (no RDB snapshots, no AOF): a restart empties "
                    "the order index behind the duplicate guard. Give it persistence.")


# Redis keeps, per history id, a list of attempt ids (newest first), each attempt under its own key
# (so an outcome can be written over its record), and a counter of attempts the cap dropped.
# Push, trim to the cap and count what the trim dropped in one atomic step; an update of an attempt
# whose record is gone (trimmed, or lost with a restarted Redis) adds it again.
_APPEND = """
local list, dropped, prefix = KEYS[1], KEYS[2], KEYS[3]
local id, data, limit, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if ARGV[5] == 'update' and redis.call('EXISTS', prefix .. id) == 1 then
  redis.call('SET', prefix .. id, data, 'EX', ttl)
  return
end
redis.call('SET', prefix .. id, data, 'EX', ttl)
local n = redis.call('LPUSH', list, id)
if n > limit then
  for _, old in ipairs(redis.call('LRANGE', list, limit, -1)) do redis.call('DEL', prefix .. old) end
  if limit > 0 then redis.call('LTRIM', list, 0, limit - 1) else redis.call('DEL', list) end
  redis.call('INCRBY', dropped, n - limit)
end
redis.call('EXPIRE', list, ttl)
redis.call('EXPIRE', dropped, ttl)
"""


class RedisHistory:
    """A list of attempt ids per history id, an attempt per key; all expire with the session."""

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))
        self._append = client.register_script(_APPEND)

    @staticmethod
    def _keys(hid: str) -> list[str]:
        """The list, the dropped counter, and the start of each attempt's key (the script adds its id)."""
        return [key_of("history", hid=hid), key_of("history_dropped", hid=hid),
                key_of("history_attempt", hid=hid, entry_id="")]

    def _write(self, hid: str, entry: dict, limit: int, mode: str) -> None:
        data = json.dumps(entry, ensure_ascii=False, default=str)
        self._append(keys=self._keys(hid), args=[entry["id"], data, limit, self.ttl, mode])

    def append(self, hid: str, entry: dict, limit: int) -> None:
        self._write(hid, entry, limit, "append")

    def update(self, hid: str, entry: dict, limit: int) -> None:
        self._write(hid, entry, limit, "update")

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        ids = self.client.lrange(key_of("history", hid=hid), 0, -1 if limit is None else limit - 1)
        if not ids:
            return []
        found = self.client.mget([key_of("history_attempt", hid=hid, entry_id=i.decode()) for i in ids])
        return [json.loads(raw) for raw in found if raw is not None]

    def find(self, hid: str, entry_id: str) -> dict | None:
        raw = self.client.get(key_of("history_attempt", hid=hid, entry_id=entry_id))
        return None if raw is None else json.loads(raw)

    def dropped(self, hid: str) -> int:
        return int(self.client.get(key_of("history_dropped", hid=hid)) or 0)

    def clear(self, hid: str) -> None:
        listed = key_of("history", hid=hid)
        ids = self.client.lrange(listed, 0, -1)
        attempts = [key_of("history_attempt", hid=hid, entry_id=i.decode()) for i in ids]
        self.client.delete(listed, key_of("history_dropped", hid=hid), *attempts)


class RedisTokens:
    """A key per claimed token, holding the attempt id: SET NX EX claims it."""

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))

    def claim(self, token: str, entry_id: str) -> bool:
        return bool(self.client.set(key_of("token", token=token), entry_id, nx=True, ex=self.ttl))

    def outcome(self, token: str) -> str | None:
        raw = self.client.get(key_of("token", token=token))
        return None if raw is None else raw.decode()

    def release(self, token: str) -> None:
        self.client.delete(key_of("token", token=token))


# Release a lock only if it is still ours: it may have expired and been taken by another sender.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIndex:
    """A hash per order (attempt id -> record), and a lock key per order (SET NX PX)."""

    def __init__(self, client, lifetime: float, lock_wait: float = LOCK_WAIT):
        self.client, self.ttl, self.lock_wait = client, max(1, int(lifetime)), lock_wait
        self._unlock = client.register_script(_UNLOCK)

    @contextmanager
    def lock(self, key: str):
        name, owner = key_of("orders_lock", key=key), secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_wait
        # Expires by itself, so a worker killed while holding it blocks the order only briefly.
        while not self.client.set(name, owner, nx=True, px=int(self.lock_wait * 2000)):
            if time.monotonic() >= deadline:
                raise StoreBusy(key)
            time.sleep(0.01)
        try:
            yield Locked(lambda: self.recent(key), lambda record: self.put(key, record))
        finally:
            self._unlock(keys=[name], args=[owner])

    def put(self, key: str, record: dict) -> None:
        pipe = self.client.pipeline()
        pipe.hset(key_of("orders", key=key), record["id"], json.dumps(record, ensure_ascii=False))
        pipe.expire(key_of("orders", key=key), self.ttl)
        pipe.execute()

    def recent(self, key: str) -> list[dict]:
        return [json.loads(raw) for raw in self.client.hvals(key_of("orders", key=key))]

    def memory_since(self) -> float:
        """When this index began to remember (unix time). A Redis restarted empty (no persistence) has
        forgotten every order: the marker is gone with them, and is set afresh."""
        self.client.set(key_of("orders_since"), repr(time.time()), nx=True)
        return float(self.client.get(key_of("orders_since")))


# The attempts of a time range whose text holds, for each group of words, one of them (plain substrings),
# newest first, at most ARGV[3] (-1: all): looked through inside Redis, so that only the ids found
# travel (reading ten thousand texts out took 100 ms).
_FIND = """
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])
local limit, groups, found = tonumber(ARGV[3]), cjson.decode(ARGV[4]), {}
for _, id in ipairs(ids) do
  if limit >= 0 and #found >= limit then break end
  local text = redis.call('HGET', KEYS[2], id)
  local holds = text ~= false
  for _, alternatives in ipairs(groups) do
    if not holds then break end
    holds = false
    for _, word in ipairs(alternatives) do
      if string.find(text, word, 1, true) then holds = true; break end
    end
  end
  if holds then found[#found + 1] = id end
end
return found
"""


class RedisArchive:
    """Each attempt under its own key (it expires when its retention ends), its row and its text in two
    hashes and its time in one sorted set: a list reads a range of times (and, to search, those texts),
    then the rows it shows at once. Members of one score come in reverse order of their ids, as the
    files give them."""

    def __init__(self, client, retention: float, sweep_every: float):
        self.client, self.retention, self.sweep_every = client, retention, sweep_every
        self._next_sweep = 0.0
        self._find = client.register_script(_FIND)

    def put(self, made_at: float, record: dict, row: dict, text: str) -> None:
        entry_id = record["id"]
        pipe = self.client.pipeline()  # MULTI/EXEC: readers see all of it or none
        pipe.zadd(key_of("archive_times"), {entry_id: made_at}, nx=True)  # the first time is kept
        pipe.zscore(key_of("archive_times"), entry_id)
        pipe.hset(key_of("archive_rows"), entry_id, json.dumps(row, ensure_ascii=False, default=str))
        pipe.hset(key_of("archive_text"), entry_id, text)
        pipe.set(key_of("archive", entry_id=entry_id), json.dumps(record, ensure_ascii=False, default=str))
        _, first, *_ = pipe.execute()
        self.client.expireat(key_of("archive", entry_id=entry_id), int(first + self.retention) + 1)
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_every
            self._sweep()

    def _sweep(self) -> None:
        old = self.client.zrangebyscore(key_of("archive_times"), "-inf", f"({time.time() - self.retention}")
        if old:
            pipe = self.client.pipeline()
            pipe.hdel(key_of("archive_rows"), *old)
            pipe.hdel(key_of("archive_text"), *old)
            pipe.zrem(key_of("archive_times"), *old)
            pipe.delete(*(key_of("archive", entry_id=i.decode()) for i in old))
            pipe.execute()

    def get(self, entry_id: str) -> dict | None:
        made_at = self.client.zscore(key_of("archive_times"), entry_id)
        if made_at is None or made_at < time.time() - self.retention:
            return None
        raw = self.client.get(key_of("archive", entry_id=entry_id))
        return None if raw is None else json.loads(raw)

    def rows(self, since: float, until: float, limit: int | None = None, words=()) -> list[dict]:
        ids = self._ids(since, until, limit, words)
        found = self.client.hmget(key_of("archive_rows"), ids) if ids else []
        return [json.loads(raw) for raw in found if raw is not None]

    def records(self, since: float, until: float, limit: int | None = None, words=()) -> list[dict]:
        ids = self._ids(since, until, limit, words)
        keys = [key_of("archive", entry_id=i.decode() if isinstance(i, bytes) else i) for i in ids]
        found = self.client.mget(keys) if keys else []  # a record past its retention has expired: None
        return [json.loads(raw) for raw in found if raw is not None]

    def _ids(self, since: float, until: float, limit: int | None, words) -> list:
        since = max(since, time.time() - self.retention)
        if words:
            return self._find(keys=[key_of("archive_times"), key_of("archive_text")],
                              args=[f"({until}", since, -1 if limit is None else limit,
                                    json.dumps([list(alternatives) for alternatives in words])])
        return self.client.zrevrangebyscore(key_of("archive_times"), f"({until}", since,
                                            start=0 if limit is not None else None, num=limit)


class RedisPreferences:
    """A hash per operator: one field per choice."""

    def __init__(self, client):
        self.client = client

    def get(self, username: str) -> dict:
        found = self.client.hgetall(key_of("preferences", name=operator_name(username)))
        return {k.decode(): v.decode() for k, v in found.items()}

    def set(self, username: str, **choices) -> None:
        self.client.hset(key_of("preferences", name=operator_name(username)), mapping=choices)
