"""The history store, files and Redis: record, list, cap, export, concurrent writers, restarts."""

import csv
import io
import os
import threading

import pytest
from flask import jsonify, request, session

from tests.support.desk import API_KEY, desk_config, sign_in
from webapp import create_app
from webapp.attempts import history
from webapp.orders.order import CREATEORDER_FIELDS
from webapp.web.services import services_of

NOWHERE = "http://127.0.0.1:9/api/"  # these tests never reach JustClick


@pytest.fixture(params=["files", "redis"])
def config(request, tmp_path):
    overrides = {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    return desk_config(NOWHERE, tmp_path, **overrides)


def desk(config):
    """A real app plus two tiny routes, so each test request runs the full session cycle."""
    app = create_app(config)

    @app.post("/_record")
    def record():
        return attempt(email=request.form["email"])["id"]

    @app.get("/_entries")
    def entries():
        return jsonify(ids=[e["id"] for e in history.entries()], dropped=history.dropped())

    return app


@pytest.fixture
def app(config):
    return desk(config)


def attempt(outcome="created", email="ivan@example.com", **sent):
    return history.record(outcome=outcome, sent={"customer_email": email, **sent},
                          reply={"error_code": 0}, code=0, text="OK", operator="alice",
                          extra={"lines": [{"good_name": "course", "price": None}]})


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def client_with(app, cookie):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def test_record_lists_newest_first_finds_and_clears(app):
    with app.test_request_context():
        assert history.entries() == [] and history.dropped() == 0 and history.find("abc") is None
        assert "history_id" not in session  # reading creates nothing
        first = attempt()
        second = attempt("rejected", email="olga@example.com")
        assert history.entries() == [second, first]
        assert history.entries("rejected") == [second]
        assert history.entries("not_sent") == []
        assert history.find(first["id"]) == first
        assert history.find("") is None and history.find("nope") is None
        history.clear()
        assert history.entries() == [] and history.dropped() == 0
        assert history.find(first["id"]) == first  # the team's record of it stays


def test_the_cap_drops_the_oldest_and_counts_them(app):
    app.config["HISTORY_LIMIT"] = 3
    with app.test_request_context():
        ids = [attempt(email=f"c{i}@example.com")["id"] for i in range(7)]
        assert [e["id"] for e in history.entries()] == ids[:-4:-1]
        assert history.dropped() == 4
        assert history.find(ids[0])["id"] == ids[0]  # gone from this history, kept in the team's
        history.clear()
        assert history.dropped() == 0


def test_the_rpskey_is_never_recorded_nor_exported(app):
    with app.test_request_context():
        with pytest.raises(AssertionError):
            attempt(rpsKey=API_KEY)
        attempt()
        exported = history.to_csv(history.entries())
    assert "rpsKey" not in exported and API_KEY not in exported


def test_csv_has_a_bom_one_column_per_api_field_and_round_trips(app):
    note = 'Позвонить, уточнить "адрес"; потом — счёт'
    with app.test_request_context():
        attempt("rejected", customer_first_name="Иван", customer_shipping="ул. Тверская, 1", note=note)
        exported = history.to_csv(history.entries())
    assert exported.encode("utf-8").startswith(b"\xef\xbb\xbf")
    header, row = csv.reader(io.StringIO(exported.removeprefix("\ufeff")))
    assert header == list(history.CSV_COLUMNS) and len(set(header)) == len(header)
    assert set(CREATEORDER_FIELDS) | {"time", "outcome", "code", "text"} <= set(header)
    assert "rpsKey" not in header
    values = dict(zip(header, row, strict=True))
    assert values["customer_first_name"] == "Иван"
    assert values["customer_shipping"] == "ул. Тверская, 1"
    assert values["note"] == note
    assert values["outcome"] == history.OUTCOMES["rejected"]


@pytest.mark.parametrize("limit", [500, 5])
def test_twenty_concurrent_requests_of_one_session_keep_every_entry(app, limit):
    # With the list inside the session blob, each request saved its own copy of the whole list and
    # the last save won: most of these entries were lost. Here the session exists but has no
    # history id yet, so the requests also race to create it.
    app.config["HISTORY_LIMIT"] = limit
    cookie = cookie_of(sign_in(app.test_client()))  # a session, but no history id in it yet
    start = threading.Barrier(20)
    recorded = []

    def submit(n):
        client = client_with(app, cookie)
        start.wait()
        recorded.append(client.post("/_record", data={"email": f"c{n}@example.com"}).get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = client_with(app, cookie).get("/_entries").get_json()
    assert len(recorded) == 20
    assert len(listed["ids"]) == min(limit, 20) and set(listed["ids"]) <= set(recorded)
    assert listed["dropped"] == 20 - min(limit, 20)


def test_the_history_survives_a_restart(config):
    before = sign_in(desk(config).test_client())
    ids = [before.post("/_record", data={"email": f"c{n}@example.com"}).get_data(as_text=True)
           for n in range(2)]
    after = client_with(desk(config), cookie_of(before))
    assert after.get("/_entries").get_json() == {"ids": ids[::-1], "dropped": 0}


def test_reading_the_history_does_not_write_the_session_back(app):
    client = sign_in(app.test_client())
    client.post("/_record", data={"email": "ivan@example.com"})
    response = client_with(app, cookie_of(client)).get("/_entries")
    assert len(response.get_json()["ids"]) == 1
    assert "Set-Cookie" not in response.headers


def test_file_histories_untouched_for_a_session_lifetime_are_swept(tmp_path):
    app = desk(desk_config(NOWHERE, tmp_path))
    store = services_of(app).history
    with app.test_request_context():
        attempt()
        stale = history.history_id()
    with app.test_request_context():
        attempt()
        fresh = history.history_id()
    folder = os.path.join(app.instance_path, "history", stale)
    past = os.stat(folder).st_mtime - app.permanent_session_lifetime.total_seconds() - 60
    os.utime(folder, (past, past))
    assert store.sweep() == 1
    assert sorted(os.listdir(os.path.join(app.instance_path, "history"))) == [fresh]


def test_redis_histories_expire_with_the_session(redis_url, tmp_path):
    import redis

    app = desk(desk_config(NOWHERE, tmp_path, REDIS_URL=redis_url, HISTORY_LIMIT=1))
    with app.test_request_context():
        attempt()
        attempt()  # drops one, so the counter exists too
        hid = history.history_id()
    client = redis.from_url(redis_url)
    lifetime = app.permanent_session_lifetime.total_seconds()
    for key in (f"orderdesk:history:{hid}", f"orderdesk:history:{hid}:dropped"):
        assert 0 < client.ttl(key) <= lifetime


def test_csv_cells_never_become_spreadsheet_formulas():
    entry = {"at": "2026-01-01T10:00:00+00:00", "operator": "alice", "outcome": "created", "code": 0,
             "text": "OK", "sent": {"customer_first_name": "=HYPERLINK(\"http://evil\",\"x\")",
                                    "note": "@SUM(A1)", "customer_phone": "+79123456789",
                                    "customer_last_name": "Иванов"}}
    rows = list(csv.DictReader(io.StringIO(history.to_csv([entry]).lstrip("\ufeff"))))
    assert rows[0]["customer_first_name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert rows[0]["note"] == "'@SUM(A1)"
    assert rows[0]["customer_phone"] == "'+79123456789"
    assert rows[0]["customer_last_name"] == "Иванов"
