"""What the desk reads as a request body: no larger than the largest order, complete, and no files."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from webapp.web.errors import render_error

#: The largest real order is about 224 KB URL-encoded: 100 product lines and every field at its
#: longest, a 2000-character note and as long a paste, each character 4 bytes of UTF-8 (12 once
#: percent-encoded); tests/test_request_body.py builds it. Twice that leaves room; a larger body
#: is refused with 413 before any of it is read.
MAX_REQUEST_BYTES = 512 * 1024

#: The one form that takes a file: a table of orders ("Many orders").
TAKES_FILES = ("bulk.upload",)
NO_FILES = _l("The desk takes no files, and this form came with one where text belongs. Nothing was sent.")
UNREADABLE = _l("The desk could not read this form: its text did not arrive as UTF-8, so nothing was "
                "sent and nothing you typed could be kept. Reload the page and type it again.")


def init_app(app: Flask) -> None:
    """The size limit and whole bodies; `readable_form_only` is registered by create_app after the
    sign-in gate, so that its refusals are said in the operator's language."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.wsgi_app = _whole_bodies_only(app.wsgi_app)
    app.before_request(_read_body)


def _read_body() -> None:
    """Read the body first, for everyone: one too large is a 413 before the sign-in gate, or
    anything else, looks at it."""
    _ = request.files


def _whole_bodies_only(wsgi_app):
    """gunicorn marks its input as terminated, and werkzeug then reads a body until the client stops
    sending, however far short of its Content-Length: a body cut off mid-price was read as an order
    with a smaller price. Without the mark werkzeug holds a body to its Content-Length, and one that
    ends early is a 400 (ClientDisconnected) before anything reads the form."""

    def middleware(environ, start_response):
        if environ.get("CONTENT_LENGTH"):
            environ.pop("wsgi.input_terminated", None)
        return wsgi_app(environ, start_response)

    return middleware


def readable_form_only():
    # a file part where a text field belongs would reach the form as an object
    if request.files and request.endpoint not in TAKES_FILES:
        return render_error(400, str(NO_FILES))
    # werkzeug reads a URL-encoded body that is not UTF-8 as an empty form, which would then look
    # like an expired one "with everything you typed below"
    url_encoded = request.mimetype == "application/x-www-form-urlencoded"
    if url_encoded and request.content_length and not request.form:
        return render_error(400, str(UNREADABLE))
    return None
