"""CatalogService and Catalog: the four lists over real HTTP on 127.0.0.1, cached with cachelib."""

import threading
import time
from decimal import Decimal

import pytest
from cachelib import FileSystemCache, SimpleCache

from tests.support.desk import API_KEY, LOGIN, reply_hash, serve
from webapp.justclick.catalog import Catalog, CatalogService
from webapp.justclick.client import JustClickClient
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS, OrderBook, create_sandbox_app

TIMEOUT = 10.0  # a busy machine is not a slow JustClick: no test here is about a timeout
# Where each list comes from: catalog attribute -> API method (path under /api/).
METHODS = {
    "goods": "getgoods",
    "coupons": "getcoupons",
    "managers": "getpersonalmanagers",
    "priced_goods": "GetAllGoods",
}
# A word the operator's note about a missing list must contain.
NOTE_WORD = {"goods": "product", "coupons": "coupon", "managers": "manager"}

GOODS = [{"id": g["id"], "good_name": g["good_name"], "good_title": g["good_title"]} for g in SEED_GOODS]
ALL_GOODS = [{"good_id": g["id"], **{k: g[k] for k in ("good_name", "good_title", "good_sum", "good_type")}}
             for g in SEED_GOODS]
RESULTS = {"goods": GOODS, "coupons": SEED_COUPONS, "managers": SEED_MANAGERS, "priced_goods": ALL_GOODS}
SEED_PRICES = {g["good_name"]: Decimal(g["good_sum"]) for g in SEED_GOODS}


def make_client(url):
    return JustClickClient(url, API_KEY, login=LOGIN, timeout=TIMEOUT, connect_timeout=TIMEOUT)


def ok(result):
    return {"error_code": 0, "error_text": "OK", "result": result, "hash": reply_hash(0, "OK")}


def serve_lists(httpserver, failing=(), failure=None):
    """pytest-httpserver answering each list method with the seed data, or `failure` for `failing`."""
    for name, method in METHODS.items():
        handler = httpserver.expect_request(f"/api/{method}", method="POST")
        if name in failing:
            failure(handler)
        else:
            handler.respond_with_json(ok(RESULTS[name]))


def html_502(handler):
    handler.respond_with_data("<html><body><h1>502 Bad Gateway</h1></body></html>", status=502,
                              content_type="text/html")


def code_2(handler):
    handler.respond_with_json({"error_code": 2, "error_text": "Method disabled", "result": []})


def paths(httpserver):
    return sorted(request.path for request, _ in httpserver.log)


ALL_PATHS = sorted(f"/api/{method}" for method in METHODS.values())


class Recorder:
    """WSGI middleware recording (path, start, end) of every request, as the server saw it."""

    def __init__(self, app):
        self.app = app
        self.calls = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        start = time.monotonic()
        try:
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.calls.append((environ["PATH_INFO"], start, time.monotonic()))


@pytest.fixture
def recorded(tmp_path):
    """Start a recorded stand-in with the given settings; yields a factory returning (url, recorder)."""
    with_servers = []

    def start(**settings):
        book = OrderBook(str(tmp_path / f"orders-{len(with_servers)}.sqlite3"))
        recorder = Recorder(create_sandbox_app(API_KEY, login=LOGIN, book=book, **settings))
        context = serve(recorder)
        with_servers.append(context)
        return context.__enter__() + "api/", recorder

    yield start
    for context in reversed(with_servers):
        context.__exit__(None, None, None)


@pytest.fixture
def cache(tmp_path):
    return FileSystemCache(str(tmp_path / "cache"))


# --- fetching and caching ------------------------------------------------------------------------

def test_cold_get_fetches_each_list_once_then_serves_from_cache(recorded, cache):
    url, recorder = recorded()
    service = CatalogService(make_client(url), cache, ttl=60)

    catalog = service.get()
    assert sorted(path for path, _, _ in recorder.calls) == ALL_PATHS
    assert catalog.goods == GOODS
    assert catalog.coupons == SEED_COUPONS
    assert catalog.managers == SEED_MANAGERS
    assert catalog.prices == SEED_PRICES
    assert catalog.notes == []
    assert catalog.fetched_at is not None

    for _ in range(20):
        again = service.get()
    assert len(recorder.calls) == 4
    assert (again.goods, again.coupons, again.managers) == (GOODS, SEED_COUPONS, SEED_MANAGERS)
    # Another worker sharing the cache makes no call either.
    assert CatalogService(make_client(url), cache, ttl=60).get().goods == GOODS
    assert len(recorder.calls) == 4


class AllAtOnce:
    """WSGI middleware that answers no request until `count` of them are in progress together; one
    that waits in vain for `wait` seconds (its client sends them one after another) is answered 503."""

    def __init__(self, app, count: int, wait: float = 5.0):
        self.app, self.barrier = app, threading.Barrier(count, timeout=wait)

    def __call__(self, environ, start_response):
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"asked alone"]
        return self.app(environ, start_response)


def test_cold_get_fetches_the_lists_concurrently(tmp_path):
    """The four lists are asked for at once: the stand-in answers none until all four are asked (on a
    busy machine too: no clock is compared; a client asking one by one gets 503s and notes)."""
    stand_in = create_sandbox_app(API_KEY, login=LOGIN, book=OrderBook(str(tmp_path / "orders.sqlite3")))
    recorder = Recorder(AllAtOnce(stand_in, count=len(ALL_PATHS)))
    with serve(recorder) as root:
        catalog = CatalogService(make_client(root + "api/"), SimpleCache(), ttl=60).get()
    assert sorted(path for path, _, _ in recorder.calls) == ALL_PATHS
    assert catalog.notes == [] and catalog.goods == GOODS and catalog.coupons == SEED_COUPONS


def test_refresh_refetches_within_the_ttl(httpserver, cache):
    serve_lists(httpserver)
    service = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60)
    service.get()
    service.get()
    assert paths(httpserver) == ALL_PATHS
    catalog = service.get(refresh=True)
    assert paths(httpserver) == sorted(ALL_PATHS * 2)
    assert catalog.goods == GOODS and catalog.notes == []


def test_refresh_presses_are_coalesced_per_window(recorded, cache):
    url, recorder = recorded()
    service = CatalogService(make_client(url), cache, ttl=60)
    for _ in range(5):  # five presses of "Refresh lists" in a row
        catalog = service.get(refresh=True)
    assert sorted(path for path, _, _ in recorder.calls) == ALL_PATHS  # one refresh, not five
    assert catalog.goods == GOODS and catalog.notes == []
    # Another worker of the instance (same cache) inside the window serves the lists just fetched.
    assert CatalogService(make_client(url), cache, ttl=60).get(refresh=True).goods == GOODS
    assert len(recorder.calls) == 4


def test_a_refresh_after_the_window_fetches_again(recorded, cache):
    url, recorder = recorded()
    service = CatalogService(make_client(url), cache, ttl=60)
    service.REFRESH_WINDOW = 0.05
    service.get(refresh=True)
    time.sleep(0.1)
    service.get(refresh=True)
    assert sorted(path for path, _, _ in recorder.calls) == sorted(ALL_PATHS * 2)


def test_concurrent_refresh_presses_make_one_refresh(recorded, cache):
    url, recorder = recorded(latency=0.2)
    service = CatalogService(make_client(url), cache, ttl=60)
    results = []
    threads = [threading.Thread(target=lambda: results.append(service.get(refresh=True))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.calls) == 4
    assert all(catalog.goods == GOODS for catalog in results)  # each press shows the fresh lists


def test_lists_past_their_ttl_are_fetched_again(httpserver, cache):
    serve_lists(httpserver)
    service = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=0.05)
    service.get()
    time.sleep(0.1)
    assert service.get().notes == []
    assert paths(httpserver) == sorted(ALL_PATHS * 2)


# --- one list failing ----------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [html_502, code_2])
@pytest.mark.parametrize("name", ["goods", "coupons", "managers"])
def test_one_list_failing_alone_leaves_the_others(httpserver, cache, name, failure):
    serve_lists(httpserver, failing={name}, failure=failure)
    catalog = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60).get()

    assert getattr(catalog, name) is None
    for other in ("goods", "coupons", "managers", "priced_goods"):
        if other != name:
            assert getattr(catalog, other) == RESULTS[other]
    assert catalog.prices == SEED_PRICES
    assert len(catalog.notes) == 1
    assert NOTE_WORD[name] in catalog.notes[0].lower()
    assert not any(NOTE_WORD[other] in catalog.notes[0].lower() for other in NOTE_WORD if other != name)


@pytest.mark.parametrize("failure", [html_502, code_2])
def test_priced_goods_failing_gives_no_note_and_no_prices(httpserver, cache, failure):
    serve_lists(httpserver, failing={"priced_goods"}, failure=failure)
    catalog = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60).get()
    assert catalog.priced_goods is None
    assert catalog.prices == {}
    assert catalog.notes == []
    assert (catalog.goods, catalog.coupons, catalog.managers) == (GOODS, SEED_COUPONS, SEED_MANAGERS)


def test_an_empty_shop_is_not_a_failure(httpserver, cache):
    for method in ("getgoods", "getcoupons", "getpersonalmanagers"):
        httpserver.expect_request(f"/api/{method}").respond_with_json(ok([]))
    httpserver.expect_request("/api/GetAllGoods").respond_with_json(
        {"error_code": 700, "error_text": "No products", "result": []})
    catalog = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60).get()
    assert (catalog.goods, catalog.coupons, catalog.managers, catalog.priced_goods) == ([], [], [], [])
    assert catalog.notes == []


# --- upstream down -------------------------------------------------------------------------------

def test_stale_lists_are_served_while_upstream_is_down(recorded, httpserver, cache):
    url, _ = recorded()
    CatalogService(make_client(url), cache, ttl=0.05).get()
    time.sleep(0.1)  # every entry is now due

    serve_lists(httpserver, failing=set(METHODS), failure=html_502)
    down = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=0.05)
    catalog = down.get()

    assert paths(httpserver) == ALL_PATHS
    assert (catalog.goods, catalog.coupons, catalog.managers) == (GOODS, SEED_COUPONS, SEED_MANAGERS)
    assert catalog.prices == {}  # an old price is never sent as if typed: no prices while down
    assert len(catalog.notes) == 3
    for name in ("goods", "coupons", "managers"):
        note = next(n for n in catalog.notes if name in n)
        assert "not answering" in note

    # Within RETRY_AFTER the next pages are served from what there is, without calling upstream.
    for _ in range(5):
        again = down.get()
    assert paths(httpserver) == ALL_PATHS
    assert again.goods == GOODS and len(again.notes) == 3


def test_a_cold_failure_is_not_retried_within_retry_after(httpserver, cache):
    serve_lists(httpserver, failing=set(METHODS), failure=html_502)
    service = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60)
    catalog = service.get()
    assert (catalog.goods, catalog.coupons, catalog.managers, catalog.priced_goods) == (None,) * 4
    assert len(catalog.notes) == 3
    assert catalog.fetched_at is None
    service.get()
    service.get()
    assert paths(httpserver) == ALL_PATHS


def test_after_retry_after_a_recovered_upstream_clears_the_notes(recorded, httpserver, cache):
    serve_lists(httpserver, failing={"coupons"}, failure=html_502)
    failing = CatalogService(make_client(httpserver.url_for("/api/")), cache, ttl=60)
    failing.RETRY_AFTER = 0.05
    assert failing.get().coupons is None
    time.sleep(0.1)

    url, recorder = recorded()
    catalog = CatalogService(make_client(url), cache, ttl=60).get()
    assert [path for path, _, _ in recorder.calls] == ["/api/getcoupons"]  # only the due list
    assert catalog.coupons == SEED_COUPONS
    assert catalog.notes == []


# --- Catalog helpers -----------------------------------------------------------------------------

@pytest.fixture
def seeded():
    return Catalog(goods=GOODS, coupons=SEED_COUPONS, managers=SEED_MANAGERS, priced_goods=ALL_GOODS)


def slugs(goods):
    return [g["good_name"] for g in goods]


def test_search_goods_matches_title_and_slug_case_insensitively(seeded):
    russian = next(g for g in SEED_GOODS if g["good_name"] == "sales-in-messengers")["good_title"]
    assert "продажи" in russian.lower()
    assert slugs(seeded.search_goods("продажи")) == ["sales-in-messengers"]
    assert slugs(seeded.search_goods("ВЕБИНАРНЫЕ")) == ["webinar-funnels"]
    assert slugs(seeded.search_goods("COPYWRITING")) == ["copywriting-club"]
    assert slugs(seeded.search_goods("email-marketing")) == ["email-marketing-101"]


def test_search_goods_needs_every_word(seeded):
    assert slugs(seeded.search_goods("online starter")) == ["online-school-starter"]
    assert slugs(seeded.search_goods("книга print")) == ["launch-book-print"]  # title word + slug word
    assert slugs(seeded.search_goods("printed")) == ["planner-workbook"]
    assert seeded.search_goods("online nothing-like-this") == []


def test_search_goods_limit_and_empty_query(seeded):
    assert slugs(seeded.search_goods("")) == [g["good_name"] for g in SEED_GOODS]
    assert len(seeded.search_goods("", limit=3)) == 3
    assert Catalog().search_goods("digital") == []


def test_prices_are_decimals_and_bad_rows_are_skipped(seeded):
    assert seeded.prices == SEED_PRICES
    assert all(isinstance(p, Decimal) for p in seeded.prices.values())
    catalog = Catalog(priced_goods=[{"good_name": "a", "good_sum": "12.50"}, {"good_name": "b"},
                                    {"good_name": "c", "good_sum": "n/a"}, {"good_name": "d", "good_sum": 7}])
    assert catalog.prices == {"a": Decimal("12.50"), "d": Decimal(7)}
    assert Catalog().prices == {}


def test_coupon_code_and_manager_name(seeded):
    assert seeded.coupon_code("586") == "welcome10"
    assert seeded.coupon_code(585) == "coupon50proc"
    assert seeded.coupon_code("999") is None
    assert seeded.manager_name(71258) == "Анна Смирнова"
    assert seeded.manager_name("71257") == "Greg"
    assert seeded.manager_name("1") is None
    assert Catalog().coupon_code("585") is None and Catalog().manager_name(71257) is None


def test_choices_show_codes_and_names_but_send_ids(seeded):
    assert seeded.coupon_choices == [(str(c["id"]), c["coupon"]) for c in SEED_COUPONS]
    assert seeded.manager_choices == [(str(m["id"]), m["manager_name"]) for m in SEED_MANAGERS]
    choices = dict(seeded.goods_choices)
    assert set(choices) == {g["good_name"] for g in SEED_GOODS}
    assert "Курс «Продажи в мессенджерах»" in choices["sales-in-messengers"]
    assert seeded.goods_by_name["digital"]["id"] == 75696


def test_rows_without_the_fields_the_desk_reads_are_dropped(httpserver, tmp_path):
    broken_goods = [*GOODS, {"id": 1, "good_title": "no slug"}, "not a row",
                    {"good_name": "", "good_title": "x"}]
    httpserver.expect_request("/api/getgoods").respond_with_json(
        {"error_code": 0, "error_text": "OK", "result": broken_goods, "hash": "0" * 32})
    for method, items in (("getcoupons", SEED_COUPONS), ("getpersonalmanagers", SEED_MANAGERS)):
        httpserver.expect_request(f"/api/{method}").respond_with_json(
            {"error_code": 0, "error_text": "OK", "result": items, "hash": "0" * 32})
    httpserver.expect_request("/api/GetAllGoods").respond_with_json(
        {"error_code": 4, "error_text": "Wrong hash", "result": [], "hash": "0" * 32})
    service = CatalogService(make_client(httpserver.url_for("/api/")), FileSystemCache(str(tmp_path)), 60)
    catalog = service.get()
    assert catalog.goods == GOODS
    assert [name for name, _ in catalog.goods_choices] == [g["good_name"] for g in GOODS]
