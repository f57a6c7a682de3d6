"""Finding a product by what an operator typed, by the same rules in the order form's picker and in a
table's product cells.

In order, the first rule that finds anything wins: every word of the text in a product's title, slug or
id; the same with the text retyped in the other keyboard layout ("dt,byfh" was typed meaning "вебинар");
titles and slugs close to the text despite small typos ("Вебинарные варонки"). The picker lists what
is found. A table never takes a product it was not named exactly: it proposes a single close match,
for the operator to accept for every cell with that value (a guessed product is a wrong invoice).
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

# The same keys in the two layouts a Russian keyboard switches between.
_LATIN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>?"
_CYRILLIC = "ёйцукенгшщзхъфывапролджэячсмитьбю.ЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,"
TO_CYRILLIC = str.maketrans(_LATIN, _CYRILLIC)
TO_LATIN = str.maketrans(_CYRILLIC, _LATIN)
#: How close a title or slug must be to count despite typos (rapidfuzz's WRatio, 0-100).
CLOSE_ENOUGH = 80
#: Shorter texts are matched by their words only: three letters are close to too much.
SHORTEST_CLOSE = 4


def search(goods: list[dict] | None, text: str, limit: int = 20, typos: bool = True) -> list[dict]:
    """The goods `text` names, by the first rule that finds any (see the module's doc). `typos=False`:
    words and the other layout only, for a pick made without seeing the list."""
    text = " ".join(text.split())
    if not text or not goods:
        return []
    for variant in dict.fromkeys((text, text.translate(TO_CYRILLIC), text.translate(TO_LATIN))):
        found = _containing(goods, variant)
        if found:
            return found[:limit]
    return _close(goods, text)[:limit] if typos else []


def proposal(goods: list[dict] | None, text: str) -> dict | None:
    """The one product `text` could mean though it names none exactly; None when none or several, or
    when the text is too short to mean anything by itself ("dt")."""
    if len(text.strip()) < SHORTEST_CLOSE:
        return None
    found = search(goods, text, limit=2)
    return found[0] if len(found) == 1 else None


def _containing(goods: list[dict], text: str) -> list[dict]:
    words = text.casefold().split()
    return [good for good in goods
            if all(word in f"{good['good_title']} {good['good_name']} {good.get('id', '')}".casefold()
                   for word in words)]


def _close(goods: list[dict], text: str) -> list[dict]:
    if len(text) < SHORTEST_CLOSE:
        return []
    best: dict[int, float] = {}
    for field in ("good_title", "good_name"):
        choices = [good[field] for good in goods]
        close = process.extract(text, choices, scorer=fuzz.WRatio, processor=utils.default_process,
                                score_cutoff=CLOSE_ENOUGH, limit=None)
        for _, score, index in close:
            best[index] = max(score, best.get(index, 0))
    return [goods[index] for index in sorted(best, key=lambda i: -best[i])]
