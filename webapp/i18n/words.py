"""Words the desk says from modules that know nothing of Flask (the JustClick client, the sandbox,
the catalogue): kept in English, with their message id and values, so that where they are shown
they are said in the operator's language (`say` in templates).

`Words("...")` marks a message for `make translations-extract` as `_()` does.
"""

from __future__ import annotations


class Words(str):
    """A message in English that remembers how it was made: `msgid % values`."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values):
        words = super().__new__(cls, msgid % values if values else msgid)
        words.msgid, words.values = msgid, values
        return words

    def __reduce__(self):  # pickled (a cache) as what it is, not as a plain str
        return _rebuild, (self.msgid, self.values)


def _rebuild(msgid: str, values: dict) -> Words:
    return Words(msgid, **values)


def said(text) -> dict:
    """What to keep beside a text stored as JSON (an attempt's), so it can be said again later."""
    return {"msgid": text.msgid, "values": text.values} if isinstance(text, Words) else {}
