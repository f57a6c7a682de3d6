"""The rate-limit counters in SQLite: shared by every process of the instance, each write a short
connection of its own, and the write-ahead log kept between writes."""

import multiprocessing

from webapp.storage.limits import SQLiteStorage


def test_counts_are_shared_by_every_worker_and_the_log_stays(tmp_path):
    uri = f"orderdesk+sqlite://{tmp_path / 'limits.sqlite3'}"
    first, second = SQLiteStorage(uri), SQLiteStorage(uri)  # two workers' storages
    assert first.incr("orders:alice", 60) == 1
    assert second.incr("orders:alice", 60) == 2
    assert first.get("orders:alice") == 2 and first.get("orders:bob") == 0
    # Not deleted when a write's connection closes, so the next write need not create and sync it.
    assert (tmp_path / "limits.sqlite3-wal").exists()


def test_a_forked_worker_counts_with_connections_of_its_own(tmp_path):
    storage = SQLiteStorage(f"orderdesk+sqlite://{tmp_path / 'limits.sqlite3'}")
    assert storage.incr("orders:alice", 60) == 1  # this process now keeps a connection open
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=lambda: queue.put(storage.incr("orders:alice", 60)))
    child.start()
    assert queue.get(timeout=30) == 2
    child.join(30)
    assert child.exitcode == 0
    assert storage.incr("orders:alice", 60) == 3
