"""Sending a table of orders: how long 100 rows take against a JustClick that takes 300 ms per call.

The desk runs under gunicorn exactly as the Procfile says, against a stand-in JustClick (its own
process) that takes --latency seconds per call. A table of --rows rows (each its own customer, two
products, one with a price) is pasted and previewed before the clock starts (that also fills the
list cache). Then, timed, this script does what the page does with htmx: press "Send", and post
each step its answer asks for, until an answer asks for none.

The floor is rows x latency: createorder calls go one after another, each waiting for JustClick.
ORDER_RATE_LIMIT is raised for the run: at the desk's default (20 per minute) 100 rows take five
minutes by design. For scale, the same number of createorder calls made directly (JustClickClient
from this process, one at a time) is timed as well.

Prints the total, per-row figures and the ratio total / (rows x latency) (target: at most 1.1).
Asserts nothing.

Run from the repository root:  .venv/bin/python bench/bulk_send.py [--rows 100] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import time
import uuid

import _desk

from webapp.justclick.client import JustClickClient

TARGET_RATIO = 1.1
HX = {"HX-Request": "true"}
STEP = re.compile(r'hx-post="(/bulk/\w+/step)"[^>]*hx-vals=\'([^\']*)\'')


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100, help="rows in the table (default 100)")
    parser.add_argument("--latency", type=float, default=0.3,
                        help="seconds the stand-in takes per call (default 0.3)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2)")
    parser.add_argument("--rate-limit", default="10000 per minute",
                        help="ORDER_RATE_LIMIT for the run (default '10000 per minute')")
    parser.add_argument("--direct", action="store_true", help="also time the same calls made directly")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, instance)")
    return parser.parse_args()


def table(rows: int, run_id: str) -> str:
    lines = ["E-mail\tИмя\tТелефон\tТовар\tЦена"]
    lines += [f"bulk-{run_id}-{n:04d}@example.com\tПокупатель {n}\t+7 912 345 {n // 100:02d} {n % 100:02d}\t"
              f"mentor-session, digital\t1 500" for n in range(rows)]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = arguments()
    machine = _desk.machine_line()
    folder = _desk.workdir("bulk")
    operator = _desk.team(1)[0]
    run_id = uuid.uuid4().hex[:6]
    steps, direct_times = [], []
    try:
        with (_desk.stand_in(folder, args.latency) as stand_in,
              _desk.desk(stand_in.api_url, folder, [operator], workers=args.workers,
                         ORDER_RATE_LIMIT=args.rate_limit) as desk):
            browser = _desk.sign_in(desk.url, operator["username"], operator["password"])
            intake = browser.get(desk.url + "bulk", timeout=30).text
            response = browser.post(desk.url + "bulk", files={"paste": (None, table(args.rows, run_id))},
                                    data={"csrf_token": _desk.hidden(intake, "csrf_token")},
                                    allow_redirects=False, timeout=60)
            if response.status_code != 303:
                raise SystemExit(f"the table was not taken: HTTP {response.status_code}")
            page_url = desk.url + response.headers["Location"].lstrip("/")
            preview = browser.get(page_url, timeout=60).text  # not timed: checks every row once
            if f"{args.rows} rows will be sent" not in html.unescape(preview):
                raise SystemExit("the preview does not offer every row")
            token = _desk.hidden(preview, "csrf_token")
            watch = _desk.CpuWatch(desk=desk.process, **{"stand-in": stand_in.process}).start()
            started = time.perf_counter()
            answer = browser.post(page_url + "/send", data={"csrf_token": token}, headers=HX, timeout=60).text
            while step := STEP.search(answer):
                began = time.perf_counter()
                answer = browser.post(desk.url + step[1].lstrip("/"), headers=HX, timeout=60,
                                      data={"csrf_token": token}).text
                steps.append(time.perf_counter() - began)
            total = time.perf_counter() - started
            watch.stop()
            made = [o for o in stand_in.book.all()
                    if o["params"]["customer_email"].startswith(f"bulk-{run_id}")]
            if args.direct:
                client = JustClickClient(stand_in.api_url, _desk.API_KEY, login=_desk.LOGIN)
                params = dict(made[0]["params"])
                for n in range(args.rows):
                    began = time.perf_counter()
                    client.create_order({**params, "customer_email": f"direct-{run_id}-{n}@example.com"})
                    direct_times.append(time.perf_counter() - began)
            desk_line = _desk.describe_desk(desk, 1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(args, machine, desk_line, total, steps, direct_times, len(made), watch)


def report(args, machine, desk_line, total, steps, direct_times, made, watch) -> None:
    floor = args.rows * args.latency
    ratio = total / floor
    print("bulk send: a table of orders sent row by row, driven as the page drives it")
    print(machine)
    print(desk_line)
    print(f"stand-in latency {args.latency * 1000:.0f} ms per call; {args.rows} rows, each its own customer, "
          f"2 products, 1 price")
    print(f"orders made: {made} of {args.rows}")
    print(f"total, Send to the last answer : {total:.2f} s ({_desk.ms(total / args.rows)} per row)")
    print(f"each step (rows for up to 1 s) : {_desk.spread(steps)}  ({len(steps)} steps)")
    if direct_times:
        direct = sum(direct_times)
        print(f"the same calls made directly   : {direct:.2f} s ({_desk.ms(direct / args.rows)} per call); "
              f"desk/direct {total / direct:.3f}")
    print(watch.line())
    verdict = "met" if ratio <= TARGET_RATIO and made == args.rows else "MISSED"
    print(f"ratio total / ({args.rows} x {args.latency * 1000:.0f} ms = {floor:.1f} s): {ratio:.3f}  "
          f"target: at most {TARGET_RATIO}  -> {verdict}")


if __name__ == "__main__":
    main()
