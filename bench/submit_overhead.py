"""What the desk adds to a createorder: its full submit round trip versus calling JustClick directly.

The desk runs under gunicorn exactly as the Procfile says, against a stand-in JustClick (its own
process) that takes --latency seconds per call. Timed, one at a time, interleaved:

  desk    POST / with a valid order as the page's htmx sends it, answered 200 with the result
          (--plain: as a form without JavaScript, answered 303; the redirect is not followed).
          Loading the order page for its form tokens happens before the clock starts.
  direct  JustClickClient.create_order from this process to the same stand-in, with the parameters
          the desk itself sent (read back from the stand-in's order book), a fresh email each time.

Every order has its own customer email, so the desk never asks to confirm a likely duplicate.
ORDER_RATE_LIMIT is raised for the run (the desk's default, 20 per minute, would refuse most posts).
The desk's order index has remembered for an hour, as on a desk that has run a while; with --fresh it
starts empty, and for its first 15 minutes the guard asks JustClick (GetBills) before every new order.

Prints, side by side, the medians of both and the desk's share per send (their difference) and the
ratio desk/direct (target: at most 1.10, at most 5 ms), and the JustClick calls the desk made per
post. For scale, the floors: GET /healthz, and a signed-in htmx POST that does next to nothing (the
share any signed-in request has, whatever it does); the share above the latter is the order's own.
Asserts nothing.

Run from the repository root:  .venv/bin/python bench/submit_overhead.py [--runs 200] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import re
import shutil
import statistics
import time
import uuid

import _desk

from webapp.justclick.client import JustClickClient

TARGET_RATIO = 1.10
TARGET_SHARE = 0.005  # seconds of desk per send
CALL = re.compile(r"\bjustclick (\w+) http=")  # the desk's log line per upstream call


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each kind (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs of each kind first (default 10)")
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the stand-in takes per call (default 0.05)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2)")
    parser.add_argument("--rate-limit", default="10000 per minute",
                        help="ORDER_RATE_LIMIT for the run (default '10000 per minute')")
    parser.add_argument("--plain", action="store_true", help="post as a form without JavaScript (303)")
    parser.add_argument("--fresh", action="store_true",
                        help="a new order index: the guard asks JustClick before each new order")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, instance)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    machine = _desk.machine_line()
    folder = _desk.workdir("submit")
    operator = _desk.team(1)[0]
    run_id = uuid.uuid4().hex[:6]
    desk_times, direct_times, desk_cpu, floor, signed_in_floor, errors = [], [], [], [], [], []
    try:
        with (_desk.stand_in(folder, args.latency) as stand_in,
              _desk.desk(stand_in.api_url, folder, [operator], workers=args.workers,
                         remembered=0 if args.fresh else 3600, ORDER_RATE_LIMIT=args.rate_limit) as desk):
            browser = _desk.sign_in(desk.url, operator["username"], operator["password"])
            direct = JustClickClient(stand_in.api_url, _desk.API_KEY, login=_desk.LOGIN)
            emails = (f"order-{run_id}-{n:05d}@example.com" for n in itertools.count(1))  # all distinct
            # What htmx sends with the order form (hx-post, hx-target="#order-area").
            headers = {} if args.plain else {"HX-Request": "true", "HX-Current-URL": desk.url,
                                              "HX-Target": "order-area"}
            answer = 303 if args.plain else 200

            def desk_submit(timed: bool) -> None:
                tokens = _desk.form_tokens(browser, desk.url)  # not timed: the page load before it
                data = _desk.order(next(emails), tokens, operator["manager_id"])
                cpu = desk.process.cpu_seconds()
                started = time.perf_counter()
                response = browser.post(desk.url, data=data, headers=headers, allow_redirects=False,
                                        timeout=30)
                elapsed = time.perf_counter() - started
                used = desk.process.cpu_seconds() - cpu
                shown = response.headers.get("Location" if args.plain else "HX-Push-Url", "")
                if response.status_code != answer or "/attempts/" not in shown:
                    errors.append(f"desk: HTTP {response.status_code}")
                elif timed:  # failures are counted, not timed
                    desk_times.append(elapsed)
                    desk_cpu.append(used)

            def direct_call(params: dict, timed: bool) -> None:
                params = {**params, "customer_email": next(emails)}
                started = time.perf_counter()
                try:
                    direct.create_order(params)
                except Exception as exc:  # counted, not raised: the run goes on
                    errors.append(f"direct: {type(exc).__name__}")
                    return
                if timed:
                    direct_times.append(time.perf_counter() - started)

            for _ in range(max(args.warmup, 1)):  # also fills the list cache and opens connections
                desk_submit(timed=False)
            sent = stand_in.book.all()[0]["params"]  # what the desk sent for its latest order
            for _ in range(args.warmup):
                direct_call(sent, timed=False)
            before = upstream_calls(desk)
            watch = _desk.CpuWatch(desk=desk.process, **{"stand-in": stand_in.process}).start()
            for _ in range(args.runs):
                desk_submit(timed=True)
                direct_call(sent, timed=True)
            watch.stop()
            calls = upstream_calls(desk) - before
            for _ in range(args.runs):  # the same server path with next to no application work
                started = time.perf_counter()
                browser.get(desk.url + "healthz", timeout=30)
                floor.append(time.perf_counter() - started)
            # The least a signed-in htmx POST costs: session, form token, sign-in check, a small answer.
            tokens = _desk.form_tokens(browser, desk.url)
            reading = {"csrf_token": tokens["csrf_token"], "customer_phone": "+7 916 123-45-67"}
            for _ in range(args.runs):
                started = time.perf_counter()
                browser.post(desk.url + "phone-reading/customer_phone", data=reading, headers=headers,
                             timeout=30)
                signed_in_floor.append(time.perf_counter() - started)
            desk_line = _desk.describe_desk(desk, 1)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if not desk_times or not direct_times:
        raise SystemExit(f"no successful runs to time; errors: {sorted(set(errors))}")
    calls_per_post = ", ".join(f"{name} {count / args.runs:.2f}" for name, count in sorted(calls.items()))
    report(args, machine, desk_line, sent, desk_times, direct_times, desk_cpu, floor, signed_in_floor, errors,
           watch, calls_per_post)


def upstream_calls(desk) -> collections.Counter:
    """The JustClick calls the desk has logged so far, by method."""
    return collections.Counter(CALL.findall(desk.log_path.read_text(errors="replace")))


def report(args, machine, desk_line, sent, desk_times, direct_times, desk_cpu, floor, signed_in_floor, errors,
           watch, calls_per_post) -> None:
    desk_median, direct_median = statistics.median(desk_times), statistics.median(direct_times)
    ratio, share = desk_median / direct_median, desk_median - direct_median
    tenth = max(1, len(desk_times) // 10)
    print("submit overhead: the desk's POST / round trip versus createorder called directly")
    print(machine)
    print(desk_line)
    print(f"stand-in latency {args.latency * 1000:.0f} ms per call; {args.runs} timed runs of each after "
          f"{args.warmup} warm-up runs; one at a time, interleaved; 2 products, 1 price override")
    print(f"sent parameters: {', '.join(sorted(sent))}")
    print(f"JustClick calls per desk post: {calls_per_post}"
          + ("" if args.fresh else " (its index has remembered an hour: the guard asks JustClick nothing)"))
    post = "POST / -> 303 " if args.plain else "POST / (htmx) "
    print(f"desk   {post}: {_desk.spread(desk_times)}")
    print(f"direct create_order  : {_desk.spread(direct_times)}")
    print(f"GET /healthz         : median {_desk.ms(statistics.median(floor))} "
          "(for scale: client, hop, gunicorn; no app work)")
    least = statistics.median(signed_in_floor)
    print(f"POST /phone-reading  : median {_desk.ms(least)} (for scale: the least a signed-in htmx POST "
          "costs here, with its session, form token and a small answer)")
    print(f"desk CPU per submit  : {_desk.ms(sum(desk_cpu) / len(desk_cpu))} "
          f"(gunicorn processes, mean over {len(desk_cpu)} timed posts)")
    print(watch.line() + " (timed loop; it also loads the order page before each desk post)")
    first, last = statistics.median(desk_times[:tenth]), statistics.median(desk_times[-tenth:])
    print(f"desk, first {tenth} vs last {tenth} runs: median {_desk.ms(first)} vs {_desk.ms(last)} "
          f"(the session history grows from {args.warmup} to {args.warmup + args.runs} entries)")
    verdict = "met" if ratio <= TARGET_RATIO and share <= TARGET_SHARE else "MISSED"
    print(f"desk per send above a signed-in POST's floor: {_desk.ms(share - least)} "
          "(what the order itself costs: form, guard, record, keep, result)")
    print(f"medians desk {_desk.ms(desk_median)} vs direct {_desk.ms(direct_median)}: desk per send "
          f"{_desk.ms(share)}, ratio {ratio:.3f}  target: at most {TARGET_RATIO}, "
          f"{_desk.ms(TARGET_SHARE)}  -> {verdict}")
    print(f"errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors)))})" if errors else ""))


if __name__ == "__main__":
    main()
