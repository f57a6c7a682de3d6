"""One-time submission tokens, files and Redis: exactly one claim per token, across threads and processes."""

import base64
import multiprocessing
import os
import threading

import pytest

from tests.support.desk import desk_config
from webapp import create_app
from webapp.attempts.tokens import SubmissionTokens
from webapp.storage.files import FileTokens
from webapp.storage.redis import RedisTokens
from webapp.web.services import services_of

NOWHERE = "http://127.0.0.1:9/api/"


@pytest.fixture(params=["files", "redis"])
def app(request, tmp_path):
    overrides = {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    return create_app(desk_config(NOWHERE, tmp_path, **overrides))


@pytest.fixture
def tokens(app):
    return services_of(app).tokens


def where(tokens) -> tuple[str, str]:
    """What another process needs to open the same store."""
    if isinstance(tokens.store, FileTokens):
        return "files", tokens.store.root
    kwargs = tokens.store.client.connection_pool.connection_kwargs
    return "redis", f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


def open_store(kind: str, location: str):
    if kind == "files":
        return SubmissionTokens(FileTokens(location, lifetime=3600), "")
    import redis

    return SubmissionTokens(RedisTokens(redis.from_url(location), lifetime=3600), "")


def claim_together(store, token: str, threads: int) -> int:
    """`threads` threads claim `token` at once; how many won."""
    start = threading.Barrier(threads)
    wins = []

    def claim():
        start.wait()
        wins.append(store.claim(token))

    running = [threading.Thread(target=claim) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert len(wins) == threads
    return sum(wins)


def claim_in_process(kind, location, token, threads, ready, results):
    store = open_store(kind, location)
    ready.wait(timeout=60)  # every process set up before any claims
    results.put(claim_together(store, token, threads))


def test_new_tokens_are_fresh_url_safe_and_long(tokens):
    issued = {tokens.new("alice") for _ in range(100)}
    assert len(issued) == 100
    for token in issued:
        assert len(base64.urlsafe_b64decode(token + "=")) >= 16
        assert tokens.claim(token)


def test_a_token_is_claimed_exactly_once_by_twenty_threads(tokens):
    assert claim_together(tokens, tokens.new("alice"), 20) == 1


def test_a_token_is_claimed_exactly_once_across_processes(tokens):
    kind, location = where(tokens)
    token = tokens.new("alice")
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(3), context.Queue()
    processes = [context.Process(target=claim_in_process, args=(kind, location, token, 4, ready, results))
                 for _ in range(3)]
    for process in processes:
        process.start()
    wins = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sum(wins) == 1
    assert not tokens.claim(token)


def test_a_claim_holds_its_attempt_id_until_released(tokens):
    token = tokens.new("alice")
    assert tokens.outcome(token) is None and not tokens.is_claimed(token)  # never claimed
    assert tokens.claim(token, "0123456789ab")
    assert tokens.outcome(token) == "0123456789ab" and tokens.is_claimed(token)
    assert not tokens.claim(token, "ba9876543210")
    assert tokens.outcome(token) == "0123456789ab"  # the loser did not overwrite it
    tokens.release(token)  # nothing was recorded, so nothing was sent: the form may go again
    assert tokens.outcome(token) is None
    assert tokens.claim(token, "ba9876543210")


def test_a_claim_is_never_seen_without_its_attempt_id(tokens):
    # Twenty threads claim one token, each with its own id, while others read it: every reader
    # sees nothing or the winner's id, never an empty claim.
    token, seen, start = tokens.new("alice"), [], threading.Barrier(20)

    def claim_or_read(i):
        start.wait()
        if i % 2:
            seen.append(tokens.outcome(token))
        else:
            tokens.claim(token, f"{i:012d}")

    running = [threading.Thread(target=claim_or_read, args=(i,)) for i in range(20)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    winner = tokens.outcome(token)
    assert winner and set(seen) <= {None, winner}


@pytest.mark.parametrize("garbage", [None, "", 42, "short", "../../etc/passwd", "A" * 42, "A" * 44,
                                     "A" * 42 + "/", "A" * 42 + "é", "A" * 42 + "\n"])
def test_malformed_tokens_are_refused(tokens, garbage):
    assert not tokens.claim(garbage, "0123456789ab")
    assert tokens.outcome(garbage) is None
    tokens.release(garbage)  # does nothing, touches nothing
    if isinstance(tokens.store, FileTokens):
        assert os.listdir(tokens.store.root) == []


def test_file_tokens_expire_with_the_session_lifetime(tmp_path):
    app = create_app(desk_config(NOWHERE, tmp_path, SESSION_LIFETIME_HOURS=1 / 60))
    tokens = services_of(app).tokens
    old, young = tokens.new("alice"), tokens.new("alice")
    assert tokens.claim(old, "0123456789ab") and tokens.claim(young)
    lifetime = app.permanent_session_lifetime.total_seconds()  # the sign-in's and a bit more
    past = os.stat(os.path.join(tokens.store.root, old)).st_mtime - lifetime - 60
    os.utime(os.path.join(tokens.store.root, old), (past, past))
    assert tokens.store.sweep() == 1
    assert tokens.outcome(old) is None and tokens.claim(old)
    assert not tokens.claim(young)


def test_redis_tokens_expire_with_the_session_lifetime(redis_url, tmp_path):
    import redis

    app = create_app(desk_config(NOWHERE, tmp_path, REDIS_URL=redis_url, SESSION_LIFETIME_HOURS=0.5))
    tokens = services_of(app).tokens
    token = tokens.new("alice")
    assert tokens.claim(token, "0123456789ab")
    client = redis.from_url(redis_url)
    lifetime = app.permanent_session_lifetime.total_seconds()  # the sign-in's and a bit more
    assert 0 < client.ttl(f"orderdesk:token:{token}") <= lifetime
