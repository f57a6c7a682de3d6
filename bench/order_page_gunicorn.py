"""The order page (GET /) as deployed: gunicorn with the Procfile settings, lists already cached.

A stand-in JustClick in its own process answers each list call after --latency seconds; one signed-in
client loads the page once (cold: the lists are fetched), --warmup times untimed, then --requests
times timed, one after another over one keep-alive connection. For scale it also times GET /healthz
(the same server path with next to no application work).

With --history N the operator first sends N orders, so the page carries their history beside the
form, as an operator's page does after a few orders (its ten latest are listed).

Prints median and p95 of the warm page (target: median at most 10 ms). Asserts nothing.

Run from the repository root:  .venv/bin/python bench/order_page_gunicorn.py [--requests 300]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time

import _desk

TARGET_MEDIAN = 0.010


def timed_gets(browser, url: str, count: int, errors: list) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = browser.get(url, timeout=30, allow_redirects=False)
        elapsed = time.perf_counter() - started
        if response.status_code == 200:
            times.append(elapsed)
        else:
            errors.append(response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="timed page loads (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed page loads first (default 20)")
    parser.add_argument("--latency", type=float, default=0.3,
                        help="seconds the stand-in takes per list call; only the cold load waits for it "
                             "(default 0.3)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2)")
    parser.add_argument("--history", type=int, default=0,
                        help="orders sent before the timing, listed beside the form (default 0)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, instance)")
    args = parser.parse_args()

    machine = _desk.machine_line()
    folder = _desk.workdir("page")
    operator = _desk.team(1)[0]
    errors: list = []
    try:
        with (_desk.stand_in(folder, args.latency) as stand_in,
              _desk.desk(stand_in.api_url, folder, [operator], workers=args.workers,
                         remembered=3600) as desk):
            browser = _desk.sign_in(desk.url, operator["username"], operator["password"])
            started = time.perf_counter()
            first = browser.get(desk.url, timeout=30)
            cold = time.perf_counter() - started
            size = len(first.content)
            for n in range(args.history):  # each a 303 to its attempt, not followed
                data = _desk.order(f"page-{n}@example.com", _desk.form_tokens(browser, desk.url))
                if browser.post(desk.url, data=data, allow_redirects=False, timeout=30).status_code != 303:
                    raise SystemExit(f"order {n + 1} of the history was not sent")
            # Fresh connections too, so that each worker has rendered the page before timing.
            for _ in range(args.warmup):
                browser.get(desk.url, timeout=30, headers={"Connection": "close"})
            watch = _desk.CpuWatch(desk=desk.process, **{"stand-in": stand_in.process}).start()
            warm = timed_gets(browser, desk.url, args.requests, errors)
            watch.stop()
            page_cpu = watch.used["desk"] / args.requests
            floor = timed_gets(browser, desk.url + "healthz", min(args.requests, 100), errors)
            desk_line = _desk.describe_desk(desk, 1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    if not warm:
        raise SystemExit(f"no successful page loads to time; statuses: {sorted(set(errors))}")
    median = statistics.median(warm)
    print("order page under gunicorn: GET / with the lists cached, one client, one request at a time")
    print(machine)
    print(desk_line)
    print(f"stand-in latency {args.latency * 1000:.0f} ms per list call; page size {size / 1024:.0f} KiB"
          f"; {args.history} orders sent before the timing, listed beside the form")
    print(f"cold page (lists fetched)       : {_desk.ms(cold)}")
    print(f"warm page, n={len(warm):<4}            : {_desk.spread(warm)}")
    print(f"desk CPU per page               : {_desk.ms(page_cpu)} (gunicorn processes, mean)")
    print(watch.line())
    print(f"GET /healthz, n={len(floor):<4}         : {_desk.spread(floor)}"
          "  (client, hop, gunicorn; no app work)")
    verdict = "met" if median <= TARGET_MEDIAN else "MISSED"
    print(f"warm page median {_desk.ms(median)}  target: median at most {TARGET_MEDIAN * 1000:.0f} ms"
          f"  -> {verdict}")
    print(f"errors: {len(errors)}" + (f" (HTTP {sorted(set(errors))})" if errors else ""))


if __name__ == "__main__":
    main()
