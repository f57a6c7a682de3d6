"""storage: what must outlive a request, kept in files of the instance folder or in Redis.

`interfaces` says what each store promises, `files` and `redis` keep those promises, and `open_stores`
is the one place that chooses between them: Redis when REDIS_URL is set (shared by every instance),
else files (shared by the workers of one instance). The lowest layer: no Flask, no desk package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cachelib import FileSystemCache, RedisCache

from webapp.storage import redis as in_redis
from webapp.storage.files import SWEEP_EVERY, FileArchive, FileHistory, FileIndex, FilePreferences, FileTokens
from webapp.storage.interfaces import (
    Cache,
    HistoryStore,
    OrderArchive,
    OrderIndex,
    PreferenceStore,
    TokenStore,
)
from webapp.storage.sessions import SessionFiles

#: Where Flask-Session keeps sessions, in Redis and (hashed into file names) in files alike.
SESSION_KEY_PREFIX = in_redis.prefix("session")


@dataclass(frozen=True)
class Stores:
    history: HistoryStore  # each browser session's attempts
    tokens: TokenStore  # claimed submission tokens
    index: OrderIndex  # the team's recent orders, and the guard's lock
    archive: OrderArchive  # every attempt of the team, kept ORDER_RETENTION_DAYS
    preferences: PreferenceStore  # each operator's choices
    tables: Cache  # "Many orders" tables between their steps (bulk.BulkTables keeps them here)
    cache: Cache  # the lists read from JustClick
    sessions: Any  # Flask-Session's store: SessionFiles, or None when it keeps them in `redis`
    limits: str  # the rate limiter's storage URI
    redis: Any = None  # the Redis client every store above shares, or None for files


def open_stores(config: Mapping, instance_path: str, *, sweep_every: float = SWEEP_EVERY) -> Stores:
    """Every store, opened once. `config` needs REDIS_URL, PERMANENT_SESSION_LIFETIME (what expires
    lives that long) and ORDER_RETENTION_DAYS; `sweep_every` spaces the stores' sweeps (tests shorten it)."""
    from webapp.storage import limits  # registers the orderdesk+sqlite scheme with the limits library

    lifetime = config["PERMANENT_SESSION_LIFETIME"]
    lifetime = lifetime.total_seconds() if isinstance(lifetime, timedelta) else float(lifetime)
    retention = float(config["ORDER_RETENTION_DAYS"]) * 86400
    if url := config.get("REDIS_URL"):
        client = in_redis.connect(url)
        in_redis.warn_without_persistence(client)
        return Stores(
            history=in_redis.RedisHistory(client, lifetime),
            tokens=in_redis.RedisTokens(client, lifetime),
            index=in_redis.RedisIndex(client, lifetime),
            archive=in_redis.RedisArchive(client, retention, sweep_every),
            preferences=in_redis.RedisPreferences(client),
            tables=RedisCache(host=client, key_prefix=in_redis.prefix("table")),
            cache=RedisCache(host=client, key_prefix=in_redis.prefix("cache")),
            sessions=None,
            limits=url,
            redis=client,
        )

    def folder(name: str) -> str:
        return os.path.join(instance_path, name)

    return Stores(
        sessions=SessionFiles(folder("sessions"), threshold=50000),
        cache=FileSystemCache(folder("cache"), threshold=10000),
        tables=FileSystemCache(folder("bulk"), threshold=0),  # 0: none dropped
        history=FileHistory(folder("history"), lifetime, sweep_every=sweep_every),
        tokens=FileTokens(folder("tokens"), lifetime, sweep_every=sweep_every),
        index=FileIndex(folder("orders"), lifetime, sweep_every=sweep_every),
        archive=FileArchive(folder("archive.sqlite3"), retention, sweep_every=sweep_every),
        preferences=FilePreferences(folder("preferences")),
        # Counted in a file every worker of this instance shares (each worker's memory would not).
        limits=f"{limits.SQLiteStorage.STORAGE_SCHEME[0]}://{folder('limits.sqlite3')}",
    )
