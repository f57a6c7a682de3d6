"""After "created", in a real browser: the invoice number and payment link appear, Copy puts them on
the clipboard, the customer pays on the sandbox payment page, and the history shows "Paid"."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.test_order_flow import create_button, created_heading, fill_minimal_order, group
from webapp.attempts import invoice_lookup


def test_create_copy_the_link_pay_and_the_history_shows_paid(sandbox_desk, browser, watch_console,
                                                             monkeypatch, screenshot):
    # The customer pays within the minute in which the history would not ask again.
    monkeypatch.setattr(invoice_lookup, "STATUS_MAX_AGE", timedelta(0))
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch_console(page)
    try:
        sandbox_desk.open(page)
        fill_minimal_order(page, "payer@example.com", "email-marketing-101")
        group(page, "Customer").get_by_label("First name").fill("Ольга")
        create_button(page).click()
        expect(created_heading(page, "the sandbox")).to_be_visible()

        [order] = sandbox_desk.book.all()
        invoice = page.locator("#invoice")
        expect(invoice.get_by_role("heading", name=f"Invoice {order['bill_id']}")).to_be_visible()
        expect(invoice).to_contain_text("Waiting for payment")
        expect(page.locator("#invoice-amount")).to_have_text("RUB\u00a03,900.00")
        link = page.locator("#invoice-link").get_attribute("href")
        assert re.fullmatch(rf"{sandbox_desk.url}sandbox/bill/{order['bill_id']}/[0-9a-f]+", link)
        screenshot(page, "invoice-1280")

        page.get_by_role("button", name="Copy link").click()
        expect(invoice.get_by_role("status")).to_have_text("Payment link copied.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        page.get_by_role("button", name="Copy message").click()
        expect(invoice.get_by_role("status")).to_have_text("Message copied.")
        message = page.evaluate("navigator.clipboard.readText()")
        assert message.startswith("Hello, Ольга!") and "Email Marketing 101" in message and link in message

        paying = context.new_page()
        paying.goto(link)
        paying.get_by_role("button", name="Pay 3900.00").click()
        expect(paying.locator("#pay-status")).to_contain_text("Paid")

        page.get_by_role("link", name="History", exact=True).click()
        row = page.get_by_role("row").filter(has_text="payer@example.com")
        expect(row).to_contain_text(str(order["bill_id"]))
        expect(row.get_by_role("link", name=re.compile("Payment link"))).to_have_attribute("href", link)
        expect(row).to_contain_text("Paid")
        console.assert_clean()
    finally:
        context.close()


def test_without_javascript_a_button_finds_the_invoice(live_desk, browser, watch_console):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch_console(page)
    try:
        live_desk.open(page)
        fill_minimal_order(page, "nojs-invoice@example.com")
        create_button(page).click()
        expect(created_heading(page)).to_be_visible()
        expect(page.get_by_role("button", name="Copy link")).to_have_count(0)  # hidden: it needs a script

        page.get_by_role("button", name="Find the invoice").click()
        [order] = live_desk.book.all()
        expect(page.get_by_role("heading", name=f"Invoice {order['bill_id']}")).to_be_visible()
        link = re.compile(rf"/bill/{order['bill_id']}/")
        expect(page.locator("#invoice-link")).to_have_attribute("href", link)
        expect(page.get_by_label("Message to the customer")).to_contain_text("Hello!")
        console.assert_clean()
    finally:
        context.close()
