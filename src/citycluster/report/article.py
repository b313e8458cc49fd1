"""The article the report checks, named at the top of every report from
``data/raw/article.yaml``: its title and author line as printed, and what its own text says
about when it was written. What the text does not give (outlet, date, address) is said to be
unknown, never filled in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup, escape

from citycluster.report.i18n import language_tag

#: What a reader would look for to find the article, in the order the report names them.
LOCATORS = ("outlet", "published", "url")
#: Stand-ins for the title and author line while a sentence is typeset: they are data, shown
#: as printed, and go into the escaped sentence as marked-up elements afterwards.
_TITLE, _AUTHOR = "\x00title\x00", "\x00author\x00"


def load(path: Path) -> dict[str, Any]:
    """The article's description (``data/raw/article.yaml``)."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _with_data(sentence: str, article: dict[str, Any]) -> Markup:
    """A catalog sentence with the article's title and author line set in as data (not to be
    translated, in the article's language)."""
    lang = language_tag(article["language"])
    title = Markup('<cite translate="no" lang="{}">{}</cite>').format(lang, article["title"])
    author = Markup('<span translate="no" lang="{}">{}</span>').format(
        lang, article["author_line"])
    return Markup(str(escape(sentence)).replace(_TITLE, title).replace(_AUTHOR, author))


def unknown(article: dict[str, Any], voice: Any) -> str:
    """The locators the text does not give, in words, as the language lists alternatives
    (outlet, publication date, or address; 刊发媒体、发布日期或网址)."""
    from babel.lists import format_list

    from citycluster.report.i18n import babel_locale

    missing = [voice.t(f"article_{k}") for k in LOCATORS if not article.get(k)]
    return format_list(missing, style="or", locale=babel_locale(voice.lang)) if missing else ""


def written_after(article: dict[str, Any]) -> dt.date:
    """The earliest the article can have been written: the latest dated event it refers to."""
    return max(e["date"] for e in article["dating"] if isinstance(e["date"], dt.date))


def byline(article: dict[str, Any], voice: Any) -> Markup:
    """The header's line: the article checked, when it was written at the earliest, and what
    its text does not say (the Sources say how it was dated)."""
    known = voice.t("name_sep").join(
        voice.t("article_known", what=voice.t(f"article_{k}"), value=str(article[k]))
        for k in LOCATORS if article.get(k))
    missing = unknown(article, voice)
    sentence = voice.t("article_byline", title=_TITLE, author=_AUTHOR,
                       date=voice.date(written_after(article)), known=known,
                       unknown=voice.t("article_unknown", what=missing) if missing else "")
    return _with_data(sentence, article)


def dating(article: dict[str, Any], voice: Any) -> str:
    """The events the text refers to, latest first: why it was written no earlier than its
    ``written_after`` date."""
    items = [voice.t(f"article_event_{e['event']}", date=voice.date(e["date"]),
                     paragraph=e["paragraph"],
                     ref=voice.t("ref_ids", ids=e["ref_id"]) if e.get("ref_id") else "")
             for e in sorted(article["dating"], key=lambda e: str(e["date"]), reverse=True)]
    return voice.t("article_dated", date=voice.date(written_after(article)),
                   events=voice.t("list_sep").join(items))


def entry(article: dict[str, Any], voice: Any) -> Markup:
    """The Sources' entry for the article: where its title and author line are, and how it
    was dated."""
    sentence = voice.t("article_entry", title=_TITLE, author=_AUTHOR,
                       title_paragraph=article["title_paragraph"],
                       author_paragraph=article["author_paragraph"])
    return _with_data(sentence, article)


def about(checked: dict[str, Any], voice: Any) -> Markup:
    """The Sources' paragraph on the article: where its title and author line are, and how it
    was dated (its ids linked); the header already says what its text does not give."""
    from citycluster.report.xref import linked

    return Markup(voice.t("sentence_sep")).join([entry(checked, voice),
                                                 linked(dating(checked, voice))])
