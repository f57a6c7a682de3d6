"""The desk end to end over real HTTP to a JustClick stand-in: page, submit, errors, live regions."""

import csv
import io
import re

import pytest

from tests.conftest import OPERATOR, desk_config, sign_in
from webapp import create_app
from webapp.sandbox import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS

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
    for manager in SEED_MANAGERS:
        selected = " selected" if manager["id"] == OPERATOR["manager_id"] else ""
        assert f'<option value="{manager["id"]}"{selected}>{manager["manager_name"]}</option>' in page
    assert 'name="customer_shipping_country_code"' in page and '<option value="RU">Russian Federation' in page


def test_a_full_order_reaches_justclick_exactly_as_typed(client, sandbox_server):
    response = client.post("/", data=order(
        customer_first_name="Иван", customer_last_name="Петров", customer_phone="8 912 345 67 89",
        customer_shipping="ул. Тверская, 1", customer_shipping_city="Москва",
        customer_shipping_country_code="RU", billing_same_as_shipping="y",
        products__0__good_name=PHYSICAL["good_name"], products__0__price="1 200,50",
        products__1__good_name=DIGITAL["good_name"], products__1__price="",
        order_status="Paid", order_confirmed="Yes", order_created_at="2026-01-05T10:30",
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
    ("limit@sandbox.test", 422, ["Error 8", "ask JustClick support to enable API 2.0"]),
    ("unknown@sandbox.test", 422, ["Error 777", "Sandbox: an error code the documentation lacks"]),
    ("slow@sandbox.test", 502, ["may or may not exist", "Check in JustClick before sending again"]),
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


def products_region_and_summary(response) -> tuple[str, str]:
    """An htmx line action's answer: the products fieldset (swapped for the old one) and the summary
    (swapped out of band); nothing else of the form."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#products" and response.headers["HX-Reswap"] == "outerHTML"
    assert "HX-Request" in response.headers["Vary"]
    region, oob, rest = re.fullmatch(
        r'\s*(<fieldset id="products".*?</fieldset>)\s*'
        r'(<div hx-swap-oob="innerHTML:#summary">.*</div>)(.*)',
        page, re.S).groups()
    assert rest.strip() == ""
    assert "customer_email" not in page and 'id="order-form"' not in page and "<html" not in page
    return region, oob


def test_a_product_picked_with_htmx_swaps_only_the_products_and_the_summary(client, sandbox_server):
    data = order(customer_first_name="Анна", products__0__price="99", action=f"add:{RUSSIAN['good_name']}")
    response = client.post("/", data=data, headers=HX)
    region, summary = products_region_and_summary(response)
    assert f'<option value="{RUSSIAN["good_name"]}" selected>' in region and 'value="99"' in region
    assert 'data-focus="product-search"' in region  # ready for the next product
    assert RUSSIAN["good_title"] in summary and f"{DIGITAL['good_name']},{RUSSIAN['good_name']}" in summary
    full = client.post("/", data=data)  # the same button without JavaScript: the whole page
    page = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in page and 'id="order-form"' in page
    assert 'value="Анна"' in page
    assert len(response.get_data()) < len(full.get_data()) / 3
    assert sandbox_server.book.all() == []


def test_removing_or_adding_a_line_with_htmx_swaps_only_the_products_and_the_summary(client):
    data = order(products__1__good_name=PHYSICAL["good_name"], products__1__price="5,5")
    region, summary = products_region_and_summary(client.post("/", data={**data, "action": "remove:0"},
                                                              headers=HX))
    assert 'name="products-1-good_name"' not in region and 'value="5,5"' in region
    assert DIGITAL["good_title"] not in summary and PHYSICAL["good_title"] in summary
    region, _ = products_region_and_summary(client.post("/", data={**data, "action": "add"}, headers=HX))
    assert 'name="products-2-good_name"' in region
    assert 'data-focus="products-2-good_name"' in region


def test_refreshing_the_lists_with_htmx_renders_the_whole_form(client):
    response = client.post("/", data=order(action="refresh"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Retarget" not in response.headers
    assert 'id="order-form"' in page and "<html" not in page


def test_product_search_matches_russian_titles_case_insensitively(client):
    word = RUSSIAN["good_title"].split()[-1].strip("«»").lower()[:4]
    page = client.get("/products/search", query_string={"q": word}, headers=HX).get_data(as_text=True)
    assert f'value="add:{RUSSIAN["good_name"]}"' in page
    assert DIGITAL["good_name"] not in page or word in DIGITAL["good_title"].lower()


def test_summary_shows_the_exact_product_fields(client):
    data = order(products__0__good_name=DIGITAL["good_name"],
                 products__1__good_name=PHYSICAL["good_name"], products__1__price="10")
    page = client.post("/summary", data=data, headers=HX).get_data(as_text=True)
    names = re.search(r'id="wire-names">([^<]*)<', page)[1]
    prices = re.search(r'id="wire-prices">([^<]*)<', page)[1]
    # GetAllGoods knows the digital product's price, so it is filled in to keep positions
    assert names == f"{DIGITAL['good_name']},{PHYSICAL['good_name']}"
    assert prices == f"{DIGITAL['good_sum']},10"


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
    for value in ("Иван", "Баумана, 5", "Казань", "+79123456789", "10", "2026-01-05T10:30", "banner"):
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
    if price == "1e3":  # a valid price: shown and sent as the plain number JustClick reads
        assert re.search(r'id="wire-prices">1000[<,]', page)
    else:
        assert "invalid price" in page and "(not sent)" in page
    added = client.post("/", data={**data, "action": "add"})
    assert added.status_code == 200 and f'value="{price}"' in added.get_data(as_text=True)


def test_htmx_errors_go_to_the_alert_region_and_leave_the_panel_alone(client):
    response = client.get("/attempts/nope", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alerts" and response.headers["HX-Reswap"] == "innerHTML"
    page = response.get_data(as_text=True)
    assert "<html" not in page and "There is nothing at this address." in page
