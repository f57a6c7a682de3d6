"""Bytes on the wire for the team's Orders page in a real browser: its first visit, a full page of
orders (40 rows of the 200 kept, their invoices half paid) with the 30-day chart.

As bench/page_weight.py (whose counting it uses): the desk under gunicorn, Debian's chromium, every
response counted as it came over the network, the sign-in not counted. Target: the first visit at
most 45 KB (1 KB = 1,000 bytes). Asserts nothing.

Run from the repository root:  .venv/bin/python bench/orders_weight.py [--locale ru-RU] [--orders 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
from datetime import UTC, datetime, timedelta

import _desk
from page_weight import CHROMIUM_ARGS, Wire, report, sign_in
from playwright.sync_api import sync_playwright
from team_orders import attempt

from webapp.attempts import team_orders
from webapp.storage import open_stores


def fill(instance: str, count: int) -> None:
    """The orders kept as the desk keeps them, in the archive the desk under gunicorn reads."""
    config = {"REDIS_URL": None, "PERMANENT_SESSION_LIFETIME": 3600, "ORDER_RETENTION_DAYS": 90}
    archive, rng, now = open_stores(config, instance).archive, random.Random(7), datetime.now(UTC)
    for n in range(count):
        team_orders.keep(archive, attempt(n, now - timedelta(days=30 * (count - n) / count), rng))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locale", default="en-US", help="the browser's language (ru-RU: Russian)")
    parser.add_argument("--orders", type=int, default=200, help="orders kept before the visit")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("no chromium: apt-get install --no-install-recommends chromium")
    folder = _desk.workdir("orders-weight")
    operator = _desk.team(1)[0]
    try:
        with (_desk.stand_in(folder, latency=0.0) as stand_in,
              _desk.desk(stand_in.api_url, folder, [operator], workers=2) as desk,
              sync_playwright() as playwright):
            fill(str(folder / "instance"), args.orders)
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=args.locale)
            sign_in(context, desk.url, operator)
            page = context.new_page()
            wire = Wire(context, page)
            print(f"Orders page in chromium ({browser.version}) from the desk under gunicorn, "
                  f"{args.orders} orders kept, locale {args.locale}")
            mark = wire.mark()
            page.goto(desk.url + "orders")
            wire.wait_quiet(page)
            report("first visit", wire.since(mark))
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
