"""Languages: `words` (what Flask-free modules say, kept with its message id), `saying` (said in the
page's language), `formats` (money and times) and `countries` (their names and order)."""

from webapp.i18n.words import Words

__all__ = ["Words"]
