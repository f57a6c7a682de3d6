"""Bytes on the wire for the order page in a real browser: first visit, repeat visit, adding a product.

The desk runs under gunicorn exactly as the Procfile says (bench/_desk.py), against a stand-in
JustClick in its own process. Debian's chromium (CHROMIUM_PATH, else `chromium` on PATH) is driven
with Playwright, and every response the page receives is counted from the DevTools protocol as it
came over the network: headers and body, compressed where the desk compressed it.

  first visit   the order page and everything it loads, with an empty browser cache. The operator
                signs in beforehand through the browser context's own HTTP client, so the sign-in
                page and its assets are not counted (the cookies are the browser's all the same).
  repeat visit  the order page opened again in the same tab: what the browser has cached stays cached.
  add product   typing a title into the product picker (its search requests), then Enter, until the
                page has been quiet for a second: the picker's answer, any summary refresh, all of it.

Prints figures, ratios to their targets (first visit at most 45 KB, repeat at most 10 KB, adding a
product at most 6 KB; 1 KB = 1,000 bytes) and each request with its size. Asserts nothing.

Run from the repository root:  .venv/bin/python bench/page_weight.py [--query вебинар] [--locale ru-RU]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from urllib.parse import urlsplit

import _desk
from playwright.sync_api import sync_playwright

TARGETS = {"first visit": 45_000, "repeat visit": 10_000, "add product": 6_000}
QUIET = 1.0  # seconds without a request in flight that count as "the page is done"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Wire:
    """What the page received, request by request, from the DevTools protocol's Network domain."""

    def __init__(self, context, page):
        self.requests: dict[str, dict] = {}
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.send("Network.enable")

    def _sent(self, event):
        request = event["request"]
        if not request["url"].startswith(("http:", "https:")):
            return  # data: URLs (Pico's icons) never touch the network
        self.requests[event["requestId"]] = {
            "method": request["method"], "url": request["url"], "status": None, "encoding": "",
            "wire": 0, "body": 0, "done": False, "cached": False}

    def _response(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            response = event["response"]
            headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
            entry.update(status=response["status"], encoding=headers.get("content-encoding", ""),
                         cached=entry["cached"] or response.get("fromDiskCache", False))

    def _data(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["body"] += event["dataLength"]  # decoded: as the page sees it

    def _finished(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry.update(wire=int(event["encodedDataLength"]), done=True)

    def _failed(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["done"] = True

    def _from_cache(self, event):
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["cached"] = True

    def mark(self) -> int:
        return len(self.requests)

    def since(self, mark: int) -> list[dict]:
        return list(self.requests.values())[mark:]

    def wait_quiet(self, page, limit: float = 15.0) -> None:
        """Until nothing has been in flight for QUIET seconds (or `limit` seconds have passed)."""
        deadline = time.monotonic() + limit
        quiet_since = None
        while time.monotonic() < deadline:
            page.wait_for_timeout(50)  # lets Playwright deliver the protocol's events
            busy = any(not r["done"] for r in self.requests.values())
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET:
                return


def kb(count: int) -> str:
    return f"{count / 1000:.1f} KB"


def report(name: str, requests: list[dict]) -> int:
    wire = sum(r["wire"] for r in requests)
    body = sum(r["body"] for r in requests)
    target = TARGETS.get(name)
    verdict = ""
    if target:
        verdict = (f"  target at most {kb(target)}: {wire / target:.2f} of it -> "
                   + ("met" if wire <= target else "MISSED"))
    print(f"{name:<13}: {kb(wire)} on the wire for {kb(body)} of content, "
          f"{len(requests)} request(s){verdict}")
    for r in requests:
        path = urlsplit(r["url"]).path
        how = "cache" if r["cached"] and not r["wire"] else (r["encoding"] or "identity")
        print(f"    {r['method']:<4} {path:<48} {r['status'] or '-':>4} {how:<8} "
              f"{r['wire']:>7,} B wire  {r['body']:>7,} B content")
    return wire


def sign_in(context, url: str, operator: dict) -> None:
    login = context.request.get(url + "login")
    form = {"username": operator["username"], "password": operator["password"],
            "csrf_token": _desk.hidden(login.text(), "csrf_token")}
    answer = context.request.post(url + "login", form=form, max_redirects=0)
    if answer.status != 303 or "/login" in answer.headers.get("location", ""):
        raise SystemExit(f"sign-in failed: HTTP {answer.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query", default="вебинар", help="what is typed into the product picker")
    parser.add_argument("--locale", default="en-US",
                        help="the browser's language, which the desk follows (default en-US; ru-RU: Russian)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, instance)")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("no chromium: apt-get install --no-install-recommends chromium, "
                         "or set CHROMIUM_PATH")

    folder = _desk.workdir("weight")
    operator = _desk.team(1)[0]
    figures = {}
    try:
        with (_desk.stand_in(folder, latency=0.0) as stand_in,
              _desk.desk(stand_in.api_url, folder, [operator], workers=2, threads=8) as desk,
              sync_playwright() as playwright):
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=args.locale)
            sign_in(context, desk.url, operator)
            page = context.new_page()
            wire = Wire(context, page)
            print(f"order page in chromium ({browser.version}) from the desk under gunicorn")
            print(_desk.describe_desk(desk, 1))

            mark = wire.mark()
            page.goto(desk.url)
            wire.wait_quiet(page)
            figures["first visit"] = report("first visit", wire.since(mark))

            mark = wire.mark()
            page.goto(desk.url)
            wire.wait_quiet(page)
            figures["repeat visit"] = report("repeat visit", wire.since(mark))

            search = page.locator("#product-search")  # the picker, whatever the page's language
            lines = page.locator("select[name$='-good_name']")
            before = lines.evaluate_all("(selects) => selects.map((s) => s.value).filter(Boolean).length")
            mark = wire.mark()
            search.press_sequentially(args.query, delay=80)
            page.locator("#product-results .picker-option").first.wait_for()
            wire.wait_quiet(page)
            searched = wire.since(mark)
            mark = wire.mark()
            search.press("ArrowDown")
            search.press("Enter")
            page.wait_for_function(
                "(n) => [...document.querySelectorAll(\"select[name$='-good_name']\")]"
                ".filter((s) => s.value).length > n", arg=before)
            wire.wait_quiet(page)
            added = wire.since(mark)
            report("  searching", searched)
            report("  adding", added)
            figures["add product"] = report("add product", searched + added)
            browser.close()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print("summary: " + ", ".join(f"{name} {kb(value)} ({value / TARGETS[name]:.2f} of its target)"
                                  for name, value in figures.items()))


if __name__ == "__main__":
    main()
