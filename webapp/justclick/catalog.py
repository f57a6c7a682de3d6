"""Goods, coupons and managers from JustClick: fetched together, cached, degrading gracefully.

The lists live in a cache shared by every worker (cachelib: files or Redis). An entry is kept past
its TTL so that, while JustClick is down, a stale list is served with a note rather than none.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from webapp.i18n.words import Words
from webapp.justclick import product_search
from webapp.justclick.client import JustClickClient, JustClickError

log = logging.getLogger(__name__)

#: The fields the desk reads from each list's rows; a row without them is dropped, not fatal.
ROW_FIELDS = {
    "goods": ("good_name", "good_title"),
    "coupons": ("id", "coupon"),
    "managers": ("id", "manager_name"),
    "priced_goods": ("good_name", "good_sum"),
}

# name -> (client method, what the operator is told when it fails, and when an older copy stands in)
LISTS = {
    "goods": ("get_goods", Words("Products could not be loaded from JustClick: type product ids instead."),
              Words("JustClick is not answering: the goods list shown was loaded at %(time)s.")),
    "coupons": ("get_coupons", Words("Coupons could not be loaded from JustClick: type a coupon id instead."),
                Words("JustClick is not answering: the coupons list shown was loaded at %(time)s.")),
    "managers": ("get_managers",
                 Words("Managers could not be loaded from JustClick: type a manager id instead."),
                 Words("JustClick is not answering: the managers list shown was loaded at %(time)s.")),
    # Catalogue prices come from the signed API 1.0; without them the desk simply shows no prices.
    "priced_goods": ("get_all_goods", None, None),
}


@dataclass
class Catalog:
    goods: list[dict] | None = None  # None: unavailable
    coupons: list[dict] | None = None
    managers: list[dict] | None = None
    priced_goods: list[dict] | None = None
    notes: list[str] = field(default_factory=list)
    fetched_at: float | None = None  # the oldest list's time

    @cached_property  # templates ask per line; a Catalog is assembled once per request
    def goods_by_name(self) -> dict[str, dict]:
        return {g["good_name"]: g for g in self.goods or ()}

    @cached_property
    def prices(self) -> dict[str, Decimal]:
        prices = {}
        for good in self.priced_goods or ():
            try:
                prices[good["good_name"]] = Decimal(str(good["good_sum"]))
            except (KeyError, InvalidOperation):
                continue
        return prices

    @cached_property
    def delivered(self) -> frozenset[str]:
        """Products JustClick delivers (`good_type` physical): an order of one needs an address and a city."""
        return frozenset(g["good_name"] for g in self.priced_goods or () if g.get("good_type") == "physical")

    @property
    def goods_choices(self) -> list[tuple[str, str]]:
        return [(g["good_name"], f"{g['good_title']} ({g['good_name']})") for g in self.goods or ()]

    @property
    def coupon_choices(self) -> list[tuple[str, str]]:
        return [(str(c["id"]), c["coupon"]) for c in self.coupons or ()]

    @property
    def manager_choices(self) -> list[tuple[str, str]]:
        return [(str(m["id"]), m["manager_name"]) for m in self.managers or ()]

    def coupon_code(self, coupon_id: str) -> str | None:
        return next((c["coupon"] for c in self.coupons or () if str(c["id"]) == str(coupon_id)), None)

    def manager_name(self, manager_id) -> str | None:
        return next((m["manager_name"] for m in self.managers or ()
                     if str(m["id"]) == str(manager_id)), None)

    def search_goods(self, query: str, limit: int = 20, typos: bool = True) -> list[dict]:
        """The goods the query names (product_search: words, the other layout, small typos unless
        `typos` is False); every product for an empty query."""
        if not query.strip():
            return list(self.goods or ())[:limit]
        return product_search.search(self.goods, query, limit, typos=typos)


class CatalogService:
    #: After a failed fetch, pages are served from what there is for this long before trying again,
    #: so an outage does not cost every page load a timeout.
    RETRY_AFTER = 30.0
    #: "Refresh lists" refetches at most once in this many seconds (JustClick blocks accounts that
    #: hammer its API); a press inside the window is served the lists the last one fetched.
    REFRESH_WINDOW = 30.0

    def __init__(self, client: JustClickClient, cache, ttl: float):
        self.client = client
        self.cache = cache
        self.ttl = ttl
        self._lock = threading.Lock()  # one refresh at a time in this process

    def get(self, refresh: bool = False) -> Catalog:
        entries = self._read()
        if refresh or self._due(entries):
            with self._lock:
                refresh = refresh and self._refresh_allowed()
                entries = self._read()  # another thread may have fetched while this one waited
                due = list(LISTS) if refresh else self._due(entries)
                if due:
                    entries.update(self._fetch(due, entries))
        return self._assemble(entries)

    def kept(self) -> Catalog:
        """The lists as kept, whatever their age, without a call (for pages that only name things)."""
        return self._assemble(self._read())

    def _refresh_allowed(self) -> bool:
        """No refresh in the last REFRESH_WINDOW seconds. The time is kept in the shared cache, so
        the workers sharing it agree (two presses in two workers at one instant may both refresh)."""
        last = self.cache.get("catalog:refreshed_at")
        now = time.time()
        if last is not None and now - last < self.REFRESH_WINDOW:
            return False
        self.cache.set("catalog:refreshed_at", now, timeout=0)
        return True

    def _read(self) -> dict:
        return {name: self.cache.get(f"catalog:{name}") for name in LISTS}

    @staticmethod
    def _due(entries: dict) -> list[str]:
        now = time.time()
        return [name for name, entry in entries.items() if entry is None or now >= entry["due"]]

    def _fetch(self, names: list[str], old: dict) -> dict:
        """Fetch the due lists concurrently: a cold page costs one round trip, not four."""
        fresh = {}
        with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
            # Each call runs in a copy of this context, so its log line keeps the request id.
            futures = {name: pool.submit(contextvars.copy_context().run, getattr(self.client, LISTS[name][0]))
                       for name in names}
            for name, future in futures.items():
                now = time.time()
                try:
                    entry = {"items": _usable_rows(name, future.result()), "at": now, "due": now + self.ttl}
                except JustClickError as exc:
                    log.warning("catalog list %s unavailable: %s", name, exc)
                    previous = old.get(name) or {"items": None, "at": None}
                    entry = dict(previous, failed=str(exc), due=now + self.RETRY_AFTER)
                # Kept without expiry: past its TTL a list still serves while JustClick is down.
                self.cache.set(f"catalog:{name}", entry, timeout=0)
                fresh[name] = entry
        return fresh

    @staticmethod
    def _assemble(entries: dict) -> Catalog:
        catalog = Catalog()
        for name, (_, failure_note, stale_note) in LISTS.items():
            entry = entries.get(name)
            if entry is None or entry["items"] is None:
                if failure_note:
                    catalog.notes.append(failure_note)
                continue
            if name == "priced_goods" and entry.get("failed"):
                continue  # an old price must never be sent as if the operator had typed it
            setattr(catalog, name, entry["items"])
            if entry.get("failed") and failure_note:
                loaded = time.strftime("%H:%M", time.localtime(entry["at"]))
                catalog.notes.append(Words(stale_note.msgid, time=loaded))
        times = [e["at"] for e in entries.values() if e and e.get("at")]
        catalog.fetched_at = min(times) if times else None
        return catalog


def _usable_rows(name: str, rows: list) -> list[dict]:
    wanted = ROW_FIELDS[name]
    usable = [row for row in rows
              if isinstance(row, dict) and all(row.get(field) not in (None, "") for field in wanted)]
    if len(usable) < len(rows):
        log.warning("catalog list %s: %d rows without %s dropped", name, len(rows) - len(usable), wanted)
    return usable
