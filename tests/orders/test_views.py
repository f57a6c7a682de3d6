"""The desk end to end over real HTTP to a JustClick stand-in: page, submit, errors, live regions."""

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from tests.support.desk import OPERATOR, desk_config, sign_in
from webapp import create_app
from webapp.justclick.invoices import Expected, find_invoice, refresh_status
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS
from webapp.web.services import services_of

DIGITAL = next(g for g in SEED_GOODS if g["good_type"] == "digital")
PHYSICAL = next(g for g in SEED_GOODS if g["good_type"] == "physical")
RUSSIAN = next(g for g in SEED_GOODS if re.search("[а-яА-Я]", g["good_title"]))
HX = {"HX-Request": "true"}


def order(**fields):
    data = {"customer_email": "ivan@example.com", "products-0-good_name": DIGITAL["good_name"]}
    data.update({k.replace("__", "-"): v for k, v in fields.items()})
    return data


def test_the_order_page_lists_goods_coupons_and_managers(client):
    page = client.get("/").get_data(as_text=True)
    for good in SEED_GOODS:
        assert f'value="{good["good_name"]}"' in page
    for coupon in SEED_COUPONS:
        assert f'<option value="{coupon["id"]}">{coupon["coupon"]}</option>' in page
    for manager in SEED_MANAGERS:  # none chosen: the field reassigns the customer's personal manager
        assert f'<option value="{manager["id"]}">{manager["manager_name"]}</option>' in page
    assert 'name="customer_shipping_country_code"' in page and '<option value="RU">Russian Federation' in page


def test_a_full_order_reaches_justclick_exactly_as_typed(client, sandbox_server):
    response = client.post("/", data=order(
        customer_first_name="Иван", customer_last_name="Петров", customer_phone="+7 912 345 67 89",
        customer_shipping="ул. Тверская, 1", customer_shipping_city="Москва",
        customer_shipping_country_code="RU", billing_same_as_shipping="y",
        products__0__good_name=PHYSICAL["good_name"], products__0__price="1 200,50",
        products__1__good_name=DIGITAL["good_name"], products__1__price="",
        order_status="Paid", order_confirmed="Yes", order_created_at="2026-01-05T10:30",
        order_paid_at="2026-01-05T10:45",
        coupon=str(SEED_COUPONS[1]["id"]), order_sales_manager=str(SEED_MANAGERS[0]["id"]),
        affiliates="alpha, beta", utm_source="newsletter", note="Позвонить & уточнить",
    ))
    assert response.status_code == 303
    [accepted] = sandbox_server.book.all()
    assert accepted["params"] == {
        "customer_email": "ivan@example.com",
        "customer_first_name": "Иван",
        "customer_last_name": "Петров",
        "customer_phone": "+79123456789",
        "customer_shipping": "ул. Тверская, 1",
        "customer_shipping_city": "Москва",
        "customer_shipping_country_code": "RU",
        "customer_billing_address_1": "ул. Тверская, 1",
        "customer_billing_city": "Москва",
        "customer_billing_country_code": "RU",
        "order_status": "Paid",
        "order_confirmed": "Yes",
        "order_created_at": "2026-01-05 10:30:00",
        "order_paid_at": "2026-01-05 10:45:00",
        "order_sales_manager": str(SEED_MANAGERS[0]["id"]),
        "product_names": f"{PHYSICAL['good_name']},{DIGITAL['good_name']}",
        "product_prices": "1200.50",
        "coupon": str(SEED_COUPONS[1]["id"]),
        "affiliates": "alpha,beta",
        "utm_source": "newsletter",
        "note": "Позвонить & уточнить",
    }
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Order created" in result
    assert "ул. Тверская, 1" in result and "+79123456789" in result
    assert "test-key" not in result


def test_invalid_input_sends_nothing_and_keeps_every_value(client, sandbox_server):
    response = client.post("/", data=order(customer_email="ivan@", customer_first_name="Иван",
                                           products__0__price="12.345", utm_campaign="winter"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sandbox_server.book.all() == []
    assert 'value="ivan@"' in page and 'value="Иван"' in page and 'value="12.345"' in page
    assert 'value="winter"' in page
    assert 'id="error-summary"' in page
    # each message sits beside its field, tied to it for screen readers
    assert re.search(r'id="customer_email"[^>]*aria-invalid="true"', page) or \
        re.search(r'aria-invalid="true"[^>]*id="customer_email"', page)
    assert 'id="customer_email-error"' in page and "This is not a valid email address." in page
    assert 'id="products-0-price-error"' in page and "at most 2 decimal places" in page


@pytest.mark.parametrize("email, status, words", [
    ("error-602@sandbox.test", 422, ["JustClick refused the order", "Error 602"]),
    ("limit@sandbox.test", 422, ["Error 8", "Wait a few minutes and send again", "yet to enable API 2.0"]),
    ("unknown@sandbox.test", 422, ["Error 777", "Sandbox: an error code the documentation lacks"]),
    pytest.param("slow@sandbox.test", 502,
                 ["may or may not exist", "Check in JustClick before sending again"],
                 marks=pytest.mark.gives_up_soon),
    ("down@sandbox.test", 502, ["may or may not exist", "HTML page"]),
    ("broken@sandbox.test", 502, ["may or may not exist"]),
    ("redirect@sandbox.test", 502, ["may or may not exist", "redirected"]),
])
def test_upstream_failures_are_explained_beside_the_intact_form(client, email, status, words):
    response = client.post("/", data=order(customer_email=email, customer_first_name="Ольга"))
    page = response.get_data(as_text=True)
    assert response.status_code == status
    for word in words:
        assert word in page
    assert f'value="{email}"' in page and 'value="Ольга"' in page
    assert 'id="submit-order"' in page  # the form is still there


def test_a_success_reply_with_an_error_status_is_an_unknown_outcome(httpserver, tmp_path):
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": 0, "error_text": "OK", "result": []}, status=500)
    app = create_app(desk_config(httpserver.url_for("/api/"), tmp_path))
    client = sign_in(app.test_client())
    response = client.post("/", data=order())
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "may or may not exist" in page and "HTTP 500" in page
    assert "Order created" not in page
    assert re.search(r"Unknown: check in JustClick", client.get("/history").get_data(as_text=True))


@pytest.mark.gives_up_soon
def test_a_timed_out_order_is_sent_once_only(client, sandbox_server):
    # The stand-in records the order before its slow answer; a resend would arrive before post() returns.
    response = client.post("/", data=order(customer_email="slow@sandbox.test"))
    assert response.status_code == 502
    assert len(sandbox_server.book.all()) == 1


def test_unreachable_justclick_means_nothing_was_sent(tmp_path):
    app = create_app(desk_config("http://127.0.0.1:9/api/", tmp_path))
    response = sign_in(app.test_client()).post("/", data=order())
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "JustClick could not be reached" in page and "no order was created" in page
    # the lists could not load either, so the form falls back to typed ids
    assert "Products could not be loaded from JustClick" in page
    assert 'name="products-0-good_name"' in page and 'value="digital"' in page


def test_htmx_submit_answers_with_the_result_partial_and_a_history_event(client):
    response = client.post("/", data=order(), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "history-changed"
    assert response.headers["HX-Push-Url"].startswith("/attempts/")
    assert "<html" not in page and 'id="order-area"' in page and "Order created" in page


def test_htmx_invalid_submit_answers_with_the_form_partial(client):
    response = client.post("/", data=order(customer_email=""), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in page and 'id="order-form"' in page and "JustClick needs the customer" in page
    assert "HX-Request" in response.headers["Vary"]


def test_adding_and_removing_lines_without_javascript_keeps_input(client, sandbox_server):
    data = order(customer_first_name="Анна", products__0__price="99", action="add")
    page = client.post("/", data=data).get_data(as_text=True)
    assert 'name="products-1-good_name"' in page and 'value="Анна"' in page and 'value="99"' in page
    data = order(products__1__good_name=PHYSICAL["good_name"], products__1__price="5,5", action="remove:0")
    page = client.post("/", data=data).get_data(as_text=True)
    assert 'name="products-1-good_name"' not in page
    assert f'<option value="{PHYSICAL["good_name"]}" selected>' in page and 'value="5,5"' in page
    assert sandbox_server.book.all() == []


def test_adding_a_picked_product_fills_the_blank_line(client):
    data = order(products__0__good_name="", action=f"add:{RUSSIAN['good_name']}")
    page = client.post("/", data=data).get_data(as_text=True)
    assert f'<option value="{RUSSIAN["good_name"]}" selected>' in page
    assert 'name="products-1-good_name"' not in page


def lines_region(response) -> str:
    """An htmx line action's answer: the product lines region (swapped for the old one), nothing else
    of the form: not the picker (what is typed into it must survive), not the summary (it asks for
    itself, through its own queue)."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#product-lines-region"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert "HX-Request" in response.headers["Vary"]
    [region] = re.fullmatch(r'\s*(<div id="product-lines-region".*</div>)\s*', page, re.S).groups()
    assert "customer_email" not in page and 'id="order-form"' not in page and "<html" not in page
    assert 'id="product-search"' not in page and 'id="summary' not in page and "hx-swap-oob" not in page
    return region


def summary_of(client, data: dict) -> str:
    """The summary the page asks for after a line change: of the form as it then stands."""
    response = client.post("/summary", data=data, headers=HX)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_product_picked_with_htmx_swaps_only_the_product_lines(client, sandbox_server):
    data = order(customer_first_name="Анна", products__0__price="99", action=f"add:{RUSSIAN['good_name']}")
    response = client.post("/", data=data, headers=HX)
    region = lines_region(response)
    assert f'<option value="{RUSSIAN["good_name"]}" selected>' in region and 'value="99"' in region
    assert 'data-focus="product-search"' in region  # ready for the next product
    after = {k: v for k, v in data.items() if k != "action"}
    after["products-1-good_name"] = RUSSIAN["good_name"]
    summary = summary_of(client, after)
    assert RUSSIAN["good_title"] in summary and f"{DIGITAL['good_name']},{RUSSIAN['good_name']}" in summary
    full = client.post("/", data=data)  # the same button without JavaScript: the whole page
    page = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in page and 'id="order-form"' in page
    assert 'value="Анна"' in page
    assert len(response.get_data()) < len(full.get_data()) / 3
    assert sandbox_server.book.all() == []


def test_removing_or_adding_a_line_with_htmx_swaps_only_the_product_lines(client):
    data = order(products__1__good_name=PHYSICAL["good_name"], products__1__price="5,5")
    region = lines_region(client.post("/", data={**data, "action": "remove:0"}, headers=HX))
    assert 'name="products-1-good_name"' not in region and 'value="5,5"' in region
    assert 'data-focus="product-search"' in region
    region = lines_region(client.post("/", data={**data, "action": "add"}, headers=HX))
    assert 'name="products-2-good_name"' in region
    assert 'data-focus="products-2-good_name"' in region


def test_refreshing_the_lists_with_htmx_renders_the_whole_form(client):
    response = client.post("/", data=order(action="refresh"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Retarget" not in response.headers
    assert 'id="order-form"' in page and "<html" not in page


@pytest.mark.parametrize("typed", ["dt,byfh", "Вебинарные варонки"])
def test_the_picker_finds_a_product_typed_in_the_other_layout_or_with_a_typo(client, typed):
    page = client.get("/products/search", query_string={"q": typed}, headers=HX).get_data(as_text=True)
    assert 'value="add:webinar-funnels"' in page and "No products match" not in page


def test_product_search_matches_russian_titles_case_insensitively(client):
    word = RUSSIAN["good_title"].split()[-1].strip("«»").lower()[:4]
    page = client.get("/products/search", query_string={"q": word}, headers=HX).get_data(as_text=True)
    assert f'value="add:{RUSSIAN["good_name"]}"' in page
    assert DIGITAL["good_name"] not in page or word in DIGITAL["good_title"].lower()


def test_summary_shows_the_order_that_will_be_sent(client):
    data = order(products__0__good_name=DIGITAL["good_name"],
                 products__1__good_name=PHYSICAL["good_name"], products__1__price="10")
    page = client.post("/summary", data=data, headers=HX).get_data(as_text=True)
    names = re.search(r'id="wire-names">([^<]*)<', page)[1]
    prices = re.search(r'id="wire-prices">([^<]*)<', page)[1]
    # The overridden line goes first; the digital product's catalogue price is not sent for it.
    assert names == f"{PHYSICAL['good_name']},{DIGITAL['good_name']}"
    assert prices == "10"
    # and the lines are listed in that order
    listed = [page.index(f'<td class="title">{good["good_title"]}</td>') for good in (PHYSICAL, DIGITAL)]
    assert listed == sorted(listed)


def test_no_price_the_operator_did_not_type_is_sent(client, sandbox_server):
    second = "sales-in-messengers"
    response = client.post("/", data=order(products__1__good_name=second, products__1__price="0"))
    assert response.status_code == 303
    [accepted] = sandbox_server.book.all()
    assert accepted["params"]["product_names"] == f"{second},{DIGITAL['good_name']}"
    assert accepted["params"]["product_prices"] == "0"  # a free line, and nothing else priced


def test_prefill_from_the_url(client):
    page = client.get("/", query_string={"customer_email": "lead@example.com", "utm_source": "crm",
                                         "utm_term": "зима", "note": "not prefilled"}).get_data(as_text=True)
    assert 'value="lead@example.com"' in page and 'value="crm"' in page and 'value="зима"' in page
    assert "not prefilled" not in page


def test_duplicate_into_form_prefills_every_field(client):
    fields = order(customer_first_name="Иван", customer_shipping="Баумана, 5",
                   customer_shipping_city="Казань",
                   customer_shipping_country_code="RU", customer_phone="+79123456789",
                   products__0__good_name=PHYSICAL["good_name"], products__0__price="10",
                   products__1__good_name=DIGITAL["good_name"],
                   order_created_at="2026-01-05T10:30", utm_content="banner", billing_same_as_shipping="y")
    location = client.post("/", data=fields).headers["Location"]
    entry_id = location.rsplit("/", 1)[1]
    page = client.get("/", query_string={"from": entry_id}).get_data(as_text=True)
    for value in ("Иван", "Баумана, 5", "Казань", "+79123456789", "10", "2026-01-05 10:30", "banner"):
        assert f'value="{value}"' in page, value
    assert f'<option value="{PHYSICAL["good_name"]}" selected>' in page
    [checkbox] = re.findall(r'<input[^>]*name="billing_same_as_shipping"[^>]*>', page)
    assert " checked" in checkbox


def test_history_lists_attempts_and_exports_csv(client):
    client.post("/", data=order(customer_first_name="Иван, младший"))
    client.post("/", data=order(customer_email="error-602@sandbox.test"))
    page = client.get("/history").get_data(as_text=True)
    assert "ivan@example.com" in page and "error-602@sandbox.test" in page
    rejected_only = client.get("/history?outcome=rejected").get_data(as_text=True)
    assert "error-602@sandbox.test" in rejected_only and "ivan@example.com" not in rejected_only
    csv_text = client.get("/history.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert [r["customer_email"] for r in rows] == ["error-602@sandbox.test", "ivan@example.com"]
    assert rows[1]["customer_first_name"] == "Иван, младший"
    assert rows[0]["code"] == "602"
    assert "rpsKey" not in csv_text and "test-key" not in csv_text


def test_clear_history_asks_first(client):
    client.post("/", data=order())
    assert "Clear this session" in client.get("/history/clear").get_data(as_text=True)
    assert "ivan@example.com" in client.get("/history").get_data(as_text=True)
    client.post("/history/clear")
    assert "ivan@example.com" not in client.get("/history").get_data(as_text=True)


def test_unknown_pages_and_attempts_are_404_pages(client):
    response = client.get("/attempts/nope")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_sandbox_mode_runs_in_process_and_lists_orders(tmp_path):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "INSTANCE_PATH": str(tmp_path)})
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert "sign in as <code>demo</code> with the password <code>demo</code>" in login_page
    sign_in(client, "demo", "demo")
    page = client.get("/").get_data(as_text=True)
    assert "orders go to the built-in sandbox, not to JustClick" in page
    assert client.post("/", data=order(customer_first_name="Тест")).status_code == 303
    listed = client.get("/sandbox").get_data(as_text=True)
    assert "ivan@example.com" in listed and "Тест" in listed and "error-602@sandbox.test" in listed


def test_sandbox_mode_serves_the_payment_pages_under_the_desks_own_host(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})  # CSRF checks on
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
    client.post("/login", data={"username": "demo", "password": "demo", "csrf_token": token})
    sent_at = datetime.now(UTC).replace(microsecond=0)
    justclick = services_of(app).justclick  # in-process: http://sandbox.invalid/api/
    justclick.create_order({"customer_email": "ivan@example.com", "product_names": DIGITAL["good_name"]})

    # The lookup's links belong to the desk's /sandbox, where a browser can open them.
    sent = {"customer_email": "ivan@example.com", "product_names": DIGITAL["good_name"]}
    window = (sent_at, datetime.now(UTC))
    invoice = find_invoice(justclick, Expected.of(sent, window), site_url="http://localhost/sandbox").invoice
    assert re.fullmatch(rf"http://localhost/sandbox/bill/{invoice.number}/[0-9a-f]+", invoice.link)
    page = client.get(invoice.link)
    assert page.status_code == 200 and f"Pay {DIGITAL['good_sum']}" in page.get_data(as_text=True)
    paying = client.post(invoice.link)  # the stand-in's own form: no desk CSRF token
    assert paying.status_code == 303 and paying.headers["Location"] == invoice.link
    assert "<strong>Paid</strong>" in client.get(invoice.link).get_data(as_text=True)
    refreshed = refresh_status(justclick, invoice.number, site_url="http://localhost/sandbox")
    assert refreshed.paid
    listed = client.get("/sandbox").get_data(as_text=True)
    assert f'<a href="{invoice.link.removeprefix("http://localhost")}">paid</a>' in listed
    assert client.get(invoice.link.replace(invoice.link.rsplit("/", 1)[1], "0" * 12)).status_code == 404


def test_outside_sandbox_mode_there_are_no_payment_pages(client):
    assert client.get("/sandbox/bill/1001/0123456789ab").status_code == 404


def test_pasting_details_fills_empty_fields_and_marks_them(client, sandbox_server):
    text = "Иванова Мария Сергеевна\nmaria@example.ru\n+7 916 123-45-67\nг. Казань, 420111"
    response = client.post("/", data={"paste_text": text, "action": "paste", "customer_email": "",
                                      "customer_first_name": "Маша", "products-0-good_name": "digital"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="maria@example.ru"' in page and 'value="+79161234567"' in page
    assert 'value="Иванова"' in page and 'value="Казань"' in page
    assert 'value="Маша"' in page and 'value="Мария"' not in page  # typed input is never overwritten
    assert 'id="customer_email-filled"' in page and 'id="customer_first_name-filled"' not in page
    assert "1 field you had typed was left as it was." in page
    assert sandbox_server.book.all() == []


@pytest.mark.parametrize("price", ["-5", "0", "1.234", "NaN", "abc", "1e3"])
def test_the_summary_and_line_actions_take_any_typed_price(client, price):
    data = order(products__0__price=price, products__1__good_name=PHYSICAL["good_name"])
    summary = client.post("/summary", data=data, headers=HX)
    assert summary.status_code == 200
    page = summary.get_data(as_text=True)
    if price in ("1e3", "0"):  # a valid price: shown and sent as the plain number JustClick reads
        assert re.search(rf'id="wire-prices">{int(float(price))}[<,]', page)
    else:  # and the total is unknown, never a sum with the catalogue's price in place of the typed one
        assert "invalid price" in page and "(not sent)" in page
        assert re.search(r'id="summary-total">\s*unknown\s*<', page)
    added = client.post("/", data={**data, "action": "add"})
    assert added.status_code == 200 and f'value="{price}"' in added.get_data(as_text=True)


def test_htmx_errors_go_to_the_alert_region_and_leave_the_panel_alone(client):
    response = client.get("/attempts/nope", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alerts" and response.headers["HX-Reswap"] == "innerHTML"
    page = response.get_data(as_text=True)
    assert "<html" not in page and "There is nothing at this address." in page


def test_the_sales_manager_is_empty_until_the_operator_chooses_me(client, sandbox_server):
    page = client.get("/").get_data(as_text=True)
    assert "<option value=\"\">— none —</option>" in page and " selected>" not in page.split(
        'id="order_sales_manager"')[1].split("</select>")[0]
    # "Me", without JavaScript: the form comes back with the operator's own manager id chosen
    me = re.search(r'<button[^>]*name="action" value="(manager:[^"]*)"[^>]*>Me</button>', page)
    assert me
    page = client.post("/", data=order(customer_first_name="Анна", action=me[1])).get_data(as_text=True)
    assert f'<option value="{OPERATOR["manager_id"]}" selected>' in page and 'value="Анна"' in page
    assert sandbox_server.book.all() == []
    # an order without a manager sends none
    assert client.post("/", data=order()).status_code == 303
    assert "order_sales_manager" not in sandbox_server.book.all()[0]["params"]


# --- what is sent is what the operator meant -----------------------------------------------------

@pytest.fixture
def desk_in(sandbox_server, tmp_path):
    """A signed-in client of a desk with extra settings, against the shared stand-in."""
    def make(**settings):
        return sign_in(create_app(desk_config(sandbox_server.url, tmp_path, **settings)).test_client())
    return make


def test_a_phone_without_plus_is_read_in_the_default_region_only(desk_in, sandbox_server):
    client = desk_in(DEFAULT_PHONE_REGION="RU")
    response = client.post("/", data=order(customer_phone="8 912 345-67-89", customer_shipping="Hauptstr. 1",
                                           customer_shipping_city="München",
                                           customer_shipping_country_code="DE"))
    assert response.status_code == 303
    assert sandbox_server.book.all()[0]["params"]["customer_phone"] == "+79123456789"  # not +4989123456789


def test_a_phone_without_plus_and_no_default_region_is_refused(client, sandbox_server):
    response = client.post("/", data=order(customer_phone="8 912 345-67-89",
                                           customer_shipping_country_code="DE"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "Type it with + and the country code" in page and 'value="8 912 345-67-89"' in page
    assert "ask your administrator to set the desk&#39;s phone region" in page


def test_the_number_to_be_sent_is_shown_beside_the_phone_field(desk_in):
    client = desk_in(DEFAULT_PHONE_REGION="RU")
    # as the operator types (htmx)
    reading = client.post("/phone-reading/customer_phone", data={"customer_phone": "8 912 345-67-89"},
                          headers=HX)
    assert reading.status_code == 200
    text = reading.get_data(as_text=True)
    assert 'id="customer_phone-reading"' in text and "+79123456789" in text and "Russia" in text
    refused = client.post("/phone-reading/customer_shipping_phone",
                          data={"customer_shipping_phone": "+49 89 123456 ext. 7"}, headers=HX)
    assert "extension" in refused.get_data(as_text=True)
    assert client.post("/phone-reading/customer_email", data={}, headers=HX).status_code == 404
    # and without JavaScript, in the form re-rendered by any button
    page = client.post("/", data=order(customer_phone="8 912 345-67-89", action="add")).get_data(as_text=True)
    field = re.search(r'id="customer_phone-reading"[^>]*>([^<]*)<', page)
    assert field and "+79123456789" in field[1]
    assert re.search(r'aria-describedby="[^"]*customer_phone-reading', page)


def test_a_tag_with_a_comma_is_refused(client, sandbox_server):
    response = client.post("/", data=order(order_tag="vip, webinar"))
    assert response.status_code == 422 and sandbox_server.book.all() == []


@pytest.mark.parametrize("fields, words", [
    ({"order_status": "Paid"}, "no paid date"),
    ({"order_status": "Expected", "order_paid_at": "2026-01-05T10:45"}, "awaiting payment"),
])
def test_a_status_at_odds_with_the_paid_date_asks_before_sending(client, sandbox_server, fields, words):
    data = order(**fields)
    response = client.post("/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and sandbox_server.book.all() == []
    assert words in page
    accept = re.search(r'<button[^>]*name="accept" value="([^"]+)"', page)
    assert accept
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="submission_token"', page)
    response = client.post("/", data={**data, "accept": accept[1], "submission_token": token[1]})
    assert response.status_code == 303
    assert len(sandbox_server.book.all()) == 1


def test_an_accepted_status_doubt_survives_the_duplicate_question(client, sandbox_server):
    assert client.post("/", data=order(order_status="Paid", accept="paid-without-date")).status_code == 303
    again = client.post("/", data=order(order_status="Paid", accept="paid-without-date"))
    page = again.get_data(as_text=True)
    assert again.status_code == 409 and "This looks like an order you just created" in page
    # the accepted doubt is kept for the next press
    assert re.search(r'<input[^>]*name="accept"[^>]*value="paid-without-date"', page)
    earlier = re.search(r'name="confirm" value="([^"]+)"', page)[1]
    response = client.post("/", data=order(order_status="Paid", accept="paid-without-date", confirm=earlier))
    assert response.status_code == 303 and len(sandbox_server.book.all()) == 2


def test_a_year_before_2000_is_refused(client, sandbox_server):
    response = client.post("/", data=order(order_created_at="0999-01-01T00:00"))
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "Enter a year from 2000 to 2100." in response.get_data(as_text=True)


@pytest.mark.parametrize("stored", [
    {"sent": {"customer_email": "a@b.co", "order_created_at": "999-01-01 00:00:00",
              "order_paid_at": "yesterday"}, "lines": [{"good_name": "digital", "price": "abc"}]},
    {"sent": {"customer_email": "a@b.co", "order_created_at": 12}, "lines": ["digital", None, 5]},
    {"sent": {"customer_email": None, "note": {"x": 1}}, "lines": {"good_name": "digital"}},
    {"sent": "not a dict"},
    {},
])
def test_duplicate_into_form_survives_any_stored_attempt(client, stored):
    from webapp.attempts import history

    cookie = f"session={client.get_cookie('session').value}"
    with client.application.test_request_context(headers={"Cookie": cookie}):  # this client's history
        entry = history.new_entry(outcome="created", sent={}, reply={})
        entry.update(stored)
        history._store().append(history.history_id(), entry, 100)
    response = client.get("/", query_string={"from": entry["id"]})
    assert response.status_code == 200
    assert 'id="order-form"' in response.get_data(as_text=True)


@pytest.mark.parametrize("zone, words", [(None, "No account time zone is set"),
                                         ("Europe/Moscow", "Europe/Moscow")])
def test_the_time_help_says_which_zone_the_future_is_judged_in(desk_in, zone, words):
    page = desk_in(ACCOUNT_TIMEZONE=zone).get("/").get_data(as_text=True)
    help_text = re.search(r'id="order_created_at-help"[^>]*>([^<]*)<', page)[1]
    assert words in help_text


def test_the_same_product_twice_is_refused(client, sandbox_server):
    response = client.post("/", data=order(products__1__good_name=DIGITAL["good_name"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "is already on line 1" in page


def test_an_empty_partner_position_is_refused(client, sandbox_server):
    response = client.post("/", data=order(affiliates=", partner2"))
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "Position 1 is empty" in response.get_data(as_text=True)


def test_an_ascii_email_is_sent_as_typed(client, sandbox_server):
    assert client.post("/", data=order(customer_email="x@xn--e1afmkfd.xn--p1ai")).status_code == 303
    assert sandbox_server.book.all()[0]["params"]["customer_email"] == "x@xn--e1afmkfd.xn--p1ai"


def test_more_than_100_product_lines_are_refused_whole(client, sandbox_server):
    lines = {f"products-{i}-good_name": "digital" if i == 0 else f"item-{i}" for i in range(120)}
    response = client.post("/", data={"customer_email": "ivan@example.com", **lines})
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "At most 100 product lines" in response.get_data(as_text=True)


def test_adding_lines_stops_at_100_and_says_so(client):
    lines = {f"products-{i}-good_name": f"item-{i}" for i in range(100)}
    page = client.post("/", data={**lines, "action": "add"}).get_data(as_text=True)
    assert 'name="products-99-good_name"' in page and 'name="products-100-good_name"' not in page
    assert "Add product line" not in page and "at most 100 product lines" in page


def test_a_product_line_field_posted_twice_is_refused(client, sandbox_server):
    data = MultiDict(order(products__0__price="10"))
    data.add("products-0-price", "20")
    data["submission_token"] = services_of(client.application).tokens.new("alice")
    response = client.post("/", data=data)
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "sent twice" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["customer_first_name", "order_tag", "utm_campaign"])
def test_control_characters_never_reach_justclick(client, sandbox_server, field):
    response = client.post("/", data=order(**{field: "Ива\u202eн\x1b[31m"}))
    assert response.status_code == 422 and sandbox_server.book.all() == []
    assert "Remove the invisible character" in response.get_data(as_text=True)


# --- the common order first: folded sections ------------------------------------------------------


def _section(page: str, name: str) -> str:
    """The opening tag and summary of a folded section of the order form."""
    return re.search(rf'<details[^>]*id="section-{name}"[^>]*>\s*<summary[^>]*>.*?</summary>', page, re.S)[0]


def test_a_physical_product_without_address_and_city_is_refused_beside_them(client, sandbox_server):
    response = client.post("/", data=order(products__0__good_name=PHYSICAL["good_name"],
                                           customer_shipping_zip="125009"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert sandbox_server.book.all() == []  # JustClick's 605 is prevented, not met
    for name in ("customer_shipping", "customer_shipping_city"):
        title = re.escape(PHYSICAL["good_title"])
        assert re.search(rf'<small id="{name}-error" class="error-text">[^<]*{title}', page)
    assert " open" in _section(page, "shipping")  # the section holding the errors is open
    assert 'value="125009"' in page


def test_a_physical_product_with_address_and_city_is_sent(client, sandbox_server):
    response = client.post("/", data=order(products__0__good_name=PHYSICAL["good_name"],
                                           customer_shipping="ул. Тверская, д. 7",
                                           customer_shipping_city="Москва"))
    assert response.status_code == 303
    assert len(sandbox_server.book.all()) == 1


def test_a_digital_order_needs_no_address(client, sandbox_server):
    assert client.post("/", data=order()).status_code == 303


def test_the_page_marks_address_and_city_required_once_a_physical_product_is_chosen(client):
    page = client.post("/", data=order(products__0__good_name=PHYSICAL["good_name"], action="stay")
                       ).get_data(as_text=True)
    assert " open" in _section(page, "shipping")
    assert re.search(r'id="customer_shipping"[^>]*required', page)
    assert re.search(r'id="customer_shipping_city"[^>]*required', page)
    empty = client.get("/").get_data(as_text=True)
    assert not re.search(r'id="customer_shipping"[^>]*required', empty)


def test_closed_sections_say_what_they_hold(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("shipping", "billing", "details", "attribution"):
        assert " open" not in _section(page, name)
    assert "nothing set" in _section(page, "details")
    page = client.post("/", data=order(payment_method="Stripe", order_tag="vip", action="stay")
                       ).get_data(as_text=True)
    assert "2 set" in _section(page, "details")


def test_prefilled_and_duplicated_values_open_their_sections(client, sandbox_server):
    page = client.get("/?customer_email=a@example.com&utm_source=mail").get_data(as_text=True)
    assert " open" in _section(page, "attribution")
    assert " open" not in _section(page, "shipping")
    sent = client.post("/", data=order(customer_shipping="ул. Тверская, 1", customer_shipping_city="Москва",
                                       note="звонить"))
    entry_id = sent.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/?from={entry_id}").get_data(as_text=True)
    assert " open" in _section(page, "shipping") and " open" in _section(page, "details")
    assert " open" not in _section(page, "attribution")


def test_the_summary_speaks_the_operators_language_and_keeps_the_wire_in_a_closed_detail(client):
    coupon = SEED_COUPONS[1]
    page = client.post("/summary", data=order(products__0__good_name=RUSSIAN["good_name"],
                                              products__0__price="100",
                                              products__1__good_name=DIGITAL["good_name"],
                                              coupon=str(coupon["id"]))).get_data(as_text=True)
    rows = re.search(r"<tbody>(.*?)</tbody>", page, re.S)[1]
    assert RUSSIAN["good_title"] in rows and DIGITAL["good_title"] in rows
    assert "your price" in rows and "catalogue" in rows
    assert RUSSIAN["good_name"] not in rows  # the slugs are for JustClick, not the operator
    assert f"<code>{coupon['coupon']}</code>" in page
    wire = re.search(r'<details class="wire"[^>]*>\s*<summary>What is sent</summary>(.*?)</details>',
                     page, re.S)
    assert f"{RUSSIAN['good_name']},{DIGITAL['good_name']}" in wire[1] and ' open' not in wire[0][:30]


# --- safer choices ----------------------------------------------------------------------------------


def test_a_likely_duplicate_offers_leave_it_first_then_the_earlier_order_and_create_anyway_last(client,
                                                                                              sandbox_server):
    assert client.post("/", data=order()).status_code == 303
    response = client.post("/", data=order())
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    actions = re.search(r'<p class="result-actions">(.*?)</p>', page, re.S)[1]
    primary = re.search(r'<a [^>]*role="button"[^>]*>([^<]*)</a>', actions)
    assert primary and primary[1] == "Leave it" and 'href="/"' in primary[0]  # a new, empty order
    order_of = [actions.index(words) for words in ("Leave it", "Open the earlier order", "Create anyway")]
    assert order_of == sorted(order_of)
    assert re.search(r'<button [^>]*class="secondary outline"[^>]*>Create anyway</button>', actions)


def test_after_signing_in_again_the_duplicate_question_opens_the_earlier_order_and_its_invoice(
        client, sandbox_server):
    """The earlier attempt is in another session's history, but the team keeps it: its page opens, and
    its invoice's payment link is what the customer needs, rather than a second invoice."""
    location = client.post("/", data=order()).headers["Location"]
    client.get(f"{location}/invoice", headers=HX)  # its invoice found and kept for the team
    [made] = sandbox_server.book.all()
    client.post("/logout")
    sign_in(client)
    page = client.post("/", data=order()).get_data(as_text=True)
    banner = re.search(r'<div class="outcome outcome-unknown".*?</div>', page, re.S)[0]
    bill = made["bill_id"]
    link = re.search(rf'<a href="([^"]*/bill/{bill}/[^"]*)"[^>]*>invoice {bill}</a>', banner)
    assert link, banner
    assert re.search(r'<a [^>]*role="button"[^>]*>Leave it</a>', banner)
    opened = re.search(r'<a href="(/attempts/\w+)"[^>]*>Open the earlier order</a>', banner)
    assert opened and opened[1] == location, banner
    earlier = client.get(opened[1]).get_data(as_text=True)
    assert f"Invoice {bill}" in earlier or f"invoice {bill}" in earlier.lower()


def test_the_duplicate_question_stands_when_the_earlier_invoice_cannot_be_read(make_sandbox, tmp_path):
    """The payment link is read as the question is asked: JustClick refusing that read (code 8) costs
    the link only; the question, its number and its choices stay."""
    from tests.support.desk import answering

    refusing = {"now": False}

    def wrap(stand_in):
        limit = {"error_code": 8, "error_text": "Limit", "result": []}
        limited = answering(stand_in, "getOrderDetails", limit)
        return lambda environ, start: (limited if refusing["now"] else stand_in)(environ, start)

    shop = make_sandbox(wrap=wrap)
    client = sign_in(create_app(desk_config(shop.url, tmp_path)).test_client())
    location = client.post("/", data=order()).headers["Location"]
    client.get(f"{location}/invoice", headers=HX)
    [made] = shop.book.all()
    refusing["now"] = True
    response = client.post("/", data=order())
    page = response.get_data(as_text=True)
    banner = re.search(r'<div class="outcome outcome-unknown".*?</div>', page, re.S)[0]
    assert response.status_code == 409 and f"invoice {made['bill_id']}." in banner
    assert "/bill/" not in banner and re.search(r'role="button"[^>]*>Leave it</a>', banner)
    assert len(shop.book.all()) == 1


def _without_catalogue_prices(stand_in):
    """The stand-in, except that GetAllGoods (catalogue prices and good types) is unavailable."""
    def app(environ, start_response):
        if environ["PATH_INFO"].endswith("/GetAllGoods"):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        return stand_in(environ, start_response)
    return app


@pytest.mark.parametrize("email, fixable", [("error-4@sandbox.test", False), ("limit@sandbox.test", False),
                                            ("error-602@sandbox.test", True), ("unknown@sandbox.test", None)])
def test_a_refusal_asks_the_operator_to_correct_only_what_they_can(client, email, fixable):
    """The account's codes (a refused key, the request limit) are nothing the operator typed: the banner
    keeps their input and says so, instead of asking them to correct it."""
    page = client.post("/", data=order(customer_email=email)).get_data(as_text=True)
    banner = re.search(r'<div class="outcome outcome-rejected".*?</div>', page, re.S)[0]
    assert "No order was created." in banner and f'value="{email}"' in page
    assert ("correct it and send again" in banner) is bool(fixable)
    assert ("nothing in it needs changing" in banner) is (fixable is False)
    assert "JUSTCLICK_" not in page


def test_a_605_refusal_marks_and_links_the_shipping_fields_by_their_labels(make_sandbox, tmp_path):
    from tests.support.desk import serve

    sandbox = make_sandbox()
    with serve(_without_catalogue_prices(sandbox.app)) as root:
        client = sign_in(create_app(desk_config(root + "api/", tmp_path)).test_client())
        response = client.post("/", data=order(products__0__good_name=PHYSICAL["good_name"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Error 605" in page
    banner = re.search(r'<div class="outcome outcome-rejected".*?</div>', page, re.S)[0]
    assert '<a href="#customer_shipping">Shipping address</a>' in banner
    assert '<a href="#customer_shipping_city">Shipping city</a>' in banner
    for name in ("customer_shipping", "customer_shipping_city"):
        [tag] = re.findall(rf'<input[^>]*id="{name}"[^>]*>', page)
        assert 'aria-invalid="true"' in tag
    assert " open" in _section(page, "shipping")


def test_a_product_picked_by_its_text_is_the_pickers_first_match(client, sandbox_server):
    """Enter in the picker sends its text ("pick:<text>"): the server adds the first product the picker
    lists for it, so a pick never depends on whether the list had come back yet."""
    word = RUSSIAN["good_title"].split()[-1].strip("«»")[:5]
    region = lines_region(client.post("/", data=order(action=f"pick:{word}"), headers=HX))
    assert f'<option value="{RUSSIAN["good_name"]}" selected>' in region
    region = lines_region(client.post("/", data=order(action=f"pick:{RUSSIAN['id']}"), headers=HX))
    assert f'<option value="{RUSSIAN["good_name"]}" selected>' in region
    region = lines_region(client.post("/", data=order(action="pick:no such thing"), headers=HX))
    assert "No product matches “no such thing”." in html.unescape(region)
    assert 'name="products-1-good_name"' not in region and 'data-focus="product-search"' in region
    assert sandbox_server.book.all() == []
