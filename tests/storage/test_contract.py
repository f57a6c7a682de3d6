"""The storage contract: every store the desk uses, on both backends, held to storage/interfaces.py.

Each test runs twice: on files in a temporary instance folder, and on a real redis-server (emptied for
the test). The stores are opened as create_app opens them, by open_stores; other processes open their
own, as gunicorn's workers do. What expires is given a lifetime of seconds and waited for with a short
bounded poll; the file stores sweep on every write here (sweep_every=0) rather than every ten minutes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from contextlib import closing
from datetime import timedelta

import pytest

from webapp.attempts.tokens import SubmissionTokens
from webapp.bulk.store import BulkTables
from webapp.storage import SESSION_KEY_PREFIX, Stores, open_stores
from webapp.storage.interfaces import StoreBusy, operator_name

HOUR = 3600.0
DAY = 24 * HOUR
SHORT = 2.0  # seconds: the lifetime of what expiry tests watch expire (Redis counts whole seconds)
KEY, OTHER_KEY = "0" * 32, "f" * 32  # order identities: 32 hex digits
HID, OTHER_HID = "a1" * 16, "b2" * 16  # history ids: 32 alphanumerics
SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter per process, as a worker is


def open_backend(url: str | None, instance: str, lifetime: float = HOUR,
                 retention: float = 90 * DAY) -> Stores:
    config = {"REDIS_URL": url, "PERMANENT_SESSION_LIFETIME": timedelta(seconds=lifetime),
              "ORDER_RETENTION_DAYS": retention / DAY}
    return open_stores(config, instance, sweep_every=0)


class Backend:
    """One backend's location, and its stores opened there."""

    def __init__(self, kind: str, url: str | None, instance: str):
        self.kind, self.url, self.instance = kind, url, instance
        self._opened: list[Stores] = []

    def open(self, lifetime: float = HOUR, retention: float = 90 * DAY) -> Stores:
        stores = open_backend(self.url, self.instance, lifetime, retention)
        self._opened.append(stores)
        return stores

    def close(self) -> None:
        for stores in self._opened:
            if stores.redis is not None:
                stores.redis.close()


@pytest.fixture(params=["files", "redis"])
def backend(request, tmp_path):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None  # flushed per test
    opened = Backend(request.param, url, str(tmp_path / "instance"))
    yield opened
    opened.close()


@pytest.fixture
def stores(backend) -> Stores:
    return backend.open()


def eventually(check, within: float = 10.0, what: str = "the state") -> None:
    """Wait for `check()` to hold, polling; fail if it still does not after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} was not reached within {within} s")
        time.sleep(0.05)


def attempt(entry_id: str, **more) -> dict:
    return {"id": entry_id, "outcome": "sending", "text": "Отправка…",
            "sent": {"customer_email": "o@example.com"}, **more}


def in_parallel(count: int, work) -> list:
    """`work(i)` in `count` threads released together; their results."""
    start, results = threading.Barrier(count), [None] * count

    def run(i):
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- where the data is: deployed desks keep theirs ---------------------------------------------------


def test_open_stores_puts_everything_where_deployed_desks_keep_it(backend, stores):
    token = SubmissionTokens(stores.tokens, "secret").new("alice")
    stores.history.append(HID, attempt("e1"), 10)
    assert stores.tokens.claim(token, "e1")
    stores.index.put(KEY, {"id": "e1", "outcome": "sending"})
    stores.index.memory_since()
    stores.preferences.set("alice", locale="ru")
    BulkTables(stores.tables, HOUR).put(HID, {"id": "c0ffee", "rows": []})
    stores.cache.set("catalog:goods", ["course"], timeout=0)
    stores.archive.put(1_800_000_000.0, attempt("e1"), {"id": "e1"}, "o@example.com")
    name = operator_name("alice")
    if backend.kind == "redis":
        client = stores.redis
        assert stores.sessions is None and stores.limits == backend.url
        assert set(client.keys()) == {key.encode() for key in (
            f"orderdesk:history:{HID}", f"orderdesk:history:{HID}:attempt:e1", f"orderdesk:token:{token}",
            f"orderdesk:orders:{KEY}", "orderdesk:orders:since", f"orderdesk:preferences:{name}",
            f"orderdesk:bulk:{HID}:c0ffee", "orderdesk:cache:catalog:goods", "orderdesk:archive:e1",
            "orderdesk:archive-rows", "orderdesk:archive-text", "orderdesk:archive-times")}
        assert json.loads(client.get("orderdesk:archive:e1")) == attempt("e1")
        assert client.zscore("orderdesk:archive-times", "e1") == 1_800_000_000.0
        assert json.loads(client.get(f"orderdesk:history:{HID}:attempt:e1")) == attempt("e1")
        assert client.lrange(f"orderdesk:history:{HID}", 0, -1) == [b"e1"]
        assert client.get(f"orderdesk:token:{token}") == b"e1"
        assert json.loads(client.hget(f"orderdesk:orders:{KEY}", "e1")) == {"id": "e1", "outcome": "sending"}
        assert client.hgetall(f"orderdesk:preferences:{name}") == {b"locale": b"ru"}
        return
    folder = backend.instance
    assert stores.redis is None and stores.limits == f"orderdesk+sqlite://{folder}/limits.sqlite3"
    assert stores.sessions.set(SESSION_KEY_PREFIX + "sid", {"operator": "alice"})
    assert {name for name in os.listdir(folder) if not name.endswith(("-wal", "-shm"))} == {
        "archive.sqlite3", "bulk", "cache", "history", "orders", "preferences", "sessions", "tokens"}
    with closing(sqlite3.connect(f"{folder}/archive.sqlite3")) as db:
        assert db.execute("SELECT id, made_at, record, text FROM attempts").fetchall() == [
            ("e1", 1_800_000_000.0, json.dumps(attempt("e1"), ensure_ascii=False), "o@example.com")]
    [kept] = os.listdir(f"{folder}/history/{HID}")
    assert re.fullmatch(r"\d{20}-e1\.json", kept)
    with open(f"{folder}/history/{HID}/{kept}", encoding="utf-8") as f:
        assert json.load(f) == attempt("e1")
    with open(f"{folder}/tokens/{token}", encoding="utf-8") as f:
        assert f.read() == "e1"
    with open(f"{folder}/orders/{KEY}.json", encoding="utf-8") as f:
        [record] = json.load(f)
    assert record.pop("stamp") <= time.time() and record == {"id": "e1", "outcome": "sending"}
    assert os.path.exists(f"{folder}/orders/.since")
    with open(f"{folder}/preferences/{name}.json", encoding="utf-8") as f:
        assert json.load(f) == {"locale": "ru"}


# --- history ------------------------------------------------------------------------------------------


def test_history_lists_newest_first_finds_and_clears(stores):
    history = stores.history
    assert history.items(HID) == [] and history.find(HID, "e1") is None and history.dropped(HID) == 0
    first, second = attempt("e1"), attempt("e2", outcome="created")
    history.append(HID, first, 10)
    history.append(HID, second, 10)
    assert history.items(HID) == [second, first]
    assert history.items(HID, 1) == [second]
    assert history.find(HID, "e1") == first and history.find(HID, "e3") is None
    assert history.items(OTHER_HID) == [] and history.find(OTHER_HID, "e1") is None
    history.clear(HID)
    assert history.items(HID) == [] and history.find(HID, "e1") is None and history.dropped(HID) == 0


def test_history_updates_in_place_or_appends_what_is_gone(stores):
    history = stores.history
    history.append(HID, attempt("e1"), 10)
    history.append(HID, attempt("e2"), 10)
    history.update(HID, attempt("e1", outcome="created"), 10)
    assert [(e["id"], e["outcome"]) for e in history.items(HID)] == [("e2", "sending"), ("e1", "created")]
    history.update(HID, attempt("e3", outcome="unknown"), 10)  # its record was lost: kept as the newest
    assert [e["id"] for e in history.items(HID)] == ["e3", "e2", "e1"]
    history.clear(HID)  # the records this store has just written, gone under it
    history.update(HID, attempt("e2", outcome="created"), 10)
    assert [(e["id"], e["outcome"]) for e in history.items(HID)] == [("e2", "created")]


def test_history_cap_drops_the_oldest_and_counts_each_once_under_concurrent_appends(stores):
    history = stores.history
    in_parallel(8, lambda i: [history.append(HID, attempt(f"t{i}n{n}"), 10) for n in range(5)])
    assert len(history.items(HID)) == 10 and history.dropped(HID) == 30
    for n in range(3):
        history.append(OTHER_HID, attempt(f"e{n}"), 2)
    assert [e["id"] for e in history.items(OTHER_HID)] == ["e2", "e1"] and history.dropped(OTHER_HID) == 1
    assert history.find(OTHER_HID, "e0") is None


def test_history_expires_with_the_session(backend):
    history = backend.open(lifetime=SHORT).history
    history.append(HID, attempt("e1"), 10)
    assert [e["id"] for e in history.items(HID)] == ["e1"]
    writes = iter(range(10**6))

    def gone() -> bool:
        history.append(OTHER_HID, attempt(f"other{next(writes)}"), 10)  # a write: the files sweep then
        return history.items(HID) == [] and history.find(HID, "e1") is None

    eventually(gone, what="the history's expiry")
    assert history.items(OTHER_HID)  # what was written since is still there


# --- submission tokens --------------------------------------------------------------------------------


def test_a_token_is_claimed_once_and_holds_its_attempt_id_until_released(stores):
    tokens, token = stores.tokens, SubmissionTokens(stores.tokens, "secret").new("alice")
    assert tokens.outcome(token) is None
    assert tokens.claim(token, "0123456789ab")
    assert not tokens.claim(token, "ba9876543210")
    assert tokens.outcome(token) == "0123456789ab"  # the loser did not overwrite it
    tokens.release(token)
    assert tokens.outcome(token) is None
    assert tokens.claim(token, "ba9876543210") and tokens.outcome(token) == "ba9876543210"


def test_of_twenty_threads_claiming_one_token_one_wins_and_readers_never_see_an_empty_claim(stores):
    tokens, token = stores.tokens, SubmissionTokens(stores.tokens, "secret").new("alice")
    results = in_parallel(20, lambda i: tokens.claim(token, f"{i:012d}") if i % 2 else tokens.outcome(token))
    claims, seen = results[1::2], results[0::2]
    winner = tokens.outcome(token)
    assert claims.count(True) == 1 and winner == f"{claims.index(True) * 2 + 1:012d}"
    assert set(seen) <= {None, winner}


def test_issued_tokens_are_bound_to_their_operator_on_either_store(stores):
    desk, elsewhere = SubmissionTokens(stores.tokens, "secret"), SubmissionTokens(stores.tokens, "other")
    token = desk.new("alice")
    assert desk.issued_to(token, "alice") and desk.issued_to(token, "ALICE")
    assert not desk.issued_to(token, "bob") and not elsewhere.issued_to(token, "alice")
    assert desk.claim(token, "e1") and desk.is_claimed(token) and desk.outcome(token) == "e1"
    assert not desk.claim(token, "e2")
    for garbage in (None, "", "../../etc/passwd", token[:-1], token + "A"):
        assert not desk.claim(garbage, "e3") and desk.outcome(garbage) is None
        desk.release(garbage)  # refused before it reaches the store
    assert desk.outcome(token) == "e1"


def test_claims_expire_with_the_session(backend):
    tokens = backend.open(lifetime=SHORT).tokens
    issue = SubmissionTokens(tokens, "secret").new
    token = issue("alice")
    assert tokens.claim(token, "e1")

    def gone() -> bool:
        tokens.claim(issue("alice"), "other")  # a write: the files sweep then
        return tokens.outcome(token) is None

    eventually(gone, what="the claim's expiry")
    assert tokens.claim(token, "e2")  # a form from before may be sent again, once


# --- the order index and the guard's lock -------------------------------------------------------------


def test_the_index_keeps_one_record_per_attempt_id(stores):
    index = stores.index
    assert index.recent(KEY) == []
    index.put(KEY, {"id": "e1", "outcome": "sending", "text": "Отправка…"})
    index.put(KEY, {"id": "e2", "outcome": "created"})
    index.put(KEY, {"id": "e1", "outcome": "unknown", "text": "Нет ответа"})
    assert sorted(index.recent(KEY), key=lambda r: r["id"]) == [
        {"id": "e1", "outcome": "unknown", "text": "Нет ответа"}, {"id": "e2", "outcome": "created"}]
    assert index.recent(OTHER_KEY) == []


def test_under_the_lock_the_order_is_read_and_written(stores):
    with stores.index.lock(KEY) as locked:
        assert locked.recent() == []
        locked.put({"id": "e1", "outcome": "sending"})
        assert locked.recent() == [{"id": "e1", "outcome": "sending"}]
    assert stores.index.recent(KEY) == [{"id": "e1", "outcome": "sending"}]


def test_a_held_lock_keeps_others_out_of_that_order_only_and_is_released_however_the_block_ends(backend):
    holder, other = backend.open().index, backend.open().index
    other.lock_wait = 0.2
    with holder.lock(KEY):
        with pytest.raises(StoreBusy), other.lock(KEY):
            pass
        with other.lock(OTHER_KEY):  # another order is not held up
            pass
    with other.lock(KEY):
        pass
    with pytest.raises(RuntimeError), holder.lock(KEY):
        raise RuntimeError("the send failed")
    with other.lock(KEY):  # the failure let go of it
        pass


def increment_under_lock(url, instance, counter, rounds, ready, holder):
    """In another process: take the order's lock `rounds` times, each time adding one to `counter` by
    read, pause, write (so two holders at once would lose an update), and checking no one else holds it."""
    index = open_backend(url, instance).index
    index.lock_wait = 60.0  # waiting is not what is tested here; a busy machine may make it long
    ready.wait(timeout=60)
    for _ in range(rounds):
        with index.lock(KEY):
            fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # FileExistsError: two holders
            with open(counter, encoding="ascii") as f:
                seen = int(f.read())
            time.sleep(0.002)
            with open(counter, "w", encoding="ascii") as f:
                f.write(str(seen + 1))
            os.close(fd)
            os.unlink(holder)


def test_the_lock_excludes_other_processes_and_is_released_when_they_finish(backend, tmp_path):
    processes, rounds = 4, 20
    counter, holder = tmp_path / "counter", tmp_path / "holder"
    counter.write_text("0")
    backend.open()  # the folders exist before the workers start, as create_app leaves them
    ready = SPAWN.Barrier(processes)
    workers = [SPAWN.Process(target=increment_under_lock,
                             args=(backend.url, backend.instance, str(counter), rounds, ready, str(holder)))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert int(counter.read_text()) == processes * rounds  # no update lost: one holder at a time
    index = backend.open().index
    index.lock_wait = 1.0  # a lock left behind would be held for 2 x LOCK_WAIT
    with index.lock(KEY):
        pass


def hold_lock_until_killed(url, instance, holding):
    index = open_backend(url, instance).index
    index.lock_wait = 0.5  # in Redis, a lock left by a dead holder lasts 2 x its wait
    with index.lock(KEY):
        holding.set()
        time.sleep(600)


def test_a_lock_whose_holder_is_killed_is_free_again_soon(backend):
    """Files: at once (the kernel drops a dead process's flock). Redis: once the lock's own expiry
    has passed. (That a held lock keeps others out is tested above; here it may already have expired
    by the time a busy machine gets round to looking.)"""
    backend.open()
    holding = SPAWN.Event()
    worker = SPAWN.Process(target=hold_lock_until_killed, args=(backend.url, backend.instance, holding))
    worker.start()
    try:
        assert holding.wait(timeout=60)
    finally:
        worker.kill()  # SIGKILL: no finally block runs in it
        worker.join(timeout=60)
    index = backend.open().index
    index.lock_wait = 10.0  # far longer than the dead holder's lock lasts
    with index.lock(KEY) as locked:
        locked.put({"id": "e1", "outcome": "sending"})
    assert index.recent(KEY) == [{"id": "e1", "outcome": "sending"}]


def test_the_memory_began_once_and_stays(backend):
    before = time.time()
    began = backend.open().index.memory_since()
    assert before - 1 <= began <= time.time() + 1
    assert backend.open().index.memory_since() == began  # another worker, later: the same


def test_the_index_forgets_orders_with_the_session_but_not_when_it_began(backend):
    index = backend.open(lifetime=SHORT).index
    began = index.memory_since()
    index.put(KEY, {"id": "e1", "outcome": "created"})
    assert index.recent(KEY) == [{"id": "e1", "outcome": "created"}]

    def gone() -> bool:
        index.put(OTHER_KEY, {"id": "other", "outcome": "created"})  # a write: the files sweep then
        return index.recent(KEY) == []

    eventually(gone, what="the order's expiry")
    with index.lock(KEY) as locked:  # its lock file may have been swept: the lock still works
        assert locked.recent() == []
    assert index.memory_since() == began


# --- the team's archive of attempts ----------------------------------------------------------------------


def test_the_archive_keeps_each_attempt_whole_and_lists_their_rows_newest_first(stores):
    archive, now = stores.archive, time.time()
    for entry_id, ago in (("a", 30), ("c", 10), ("b", 10), ("d", 20)):
        archive.put(now - ago, attempt(entry_id, sent={"customer_email": f"{entry_id}@example.com"}),
                    {"id": entry_id, "ago": ago}, f"{entry_id}@example.com ago={ago}")
    assert archive.get("c") == attempt("c", sent={"customer_email": "c@example.com"})
    assert archive.get("nothing") is None
    assert [r["id"] for r in archive.rows(0, now + 1)] == ["c", "b", "d", "a"]  # one second's: by id, down
    assert [r["id"] for r in archive.rows(0, now + 1, limit=2)] == ["c", "b"]
    assert [r["id"] for r in archive.rows(now - 20, now - 10)] == ["d"]  # since included, until not
    assert archive.rows(now + 1, now + 2) == []
    # The whole records of a range, as an export reads them: in one go, in the rows' order.
    assert archive.records(0, now + 1, limit=2) == [archive.get("c"), archive.get("b")]
    assert [r["id"] for r in archive.records(now - 20, now - 10)] == ["d"]
    assert archive.records(now + 1, now + 2) == []
    # An outcome written over the attempt: record and row replaced, its time kept.
    archive.put(now, attempt("a", outcome="created"), {"id": "a", "outcome": "created"}, "a paid")
    assert archive.get("a")["outcome"] == "created"
    assert archive.rows(0, now + 1)[-1] == {"id": "a", "outcome": "created"}


def test_the_archive_finds_the_rows_whose_text_holds_every_word(stores):
    archive, now = stores.archive, time.time()
    for entry_id, text in (("a", "анна иванова 79123456789 paid"), ("b", "борис 100%_ waiting"),
                           ("c", "анна петрова waiting")):
        archive.put(now, attempt(entry_id), {"id": entry_id}, text)

    def found(*words) -> list[str]:
        return [r["id"] for r in archive.rows(0, now + 1, words=words)]

    assert found(("анна",)) == ["c", "a"]
    assert found(("анна",), ("waiting",)) == ["c"]
    assert found(("иванова", "борис")) == ["b", "a"]  # one of each item's alternatives
    assert found(("9123456789",)) == ["a"]
    assert found(("100%_",)) == ["b"] and found(("%",)) == ["b"] and found(("_",)) == ["b"]  # not wildcards
    assert found(("анна",), ("nobody",)) == []
    assert [r["id"] for r in archive.rows(0, now + 1, limit=1, words=[("waiting",)])] == ["c"]
    assert archive.rows(0, now + 1, limit=0, words=[("waiting",)]) == archive.rows(0, now + 1, limit=0) == []
    assert found(("анна",), ()) == []  # one of no words: none
    assert [r["id"] for r in archive.records(0, now + 1, words=[("waiting",)])] == ["c", "b"]
    assert archive.records(0, now + 1, words=[("анна",), ()]) == []


def test_every_worker_writing_at_once_is_kept(backend):
    def write(n: int) -> None:
        archive = backend.open().archive  # each thread its own store, as each worker has
        for i in range(10):
            archive.put(time.time(), attempt(f"w{n}-{i}"), {"id": f"w{n}-{i}"}, "")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = backend.open().archive.rows(0, time.time() + 1)
    assert sorted(r["id"] for r in rows) == sorted(f"w{n}-{i}" for n in range(8) for i in range(10))


def test_the_archive_forgets_what_its_retention_has_passed(backend):
    """An attempt made a minute ago, read by a desk that keeps attempts for half a minute: not found,
    not listed, and gone from the store once a write sweeps. No waiting: the attempt is old already."""
    now = time.time()
    backend.open().archive.put(now - 60, attempt("old"), {"id": "old"}, "old")  # kept 90 days here
    archive = backend.open(retention=30).archive
    assert archive.get("old") is None and archive.rows(0, now + 1) == archive.records(0, now + 1) == []
    archive.put(now, attempt("new"), {"id": "new"}, "new")  # a write: the sweep runs (sweep_every=0)
    assert archive.get("new") and [r["id"] for r in archive.rows(0, now + 1)] == ["new"]
    if backend.kind == "redis":  # not only hidden: removed
        client = archive.client
        assert client.hkeys("orderdesk:archive-rows") == client.hkeys("orderdesk:archive-text") == [b"new"]
        assert client.zrange("orderdesk:archive-times", 0, -1) == [b"new"]
        assert not client.exists("orderdesk:archive:old")
    else:
        with closing(sqlite3.connect(archive.path)) as db:
            assert db.execute("SELECT id FROM attempts").fetchall() == [("new",)]


# --- preferences --------------------------------------------------------------------------------------


def test_preferences_merge_per_operator(stores):
    preferences = stores.preferences
    assert preferences.get("alice") == {}
    preferences.set("alice", locale="ru")
    preferences.set("alice", theme="dark")
    preferences.set("alice", locale="en")
    preferences.set("../bob é", locale="ru")  # any name JSON allows
    assert preferences.get("alice") == {"locale": "en", "theme": "dark"}
    assert preferences.get("../bob é") == {"locale": "ru"} and preferences.get("ALICE") == {}


def test_preferences_outlive_the_session(backend):
    stores = backend.open(lifetime=SHORT)
    stores.preferences.set("alice", locale="ru")
    issue = SubmissionTokens(stores.tokens, "secret").new
    token = issue("alice")
    stores.tokens.claim(token, "e1")

    def lifetime_over() -> bool:
        stores.tokens.claim(issue("alice"), "other")  # a write: the files sweep then
        return stores.tokens.outcome(token) is None

    eventually(lifetime_over, what="a lifetime's end")
    assert backend.open(lifetime=SHORT).preferences.get("alice") == {"locale": "ru"}


# --- the bulk tables and the list cache (cachelib) ----------------------------------------------------


def test_tables_are_kept_per_session_and_replaced_whole(stores):
    tables = BulkTables(stores.tables, HOUR)
    table_id = tables.new(HID, {"rows": [{"email": "o@example.com", "entry": None}]})
    assert tables.get(HID, table_id) == {"id": table_id, "rows": [{"email": "o@example.com", "entry": None}]}
    tables.put(HID, {"id": table_id, "rows": [{"email": "o@example.com", "entry": "e1"}]})
    assert tables.get(HID, table_id)["rows"][0]["entry"] == "e1"
    assert tables.get(OTHER_HID, table_id) is None  # another session's
    assert tables.get(HID, "0" * 16) is None and tables.get(HID, "../" + table_id) is None
    assert tables.new(HID, {"rows": []}) != table_id


def test_a_stop_outlives_the_tables_own_writes_until_go_on(stores):
    tables = BulkTables(stores.tables, HOUR)
    table_id = tables.new(HID, {"rows": []})
    assert not tables.stopped(HID, table_id)
    tables.stop(HID, table_id)
    tables.put(HID, {"id": table_id, "rows": [{"entry": "e1"}]})  # a row's outcome, written after Stop
    assert tables.stopped(HID, table_id) and not tables.stopped(OTHER_HID, table_id)
    tables.go_on(HID, table_id)
    assert not tables.stopped(HID, table_id) and tables.get(HID, table_id)["rows"] == [{"entry": "e1"}]


def test_tables_expire_with_the_session(stores):
    tables = BulkTables(stores.tables, SHORT)
    table_id = tables.new(HID, {"rows": []})
    tables.stop(HID, table_id)
    assert tables.get(HID, table_id) is not None and tables.stopped(HID, table_id)
    eventually(lambda: tables.get(HID, table_id) is None and not tables.stopped(HID, table_id),
               what="the table's expiry")


def test_the_list_cache_keeps_lists_for_good_and_apart_from_the_tables(stores):
    assert stores.cache.set("bulk:x", "a list", timeout=0)
    assert stores.tables.set("bulk:x", "a table", timeout=0)
    assert stores.cache.get("bulk:x") == "a list" and stores.tables.get("bulk:x") == "a table"
    stores.cache.delete("bulk:x")
    assert stores.cache.get("bulk:x") is None and stores.tables.get("bulk:x") == "a table"
