"""The operator's order history: every submission attempt, kept in their (server-side) session."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from flask import current_app, session

from .orders import CREATEORDER_FIELDS

# outcome -> what the operator reads
OUTCOMES = {
    "created": "Created",
    "rejected": "Rejected by JustClick",
    "unknown": "Unknown: check in JustClick",
    "not_sent": "Not sent: JustClick unreachable",
}


def record(*, outcome: str, sent: dict, reply, code: int | None = None, text: str = "",
           operator: str | None = None, extra: dict | None = None) -> dict:
    """Add an attempt (newest first) and return it. `sent` must never contain the rpsKey."""
    assert "rpsKey" not in sent
    entry = {
        "id": uuid.uuid4().hex[:12],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "operator": operator,
        "outcome": outcome,
        "code": code,
        "text": text,
        "sent": sent,
        "reply": reply,
        **(extra or {}),
    }
    items = [entry, *session.get("history", [])]
    limit = current_app.config["HISTORY_LIMIT"]
    if len(items) > limit:
        session["history_dropped"] = session.get("history_dropped", 0) + len(items) - limit
        items = items[:limit]
    session["history"] = items
    return entry


def entries(outcome: str | None = None) -> list[dict]:
    items = session.get("history", [])
    return [e for e in items if e["outcome"] == outcome] if outcome else list(items)


def dropped() -> int:
    return session.get("history_dropped", 0)


def find(entry_id: str) -> dict | None:
    return next((e for e in session.get("history", []) if e["id"] == entry_id), None)


def clear() -> None:
    session.pop("history", None)
    session.pop("history_dropped", None)


CSV_COLUMNS = ("time", "operator", "outcome", "code", "text", *CREATEORDER_FIELDS)


def to_csv(items: list[dict]) -> str:
    """One row per attempt; a UTF-8 BOM so spreadsheets open Cyrillic correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in items:
        row = [e["at"], e.get("operator") or "", OUTCOMES[e["outcome"]], e.get("code") or "", e["text"]]
        writer.writerow(row + [e["sent"].get(name, "") for name in CREATEORDER_FIELDS])
    return out.getvalue()
