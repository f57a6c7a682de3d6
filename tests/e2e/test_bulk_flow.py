"""Many orders in the browser: paste a table, map a column, fix a cell, send with progress, see the
result and the rows in the history."""

import re

from playwright.sync_api import expect

from tests.e2e.test_accessibility import axe_violations

PASTED = ("Покупатель\tИмя\tТовар\tЦена\n"
          "anna@example.com\tАнна\tdigital\t\n"
          "boris@\tБорис\tmentor-session\t1 500\n"
          "vera@example.com\tВера\tCopywriting Club, monthly access\t\n")


def test_paste_map_fix_send_and_find_the_rows_in_the_history(page, live_desk, console, screenshot):
    live_desk.open(page, "bulk")
    page.get_by_label("Cells copied from Excel").fill(PASTED)
    page.get_by_role("button", name="Check the table").click()

    # "Покупатель" (buyer) names no order field: the operator maps it to the email
    column = page.get_by_label("Покупатель", exact=True)
    expect(column).to_have_value("")
    column.select_option("customer_email")
    expect(page.locator("#bulk-summary")).to_contain_text("2 rows will be sent")
    expect(page.locator("#row-1")).to_contain_text("This is not a valid email address.")
    found = axe_violations(page)
    assert found == [], "\n".join(found)  # the preview with an error in a cell

    cell = page.get_by_label("Row 2, Покупатель")
    cell.fill("boris@example.com")
    page.locator("#row-1").get_by_role("button", name="Save").click()
    expect(page.locator("#bulk-summary")).to_contain_text("3 rows will be sent")
    screenshot(page, "bulk-preview")

    page.get_by_role("button", name="Send 3 orders").click()
    expect(page.get_by_role("heading", name="Finished")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Send"))).to_have_count(0)  # no second run to start
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "3")
    expect(page.locator("#bulk-progress-text")).to_contain_text("3 of 3 rows sent")
    for row in range(3):  # each row's outcome replaced the row as it came
        expect(page.locator(f"#row-{row} .badge")).to_have_text("Created")
    expect(page.get_by_role("button", name="Export the result (CSV)")).to_be_visible()
    screenshot(page, "bulk-result")
    found = axe_violations(page)
    assert found == [], "\n".join(found)
    assert sorted(o["params"]["customer_email"] for o in live_desk.book.all()) == [
        "anna@example.com", "boris@example.com", "vera@example.com"]

    page.get_by_role("link", name="History", exact=True).click()
    rows = page.locator(".history-table tbody tr")
    expect(rows).to_have_count(3)
    for email in ("anna@example.com", "boris@example.com", "vera@example.com"):
        expect(page.locator(".history-table")).to_contain_text(email)
    expect(page.locator(".history-table")).not_to_contain_text(re.compile("Rejected|Unknown"))
    console.assert_clean()


def test_sent_rows_keep_their_table_layout_on_a_phone(page, live_desk, console):
    """A sent row is a row of the table like the others, whatever other pages call "sent"."""
    page.set_viewport_size({"width": 375, "height": 812})
    live_desk.open(page, "bulk")
    page.get_by_label("Cells copied from Excel").fill("E-mail\tТовар\nphone@example.com\tdigital\n")
    page.get_by_role("button", name="Check the table").click()
    page.get_by_role("button", name="Send 1 order").click()
    expect(page.get_by_role("heading", name="Finished")).to_be_visible()
    displays = page.locator("#row-0 td").evaluate_all("cells => cells.map(c => getComputedStyle(c).display)")
    assert displays and set(displays) == {"table-cell"}, displays
    console.assert_clean()


def test_a_sent_table_ends_with_every_payment_link_and_message_to_copy(live_desk, browser, watch_console):
    """The invoices are looked for beside the run and appear in their rows; one press copies them all."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch_console(page)
    try:
        live_desk.open(page, "bulk")
        page.get_by_label("Cells copied from Excel").fill(
            "E-mail\tИмя\tТовар\nanna@example.com\tАнна\tdigital\nboris@example.com\tБорис\tmentor-session\n")
        page.get_by_role("button", name="Check the table").click()
        page.get_by_role("button", name="Send 2 orders").click()
        expect(page.locator("#bulk-invoices-found")).to_contain_text("2 of 2 invoices found")
        bills = {o["params"]["customer_email"]: o["bill_id"] for o in live_desk.book.all()}
        for row, email in enumerate(("anna@example.com", "boris@example.com")):
            expect(page.locator(f"#row-{row} .row-state")).to_contain_text(f"Invoice {bills[email]}")
            link = page.locator(f"#row-{row}").get_by_role("link", name=re.compile("^Payment link"))
            expect(link).to_have_attribute("href", re.compile(rf"/bill/{bills[email]}/"))

        page.get_by_role("button", name="Copy all links").click()
        expect(page.locator("#bulk-invoices .copy-status").first).to_have_text("Payment links copied.")
        links = page.evaluate("navigator.clipboard.readText()").splitlines()
        assert [line.split(" — ")[0] for line in links] == ["anna@example.com", "boris@example.com"]
        page.get_by_role("button", name="Copy all messages").click()
        expect(page.locator("#bulk-invoices .copy-status").last).to_have_text("Messages copied.")
        messages = page.evaluate("navigator.clipboard.readText()")
        assert "Hello, Анна!" in messages and "Hello, Борис!" in messages
        assert all(f"/bill/{bill}/" in messages for bill in bills.values())
        found = axe_violations(page)
        assert found == [], "\n".join(found)
        console.assert_clean()
    finally:
        context.close()
