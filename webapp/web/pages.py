"""Answering with a whole page, or with only its swappable region when htmx asks for it."""

from __future__ import annotations

from flask import Response, make_response, render_template

from webapp.web.extensions import htmx


def page_or_region(template: str, partial: str, status: int = 200, **context) -> Response:
    """The full page, or only its swappable region for an htmx request."""
    response = make_response(render_template(partial if htmx else template, **context), status)
    response.vary.add("HX-Request")
    return response
