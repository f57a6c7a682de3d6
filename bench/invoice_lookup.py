"""What it costs to identify a created order's invoice: JustClick calls and time per lookup.

A stand-in JustClick runs over HTTP on 127.0.0.1 (in a thread), counting the API methods it is asked,
and takes --latency seconds per call. The desk (in this process, signed in) sends orders; each order's
invoice region is then loaded once, as the result page loads it, and the calls it made are counted.

Two customers: a new one (no other invoice: the common case), and a repeat one who already has
--earlier invoices with the same product (each older than the order's window).

Prints, per case, the median calls of each method per lookup and the median time; it stops if an
invoice is not identified, and asserts nothing about time.

Run from the repository root:  .venv/bin/python bench/invoice_lookup.py [--orders 20] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.sandbox.standin import OrderBook, create_sandbox_app  # noqa: E402

API_KEY, LOGIN, PASSWORD = "bench-key-41d0", "benchshop", "bench-password"


class Counted:
    """The stand-in, counting the API methods it is asked."""

    def __init__(self, app):
        self.app, self.methods, self.lock = app, Counter(), threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/"):
            with self.lock:
                self.methods[path.removeprefix("/api/")] += 1
        return self.app(environ, start_response)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20, help="orders per case (default 20)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call (default 0.05)")
    parser.add_argument("--earlier", type=int, default=5,
                        help="the repeat customer's earlier invoices (default 5)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    folder = Path(tempfile.mkdtemp(prefix="bench-invoice-"))
    book = OrderBook(str(folder / "book.sqlite3"))
    stand_in = Counted(create_sandbox_app(API_KEY, login=LOGIN, book=book, latency=args.latency))
    server = make_server("127.0.0.1", 0, stand_in, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    team = {"bench": {"password_hash": generate_password_hash(PASSWORD), "name": "Bench"}}
    app = create_app({
        "SANDBOX": False, "SECRET_KEY": "bench-secret", "JUSTCLICK_USERNAME": LOGIN,
        "JUSTCLICK_API_KEY": API_KEY, "JUSTCLICK_API_URL": f"http://127.0.0.1:{server.server_port}/api/",
        "TEAM_USERS": team, "INSTANCE_PATH": str(folder / "instance"), "WTF_CSRF_ENABLED": False,
        "ORDER_RATE_LIMIT": "10000 per minute",
        "GUARD_ASKS_JUSTCLICK": False,
    })
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    client.get("/")  # the lists, cached before anything is counted

    print(f"invoice lookup, {args.orders} orders per case, {args.latency * 1000:.0f} ms per JustClick call")
    for case in ("new customer", f"repeat customer ({args.earlier} earlier invoices)"):
        calls, seconds = [], []
        for i in range(args.orders):
            email = f"buyer-{case[0]}-{i}@example.com"
            if case.startswith("repeat"):
                for days in range(args.earlier, 0, -1):
                    book.add({"customer_email": email, "product_names": "digital"},
                             created_at=datetime.now(UTC) - timedelta(days=days))
            page = client.get("/").get_data(as_text=True)
            token = page.split('name="submission_token" type="hidden" value="')[1].split('"')[0]
            response = client.post("/", data={"customer_email": email, "products-0-good_name": "digital",
                                              "submission_token": token})
            entry_id = response.headers["Location"].rsplit("/", 1)[1]
            before = Counter(stand_in.methods)
            started = time.perf_counter()
            region = client.get(f"/attempts/{entry_id}/invoice", headers={"HX-Request": "true"})
            seconds.append(time.perf_counter() - started)
            assert "Invoice 1" in region.get_data(as_text=True), "the invoice was not identified"
            calls.append(Counter(stand_in.methods) - before)
        medians = {m: statistics.median(c[m] for c in calls) for m in ("GetBills", "getOrderDetails")}
        print(f"  {case}: GetBills {medians['GetBills']:g}, getOrderDetails {medians['getOrderDetails']:g} "
              f"per lookup; median {statistics.median(seconds) * 1000:.0f} ms "
              f"(= {statistics.median(seconds) / args.latency:.1f} × one call)")
    server.shutdown()


if __name__ == "__main__":
    main()
