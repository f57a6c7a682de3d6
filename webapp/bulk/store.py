"""The tables an operator brought in, kept on the server between the steps of preview and sending.

Kept per history id (one browser session), in a cachelib store: files in the instance folder, or
Redis when REDIS_URL is set; they expire with the session. The stop flag has a key of its own, so a
"Stop" written while a row is being sent is not overwritten by that row's outcome.
"""

from __future__ import annotations

import secrets


class BulkTables:
    def __init__(self, cache, lifetime: float):
        self.cache, self.ttl = cache, max(1, int(lifetime))

    @staticmethod
    def _key(hid: str, table_id: str) -> str:
        if not (hid.isalnum() and table_id.isalnum()):
            raise KeyError(table_id)
        return f"bulk:{hid}:{table_id}"

    def new(self, hid: str, table: dict) -> str:
        table_id = secrets.token_hex(8)
        self.put(hid, {**table, "id": table_id})
        return table_id

    def get(self, hid: str, table_id: str) -> dict | None:
        try:
            return self.cache.get(self._key(hid, table_id))
        except KeyError:
            return None

    def put(self, hid: str, table: dict) -> None:
        if not self.cache.set(self._key(hid, table["id"]), table, timeout=self.ttl):
            raise OSError("the table could not be stored")

    def stop(self, hid: str, table_id: str) -> None:
        self.cache.set(self._key(hid, table_id) + ":stop", True, timeout=self.ttl)

    def stopped(self, hid: str, table_id: str) -> bool:
        return bool(self.cache.get(self._key(hid, table_id) + ":stop"))

    def go_on(self, hid: str, table_id: str) -> None:
        self.cache.delete(self._key(hid, table_id) + ":stop")
