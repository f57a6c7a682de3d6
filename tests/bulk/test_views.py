"""Many orders over real HTTP to a JustClick stand-in: bring a table in, check it, send it row by row."""

import csv
import hmac
import html
import io
import re

import pytest
from openpyxl import Workbook

from tests.support.desk import GIVES_UP_SOON, NO_BILLS, answering, desk_config, sign_in
from webapp import create_app
from webapp.bulk.table import MAX_ROWS
from webapp.web.services import services_of

HX = {"HX-Request": "true"}
STEP = re.compile(r'hx-post="(/bulk/\w+/step)"')
LOOK = re.compile(r'hx-post="(/bulk/\w+/invoices)"')


@pytest.fixture
def desk(shop, tmp_path):
    return sign_in(create_app(desk_config(shop.url, tmp_path)).test_client())


def tsv(*rows) -> str:
    return "\n".join("\t".join(row) for row in rows) + "\n"


def bring(client, text: str) -> str:
    response = client.post("/bulk", data={"paste": text})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def run(client, table_id: str, limit: int = 600) -> str:
    """Press "Send" and follow the steps as the page does (each answer asks for the next)."""
    answer = client.post(f"/bulk/{table_id}/send", headers=HX).get_data(as_text=True)
    for _ in range(limit):
        step = STEP.search(answer)
        if not step:
            return answer
        answer = client.post(step[1], headers=HX).get_data(as_text=True)
    raise AssertionError("the run did not end")


def run_and_look(client, table_id: str, limit: int = 600) -> str:
    """Press "Send" and follow both of the page's chains, the run's steps and, beside them, the invoice
    looks, one request of each in turn, until neither asks for more; returns the last look's answer."""
    answer = client.post(f"/bulk/{table_id}/send", headers=HX).get_data(as_text=True)
    step, look = STEP.search(answer), LOOK.search(answer)
    assert look, "sending starts the looks"
    for _ in range(limit):
        if step:
            answer = client.post(step[1], headers=HX).get_data(as_text=True)
            step = STEP.search(answer)
        if look:
            looked = client.post(look[1], headers=HX).get_data(as_text=True)
            look = LOOK.search(looked)
        if not step and not look:
            return looked
    raise AssertionError("the run or the looks did not end")


def creates(shop) -> int:
    return shop.counted.methods.count("createorder")


def history_id_of(client) -> str:
    """The history id the desk derives from the client's session (see history.history_id)."""
    with client.session_transaction() as session:
        sid = session.sid
    key = str(client.application.config["SECRET_KEY"]).encode()
    return hmac.new(key, sid.encode(), "sha256").hexdigest()[:32]


def page_of(client, table_id: str) -> str:
    return html.unescape(client.get(f"/bulk/{table_id}").get_data(as_text=True))


def test_twenty_rows_with_three_bad_send_exactly_seventeen_orders_once(desk, shop):
    rows = [[f"buyer{i}@example.com", "Покупатель", "digital", ""] for i in range(20)]
    rows[3][0] = "not-an-email@"
    rows[9][2] = "no-such-product"
    rows[15][3] = "-5"
    table_id = bring(desk, tsv(["E-mail", "Имя", "Товар", "Цена"], *rows))
    preview = page_of(desk, table_id)
    assert "17 rows will be sent" in preview and "3 rows have errors" in preview
    assert creates(shop) == 0  # nothing is sent by bringing a table in or looking at it

    final = run(desk, table_id)
    assert creates(shop) == 17
    assert "17 of 17 rows sent" in final and "Created: 17" in final
    sent = sorted(order["params"]["customer_email"] for order in shop.book.all())
    assert sent == sorted(f"buyer{i}@example.com" for i in range(20) if i not in (3, 9, 15))

    # The send step posted again, "Send" pressed again, a replayed step without htmx: nothing new
    for _ in range(3):
        desk.post(f"/bulk/{table_id}/step", headers=HX)
    desk.post(f"/bulk/{table_id}/send", headers=HX)
    desk.post(f"/bulk/{table_id}/send")
    assert creates(shop) == 17
    history = desk.get("/history").get_data(as_text=True)
    assert history.count("badge-created") == 17


def test_a_step_replayed_while_its_row_was_claimed_sends_nothing(desk, shop):
    """Two tabs on one table: each row's one-time token lets only one of them send it."""
    table_id = bring(desk, tsv(["Email", "Product"], ["a@example.com", "digital"],
                               ["b@example.com", "digital"]))
    desk.post(f"/bulk/{table_id}/send")  # without JavaScript, a press sends one row
    assert creates(shop) == 1
    tables, hid = services_of(desk.application).tables, history_id_of(desk)
    stale = tables.get(hid, table_id)  # another tab's step, which read the table before row 1 went
    stale["rows"][0]["entry"] = None
    tables.put(hid, stale)  # and wrote what it read: row 1 looks unsent
    run(desk, table_id)
    assert creates(shop) == 2
    emails = sorted(o["params"]["customer_email"] for o in shop.book.all())
    assert emails == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize("field, header, value", [
    ("customer_email", "Email", "ivan@"),
    ("customer_phone", "Phone", "12"),
    ("order_created_at", "Created at", "31.02.2026 10:00"),
    ("order_tag", "Order tag", "one, two"),
    ("coupon", "Coupon", "no-such-coupon"),
    ("affiliates", "Affiliates", "alpha,,beta"),
])
def test_a_bad_value_gets_the_same_message_as_in_the_order_form(desk, shop, field, header, value):
    single = {"customer_email": "ivan@example.com", "products-0-good_name": "digital", field: value}
    form_page = desk.post("/", data=single).get_data(as_text=True)
    expected = re.search(rf'id="{field}-error"[^>]*>(.*?)</', form_page, re.S)[1].strip()
    assert expected

    cells = {"Email": "ivan@example.com", "Product": "digital", header: value}
    table_id = bring(desk, tsv(list(cells), list(cells.values())))
    column = list(cells).index(header)
    preview = desk.get(f"/bulk/{table_id}").get_data(as_text=True)
    message = re.search(rf'id="cell-0-{column}-error">(.*?)</small>', preview, re.S)[1]
    assert message.strip() == expected
    assert creates(shop) == 0


def test_product_lines_get_the_forms_messages_in_the_product_and_price_cells(desk):
    table_id = bring(desk, tsv(["Email", "Товар", "Цена"],
                               ["a@example.com", "digital, nothing-like-it", "1;2.345"]))
    preview = desk.get(f"/bulk/{table_id}").get_data(as_text=True)
    assert re.search(r'id="cell-0-1-error">The shop has no product “nothing-like-it”', preview)
    assert re.search(r'id="cell-0-2-error">A price has at most 2 decimal places', preview)


def test_titles_prices_and_coupons_are_resolved_from_the_catalogue(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар", "Цена", "Промокод"],
                               ["a@example.com", "Copywriting Club, monthly access, Digital product", "; 500",
                                "welcome10"]))
    preview = page_of(desk, table_id).replace("\xa0", " ")
    # in the order they are sent: a typed price goes first, so that it reaches its product
    assert "Digital product — RUB 500.00; Copywriting Club, monthly access — RUB 1,900.00" in preview
    assert "total RUB 2,400.00" in preview
    run(desk, table_id)
    [sent] = shop.book.all()
    assert sent["params"]["product_names"] == "digital,copywriting-club"
    assert sent["params"]["product_prices"] == "500"
    assert sent["params"]["coupon"] == "586"


def test_prices_as_spreadsheets_write_them_are_read(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар", "Цена"], ["a@example.com", "digital", "1 500,00 руб."],
                               ["b@example.com", "digital", "990 ₽"]))
    run(desk, table_id)
    assert sorted(o["params"]["product_prices"] for o in shop.book.all()) == ["1500", "990"]


def test_a_sent_table_ends_with_each_rows_invoice_payment_link_and_message(desk, shop):
    table_id = bring(desk, tsv(["Email", "Имя", "Товар"], ["anna@example.com", "Анна", "digital"],
                               ["anna@example.com", "Анна", "mentor-session"],
                               ["boris@example.com", "Борис", "digital"]))
    final = run_and_look(desk, table_id)
    # one per customer, however many of their rows the table made
    assert shop.counted.methods.count("GetBills") == 2
    made = {order["params"]["customer_email"] + ":" + order["params"]["product_names"]: order["bill_id"]
            for order in shop.book.all()}
    assert "3 of 3 invoices found" in final
    page = page_of(desk, table_id)
    links = re.search(r'<textarea id="bulk-links"[^>]*>(.*?)</textarea>', page, re.S)[1]
    messages = re.search(r'<textarea id="bulk-messages"[^>]*>(.*?)</textarea>', page, re.S)[1]
    for bill in made.values():
        assert f"Invoice {bill}" in page
        assert f"/bill/{bill}/" in links
        assert f"invoice {bill} for" in messages
    assert "Hello, Анна!" in messages and "Hello, Борис!" in messages

    exported = list(csv.reader(io.StringIO(desk.get(f"/bulk/{table_id}/result.csv").get_data(as_text=True))))
    columns = exported[0]
    for line in exported[1:]:
        bill = made[line[columns.index("Email")] + ":" + line[columns.index("Товар")]]
        assert line[columns.index("invoice_number")] == str(bill)
        assert line[columns.index("amount")]
        assert f"/bill/{bill}/" in line[columns.index("payment_link")]
        assert f"/bill/{bill}/" in line[columns.index("message")]


def test_a_rows_invoice_not_listed_is_looked_for_a_few_times_then_left_to_its_page(make_sandbox, tmp_path,
                                                                                   monkeypatch):
    from tests.support.desk import Counted, serve
    from webapp.bulk import invoices as bulk_invoices

    monkeypatch.setattr(bulk_invoices, "RETRY_SECONDS", 0)  # each look due at once: no waiting in a test
    counted = Counted(answering(make_sandbox().app, "GetBills", NO_BILLS))
    with serve(counted) as root:
        desk = sign_in(create_app(desk_config(root + "api/", tmp_path)).test_client())
        final = run_and_look(desk, bring(desk, tsv(["Email", "Товар"], ["anna@example.com", "digital"])))
    assert counted.methods.count("GetBills") == bulk_invoices.TRIES
    assert "0 of 1 invoice found" in final and "Open a row's details to look again" in final
    assert not LOOK.search(final)


@pytest.mark.parametrize("method", ["GetBills", "getOrderDetails"])
def test_justclicks_request_limit_pauses_the_looks_for_a_minute(make_sandbox, tmp_path, method):
    from tests.support.desk import serve

    limit = {"error_code": 8, "error_text": "Limit", "result": []}
    limited = answering(make_sandbox().app, method, limit)
    with serve(limited) as root:
        desk = sign_in(create_app(desk_config(root + "api/", tmp_path)).test_client())
        table_id = bring(desk, tsv(["Email", "Товар"], ["anna@example.com", "digital"]))
        started = desk.post(f"/bulk/{table_id}/send", headers=HX).get_data(as_text=True)
        run(desk, table_id)
        looked = desk.post(LOOK.search(started)[1], headers=HX).get_data(as_text=True)
    assert 'hx-trigger="load delay:60s"' in looked


def test_a_full_name_column_fills_the_three_names_and_shows_how_it_was_read(desk, shop):
    table_id = bring(desk, tsv(["Email", "ФИО", "Товар"],
                               ["a@example.com", "Иванов Иван Сергеевич", "digital"],
                               ["b@example.com", "Петрова Мария", "digital"]))
    preview = page_of(desk, table_id)
    assert "Last name: Петрова · First name: Мария" in preview  # two words: read in Russian order, shown
    run(desk, table_id)
    sent = {o["params"]["customer_email"]: o["params"] for o in shop.book.all()}
    assert (sent["a@example.com"]["customer_last_name"], sent["a@example.com"]["customer_first_name"],
            sent["a@example.com"]["customer_middle_name"]) == ("Иванов", "Иван", "Сергеевич")
    assert (sent["b@example.com"]["customer_last_name"], sent["b@example.com"]["customer_first_name"]) == (
        "Петрова", "Мария")


def test_a_totals_row_is_set_aside_with_a_note_and_can_be_included_again(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар", "Цена"], ["a@example.com", "digital", "1500"],
                               ["b@example.com", "digital", "1500"], ["Итого", "", "3000"]))
    preview = page_of(desk, table_id)
    assert "2 rows will be sent" in preview and "has errors" not in preview and "errors only" not in preview
    row = re.search(r'<tr id="row-2".*?</tr>', preview, re.S)[0]
    assert "Set aside: a totals row" in row and 'value="include"' in row
    run(desk, table_id)
    assert creates(shop) == 2


def test_empty_rows_between_orders_are_skipped_with_a_note_naming_them(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар"], ["a@example.com", "digital"], ["", ""],
                               ["b@example.com", "digital"], ["", ""], ["", ""], ["c@example.com", "digital"],
                               ["", ""]))
    preview = page_of(desk, table_id)
    # The sheet's own lines: header 1, orders 2, 4 and 7; the trailing empty line is no gap between orders.
    assert "3 empty rows skipped (rows 3, 5, 6)" in preview
    assert "3 rows will be sent" in preview
    run(desk, table_id)
    assert creates(shop) == 3


def test_a_table_without_gaps_says_nothing_of_empty_rows(desk):
    preview = page_of(desk, bring(desk, tsv(["Email", "Товар"], ["a@example.com", "digital"], ["", ""])))
    assert "empty row" not in preview


def test_errors_only_shows_the_rows_to_fix_with_inputs_wide_enough_to_read(desk):
    long_phone = "8 (912) 345-67-89 доб. 123"
    table_id = bring(desk, tsv(["Email", "Товар", "Телефон"], ["a@example.com", "digital", ""],
                               ["b@", "digital", long_phone], ["c@example.com", "digital", ""]))
    only = html.unescape(desk.get(f"/bulk/{table_id}?errors=1").get_data(as_text=True))
    assert re.findall(r'<tr id="row-(\d+)"', only) == ["1"]
    assert "Show every row" in only
    every = page_of(desk, table_id)
    assert re.findall(r'<tr id="row-(\d+)"', every) == ["0", "1", "2"]
    assert "Show only the row with errors" in every
    [phone] = re.findall(r'<input[^>]*id="cell-1-2"[^>]*>', every)
    assert int(re.search(r'size="(\d+)"', phone)[1]) >= len(long_phone)


def test_a_product_named_loosely_is_proposed_and_accepted_once_for_every_cell_with_that_value(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар"], ["a@example.com", "Вебинарные воронки"],
                               ["b@example.com", "вебинарные  воронки"], ["c@example.com", "ьутещк"],
                               ["d@example.com", "digital"]))
    preview = page_of(desk, table_id)
    assert "1 row will be sent" in preview  # a close match is proposed, never taken silently
    assert preview.count("Use “Интенсив «Вебинарные воронки»”") == 2
    assert "Use “Личная консультация с наставником, 60 минут” for every “ьутещк”" in preview  # "mentor"
    forged = desk.post(f"/bulk/{table_id}/products",
                       data={"value": "Вебинарные воронки", "good_name": "nope"})
    assert forged.status_code == 400
    empty = desk.post(f"/bulk/{table_id}/products", data={"value": " ", "good_name": "webinar-funnels"})
    assert empty.status_code == 303 and "1 row will be sent" in page_of(desk, table_id)  # nothing accepted
    accepted = desk.post(f"/bulk/{table_id}/products",
                         data={"value": "Вебинарные воронки", "good_name": "webinar-funnels"})
    assert accepted.status_code == 303
    preview = page_of(desk, table_id)
    assert "3 rows will be sent" in preview  # both spellings of the value, not the other value
    assert "Use “Интенсив «Вебинарные воронки»”" not in preview and "for every “ьутещк”" in preview
    run(desk, table_id)
    sent = {o["params"]["customer_email"]: o["params"]["product_names"] for o in shop.book.all()}
    assert sent == {"a@example.com": "webinar-funnels", "b@example.com": "webinar-funnels",
                    "d@example.com": "digital"}


@pytest.mark.parametrize("choice", ["midnight", "ignore"])
def test_a_date_only_column_is_one_question_for_the_column(desk, shop, choice):
    table_id = bring(desk, tsv(["Email", "Товар", "Дата"], ["a@example.com", "digital", "05.12.2026"],
                               ["b@example.com", "digital", "2026-12-04"]))
    preview = page_of(desk, table_id)
    assert "The column “Дата” holds dates without a time" in preview and "2 rows have errors" in preview
    answered = desk.post(f"/bulk/{table_id}/dates", data={"column": "2", "choice": choice})
    assert answered.status_code == 303
    preview = page_of(desk, table_id)
    assert "holds dates without a time" not in preview and "2 rows will be sent" in preview
    run(desk, table_id)
    sent = {o["params"]["customer_email"]: o["params"].get("order_created_at") for o in shop.book.all()}
    if choice == "midnight":  # the account's zone (Moscow) at 00:00, as JustClick takes it
        assert sent == {"a@example.com": "2026-12-05 00:00:00", "b@example.com": "2026-12-04 00:00:00"}
    else:
        assert sent == {"a@example.com": None, "b@example.com": None}


def test_a_fix_to_one_cell_is_offered_for_every_cell_with_the_same_value(desk, shop):
    table_id = bring(desk, tsv(["Email", "Товар", "Страна"], ["a@example.com", "digital", "Росия"],
                               ["b@example.com", "digital", "Росия"], ["c@example.com", "digital", "Росия"],
                               ["d@example.com", "digital", "Germany"]))
    fixed = {"action": "save", "cell-0": "a@example.com", "cell-1": "digital", "cell-2": "Россия"}
    desk.post(f"/bulk/{table_id}/rows/0", data=fixed)
    preview = page_of(desk, table_id)
    assert "Put “Россия” in the 2 other cells of “Страна” holding “Росия”" in preview
    assert "2 rows have errors" in preview
    replaced = desk.post(f"/bulk/{table_id}/replace", data={"column": "2", "old": "Росия", "new": "Россия"})
    assert replaced.status_code == 303
    preview = page_of(desk, table_id)
    assert "4 rows will be sent" in preview and "holding “Росия”" not in preview
    run(desk, table_id)
    assert sorted(o["params"].get("customer_shipping_country_code") for o in shop.book.all()) == [
        "DE", "RU", "RU", "RU"]


def test_a_row_repeating_another_row_is_refused_and_one_already_sent_is_held(desk, shop):
    assert desk.post("/", data={"customer_email": "sent@example.com",
                                "products-0-good_name": "digital"}).status_code == 303
    table_id = bring(desk, tsv(["Email", "Product"], ["twice@example.com", "digital"],
                               ["TWICE@example.com", "digital"], ["sent@example.com", "digital"],
                               ["twice@example.com", "mentor-session"]))
    preview = page_of(desk, table_id)
    assert "Same customer and products as row 1" in preview
    assert "Like an order sent at" in preview
    assert "2 rows will be sent" in preview  # the held row is not counted: it will not be sent

    final = run(desk, table_id)
    assert creates(shop) == 1 + 2  # the single order, then rows 1 and 4; row 3 is held by the guard
    assert "Held: likely a duplicate: 1" in html.unescape(final)


def test_a_cell_fixed_inline_and_a_row_excluded(desk, shop):
    table_id = bring(desk, tsv(["Email", "Product"], ["ivan@", "digital"], ["anna@example.com", "digital"],
                               ["oleg@example.com", "digital"]))
    region = desk.post(f"/bulk/{table_id}/rows/0", headers=HX,
                       data={"action": "save", "cell-0": " ivan@example.com ", "cell-1": "digital"})
    assert region.status_code == 200 and "3 rows will be sent" in region.get_data(as_text=True)
    assert desk.post(f"/bulk/{table_id}/rows/2", data={"action": "exclude"}).status_code == 303  # no htmx
    assert "2 rows will be sent" in page_of(desk, table_id)
    run(desk, table_id)
    assert sorted(o["params"]["customer_email"] for o in shop.book.all()) == ["anna@example.com",
                                                                            "ivan@example.com"]


def selected_fields(page: str) -> list[str]:
    selects = re.findall(r'<select id="col-\d+".*?</select>', page, re.S)
    return [(re.search(r'<option value="(\w*)" selected>', select) or [None, ""])[1] for select in selects]


def test_the_column_mapping_is_shown_and_can_be_changed(desk):
    table_id = bring(desk, tsv(["Who", "What", "Имя"], ["ivan@example.com", "digital", "Иван"]))
    page = page_of(desk, table_id)
    assert "0 rows will be sent" in page
    assert selected_fields(page) == ["", "", "customer_first_name"]
    chosen = {"col-0": "customer_email", "col-1": "product_names", "col-2": "customer_first_name"}
    region = desk.post(f"/bulk/{table_id}/mapping", headers=HX, data=chosen).get_data(as_text=True)
    assert "1 row will be sent" in region
    assert selected_fields(region) == ["customer_email", "product_names", "customer_first_name"]


def test_code_8_pauses_the_run_and_continuing_sends_the_row_again(desk, shop):
    table_id = bring(desk, tsv(["Email", "Product"], ["a@example.com", "digital"],
                               ["limit@sandbox.test", "digital"], ["c@example.com", "digital"]))
    final = run(desk, table_id)
    assert creates(shop) == 2
    assert "code 8" in final and "paused" in final and 'id="bulk-continue"' in final
    for _ in range(2):  # no step goes on by itself while paused
        desk.post(f"/bulk/{table_id}/step", headers=HX)
    assert creates(shop) == 2
    final = run(desk, table_id)  # "Continue sending": the refused row is sent again, and refused again
    assert creates(shop) == 3 and "code 8" in final
    assert [o["params"]["customer_email"] for o in shop.book.all()] == ["a@example.com"]


def test_stop_ends_the_run_after_the_row_in_flight(desk, shop):
    table_id = bring(desk, tsv(["Email", "Product"], *[[f"s{i}@example.com", "digital"] for i in range(5)]))
    desk.post(f"/bulk/{table_id}/send")  # without JavaScript, a press sends one row
    assert creates(shop) == 1
    stopped = desk.post(f"/bulk/{table_id}/stop", headers=HX).get_data(as_text=True)
    assert "Stopped" in stopped and not STEP.search(stopped)
    desk.post(f"/bulk/{table_id}/step", headers=HX)  # a step already on its way finds the run stopped
    assert creates(shop) == 1
    run(desk, table_id)  # "Continue sending"
    assert creates(shop) == 5


def test_failed_rows_are_retried_with_new_tokens_and_the_result_exported(desk, shop):
    table_id = bring(desk, tsv(["Email", "Product", "Note", "@SUM(1)"],
                               ["ok@example.com", "digital", "=HYPERLINK(1)", ""],
                               ["error-602@sandbox.test", "digital", "", ""]))
    final = run(desk, table_id)
    assert creates(shop) == 2 and 'id="bulk-retry"' in final
    exported = desk.get(f"/bulk/{table_id}/result.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:4] == ["row", "outcome", "code", "text"] and rows[0][-1] == "'@SUM(1)"  # the header too
    assert rows[1][1] == "Created" and rows[1][-2] == "'=HYPERLINK(1)"  # a cell, never a formula
    assert rows[2][1] == "Rejected by JustClick" and rows[2][2] == "602"

    assert desk.post(f"/bulk/{table_id}/retry").status_code == 303
    preview = page_of(desk, table_id)
    assert "1 row will be sent" in preview
    run(desk, table_id)
    assert creates(shop) == 3  # only the refused row went again
    assert desk.get("/history").get_data(as_text=True).count("badge-rejected") == 2


def test_unknown_rows_must_be_settled_before_failed_rows_are_retried(shop, tmp_path):
    desk = sign_in(create_app(desk_config(shop.url, tmp_path, **GIVES_UP_SOON)).test_client())
    table_id = bring(desk, tsv(["Email", "Product"], ["slow@sandbox.test", "digital"],
                               ["error-602@sandbox.test", "digital"]))
    final = html.unescape(run(desk, table_id))
    assert "Unknown: check in JustClick: 1" in final and 'id="bulk-retry"' not in final
    assert "waits for the row whose outcome is unknown" in final
    desk.post(f"/bulk/{table_id}/retry")
    desk.post(f"/bulk/{table_id}/send")
    assert creates(shop) == 2


@pytest.mark.parametrize("rows, words", [
    (MAX_ROWS + 1, "more than 500 rows"),
    (0, "no orders under it"),
])
def test_a_table_that_cannot_be_brought_in_is_explained_with_the_paste_kept(desk, rows, words):
    text = tsv(["Email", "Product"], *[[f"u{i}@example.com", "digital"] for i in range(rows)])
    response = desk.post("/bulk", data={"paste": text})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and words in page
    assert "u0@example.com" in page or rows == 0


def test_an_xlsx_upload_is_read(desk, shop):
    book = Workbook()
    book.active.append(["Email", "Товар", "Цена"])
    book.active.append(["xlsx@example.com", "digital", 1200])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    response = desk.post("/bulk", data={"file": (data, "orders.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 303
    table_id = response.headers["Location"].rsplit("/", 1)[1]
    run(desk, table_id)
    [sent] = shop.book.all()
    assert sent["params"]["product_prices"] == "1200"


def test_the_order_form_still_takes_no_files(desk):
    response = desk.post("/", data={"customer_email": (io.BytesIO(b"x"), "a.txt")},
                         content_type="multipart/form-data")
    assert response.status_code == 400


def test_another_session_cannot_see_a_table(desk, shop, tmp_path):
    table_id = bring(desk, tsv(["Email", "Product"], ["a@example.com", "digital"]))
    other = sign_in(desk.application.test_client())
    assert other.get(f"/bulk/{table_id}").status_code == 404
    assert other.post(f"/bulk/{table_id}/send").status_code == 404


def test_the_sandbox_sample_table_has_bad_rows_and_a_magic_email(tmp_path):
    from webapp.config import SANDBOX_API_KEY, SANDBOX_API_URL

    app = create_app(desk_config(SANDBOX_API_URL, tmp_path, SANDBOX=True, JUSTCLICK_API_KEY=SANDBOX_API_KEY,
                                 JUSTCLICK_USERNAME="sandbox", TEAM_USERS={}))
    client = app.test_client()
    client.get("/login")
    from webapp.auth.team import DEMO_USER

    sign_in(client, DEMO_USER["username"], DEMO_USER["password"])
    assert "download a sample table" in client.get("/bulk").get_data(as_text=True)
    sample = client.get("/bulk/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    response = client.post("/bulk", data={"file": (io.BytesIO(sample.data), "sample-orders.csv")},
                           content_type="multipart/form-data")
    table_id = response.headers["Location"].rsplit("/", 1)[1]
    preview = page_of(client, table_id)
    assert "5 rows will be sent" in preview and "3 rows have errors" in preview
    final = html.unescape(run(client, table_id))
    assert "Created: 4" in final and "Rejected by JustClick: 1" in final


def test_rows_keep_to_the_operators_order_rate_limit_by_waiting(shop, tmp_path):
    desk = sign_in(create_app(desk_config(shop.url, tmp_path, ORDER_RATE_LIMIT="2 per minute")).test_client())
    table_id = bring(desk, tsv(["Email", "Product"], *[[f"p{i}@example.com", "digital"] for i in range(3)]))
    answer = desk.post(f"/bulk/{table_id}/send", headers=HX).get_data(as_text=True)
    for _ in range(3):
        answer = desk.post(STEP.search(answer)[1], headers=HX).get_data(as_text=True)
    assert creates(shop) == 2
    wait = re.search(r'hx-trigger="load delay:(\d+)s"', answer)
    assert wait and 1 <= int(wait[1]) <= 60  # the page asks again once the minute is over
    assert "the desk sends at most 2 per minute" in answer
    desk.post(f"/bulk/{table_id}/step", headers=HX)
    assert creates(shop) == 2


def test_the_form_and_a_table_share_one_rate_budget(shop, tmp_path):
    """Two orders from the form spend a budget of two a minute: a table's row then waits, and once a
    table has spent it, the form is refused too."""
    desk = sign_in(create_app(desk_config(shop.url, tmp_path, ORDER_RATE_LIMIT="2 per minute")).test_client())
    for i in range(2):
        order = {"customer_email": f"form{i}@example.com", "products-0-good_name": "digital"}
        assert desk.post("/", data=order).status_code == 303
    table_id = bring(desk, tsv(["Email", "Product"], ["row@example.com", "digital"]))
    answer = desk.post(f"/bulk/{table_id}/send", headers=HX).get_data(as_text=True)
    answer = desk.post(STEP.search(answer)[1], headers=HX).get_data(as_text=True)
    assert creates(shop) == 2 and "the desk sends at most 2 per minute" in answer

    other = sign_in(create_app(desk_config(shop.url, tmp_path / "b", ORDER_RATE_LIMIT="2 per minute")
                               ).test_client())
    table_id = bring(other, tsv(["Email", "Product"], *[[f"t{i}@example.com", "digital"] for i in range(2)]))
    run(other, table_id)
    assert creates(shop) == 4
    refused = other.post("/", data={"customer_email": "late@example.com", "products-0-good_name": "digital"})
    assert refused.status_code == 429 and creates(shop) == 4


def test_a_row_sends_exactly_what_the_order_page_sends_for_the_same_order(desk, shop):
    """One function turns a valid form into an order (OrderForm.order), for the page and for a row."""
    order = {"customer_first_name": "Ольга", "customer_phone": "+79123456789", "order_tag": "vip",
             "customer_shipping": "ул. Ленина, 1", "customer_shipping_city": "Москва",
             "customer_shipping_country_code": "RU"}
    page = desk.get("/").get_data(as_text=True)
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page)[1]
    posted = desk.post("/", data={**order, "customer_email": "page@example.com", "submission_token": token,
                                  "products-0-good_name": "digital", "products-0-price": "500"})
    assert posted.status_code in (200, 303), posted.get_data(as_text=True)
    header = ["E-mail", "Имя", "Телефон", "Тег", "Адрес", "Город", "Страна", "Товар", "Цена"]
    row = ["row@example.com", "Ольга", "+79123456789", "vip", "ул. Ленина, 1", "Москва", "RU", "digital",
           "500"]
    table_id = bring(desk, tsv(header, row))
    run(desk, table_id)
    sent = {o["params"]["customer_email"]: o["params"] for o in shop.book.all()}
    assert set(sent) == {"page@example.com", "row@example.com"}
    as_page = {k: v for k, v in sent["page@example.com"].items() if k != "customer_email"}
    as_row = {k: v for k, v in sent["row@example.com"].items() if k != "customer_email"}
    assert as_row == as_page and as_page["customer_shipping_city"] == "Москва"
