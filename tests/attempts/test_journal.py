"""The journal: outcomes the store could not take, kept in the file and in memory until it can."""

import pytest

from webapp.attempts.journal import Journal


def record(entry_id, key="k1", outcome="created"):
    return {"hid": "h1", "key": key, "entry": {"id": entry_id, "outcome": outcome}}


class Store:
    def __init__(self):
        self.kept, self.failing = {}, False

    def __call__(self, record):
        if self.failing:
            raise ConnectionError("the store is away")
        self.kept[record["entry"]["id"]] = record


def test_a_kept_outcome_is_known_until_the_store_takes_it(tmp_path):
    journal, store = Journal(str(tmp_path / "journal.jsonl")), Store()
    journal.append(record("a1"))
    journal.append(record("b2", key="k2"))
    assert journal.known("a1")["outcome"] == "created"
    assert [e["id"] for e in journal.pending_for("k1")] == ["a1"]
    store.failing = True
    assert journal.replay(store, force=True) is False
    assert journal.known("a1") and store.kept == {}
    assert journal.replay(store) is False  # not forced: it waits before trying again
    store.failing = False
    assert journal.replay(store, force=True) is True
    assert set(store.kept) == {"a1", "b2"}
    assert journal.known("a1") is None and journal.pending_for("k1") == []
    assert (tmp_path / "journal.jsonl").read_text() == ""
    assert journal.replay(store) is True  # nothing left: nothing done


def test_another_process_replays_what_this_one_wrote(tmp_path):
    path = str(tmp_path / "journal.jsonl")
    Journal(path).append(record("a1"))  # this worker dies before its store answers
    store = Store()
    assert Journal(path).replay(store) is True  # a worker started later finds it in the file
    assert set(store.kept) == {"a1"}


def test_a_journal_that_cannot_be_written_still_remembers(tmp_path):
    (tmp_path / "a-file").write_text("")
    journal = Journal(str(tmp_path / "a-file" / "journal.jsonl"))  # a folder that is a file: ENOTDIR
    with pytest.raises(OSError):
        journal.append(record("a1"))
    assert journal.known("a1")["outcome"] == "created"
    store = Store()
    assert journal.replay(store, force=True) is True
    assert set(store.kept) == {"a1"}
