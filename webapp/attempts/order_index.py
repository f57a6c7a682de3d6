"""The team-wide index of recent orders: every attempt of the same order, whoever sent it.

An order's identity is its customer email and its set of products. The index maps an identity to a
short summary of each recent attempt (outcome, operator, time), in a storage.OrderIndex beside the
history (files, or Redis when REDIS_URL is set), so the likely-duplicate guard is one direct lookup
that sees every session, browser and operator. `lock(identity)` holds one lock per identity across
threads, processes and instances: checking for an earlier attempt and recording "sending" happen
under it, so two posts of the same order cannot both pass the check.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import contextmanager

from webapp.storage.interfaces import Locked, OrderIndex

#: The fields of an attempt the index keeps (no customer data beyond the identity's own email).
#: `said`: the desk's own words of `text`, to be said again in the reader's language (i18n.desk_text).
SUMMARY_FIELDS = ("id", "at", "outcome", "operator", "operator_name", "token", "code", "text", "said",
                  "bill_id")


def identity(params: dict, secret: str) -> str:
    """The order's key: customer email and products, keyed with the app secret so that store
    names reveal no email."""
    products = ",".join(sorted(params.get("product_names", "").split(",")))
    text = f"{params.get('customer_email', '').casefold()}\n{products}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def summary(entry: dict) -> dict:
    return {name: entry.get(name) for name in SUMMARY_FIELDS}


class RecentOrders:
    """The index as the guard uses it: attempts go in as their summaries, whatever the caller holds."""

    def __init__(self, store: OrderIndex):
        self.store = store

    @contextmanager
    def lock(self, key: str):
        """The order's lock (storage.StoreBusy when it cannot be had in time); what may be done under it."""
        with self.store.lock(key) as locked:
            yield Locked(locked.recent, lambda entry: locked.put(summary(entry)))

    def put(self, key: str, entry: dict) -> None:
        self.store.put(key, summary(entry))

    def recent(self, key: str) -> list[dict]:
        return self.store.recent(key)

    def memory_since(self) -> float:
        return self.store.memory_since()
