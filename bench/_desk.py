"""Shared pieces of the benchmarks: the stand-in JustClick and the desk under gunicorn, each in a
process of its own, a signed-in operator, the order form's tokens, and a few figures.

Not a benchmark itself. The desk runs exactly as the Procfile says (its command, read from the
file, with `gunicorn` run by this interpreter), bound to a free port; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import requests
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webapp.sandbox.standin import SEED_MANAGERS, OrderBook  # noqa: E402

API_KEY = "bench-key-7c2d9e"
LOGIN = "benchshop"
SECRET_KEY = "bench-secret-not-for-production"
START_TIMEOUT = 30.0  # seconds a process may take to answer its first request

# Settings the desk reads from the environment: the benchmark decides each of them, whatever the
# shell exports (a REDIS_URL or real credentials there must not leak into a run).
DESK_SETTINGS = (
    "JUSTCLICK_USERNAME", "JUSTCLICK_API_KEY", "JUSTCLICK_API_URL", "JUSTCLICK_TIMEOUT",
    "JUSTCLICK_CONNECT_TIMEOUT", "SECRET_KEY", "TEAM_USERS", "CATALOG_TTL", "DEFAULT_PHONE_REGION",
    "ACCOUNT_TIMEZONE", "HISTORY_LIMIT", "SESSION_LIFETIME_HOURS", "ORDER_RATE_LIMIT", "REDIS_URL",
    "PORT", "INSTANCE_PATH", "WEB_CONCURRENCY", "GUNICORN_CONNECTIONS",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def procfile_command() -> str:
    """The Procfile's web command, with `gunicorn` run by this interpreter."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            command = line.split(":", 1)[1].strip()
            return command.replace("gunicorn", f"{sys.executable} -m gunicorn", 1)
    raise SystemExit("Procfile has no web: line")


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"orderdesk-{prefix}-"))


# --- processes -------------------------------------------------------------------------------------


class Process:
    """A child started in a session of its own, so it and its children stop together."""

    def __init__(self, command, log_path: Path, **popen):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True, **popen)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """This process and every process of its group (gunicorn's master and workers)."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _stat(int(entry))
                # field 3: state (a zombie has finished), field 5: process group id
                if stat and stat[0] != "Z" and int(stat[2]) == self.popen.pid:
                    found.append(int(entry))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the live processes of the group, in seconds."""
        return sum(self.cpu_by_pid().values())

    def cpu_by_pid(self) -> dict[int, float]:
        """CPU seconds of each live process of the group (gunicorn: the master and each worker)."""
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for pid in self.pids():
            stat = _stat(pid)
            if stat:
                found[pid] = (int(stat[11]) + int(stat[12])) / ticks  # fields 14, 15: utime, stime
        return found

    def roles(self) -> dict[int, str]:
        """pid -> "shell", "master" or "worker" for a `sh -c gunicorn ...` group."""
        pids = self.pids()
        parents = {pid: int(stat[1]) for pid in pids if (stat := _stat(pid))}  # field 4: ppid
        shell = self.popen.pid
        master = next((pid for pid, parent in parents.items() if parent == shell), shell)
        return {pid: "shell" if pid == shell and pid != master else "master" if pid == master else "worker"
                for pid in parents}

    def connections(self, port: int) -> dict[int, int]:
        """pid -> established TCP connections to `port` that the process holds (its accepted clients)."""
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    established.add(fields[9])  # inode
        held = {}
        for pid in self.pids():
            try:
                links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            held[pid] = sum(link[len("socket:["):-1] in established for link in links
                            if link.startswith("socket:["))
        return held

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the group, then wait for every member (not only the shell) to end."""
        deadline = time.monotonic() + 30
        try:
            if self.pids():
                os.killpg(self.popen.pid, signal.SIGTERM)
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.pids():
                os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:  # the group is gone already
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 onwards


def _wait_until_up(process: Process, url: str, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if not process.alive():
            break
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start; its log ends:\n{process.log_tail()}")


@contextmanager
def stand_in(folder: Path, latency: float, slow_seconds: float = 5.0):
    """`python -m webapp.sandbox` in its own process, so its work never competes with the
    benchmark's GIL. Yields .root, .api_url, .book (its sqlite order book, readable from here),
    .process."""
    db = folder / "stand-in-orders.sqlite3"
    port = free_port()
    command = [sys.executable, "-m", "webapp.sandbox", "--host", "127.0.0.1", "--port", str(port),
               "--api-key", API_KEY, "--login", LOGIN, "--db", str(db), "--latency", str(latency),
               "--slow-seconds", str(slow_seconds)]
    process = Process(command, folder / "stand-in.log", cwd=ROOT)
    root = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(process, root, "the stand-in JustClick")
        yield SimpleNamespace(root=root, api_url=root + "api/", book=OrderBook(str(db)), process=process,
                              latency=latency)
    finally:
        process.stop()


# --- the team ---------------------------------------------------------------------------------------


def team(count: int) -> list[dict]:
    """`count` operators with generated passwords, each with a sales manager of the stand-in."""
    return [{"username": f"op{i:02d}", "password": f"bench-pass-{i:02d}-{os.urandom(4).hex()}",
             "name": f"Operator {i:02d}", "manager_id": SEED_MANAGERS[i % len(SEED_MANAGERS)]["id"]}
            for i in range(1, count + 1)]


def team_users_json(operators: list[dict]) -> str:
    """TEAM_USERS as the desk reads it, with password hashes made the usual way (werkzeug's default)."""
    return json.dumps({o["username"]: {"password_hash": generate_password_hash(o["password"]),
                                       "manager_id": o["manager_id"], "name": o["name"]}
                       for o in operators})


# --- the desk under gunicorn --------------------------------------------------------------------------


@contextmanager
def desk(api_url: str, folder: Path, operators: list[dict], *, workers: int, remembered: float = 0.0, **env):
    """The desk as deployed: the Procfile's command, configured only by the environment.

    `remembered`: seconds its order index has been remembering orders. A new instance folder (0)
    remembers none, so for its first 15 minutes the duplicate guard asks JustClick about every order
    it does not know (a GetBills before each createorder); a desk that has run longer asks nothing.

    Yields .url, .env (the settings used, secrets left out), .process.
    """
    if remembered:  # the index's marker of when it began to remember (webapp.attempts.order_index)
        (folder / "instance" / "orders").mkdir(parents=True, exist_ok=True)
        (folder / "instance" / "orders" / ".since").write_text(repr(time.time() - remembered))
    port = free_port()
    settings = {
        "PORT": str(port),
        "JUSTCLICK_USERNAME": LOGIN,
        "JUSTCLICK_API_KEY": API_KEY,
        "JUSTCLICK_API_URL": api_url,
        "JUSTCLICK_TIMEOUT": "10",
        "SECRET_KEY": SECRET_KEY,
        "TEAM_USERS": team_users_json(operators),
        "INSTANCE_PATH": str(folder / "instance"),
        "WEB_CONCURRENCY": str(workers),
        **{k: str(v) for k, v in env.items()},
    }
    environment = {k: v for k, v in os.environ.items() if k not in DESK_SETTINGS} | settings
    process = Process(procfile_command(), folder / "gunicorn.log", shell=True, cwd=ROOT, env=environment)
    url = f"http://127.0.0.1:{port}/"
    shown = {k: v for k, v in settings.items()
             if k not in ("JUSTCLICK_API_KEY", "SECRET_KEY", "TEAM_USERS")}
    try:
        _wait_until_up(process, url + "healthz", "the desk under gunicorn")
        yield SimpleNamespace(url=url, port=port, env=shown, process=process, log_path=process.log_path)
    finally:
        process.stop()


def describe_desk(desk_, operators: int) -> str:
    env = desk_.env
    extra = {k: v for k, v in env.items() if k not in (
        "PORT", "JUSTCLICK_USERNAME", "JUSTCLICK_API_URL", "INSTANCE_PATH", "WEB_CONCURRENCY",
        )}
    return (f"desk: `{procfile_command().replace(sys.executable, 'python')}` with WEB_CONCURRENCY="
            f"{env['WEB_CONCURRENCY']} (gevent workers), "
            f"TEAM_USERS of {operators}, " + ", ".join(f"{k}={v}" for k, v in extra.items())
            + ", files in a temporary INSTANCE_PATH (no REDIS_URL)")


# --- a browser's side ---------------------------------------------------------------------------------

INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def hidden(page: str, name: str) -> str:
    """The value of the input named `name`, whatever the order of its attributes."""
    for tag in INPUT.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        if attributes.get("name") == name and "value" in attributes:
            return attributes["value"]
    raise LookupError(f"no input named {name!r} in the page")


def sign_in(url: str, username: str, password: str) -> requests.Session:
    """A browser session of one operator, signed in through /login with its CSRF token."""
    browser = requests.Session()
    page = browser.get(url + "login", timeout=30)
    form = {"username": username, "password": password, "csrf_token": hidden(page.text, "csrf_token")}
    response = browser.post(url + "login", data=form, allow_redirects=False, timeout=30)
    if response.status_code != 303 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"sign-in of {username} failed: HTTP {response.status_code}")
    return browser


def form_tokens(browser: requests.Session, url: str) -> dict:
    """Load the order page as a browser does; return the tokens its form carries."""
    page = browser.get(url, timeout=30)
    page.raise_for_status()
    return {name: hidden(page.text, name) for name in ("csrf_token", "submission_token")}


def order(email: str, tokens: dict, manager_id: int | None = None) -> dict:
    """A typical order: a named customer with a phone, two products, one with a price override."""
    data = {
        "customer_email": email,
        "customer_first_name": "Ivan",
        "customer_last_name": "Petrov",
        "customer_phone": "+79123456789",
        "products-0-good_name": "sales-in-messengers",
        "products-0-price": "12900",
        "products-1-good_name": "email-marketing-101",
        "products-1-price": "",
        "order_status": "Expected",
        "utm_source": "bench",
        **tokens,
    }
    if manager_id is not None:
        data["order_sales_manager"] = str(manager_id)
    return data


#: createorder parameters equal to what the desk sends for `order()` (minus the email, which varies):
#: the overridden line first with its price, the other at its catalogue price.
ORDER_PARAMS = {
    "customer_first_name": "Ivan",
    "customer_last_name": "Petrov",
    "customer_phone": "+79123456789",
    "order_status": "Expected",
    "order_sales_manager": str(SEED_MANAGERS[1]["id"]),  # op01's, see team()
    "product_names": "sales-in-messengers,email-marketing-101",
    "product_prices": "12900",
    "utm_source": "bench",
}


# --- figures ------------------------------------------------------------------------------------------


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def self_cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def machine_line(sample: float = 1.0) -> str:
    """Cores and how busy the machine is just before the run (other programs inflate timings)."""
    cores = os.cpu_count() or 1
    before, began = machine_cpu()[0], time.monotonic()
    time.sleep(sample)
    busy = (machine_cpu()[0] - before) / (time.monotonic() - began)
    line = f"machine: {cores} cores, {busy:.0%} busy (100% = one core) in the {sample:g} s before the run"
    if busy > 0.25:
        line += " -- other programs are running, so timings here are inflated; compare the CPU figures"
    return line


def spread(values) -> str:
    """median, p95, min and max of timings in seconds."""
    return (f"median {ms(statistics.median(values))}, p95 {ms(percentile(values, 95))}, "
            f"min {ms(min(values))}, max {ms(max(values))}")


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat; diff two readings."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / ticks, sum(fields[:8]) / ticks


class CpuWatch:
    """CPU used between start() and stop() by this process, by each watched process group, and by
    the whole machine (so that what other programs took is visible too)."""

    def __init__(self, **groups: Process):
        self.groups = groups

    def _read(self) -> dict[str, float]:
        return {"this process": self_cpu_seconds(),
                **{name: group.cpu_seconds() for name, group in self.groups.items()},
                "machine": machine_cpu()[0]}

    def start(self) -> CpuWatch:
        self._before, self._began = self._read(), time.monotonic()
        return self

    def stop(self) -> CpuWatch:
        after = self._read()
        self.wall = time.monotonic() - self._began
        self.used = {name: after[name] - self._before[name] for name in after}
        return self

    def line(self) -> str:
        """Shares of one core: 100% is one core busy for the whole time."""
        cores = os.cpu_count() or 1
        ours = {name: seconds for name, seconds in self.used.items() if name != "machine"}
        others = max(0.0, self.used["machine"] - sum(ours.values()))
        return (f"CPU while timing (100% = one core; {cores} cores = {cores * 100}%): "
                + ", ".join(f"{name} {seconds / self.wall:.0%}" for name, seconds in ours.items())
                + f"; other programs on the machine {others / self.wall:.0%}")
