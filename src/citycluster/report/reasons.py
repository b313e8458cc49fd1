"""A fact-check reason in the reader's language, written from its codes and numbers.

The fact-check stores each reason as phrases (``reasons.<code>`` in the catalogs) with typed
arguments: the claim as compared, references with their labels, years and ids, a gap in
years, a share. Each argument is written here with the language's number formats and words.
"""

from __future__ import annotations

import json
from typing import Any

from citycluster.report.i18n import label, message, phrase, plural, typeset
from citycluster.report.names import Names
from citycluster.report.numbers import num, readable


def reason(reason_args: str, names: Names) -> str:
    """The whole reason of one check, set in the language's punctuation."""
    parts = json.loads(reason_args)
    return typeset(names.lang, "".join(
        phrase(names.lang, "reasons", p["code"], **{k: argument(v, names)
                                                    for k, v in p["args"].items()})
        for p in parts))


def argument(value: Any, names: Names) -> str:
    """One slot's value in words."""
    lang = names.lang
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        return num(value, lang, 2)
    if not isinstance(value, dict):
        return str(value)
    kind = value["type"]
    if kind == "claimed":
        prefix = message(lang, "qualifier_prefix", value["qualifier"])
        return f"{prefix}{readable(value['value'], value['unit'], lang)}"
    if kind == "quantity":
        return readable(value["value"], value["unit"], lang)
    if kind == "gap":
        return plural(lang, "year_gap", value["years"]) if value["years"] else ""
    if kind == "label":
        return label(value["code"], lang)
    if kind == "bound":
        return phrase(lang, "references", value["relation"], ref=argument(value["ref"], names))
    if kind == "all":
        joiner = message(lang, "references", "and")
        return joiner.join(argument(item, names) for item in value["items"])
    if kind == "ref":
        return _reference(value, names)
    raise ValueError(f"unknown reason argument type {kind!r}")


def _reference(ref: dict[str, Any], names: Names) -> str:
    lang = names.lang
    values = [readable(v, ref["unit"], lang) for v in ref["values"]]
    shown = (phrase(lang, "references", "range", low=values[0], high=values[-1])
             if len(values) > 1 else values[0])
    return phrase(lang, "references", "dated" if ref["year"] is not None else "undated",
                  label=ref_label(ref["label"], names), year=ref["year"], shown=shown,
                  ids=", ".join(ref["ids"]))


def ref_label(spec: dict[str, Any], names: Names) -> str:
    """What a reference figure is: a place, and how its figure was made."""
    args = {k: argument(v, names) for k, v in spec.items() if k not in ("kind", "entity_id")}
    if "entity_id" in spec:
        args["name"] = names(spec["entity_id"])
    return phrase(names.lang, "references", spec["kind"], **args)
