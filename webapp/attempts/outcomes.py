"""An attempt's outcome: the one list of their names, and the named sets the desk decides by.

Records keep the plain value ("created"): history, index and journal are JSON, tables are pickled,
and a stored record must read the same after any rename here. `Outcome` is a str enum, so a stored
"created" equals `Outcome.CREATED` wherever it is compared, templates included."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    SENDING = "sending"  # recorded before createorder went out; past its deadline it reads as UNKNOWN
    CREATED = "created"
    EXISTS = "exists"  # JustClick's 601: the order was made already
    REJECTED = "rejected"  # JustClick refused it: no order
    UNKNOWN = "unknown"  # may or may not exist: looked for, never sent again by itself
    NOT_SENT = "not_sent"  # JustClick was not reached: no order
    NOT_MADE = "not_made"  # an UNKNOWN an operator settled, having looked in JustClick
    NOT_FOUND = "not_found"  # an earlier release's guess that an unknown was not made; read as UNKNOWN


#: The order exists in JustClick.
MADE = frozenset({Outcome.CREATED, Outcome.EXISTS})
#: Its invoice may be looked for.
LOOKABLE = MADE | {Outcome.UNKNOWN}
#: Settled only by JustClick's list (to CREATED) or by an operator (to NOT_MADE).
UNRESOLVED = frozenset({Outcome.UNKNOWN})
#: Not known yet, as a table's run counts its rows.
PENDING = frozenset({Outcome.SENDING, Outcome.UNKNOWN, Outcome.NOT_FOUND})
#: Surely no order: a table's row may be sent again.
RETRYABLE = frozenset({Outcome.REJECTED, Outcome.NOT_SENT, Outcome.NOT_MADE})
#: Their text is the desk's own words (i18n.words), said in the operator's language; others are JustClick's.
DESK_WORDED = frozenset({Outcome.UNKNOWN, Outcome.NOT_SENT, Outcome.SENDING})
