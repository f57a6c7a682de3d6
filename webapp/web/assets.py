"""Static files: named by their content, cached for a year, compressed once, served before Flask.

At start-up each file of static/ is copied into the instance folder under a name that carries a
hash of its content (css/app.css -> css/app.3f2c9a1b0d4e.css), with brotli and gzip versions beside
it. The desk's own stylesheet and script travel without their comments and indentation (rcssmin,
rjsmin: whitespace and comments only, nothing renamed): a third less on a first visit's wire, while
static/ keeps them as they are written. `url_for('static', filename='css/app.css')` gives the
hashed URL, so a browser keeps the file for a year and never asks again; a changed file gets a new
name. WhiteNoise serves both the hashed
copies and, for old links, the plain names (those are revalidated on every use). No build step:
a fresh instance builds on its first start, and later starts find the files already there.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
from pathlib import Path

import rcssmin
import rjsmin
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from webapp.web.security import HEADERS

HASHED = "public, max-age=31536000, immutable"
PLAIN = "no-cache"  # a plain name may change content at the next deploy: ask each time (304 if unchanged)


def init_app(app: Flask) -> None:
    source, prefix = app.static_folder, app.static_url_path
    if app.debug:  # while editing: plain names, read from disk on every request
        app.wsgi_app = _whitenoise(app.wsgi_app, built=None, autorefresh=True)
        app.wsgi_app.add_files(source, prefix)
        return
    # Tests share one folder between their many apps; a deployed desk keeps it in its instance folder.
    built = app.config.get("STATIC_BUILD_FOLDER") or os.path.join(app.instance_path, "static")
    names = build(source, built)
    served = _whitenoise(app.wsgi_app, built=built)
    served.add_files(source, prefix)
    served.add_files(built, prefix)
    app.wsgi_app = served

    @app.url_defaults
    def hashed_name(endpoint, values):
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]


def build(source: str, built: str) -> dict[str, str]:
    """Copy each file of `source` into `built` under a content-hashed name, with its compressed
    versions; returns {"css/app.css": "css/app.3f2c9a1b0d4e.css", ...}.

    A name says what its file holds, so a file already there is the right one, whoever wrote it
    (another worker, an earlier start). Files appear whole: written aside, then renamed into place,
    the compressed versions before the file itself."""
    names = {}
    compressor = Compressor(quiet=True)
    for path in sorted(Path(source).rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(source).as_posix()
        data = as_served(name, path.read_bytes())
        stem, extension = posixpath.splitext(name)
        names[name] = f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}{extension}"
        target = Path(built, names[name])
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=Path(built).parent, prefix=".static-") as scratch:
            draft = os.path.join(scratch, target.name)
            Path(draft).write_bytes(data)
            variants = compressor.compress(draft) if compressor.should_compress(draft) else []
            for variant in variants:  # draft.br, draft.gz, where they are smaller
                os.replace(variant, f"{target}{variant.removeprefix(draft)}")
            os.replace(draft, target)
    return names


def as_served(name: str, data: bytes) -> bytes:
    """A file of static/ as its hashed name serves it: the desk's own CSS and JS minified."""
    if name.endswith(".min.css") or name.endswith(".min.js"):  # vendored, minified already
        return data
    if name.endswith(".css"):
        return rcssmin.cssmin(data.decode()).encode()
    if name.endswith(".js"):
        return rjsmin.jsmin(data.decode()).encode()
    return data


def _whitenoise(wsgi_app, built: str | None, autorefresh: bool = False) -> WhiteNoise:
    """WhiteNoise around the app, giving static files the pages' security headers; the files under
    `built` (hashed names) are cached for a year, the others revalidated."""
    hashed_root = os.path.join(os.path.abspath(built), "") if built else None

    def headers(found, path, url):
        for name, value in HEADERS.items():
            found[name] = value
        found["Cache-Control"] = HASHED if hashed_root and path.startswith(hashed_root) else PLAIN

    return WhiteNoise(wsgi_app, autorefresh=autorefresh, max_age=None, allow_all_origins=False,
                      add_headers_function=headers)
