"""Logging: one key=value line per request and per upstream call, tied together by a request id.

No customer data and no secrets: request lines carry the path, never the query or the form.
Every record is one line: control characters in logged values are written escaped.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request

log = logging.getLogger("webapp.request")

#: The current request's id and operator; a ContextVar so that threads the request starts
#: (the catalog's concurrent fetches) can carry them too.
request_context: ContextVar[tuple[str, str]] = ContextVar("request_context", default=("-", "-"))
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a router's id is reused only if it is tame


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.operator = request_context.get()
        return True


#: C0 and C1 controls and the Unicode line separators: each could start a line of its own.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with every control character escaped (a CR LF becomes the four characters \\r\\n)."""
    return CONTROL_CHARACTERS.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Writes each record on one line, so that a path or a name carrying %0d%0a cannot forge a log
    line. A traceback, appended after the message, keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))


FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s operator=%(operator)s %(message)s"


def configure(app: Flask) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RequestContextFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()  # stdout/stderr is what a PaaS collects
        handler.setFormatter(OneLineFormatter(FORMAT))
        handler.addFilter(RequestContextFilter())
        root.addHandler(handler)
        if root.level > logging.INFO:
            root.setLevel(logging.INFO)
    # The app writes its own request line; werkzeug's would repeat it (and its query strings).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(lambda _exc: request_context.set(("-", "-")))


def bind_operator() -> None:
    """Runs after sign-in has identified the operator (registered after auth's gate)."""
    if operator := g.get("operator"):
        request_context.set((g.request_id, operator["username"]))


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex[:16]
    g.started = time.perf_counter()
    request_context.set((g.request_id, "-"))


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "-")
    log.info("request method=%s path=%s status=%s ms=%d", request.method, request.path,
             response.status_code, (time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
    return response
