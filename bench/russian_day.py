"""A Russian sales team's two everyday jobs, in chromium, timed and counted: one typical order, and a
30-row Excel table from upload to every payment link copied.

The desk runs under gunicorn as the Procfile says (bench/_desk.py), configured as the README says a
Russian shop should be (DEFAULT_PHONE_REGION=RU, ACCOUNT_TIMEZONE=Europe/Moscow, DEFAULT_LOCALE=ru),
against a stand-in JustClick in its own process with LATENCY seconds per call.

  typical order  from the empty order page to the payment link on screen: an "8 912 …" phone, two
                 products found by part of their titles in the picker, a "1 500,50" price, a coupon
                 chosen by typing; keys = every key pressed (each character typed counts as one).
  table          a 30-row .xlsx with Russian headers ("E-mail", "ФИО", "Телефон", "Товар", "Цена") from
                 choosing the file to "Копировать все ссылки" having put 30 links on the clipboard;
                 clicks counted. The operator's order rate limit (ORDER_RATE_LIMIT, 20 per minute by
                 default) paces the rows: pass --rate to see the table without it.

Prints figures. Asserts nothing. Run from the repository root:
  .venv/bin/python bench/russian_day.py [--rows 30] [--rate "20 per minute"] [--latency 0.15]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import time

import _desk
from openpyxl import Workbook
from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TITLES = ["Интенсив «Вебинарные воронки»", "Курс «Продажи в мессенджерах»", "Digital product"]


class Keys:
    """The page's keyboard, counting every key: a typed character is one press."""

    def __init__(self, page):
        self.keyboard, self.count = page.keyboard, 0

    def press(self, key: str):
        self.count += 1
        self.keyboard.press(key)

    def type(self, text: str):
        self.count += len(text)
        self.keyboard.type(text)


def sign_in(page, url: str, operator: dict) -> None:
    page.goto(url + "login")
    page.locator("#username").fill(operator["username"])
    page.locator("#password").fill(operator["password"])
    page.locator("#password").press("Enter")
    page.wait_for_url(url)


def typical_order(page, url: str) -> tuple[int, float]:
    page.goto(url)
    page.wait_for_load_state()
    keys, began = Keys(page), time.perf_counter()
    focused = lambda: page.evaluate("document.activeElement.id")  # noqa: E731
    keys.type("anna.petrova@example.com")
    keys.press("Tab")
    keys.type("8 912 345-67-89")
    keys.press("Tab")
    keys.type("Анна")
    while focused() != "product-search":
        keys.press("Tab")
    for part in ("вебин", "мессенд"):
        keys.type(part)
        expect(page.locator("#product-results .picker-option")).to_have_count(1)
        keys.press("Enter")
    expect(page.locator("#bar-count")).to_have_text("2 товара")
    while focused() != "products-0-price":
        keys.press("Tab")
    keys.type("1 500,50")
    while focused() != "coupon":
        keys.press("Tab")
    keys.type("wel")
    keys.press("Control+Enter")
    expect(page.locator("#invoice-link")).to_be_visible(timeout=60_000)
    return keys.count, time.perf_counter() - began


def table_xlsx(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["E-mail", "ФИО", "Телефон", "Товар", "Цена"])
    stamp = os.urandom(3).hex()
    for i in range(rows):
        sheet.append([f"buyer{i:02d}.{stamp}@example.com", "Покупателева Мария Ивановна",
                      f"8 912 345-{i // 10:02d}-{i % 10:02d}", TITLES[i % len(TITLES)], "1 500,00 руб."])
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def table(page, url: str, rows: int) -> tuple[int, float]:
    page.goto(url + "bulk")
    clicks, began = 0, time.perf_counter()
    page.locator("input[type=file]").set_input_files(
        {"name": "заказы.xlsx", "mimeType": "application/octet-stream", "buffer": table_xlsx(rows)})
    page.locator("form[action='/bulk'] button[type=submit]").first.click()
    clicks += 1
    send = page.locator("#bulk-send")
    expect(send).to_contain_text(str(rows))  # every row ready: nothing to fix
    send.click()
    clicks += 1
    expect(page.locator("#bulk-invoices-found")).to_contain_text(f"Найдено {rows} из {rows}",
                                                                 timeout=rows * 10_000)
    page.get_by_role("button", name="Копировать все ссылки").click()
    clicks += 1
    copied = page.evaluate("navigator.clipboard.readText()").splitlines()
    if len(copied) != rows:
        raise SystemExit(f"{len(copied)} links copied, not {rows}")
    return clicks, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--rate", default="20 per minute", help="ORDER_RATE_LIMIT for the run")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per stand-in call")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    folder = _desk.workdir("russian-day")
    [operator] = _desk.team(1)
    print(_desk.machine_line())
    russian_shop = {"DEFAULT_PHONE_REGION": "RU", "ACCOUNT_TIMEZONE": "Europe/Moscow", "DEFAULT_LOCALE": "ru"}
    with _desk.stand_in(folder, args.latency) as shop, \
            _desk.desk(shop.api_url, folder, [operator], workers=2, ORDER_RATE_LIMIT=args.rate,
                       **russian_shop) as desk, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="ru-RU", viewport={"width": 1440, "height": 900},
                                      permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        sign_in(page, desk.url, operator)
        keys, seconds = typical_order(page, desk.url)
        print(f"typical order: {keys} keys, {seconds:.1f} s from the empty page to the payment link "
              f"(stand-in {args.latency * 1000:.0f} ms a call)")
        clicks, seconds = table(page, desk.url, args.rows)
        print(f"table of {args.rows} rows: {clicks} clicks, {seconds:.1f} s from choosing the file to "
              f"{args.rows} payment links copied (ORDER_RATE_LIMIT {args.rate!r})")
        browser.close()


if __name__ == "__main__":
    main()
