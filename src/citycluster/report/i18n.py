"""The report's words in the reader's language: sentences, labels, plurals and punctuation.

Every string a reader sees comes from the language's catalog (:mod:`citycluster.languages`);
this module fills its slots with computed values and sets the result in the language's
punctuation. Nothing here knows which languages exist: a lookup that fails names the catalog
file and the key, so a missing translation is an error, never a silent fallback.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import cache
from typing import Any

from babel import Locale

from citycluster import languages
from citycluster.errors import LookupFailed

#: The report's sections, in reading order; each has a ``<id>_title`` entry in the catalogs.
SECTIONS = ("findings", "claims", "data", "validation", "models", "cases", "factcheck",
            "caveats", "sources", "cite")


class MissingMessage(LookupFailed):
    """A catalog lacks a key, or a sentence a slot, that the report needs."""


def entries(lang: str, section: str) -> Mapping[str, Any]:
    """One section of a catalog (``text``, ``labels``, ``chart``, ``units`` ...)."""
    try:
        return languages.catalog(lang)[section]
    except KeyError:
        raise MissingMessage(f"{languages.catalog_path(lang)}: no section {section!r}") from None


def message(lang: str, section: str, key: str) -> Any:
    """A raw catalog entry; a missing one names the file, section and key."""
    try:
        return entries(lang, section)[key]
    except KeyError:
        raise MissingMessage(f"{languages.catalog_path(lang)}: no {section}.{key}") from None


def fill(lang: str, section: str, key: str, template: str, values: Mapping[str, Any]) -> str:
    """A template with its slots filled; a slot the caller did not give is named."""
    try:
        return template.format(**values)
    except KeyError as exc:
        raise MissingMessage(f"{languages.catalog_path(lang)}: {section}.{key} needs "
                             f"{exc.args[0]!r}, which the report did not give") from None


def text(lang: str, key: str, **values: Any) -> str:
    """A sentence of the report with computed values filled in, in the language's
    punctuation."""
    return typeset(lang, fill(lang, "text", key, message(lang, "text", key), values))


def phrase(lang: str, section: str, key: str, **values: Any) -> str:
    """An entry of any section with its slots filled (no typesetting: part of a sentence)."""
    return fill(lang, section, key, message(lang, section, key), values)


def plural(lang: str, key: str, n: int) -> str:
    """A count with its noun in the right plural form (``1 warning``, ``3 warnings``).

    Babel gives the CLDR plural category of ``n`` in the language; the catalog gives one form
    per category the language has, and ``other`` at least.
    """
    forms = message(lang, "plurals", key)
    category = Locale.parse(babel_locale(lang)).plural_form(n)
    template = forms.get(category, forms["other"])
    return fill(lang, "plurals", key, template, {"n": n})


def label(code: str, lang: str) -> str:
    """A code from the data (a source kind, a metric, a model term) in words."""
    return typeset(lang, str(message(lang, "labels", code)))


def chart_labels(lang: str) -> dict[str, str]:
    """Chart titles, axes, tooltips and descriptions, in the language's punctuation."""
    return {k: typeset(lang, v) for k, v in entries(lang, "chart").items()}


def language_name(lang: str) -> str:
    """The language's own name for itself (中文, English), for the links between reports."""
    return str(message(lang, "text", "lang_name"))


def language_tag(lang: str) -> str:
    """The BCP 47 tag a page or a passage in ``lang`` declares (``zh-Hans``): readers' fonts
    and screen readers choose by script, not by the catalog's short code."""
    return str(languages.catalog(lang)["meta"].get("tag", lang))


def babel_locale(lang: str) -> str:
    """The Babel locale whose number formats the language uses."""
    return str(languages.catalog(lang)["meta"]["babel"])


@cache
def _script(lang: str) -> re.Pattern[str] | None:
    pattern = languages.catalog(lang)["meta"].get("script")
    return re.compile(pattern) if pattern else None


def typeset_variants(token: str, lang: str) -> tuple[str, ...]:
    """The ways ``token`` (an id from the data) can read once a sentence around it is typeset:
    as it is, and with the language's marks in place of the ASCII ones, as Chinese text
    around it would set them (``规划 (2016)`` in ``…〔规划 （2016）〕``)."""
    marks: dict[str, str] = languages.catalog(lang)["meta"].get("typography") or {}
    return tuple(dict.fromkeys((token, "".join(marks.get(c, c) for c in token))))


def typeset(lang: str, sentence: str) -> str:
    """The sentence with the language's punctuation where it touches the language's script.

    Parentheses are replaced when what they enclose, or what touches them, is in the script;
    then a comma, semicolon or colon is when a character of the script or an already
    replaced mark is next to it. So in Chinese "(2023年)" becomes "（2023年）" while "1,234"
    and "(ONS, 1981)" in a Latin context stay as they are.
    """
    marks: dict[str, str] = languages.catalog(lang)["meta"].get("typography") or {}
    script = _script(lang)
    if not marks or script is None:
        return sentence
    full = set(marks.values())
    chars = list(sentence)
    opened: list[int] = []
    for i, c in enumerate(chars):  # parentheses first: one around Chinese text is Chinese
        if c == "(":
            opened.append(i)
        elif c == ")" and opened:
            start = opened.pop()
            span = "".join(chars[max(start - 1, 0):i + 2])
            if script.search(span) and "(" in marks:
                chars[start], chars[i] = marks["("], marks[")"]
    for i, c in enumerate(chars):
        if c in marks and c not in "()":
            before = chars[i - 1] if i else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if (script.match(before) or script.match(after) or before in full
                    or after in full):
                chars[i] = marks[c]
    return "".join(chars)


def slots(template: str) -> set[str]:
    """The names of the ``{slots}`` a template has (for the catalog parity test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def parity_problems(reference: Mapping[str, Any], candidate: Mapping[str, Any],
                    plural_tags: set[str] | None = None, where: str = "") -> list[str]:
    """How a catalog differs from the reference one: missing or extra keys, slots that differ,
    plural entries without the forms the language needs. Empty when they agree."""
    problems = []
    for key in sorted(set(reference) | set(candidate)):
        path = f"{where}.{key}" if where else key
        if path == "meta" or path.startswith("meta."):
            continue
        if key not in candidate:
            problems.append(f"missing {path}")
        elif key not in reference:
            problems.append(f"extra {path}")
        elif where == "plurals":
            forms = candidate[key]
            needed = (plural_tags or {"other"}) | {"other"}
            if not isinstance(forms, Mapping) or not needed <= set(forms):
                problems.append(f"{path} needs the forms {', '.join(sorted(needed))}")
                continue
            ref_slots = set().union(*(slots(f) for f in reference[key].values()))
            for form, template in forms.items():
                if slots(template) != ref_slots:
                    problems.append(f"{path}.{form} has slots {sorted(slots(template))}, "
                                    f"not {sorted(ref_slots)}")
        elif isinstance(reference[key], Mapping):
            if not isinstance(candidate[key], Mapping):
                problems.append(f"{path} should be a mapping")
            else:
                problems += parity_problems(reference[key], candidate[key], plural_tags, path)
        elif isinstance(reference[key], str) and slots(reference[key]) != slots(
                str(candidate[key])):
            problems.append(f"{path} has slots {sorted(slots(str(candidate[key])))}, not "
                            f"{sorted(slots(reference[key]))}")
    return problems
