"""Sign-in, the gate on every route, throttling, CSRF, headers and the health check."""

import html
import re
import time

import pytest
import werkzeug.security
from werkzeug.security import generate_password_hash

import webapp
from tests.support.desk import API_KEY, OPERATOR, TEAM_USERS, desk_config, read_only, sign_in
from webapp import create_app
from webapp.auth import signin as auth
from webapp.auth.signin import PUBLIC_ENDPOINTS

HX = {"HX-Request": "true"}


def concrete_url(rule):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)


def test_every_route_refuses_an_anonymous_request(app, anonymous):
    """Enumerated from the URL map, so a new route cannot slip by."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = anonymous.open(concrete_url(rule), method=method)
            assert response.status_code == 303, (rule, method)
            assert response.headers["Location"].startswith("/login"), (rule, method)
            htmx_response = anonymous.open(concrete_url(rule), method=method, headers=HX)
            assert htmx_response.headers["HX-Redirect"].startswith("/login"), (rule, method)
            checked += 1
    assert checked >= 10


def test_public_endpoints_are_few_and_known():
    assert PUBLIC_ENDPOINTS == {"auth.login", "auth.logout", "health", "static", "team.paid_notification"}


def test_sign_in_with_a_hash_from_the_cli(sandbox_server, tmp_path):
    runner = create_app(desk_config(sandbox_server.url, tmp_path)).test_cli_runner()
    result = runner.invoke(args=["hash-password"], input="s3cret pass\ns3cret pass\n")
    assert result.exit_code == 0
    password_hash = result.output.strip().splitlines()[-1]
    assert password_hash.startswith(("scrypt:", "pbkdf2:")) and "s3cret" not in password_hash
    team = {"bob": {"password_hash": password_hash}}
    app = create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=team))
    client = app.test_client()
    assert client.post("/login", data={"username": "bob", "password": "wrong"}).status_code == 401
    sign_in(client, "bob", "s3cret pass")
    assert client.get("/").status_code == 200


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(anonymous):
    response = anonymous.get("/history?outcome=created")
    assert response.headers["Location"] == "/login?next=/history?outcome%3Dcreated"
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"]}
    response = anonymous.post("/login?next=/history", data={**form, "next": "/history"})
    assert response.headers["Location"] == "/history"
    anonymous.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert anonymous.post("/login", data={**form, "next": evil}).headers["Location"] == "/"
        anonymous.post("/logout")


def test_wrong_password_is_refused_with_a_message(anonymous):
    response = anonymous.post("/login", data={"username": OPERATOR["username"], "password": "nope"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "Wrong username or password." in page
    assert f'value="{OPERATOR["username"]}"' in page  # the username is kept


def wrong_password(client, username, address):
    return client.post("/login", data={"username": username, "password": "x"},
                       environ_base={"REMOTE_ADDR": address})


def right_password(client, address, username=OPERATOR["username"]):
    return client.post("/login", data={"username": username, "password": OPERATOR["password"]},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def throttled(sandbox_server, tmp_path):
    return create_app(desk_config(sandbox_server.url, tmp_path, SIGN_IN_DELAY=0.01)).test_client()


def test_no_one_can_lock_an_operator_out_from_other_addresses(throttled, caplog):
    for attempt, spelling in enumerate(["alice", "ALICE", "Alice", " alice", "aLiCe", "alice"]):
        assert wrong_password(throttled, spelling, f"10.0.0.{attempt + 1}").status_code == 401
    # her own address has not been failing: the right password gets in (after a short wait)
    assert right_password(throttled, "10.0.9.9").status_code == 303
    assert "sign-in slowed user='alice'" in caplog.text


def test_failed_sign_ins_for_one_username_from_one_address_are_refused(throttled):
    for spelling in ["alice", "ALICE", "Alice", "alice ", "alice"]:
        assert wrong_password(throttled, spelling, "10.0.0.1").status_code == 401
    response = right_password(throttled, "10.0.0.1")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert right_password(throttled, "10.0.0.2").status_code == 303  # another address is not refused


def test_failed_sign_ins_from_one_address_are_refused_past_a_looser_limit(throttled):
    for attempt in range(20):
        assert wrong_password(throttled, f"user{attempt}", "10.0.0.1").status_code == 401
    assert right_password(throttled, "10.0.0.1").status_code == 429
    assert right_password(throttled, "10.0.0.2").status_code == 303


def test_successful_sign_ins_do_not_count(anonymous):
    for _ in range(7):
        sign_in(anonymous)
        anonymous.post("/logout")


def test_sign_out(client):
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 303


@pytest.fixture
def csrf_app(sandbox_server, tmp_path):
    return create_app(desk_config(sandbox_server.url, tmp_path, WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=1))


def csrf_token(page):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


def signed_in_with_csrf(app):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": OPERATOR["username"], "password": OPERATOR["password"],
                                "csrf_token": token})
    return client


def test_a_post_without_csrf_token_is_refused(csrf_app, sandbox_server):
    client = signed_in_with_csrf(csrf_app)
    response = client.post("/history/clear")
    assert response.status_code == 400
    assert "This form has expired or did not come from the desk" in response.get_data(as_text=True)
    response = client.post("/", data={"customer_email": "a@example.com", "products-0-good_name": "digital"})
    assert response.status_code == 400
    assert sandbox_server.book.all() == []


def test_an_expired_form_keeps_the_input(csrf_app, sandbox_server):
    client = signed_in_with_csrf(csrf_app)
    token = csrf_token(client.get("/").get_data(as_text=True))
    time.sleep(2.1)  # the app's token lifetime is one second (counted in whole seconds)
    response = client.post("/", data={"csrf_token": token, "customer_email": "a@example.com",
                                      "customer_first_name": "Мария", "products-0-good_name": "digital"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired, so nothing was sent" in page
    assert 'value="Мария"' in page and 'value="a@example.com"' in page
    assert csrf_token(page) != token
    assert sandbox_server.book.all() == []


def end_the_sign_in(client):
    """As if SESSION_LIFETIME_HOURS had passed since signing in: the session is still kept."""
    with client.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1


def test_an_order_typed_as_the_sign_in_ended_survives_signing_in_again(client, sandbox_server):
    end_the_sign_in(client)
    response = client.post("/", data={"customer_email": "late@example.com", "customer_first_name": "Пётр",
                                      "products-0-good_name": "digital"},
                           headers={"Origin": "http://localhost"})
    assert response.headers["Location"].startswith("/login")
    sign_in(client)
    page = client.get("/").get_data(as_text=True)
    assert 'value="late@example.com"' in page and 'value="Пётр"' in page
    assert "Your session had ended" in page
    assert sandbox_server.book.all() == []


def test_a_kept_order_holds_only_the_order_forms_fields_each_within_its_limit(client):
    end_the_sign_in(client)
    client.post("/", headers={"Origin": "http://localhost"}, data={
        "customer_email": "late@example.com", "note": "n" * 60_000, "customer_first_name": "П" * 500,
        "products-0-good_name": "digital", "products-0-price": "9" * 1000, "products-150-good_name": "x",
        "anything": "else", "csrf_token": "t", "submission_token": "s", "action": "add"})
    with client.session_transaction() as session:
        kept = session["pending_order"]
    assert kept == {"customer_email": "late@example.com", "note": "n" * 2000,
                    "customer_first_name": "П" * 100, "products-0-good_name": "digital",
                    "products-0-price": "9" * 100}


def test_another_site_cannot_plant_an_order_in_the_next_form(client):
    end_the_sign_in(client)
    planted = {"customer_email": "planted@evil.example", "products-0-good_name": "digital"}
    response = client.post("/", data=planted, headers={"Origin": "https://evil.example"})
    assert response.headers["Location"].startswith("/login")
    sign_in(client)
    assert "planted@evil.example" not in client.get("/").get_data(as_text=True)


def stored_sessions(app) -> int:
    if app.config["SESSION_TYPE"] == "redis":
        return len(app.config["SESSION_REDIS"].keys("orderdesk:session:*"))
    return len(list(app.config["SESSION_CACHELIB"]._list_dir()))  # the session files, not its count


@pytest.fixture(params=["files", "redis"])
def any_store(request, sandbox_server, tmp_path):
    redis = {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    return create_app(desk_config(sandbox_server.url, tmp_path, WTF_CSRF_ENABLED=True, **redis))


def test_a_visitor_who_is_not_signed_in_is_given_no_session(any_store):
    visitor = any_store.test_client()
    order = {"customer_email": "a@example.com", "products-0-good_name": "digital", "note": "n" * 400_000}
    assert visitor.get("/").status_code == 303
    assert visitor.get("/history?outcome=created").status_code == 303
    page = visitor.get("/login").get_data(as_text=True)
    form = {"username": OPERATOR["username"], "password": "wrong", "csrf_token": csrf_token(page)}
    assert visitor.post("/login", data=form).status_code == 401
    assert visitor.post("/", data=order, headers={"Origin": "http://localhost"}).status_code == 303
    assert visitor.post("/logout").status_code == 400
    assert stored_sessions(any_store) == 0
    signed_in_with_csrf(any_store)  # the count does count
    assert stored_sessions(any_store) == 1


def test_a_sign_in_form_must_come_from_the_desk(csrf_app):
    visitor = csrf_app.test_client()
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"]}
    forged = csrf_app.test_client()
    token = csrf_token(forged.get("/login").get_data(as_text=True))  # another browser's page
    for token_sent in (None, "made-up", token):
        response = visitor.post("/login", data={**form, "csrf_token": token_sent} if token_sent else form)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "did not come from the desk" in page
        assert f'value="{OPERATOR["username"]}"' in page
    assert forged.post("/login", data={**form, "csrf_token": token}).status_code == 303


def test_anonymous_posts_without_a_form_token_see_no_form(csrf_app, sandbox_server):
    """With CSRF on, as deployed: the sign-in gate answers before the token is judged."""
    client = csrf_app.test_client()
    response = client.post("/", data={"customer_email": "a@example.com", "products-0-good_name": "digital"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    for rule in csrf_app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC_ENDPOINTS and "POST" in rule.methods:
            response = client.post(concrete_url(rule))
            assert response.status_code == 303, rule
            assert "coupon" not in response.get_data(as_text=True)


def test_order_submissions_are_capped_per_operator(sandbox_server, tmp_path):
    app = create_app(desk_config(sandbox_server.url, tmp_path, ORDER_RATE_LIMIT="2 per minute"))
    client = sign_in(app.test_client())
    data = {"products-0-good_name": "digital", "customer_last_name": "Ли"}
    sent = [client.post("/", data={**data, "customer_email": f"a{i}@example.com"}) for i in range(2)]
    assert [response.status_code for response in sent] == [303, 303]
    response = client.post("/", data={**data, "customer_email": "a2@example.com"})
    assert response.status_code == 429
    assert 'value="Ли"' in response.get_data(as_text=True)
    assert len(sandbox_server.book.all()) == 2
    assert client.post("/", data={**data, "action": "add"}).status_code == 200  # editing is not sending


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def test_security_headers_on_every_page(app, client, anonymous):
    pages = [concrete_url(r) for r in app.url_map.iter_rules()
             if "GET" in r.methods and "<" not in r.rule and r.endpoint != "static"]
    for url in pages + ["/login", "/healthz", "/static/css/app.css", "/nowhere"]:
        for who in (client, anonymous):
            response = who.get(url)
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (url, name)
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert "Strict-Transport-Security" not in response.headers


def test_pages_are_never_kept_by_a_shared_browser_or_proxy(app, client):
    """Every page the desk renders (the order page, history, an attempt, the exports, htmx regions)
    says no-store; static files keep their year-long caching (tests/test_assets.py)."""
    order = {"customer_email": "cache@example.com", "products-0-good_name": "digital"}
    entry_id = client.post("/", data=order).headers["Location"].rsplit("/", 1)[1]
    pages = [concrete_url(r) for r in app.url_map.iter_rules()
             if "GET" in r.methods and "<" not in r.rule and r.endpoint != "static"]
    for url in [*pages, f"/attempts/{entry_id}", "/history.xlsx", "/login"]:
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            assert response.headers.get("Cache-Control") == "no-store", (url, headers, response.status_code)


def test_https_behind_the_router_gets_hsts_and_secure_cookies(anonymous):
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"]}
    response = anonymous.post("/login", data=form, headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_cookies_are_httponly_and_lax(anonymous):
    cookie = anonymous.post("/login", data={"username": OPERATOR["username"],
                                            "password": OPERATOR["password"]}).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_healthz_needs_no_sign_in_and_no_upstream_call(httpserver, tmp_path):
    app = create_app(desk_config(httpserver.url_for("/api/"), tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": webapp.__version__, "mode": "live"}
    assert httpserver.log == []


def test_history_records_the_operator(client):
    client.post("/", data={"customer_email": "a@example.com", "products-0-good_name": "digital"})
    page = client.get("/history").get_data(as_text=True)
    assert f'<td data-label="Operator">{OPERATOR["username"]}</td>' in page


def test_the_key_and_hashes_never_reach_a_page(client):
    client.post("/", data={"customer_email": "down@sandbox.test", "products-0-good_name": "digital"})
    client.post("/", data={"customer_email": "a@example.com", "products-0-good_name": "digital"})
    hashes = [user["password_hash"] for user in TEAM_USERS.values()]
    for url in ("/", "/history", "/history.csv", "/history/panel", "/healthz"):
        body = client.get(url).get_data(as_text=True)
        assert API_KEY not in body and not any(h in body for h in hashes), url


@pytest.mark.parametrize("evil", ["/foo\r\nSet-Cookie: x=1", "/foo\nx", "/tab\there", "/заказ"])
def test_a_next_that_cannot_be_a_location_header_signs_in_to_the_order_page(anonymous, evil):
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"], "next": evil}
    response = anonymous.post("/login", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert anonymous.get("/").status_code == 200


def test_a_next_with_an_encoded_line_break_in_the_query_is_not_followed(anonymous):
    # as a browser sends it: the page asked for carries %0d%0a, the sign-in form hands it back
    page = anonymous.get("/login?next=/foo%0d%0aSet-Cookie:%20x=1").get_data(as_text=True)
    kept = re.search(r'name="next" type="hidden" value="([^"]*)"', page)[1]
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"], "next": html.unescape(kept)}
    response = anonymous.post("/login?next=/foo%0d%0aSet-Cookie:%20x=1", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_username_costs_the_same_hash_as_a_team_member(sandbox_server, tmp_path, monkeypatch):
    team = {"olga": {"password_hash": generate_password_hash("olga's password", method="pbkdf2:sha256:1000")}}
    app = create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=team))
    methods = []
    real = werkzeug.security._hash_internal
    monkeypatch.setattr(werkzeug.security, "_hash_internal",
                        lambda method, salt, password: methods.append(method) or real(method, salt, password))
    client = app.test_client()
    for username in ("olga", "nobody-here"):
        assert client.post("/login", data={"username": username, "password": "wrong"}).status_code == 401
    assert set(methods) == {"pbkdf2:sha256:1000"}  # the known user's check, the dummy's making and check


def test_sandbox_mode_hashes_the_demo_password_once(tmp_path, monkeypatch):
    hashed = []
    real = auth.generate_password_hash
    monkeypatch.setattr(auth, "generate_password_hash",
                        lambda password, **kw: hashed.append(password) or real(password, **kw))
    app = create_app({"INSTANCE_PATH": str(tmp_path), "WTF_CSRF_ENABLED": False})
    client = sign_in(app.test_client(), "demo", "demo")
    for url in ("/", "/history", "/static/css/app.css", "/history/panel", "/sandbox"):
        assert client.get(url).status_code == 200, url
    assert hashed.count("demo") == 1


def test_a_sign_in_the_store_cannot_keep_is_a_clear_503(sandbox_server, tmp_path):
    app = create_app(desk_config(sandbox_server.url, tmp_path, WTF_CSRF_ENABLED=True,
                                 PROPAGATE_EXCEPTIONS=False))  # as deployed: failures get error pages
    visitor = app.test_client()
    with read_only(tmp_path / "instance" / "sessions"):  # the disk turned read-only after the start
        token = csrf_token(visitor.get("/login").get_data(as_text=True))
        response = visitor.post("/login", data={"username": OPERATOR["username"],
                                                "password": OPERATOR["password"], "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "You are not signed in" in page and "expired" not in page
