"""Finding a product by what an operator typed: words, the other keyboard layout, small typos."""

import pytest

from webapp.justclick.product_search import proposal, search
from webapp.sandbox.standin import SEED_GOODS


def names(found) -> list[str]:
    return [good["good_name"] for good in found]


@pytest.mark.parametrize("typed, expected", [
    ("вебин", ["webinar-funnels"]),  # a part of a title
    ("75703", ["webinar-funnels"]),  # the id
    ("webinar-funnels", ["webinar-funnels"]),  # the slug
    ("dt,byfh", ["webinar-funnels"]),  # "вебинар" typed in the Latin layout
    ("ьутещк", ["mentor-session"]),  # "mentor" typed in the Cyrillic layout
    ("Вебинарные варонки", ["webinar-funnels"]),  # a typo
    ("Digtal product", ["digital"]),
])
def test_a_product_is_found_however_it_was_typed(typed, expected):
    assert names(search(SEED_GOODS, typed))[:1] == expected


@pytest.mark.parametrize("typed", ["xyz", "zzzz zzzz", "", "ab"])
def test_nothing_like_any_product_finds_nothing(typed):
    assert search(SEED_GOODS, typed) == []


def test_words_come_before_typos():
    """A text every title word of which is found is not also matched by closeness to other titles."""
    assert names(search(SEED_GOODS, "email marketing")) == ["email-marketing-101"]


def test_a_pick_made_without_seeing_the_list_takes_no_typo_guess():
    assert names(search(SEED_GOODS, "Email Marketing 102", typos=False)) == []
    assert names(search(SEED_GOODS, "Email Marketing 102")) == ["email-marketing-101"]  # listed, to see
    assert names(search(SEED_GOODS, "dt,byfh", typos=False)) == ["webinar-funnels"]  # the layout is no guess


def test_a_proposal_is_one_product_or_none():
    assert proposal(SEED_GOODS, "Вебинарные воронки")["good_name"] == "webinar-funnels"
    assert proposal(SEED_GOODS, "print") is None  # two products hold the word: no single proposal
    assert proposal(SEED_GOODS, "xyz") is None
    assert proposal(SEED_GOODS, "dt") is None  # "ве": in a title, but too short to mean it
    assert proposal(None, "вебин") is None
