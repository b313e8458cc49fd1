"""Anchors and cross-references: every claim, check, source, figure and table a reader can point
at, and prose whose ids and "Figure 3" become links to them.

Figures are numbered by their place in :data:`citycluster.report.charts.FIGURES`, which lists
them in the order the report shows them, and tables by :data:`TABLES`; a browser test holds
that the numbers rise in document order. Text refers to a figure or table through the
catalog's ``figure_ref``/``table_ref`` words (``Figure {n}``, ``图{n}``); :func:`linked` turns
each such mention, each claim id and each reference id into a link, so the number and the
anchor are never written twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from markupsafe import Markup, escape

from citycluster import languages
from citycluster.data.sources import REF_ID
from citycluster.report import charts

#: The report's numbered tables, in the order it shows them.
TABLES = ("claims", "data", "validation", "models", "factcheck")
#: A claim's id (claims.csv's claim_id pattern).
CLAIM_ID = re.compile(r"(?<![A-Za-z0-9])C\d{3,}(?![0-9])")


def figure_number(name: str) -> int:
    """A figure's number: its place in the registry, which is the report's order."""
    return [f.name for f in charts.FIGURES].index(name) + 1


def table_number(name: str) -> int:
    return TABLES.index(name) + 1


def figure_anchor(name: str) -> str:
    return f"fig-{name}"


def table_anchor(name: str) -> str:
    return f"tab-{name}"


def check_anchor(claim_id: str, check: str) -> str:
    """A fact-check row: ``check-C006`` for the direct comparison, ``check-C006-with_estimates``
    for a further check of the same claim. The claim itself is ``#C006`` (its ledger row)."""
    return f"check-{claim_id}" if check == "direct" else f"check-{claim_id}-{check}"


def derived_anchor(entity_id: str | None, ref: str, check: str = "direct") -> str:
    """A derived reference's entry (a sum, a difference, a plan's city count): its id text
    made into a fragment, qualified by the place, since the same text (``..csv/NAT001``) stands
    for a different sum for each cluster, and by the check when it is not the direct one (the
    check on observed plus estimated figures sums more rows under the same text)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ref).strip("-")
    return f"d-{entity_id or 'x'}-{slug}" + ("" if check == "direct" else f"-{check}")


@cache
def _number_words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Every catalog's way of naming a figure or a table by number, as one pattern each."""
    def pattern(key: str) -> re.Pattern[str]:
        words = [str(languages.catalog(code)["text"][key]) for code in languages.available()]
        parts = [re.escape(w).replace(re.escape("{n}"), r"(\d+)") for w in words]
        return re.compile("|".join(f"(?:{p})" for p in sorted(parts, key=len, reverse=True)))

    return pattern("figure_ref"), pattern("table_ref")


def _number_of(match: re.Match[str]) -> int:
    return int(next(g for g in match.groups() if g is not None))


def linked(text: str, derived: Iterable[tuple[str, str]] = ()) -> Markup:
    """``text`` escaped, with each mention of a figure or table by number, each claim id, each
    reference id and each of the ``derived`` (id text, anchor) pairs made a link to its
    anchor. Derived ids go first, longest first: they contain reference ids of their own."""
    figure_words, table_words = _number_words()
    out = str(escape(text))
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for ref, anchor in sorted(derived, key=lambda p: -len(p[0])):
        needle = str(escape(ref))
        at = out.find(needle)
        while at >= 0:
            if claim(at, at + len(needle)):
                spans.append((at, at + len(needle), anchor))
            at = out.find(needle, at + len(needle))
    for words, anchor_of in ((figure_words, lambda n: figure_anchor(charts.FIGURES[n - 1].name)),
                             (table_words, lambda n: table_anchor(TABLES[n - 1]))):
        for m in words.finditer(out):
            if claim(m.start(), m.end()):
                spans.append((m.start(), m.end(), anchor_of(_number_of(m))))
    for pattern in (CLAIM_ID, REF_ID):
        for m in pattern.finditer(out):
            if claim(m.start(), m.end()):
                spans.append((m.start(), m.end(), m.group(0)))
    pieces, last = [], 0
    for start, end, anchor in sorted(spans):
        pieces += [out[last:start], f'<a href="#{anchor}">{out[start:end]}</a>']
        last = end
    pieces.append(out[last:])
    return Markup("".join(pieces))
