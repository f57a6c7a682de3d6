"""The desk's services, made once by create_app and reached by name rather than by string keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from webapp.storage.interfaces import HistoryStore, OrderArchive, PreferenceStore


@dataclass
class Services:
    justclick: Any  # justclick.JustClickClient
    catalog: Any  # justclick.CatalogService: goods, coupons, managers, cached
    history: HistoryStore  # each browser session's attempts
    tokens: Any  # attempts.tokens.SubmissionTokens (over a TokenStore): one form, one order
    index: Any  # attempts.order_index.RecentOrders (over an OrderIndex): recent orders, the guard's lock
    archive: OrderArchive  # every attempt of the team, kept ORDER_RETENTION_DAYS
    preferences: PreferenceStore  # each operator's choices
    tables: Any  # bulk.BulkTables (over a storage Cache): "Many orders" tables between their steps
    journal: Any  # attempts.Journal: outcomes the store could not take yet
    sandbox_book: Any = None  # sandbox mode only: the stand-in's order book
    sandbox_app: Any = None  # sandbox mode only: the stand-in itself (its payment pages)


def install(app: Flask, services: Services) -> None:
    app.extensions["orderdesk"] = services


def services() -> Services:
    return current_app.extensions["orderdesk"]


def services_of(app: Flask) -> Services:
    """An app's services outside a request (tests, scripts)."""
    return app.extensions["orderdesk"]
