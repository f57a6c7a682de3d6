"""Order page speed with JustClick answering lists slowly: cold cache versus warm cache.

Prints figures, asserts nothing. Run: .venv/bin/python bench/order_page.py [--latency 0.3] [--warm 200]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import OPERATOR, TEAM_USERS, serve  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.sandbox.standin import OrderBook, create_sandbox_app  # noqa: E402


class Counting:
    """Counts the API calls that reach the stand-in."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += environ["PATH_INFO"].startswith("/api/")
        return self.app(environ, start_response)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds JustClick takes per call")
    parser.add_argument("--warm", type=int, default=200, help="warm page loads to time")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="orderdesk-bench-"))
    stand_in = Counting(create_sandbox_app("bench-key", login="bench", book=OrderBook(str(workdir / "o.db")),
                                           latency=args.latency))
    with serve(stand_in) as root:
        app = create_app({"SANDBOX": False, "SECRET_KEY": "bench", "JUSTCLICK_API_URL": root + "api/",
                          "JUSTCLICK_API_KEY": "bench-key", "JUSTCLICK_USERNAME": "bench",
                          "TEAM_USERS": TEAM_USERS, "WTF_CSRF_ENABLED": False,
                          "INSTANCE_PATH": str(workdir / "instance")})
        import logging

        logging.getLogger().setLevel(logging.WARNING)
        client = app.test_client()
        client.post("/login", data={"username": OPERATOR["username"], "password": OPERATOR["password"]})

        started = time.perf_counter()
        assert client.get("/").status_code == 200
        cold = time.perf_counter() - started
        cold_calls = stand_in.calls

        times = []
        for _ in range(args.warm):
            started = time.perf_counter()
            client.get("/")
            times.append(time.perf_counter() - started)
        warm_calls = stand_in.calls - cold_calls

    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"upstream latency per list call : {args.latency * 1000:.0f} ms")
    print(f"cold order page                : {cold * 1000:.0f} ms with {cold_calls} upstream calls "
          f"({cold / args.latency:.2f}x one round trip; sequential would be {cold_calls}x)")
    print(f"warm order page (n={args.warm})      : median {statistics.median(times) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, {warm_calls} upstream calls")


if __name__ == "__main__":
    main()
