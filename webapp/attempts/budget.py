"""One rate budget per operator for everything that sends an order: the order form and the rows of
"Many orders" draw on the same ORDER_RATE_LIMIT, so mixing the two sends no more than either alone.

The form's route is limited by Flask-Limiter with the shared scope below; a table's run counts each
row it sends, and waits for the budget, in the very same bucket (Flask-Limiter's own identifiers for
a shared limit: the key, then the scope).
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from limits import parse_many

from webapp.auth.team import operator_name
from webapp.web.extensions import limiter

log = logging.getLogger(__name__)

#: The shared limit's scope: one bucket whichever route or run spends from it.
SCOPE = "orders"


def limit_value() -> str:
    return current_app.config["ORDER_RATE_LIMIT"]


def key() -> str:
    """Flask-Limiter's key for the signed-in operator."""
    return key_for(operator_name())


def key_for(username: str) -> str:
    return f"orders:{username}"


def wait(username: str) -> float:
    """Seconds until the operator's budget lets another order go (0: now)."""
    who = (key_for(username), SCOPE)
    try:
        waits = [limiter.limiter.get_window_stats(item, *who).reset_time - time.time()
                 for item in parse_many(limit_value()) if not limiter.limiter.test(item, *who)]
    except Exception:  # the limits' store is away: orders go on, as the form's do
        log.warning("the order rate budget could not be read")
        return 0.0
    return max([max(w, 1.0) for w in waits], default=0.0)


def spend(username: str) -> None:
    """Count one order sent outside the form's route (a table's row)."""
    try:
        for item in parse_many(limit_value()):
            limiter.limiter.hit(item, key_for(username), SCOPE)
    except Exception:
        log.warning("the order rate budget could not be counted")
