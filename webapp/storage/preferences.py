"""What each operator chose for themselves (today: their language), kept for good.

Not in the session: a choice must outlive signing out and reach every instance. So it sits beside
history and tokens, in Redis when REDIS_URL is set, else in a file per operator in the instance
folder. Nothing here expires: a record is a few bytes per team member.
"""

from __future__ import annotations

import hashlib
import json
import os

from webapp.storage.files import write_atomically


def _name(username: str) -> str:
    """Usernames may hold anything JSON allows; a file or key name holds a digest of it instead."""
    return hashlib.sha256(username.encode()).hexdigest()[:32]


class FilePreferences:
    """A JSON file per operator under instance/preferences/."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def get(self, username: str) -> dict:
        try:
            with open(os.path.join(self.root, _name(username) + ".json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def set(self, username: str, **choices) -> None:
        # Two tabs choosing at once: the last write wins, which is what either operator would expect.
        record = {**self.get(username), **choices}
        write_atomically(os.path.join(self.root, _name(username) + ".json"), json.dumps(record))


class RedisPreferences:
    """A hash per operator: one field per choice."""

    prefix = "orderdesk:preferences:"

    def __init__(self, client):
        self.client = client

    def get(self, username: str) -> dict:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(self.prefix + _name(username)).items()}

    def set(self, username: str, **choices) -> None:
        self.client.hset(self.prefix + _name(username), mapping=choices)


def make_preferences(app, redis_client=None):
    if redis_client is not None:
        return RedisPreferences(redis_client)
    return FilePreferences(os.path.join(app.instance_path, "preferences"))
