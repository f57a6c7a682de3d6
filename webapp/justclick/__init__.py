"""JustClick: the API client (2.0 and the signed 1.0 reads), whether an invoice is an order's own, and
the cached lists of goods, coupons and managers. Nothing of Flask: it is tested over real HTTP."""

from webapp.justclick.client import (
    CREATEORDER_FIELDS,
    BadResponse,
    JustClickClient,
    JustClickError,
    Rejected,
    Unavailable,
)

__all__ = [
    "CREATEORDER_FIELDS", "BadResponse", "JustClickClient", "JustClickError", "Rejected", "Unavailable",
]
