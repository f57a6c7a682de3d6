"""Safe by default on the public internet: proxy headers, security headers, secure cookies."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Pico draws select arrows and switches with data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.wsgi_app = _secure_cookies_over_https(app.wsgi_app)
    # Behind the PaaS router: trust one hop (PROXY_HOPS) for the client address and the scheme.
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.after_request(_headers)


def _secure_cookies_over_https(wsgi_app):
    """Mark every cookie Secure when the request came over HTTPS (the router terminates TLS).

    A WSGI wrapper because the session cookie is written after Flask's after_request hooks.
    """

    def middleware(environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [(name, value + "; Secure" if name.lower() == "set-cookie" and "; Secure" not in value
                        else value) for name, value in headers]
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, secure_start_response)

    return middleware


#: On every response: pages here, static files in assets.py.
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _headers(response):
    headers = response.headers
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    # Pages hold customers' data, CSRF and one-time tokens: a shared browser or a proxy must not keep
    # them. no-store rather than "private, no-cache": going back re-fetches the page, so a form comes
    # back with a fresh token instead of one already claimed. Static files never pass here (assets.py).
    headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
