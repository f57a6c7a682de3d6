"""Many operators at once: throughput, errors, and whether every created order is in its history.

--operators team members (each in TEAM_USERS, each signed in with a session of its own) send orders
back to back for --duration seconds against a stand-in JustClick (its own process) that takes
--latency seconds per call. One order is what a browser does: load the order page (for the form's
CSRF and one-time submission tokens), then POST / and get a 303. Each order has its own customer
email, so the desk never stops to ask about a likely duplicate.

gunicorn's gevent workers hold every operator's order in flight at once (GUNICORN_CONNECTIONS,
1000 per worker, is far above the operators). ORDER_RATE_LIMIT and HISTORY_LIMIT are raised for
the run, so that neither the per-operator limit (default 20 per minute) nor the history cap
(default 500) shapes the figures. The load comes from threads in this process; its CPU use is
printed, and before the desk starts the same number of threads call createorder straight at the
stand-in for --calibrate seconds, to show what the stand-in and the load generator manage without
the desk.

Prints orders/s against the ideal operators/latency (target: at least 80%), the error count
(target: 0), and afterwards how many orders the stand-in accepted that are missing from their
operator's GET /history (target: 0). Asserts nothing.

Run from the repository root:  .venv/bin/python bench/concurrency.py [--operators 20] [--duration 30]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import _desk

from webapp.justclick.client import JustClickClient

TARGET_SHARE = 0.80


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operators", type=int, default=20, help="simulated operators (default 20)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds during which operators start new orders (default 30)")
    parser.add_argument("--latency", type=float, default=0.3,
                        help="seconds the stand-in takes per call (default 0.3)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2)")
    parser.add_argument("--rate-limit", default="10000 per minute",
                        help="ORDER_RATE_LIMIT for the run (default '10000 per minute')")
    parser.add_argument("--history-limit", type=int, default=10000,
                        help="HISTORY_LIMIT for the run (default 10000)")
    parser.add_argument("--calibrate", type=float, default=5.0,
                        help="seconds of createorder straight at the stand-in first, without the desk "
                             "(default 5; 0 skips it)")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="send 'Connection: close' so every request is a new connection that any worker "
                             "may accept (default: keep-alive, as browsers do, which pins an operator to "
                             "the worker that accepted its connection)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, instance)")
    return parser.parse_args()


class Operator:
    """One simulated operator: a browser session sending orders one after another."""

    def __init__(self, desk_url: str, member: dict, run_id: str, fresh_connections: bool = False):
        self.url, self.member = desk_url, member
        self.prefix = f"bench-{run_id}-{member['username']}-"
        self.browser = _desk.sign_in(desk_url, member["username"], member["password"])
        if fresh_connections:
            self.browser.headers["Connection"] = "close"
        self.pages, self.posts, self.errors, self.created = [], [], Counter(), 0
        self.finished_at = 0.0

    def run(self, start: threading.Event, deadline: float, max_orders: int) -> None:
        start.wait()
        for sent in range(1, max_orders + 1):
            if time.monotonic() >= deadline:
                break
            try:
                began = time.perf_counter()
                tokens = _desk.form_tokens(self.browser, self.url)
                loaded = time.perf_counter()
                data = _desk.order(f"{self.prefix}{sent:05d}@example.com", tokens, self.member["manager_id"])
                response = self.browser.post(self.url, data=data, allow_redirects=False, timeout=60)
                done = time.perf_counter()
            except Exception as exc:  # counted, and the operator carries on
                self.errors[type(exc).__name__] += 1
                continue
            self.pages.append(loaded - began)
            if response.status_code == 303 and "/attempts/" in response.headers.get("Location", ""):
                self.created += 1
                self.posts.append(done - loaded)
                self.finished_at = time.monotonic()
            else:
                self.errors[f"HTTP {response.status_code}"] += 1

    def history_emails(self) -> set[str]:
        page = self.browser.get(self.url + "history", timeout=60)
        page.raise_for_status()
        return set(re.findall(re.escape(self.prefix) + r"\d+@example\.com", page.text))


def calibrate(api_url: str, clients: int, seconds: float, max_orders: int) -> SimpleNamespace:
    """createorder straight at the stand-in from `clients` threads of this process, no desk between."""
    times, errors, lock = [], Counter(), threading.Lock()

    def client(number: int, deadline: float) -> None:
        api = JustClickClient(api_url, _desk.API_KEY, login=_desk.LOGIN)
        for sent in range(max_orders):
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                email = f"calibrate-{number}-{sent}@example.com"
                api.create_order({**_desk.ORDER_PARAMS, "customer_email": email})
            except Exception as exc:  # counted
                errors[type(exc).__name__] += 1
                continue
            with lock:
                times.append(time.perf_counter() - started)

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n, began + seconds), daemon=True)
               for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return SimpleNamespace(rate=len(times) / (time.monotonic() - began), times=times, errors=errors)


def main() -> None:
    args = arguments()
    machine = _desk.machine_line()
    folder = _desk.workdir("concurrency")
    members = _desk.team(args.operators)
    run_id = uuid.uuid4().hex[:6]
    # Bounded: no operator can send more than twice what the upstream latency allows.
    max_orders = int(args.duration / args.latency * 2) + 10
    try:
        with _desk.stand_in(folder, args.latency) as stand_in:
            alone = calibrate(stand_in.api_url, args.operators, args.calibrate, max_orders) \
                if args.calibrate > 0 else None
            with _desk.desk(stand_in.api_url, folder, members, workers=args.workers,
                            ORDER_RATE_LIMIT=args.rate_limit, HISTORY_LIMIT=args.history_limit) as desk:
                result = load(args, stand_in, desk, members, run_id, max_orders)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(args, machine, alone, max_orders, result)


def load(args, stand_in, desk, members, run_id, max_orders) -> SimpleNamespace:
    """The run itself, then the history check; returns what the report needs."""
    with ThreadPoolExecutor(max_workers=args.operators) as pool:
        operators = list(pool.map(lambda m: Operator(desk.url, m, run_id, args.fresh_connections), members))
        list(pool.map(lambda o: _desk.form_tokens(o.browser, desk.url), operators))  # warm pages

    start = threading.Event()
    cpu_desk = desk.process.cpu_by_pid()
    watch = _desk.CpuWatch(desk=desk.process, **{"stand-in": stand_in.process}).start()
    began = time.monotonic()
    deadline = began + args.duration
    threads = [threading.Thread(target=o.run, args=(start, deadline, max_orders), daemon=True)
               for o in operators]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 120)
    watch.stop()
    per_process = {pid: seconds - cpu_desk.get(pid, 0.0)
                   for pid, seconds in desk.process.cpu_by_pid().items()}
    result = SimpleNamespace(
        operators=operators, began=began, watch=watch, per_process=per_process,
        ended=max((o.finished_at for o in operators), default=time.monotonic()),
        stuck=sum(thread.is_alive() for thread in threads),
        roles=desk.process.roles(),
        held=desk.process.connections(desk.port),  # each operator keeps one connection alive
    )
    accepted = {o["params"]["customer_email"] for o in stand_in.book.all()}
    result.accepted = {e for e in accepted if e.startswith(f"bench-{run_id}-")}
    result.missing = {o.member["username"]: {e for e in result.accepted if e.startswith(o.prefix)}
                      - o.history_emails() for o in operators}
    result.desk_line = _desk.describe_desk(desk, args.operators)
    result.log = desk.log_path.read_text(errors="replace")
    return result


def report(args, machine: str, alone, max_orders: int, r: SimpleNamespace) -> None:
    created = sum(o.created for o in r.operators)
    errors = sum((o.errors for o in r.operators), Counter())
    elapsed = r.ended - r.began
    throughput = created / elapsed if elapsed > 0 else 0.0
    ideal = args.operators / args.latency
    pages = [t for o in r.operators for t in o.pages]
    posts = [t for o in r.operators for t in o.posts]
    cores = os.cpu_count() or 1

    print(f"concurrency: {args.operators} operators sending orders back to back for {args.duration:g} s")
    print(machine)
    print(r.desk_line)
    print(f"set for the run: ORDER_RATE_LIMIT={args.rate_limit!r} (default '20 per minute'), "
          f"HISTORY_LIMIT={args.history_limit} (default 500)")
    print(f"stand-in latency {args.latency * 1000:.0f} ms per call; one order = GET / (form tokens) + "
          f"POST / -> 303; at most {max_orders} orders per operator; "
          + ("a new connection per request" if args.fresh_connections else "keep-alive connections"))
    if alone is not None:
        print(f"without the desk ({args.operators} threads calling createorder straight at the stand-in for "
              f"{args.calibrate:g} s): {alone.rate:.1f} orders/s ({alone.rate / ideal:.0%} of ideal), median "
              + (_desk.ms(statistics.median(alone.times)) if alone.times else "-")
              + f", errors {sum(alone.errors.values())}")

    print(f"orders created (303): {created} in {elapsed:.1f} s -> {throughput:.1f} orders/s")
    verdict = "met" if throughput >= TARGET_SHARE * ideal else "MISSED"
    print(f"ideal {args.operators}/{args.latency:g} s = {ideal:.1f} orders/s; achieved "
          f"{throughput / ideal:.0%}  target: at least {TARGET_SHARE:.0%}  -> {verdict}")
    if pages and posts:
        print(f"GET /  (order page)  : {_desk.spread(pages)}")
        print(f"POST / (send order)  : {_desk.spread(posts)}")
        cycle = statistics.mean(pages) + statistics.mean(posts)
        print(f"mean cycle per order : {_desk.ms(cycle)} (upstream alone {_desk.ms(args.latency)})")
    upstream = [int(m) / 1000 for m in re.findall(r"justclick createorder http=200 code=0 ms=(\d+)", r.log)]
    served = {kind: [int(m) / 1000 for m in re.findall(rf'"{kind} / HTTP/1.1" {status} \d+ (\d+)ms', r.log)]
              for kind, status in (("GET", 200), ("POST", 303))}
    if upstream and served["POST"] and served["GET"]:
        print("desk's log, medians  : createorder as the desk saw it "
              f"{_desk.ms(statistics.median(upstream))}; "
              f"gunicorn's time for POST / {_desk.ms(statistics.median(served['POST']))}, "
              f"for GET / {_desk.ms(statistics.median(served['GET']))}")
    print(f"errors: {sum(errors.values())}  target: 0" + (f"  ({dict(errors)})" if errors else "")
          + (f"; operators still running at the end: {r.stuck}" if r.stuck else ""))

    wall, used = r.watch.wall, r.watch.used
    print(r.watch.line())
    print("desk CPU by process: " + ", ".join(
        f"{r.roles.get(pid, '?')} {pid} {seconds / wall:.0%}"
        for pid, seconds in sorted(r.per_process.items()))
        + " (one worker cannot use more than one core: the GIL)")
    workers = sorted(pid for pid, role in r.roles.items() if role == "worker")
    print("operators' open connections per worker at the end: "
          + ", ".join(f"worker {pid}: {r.held.get(pid, 0)}" for pid in workers))
    load_share = used["this process"] / wall
    print(f"load generator (this process): {load_share:.0%} of one core for {args.operators} threads -> "
          + ("not the bottleneck" if load_share < 0.5 else "busy enough to distort the figures"))
    per_order = {name: seconds / max(created, 1) for name, seconds in used.items() if name != "machine"}
    print(f"CPU per order (GET + POST): desk {_desk.ms(per_order['desk'])}, stand-in "
          f"{_desk.ms(per_order['stand-in'])}, load {_desk.ms(per_order['this process'])}; "
          f"if CPU were the only limit, {cores} idle cores would allow "
          f"{cores / max(sum(per_order.values()), 1e-9):.0f} orders/s")
    full = r.log.count("Connection pool is full")
    print(f"desk log: {full} 'Connection pool is full' warnings (urllib3 dropping connections to JustClick)")

    lost = sum(len(m) for m in r.missing.values())
    print(f"orders at the stand-in: {len(r.accepted)}; answered 303 to operators: {created}")
    print(f"missing from history: {lost}  target: 0"
          + (f"  ({ {k: len(v) for k, v in r.missing.items() if v} })" if lost else ""))


if __name__ == "__main__":
    main()
