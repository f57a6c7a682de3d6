"""The sandbox blueprint: the stand-in's accepted orders and its payment pages, in sandbox mode only."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from webapp.web.extensions import csrf
from webapp.web.services import services

bp = Blueprint("sandbox", __name__)


@bp.get("/sandbox")
def orders():
    book = services().sandbox_book or abort(404)
    return render_template("sandbox/orders.html", orders=book.all(),
                           pay_path=services().sandbox_app.pay_path)


@bp.route("/sandbox/bill/<int:bill_id>/<token>", methods=["GET", "POST"])
@csrf.exempt  # the stand-in's own page, as JustClick's is: it carries no desk token
def pay_page(bill_id: int, token: str):
    """The stand-in's payment page under the desk's host: no browser can open sandbox.invalid."""
    stand_in = services().sandbox_app or abort(404)
    environ = {**request.environ, "SCRIPT_NAME": request.script_root + "/sandbox",
               "PATH_INFO": f"/bill/{bill_id}/{token}"}
    return Response.from_app(stand_in, environ)
