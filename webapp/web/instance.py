"""The instance folder: refused at start when the desk cannot write to it, and sandbox mode's secret
kept in it."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from contextlib import suppress
from typing import NoReturn

from flask import Flask

from webapp.storage import Stores
from webapp.storage.files import folder_of
from webapp.web.services import services_of


def refuse_to_start(message: str) -> NoReturn:
    """A plain message, not a traceback, in the PaaS log. Exit status 3 is gunicorn's "worker failed
    to boot": its master then stops as well, instead of starting workers that fail the same way."""
    print(f"Order Desk: {message}", file=sys.stderr, flush=True)
    raise SystemExit(3)


def check_instance_folder(app: Flask) -> None:
    """Refuse to start on an instance folder the desk cannot write to, rather than fail request
    after request (a sign-in that never holds, an order whose history cannot be kept)."""
    if app.config["REDIS_URL"] and not app.config["SANDBOX"]:
        return  # everything lives in Redis; sandbox mode keeps its secret and order book here
    _check_writable([app.instance_path])


def check_store_folders(app: Flask, stores: Stores) -> None:
    """Every folder a store writes to, as each store names it (sessions, the list cache, history,
    tokens, the order index, preferences, tables, the journal): none is left out by a list kept by
    hand. With Redis only the journal's folder is on this disk."""
    every = [*vars(stores).values(), *vars(services_of(app)).values()]
    _check_writable(sorted({folder for store in every if (folder := folder_of(store))}))


def _check_writable(folders: list[str]) -> None:
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            refuse_to_start(f"cannot write to the instance folder {folder} ({exc.strerror}). Give the "
                             "desk a folder it can write to (INSTANCE_PATH), or set REDIS_URL.")


def instance_secret(app: Flask) -> str:
    """Sandbox mode's secret, made once and kept in the instance folder: every worker and every
    restart share it, so forms and sessions survive a restart."""
    path = os.path.join(app.instance_path, "sandbox-secret-key")
    if not os.path.exists(path):
        draft = f"{path}.{os.getpid()}"
        with open(draft, "w", encoding="ascii") as new:
            new.write(secrets.token_hex(32))
        os.chmod(draft, 0o600)
        with suppress(FileExistsError):  # link: the file appears whole, and the first worker wins
            os.link(draft, path)
        os.unlink(draft)
    with open(path, encoding="ascii") as kept:
        return kept.read().strip()
