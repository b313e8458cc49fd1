"""Everything a section needs to write in one language, in one object.

A section is given a :class:`Voice` and asks it for sentences, labels, numbers, place names
and fact-check reasons; it never branches on the language itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from citycluster.report import i18n, numbers, reasons
from citycluster.report.names import Names


@dataclass(frozen=True)
class Voice:
    """The report's language: its catalog and its place names."""

    lang: str
    names: Names

    @classmethod
    def of(cls, lang: str, place_names: pl.DataFrame) -> Voice:
        return cls(lang, Names(place_names, lang))

    def t(self, key: str, **values: Any) -> str:
        """A sentence with its slots filled, in the language's punctuation."""
        return i18n.text(self.lang, key, **values)

    def label(self, code: str) -> str:
        """A code from the data in words."""
        return i18n.label(code, self.lang)

    def rule(self, name: str) -> str:
        """A named validation rule in words."""
        return i18n.typeset(self.lang, str(i18n.message(self.lang, "rules", name)))

    def plural(self, key: str, n: int) -> str:
        """A count with its noun in the right plural form."""
        return i18n.plural(self.lang, key, n)

    def chart(self) -> dict[str, str]:
        """Chart titles, axes and descriptions."""
        return i18n.chart_labels(self.lang)

    def pct(self, x: float, digits: int = 1) -> str:
        return numbers.pct(x, self.lang, digits)

    def num(self, x: float, digits: int = 2, signed: bool = False) -> str:
        return numbers.num(x, self.lang, digits, signed)

    def interval(self, low: float | None, high: float | None, digits: int = 3) -> str:
        return numbers.interval(low, high, self.lang, digits)

    def date(self, value: object) -> str:
        return numbers.date(value, self.lang)

    def quantity(self, value: float | None, base_unit: str, signed: bool = False) -> str:
        return numbers.quantity(value, base_unit, self.lang, signed)

    def readable(self, value: float | None, base_unit: str) -> str:
        return numbers.readable(value, base_unit, self.lang)

    def claimed(self, claim: dict[str, Any]) -> str:
        """A claim's figure in words, with the wording it commits to (about 45%, 约45%)."""
        return reasons.argument({"type": "claimed", "value": claim["value_base"],
                                 "unit": claim["base_unit"], "qualifier": claim["qualifier"]},
                                self.names)

    def axis_scale(self, kind: str) -> tuple[float, str]:
        return numbers.axis_scale(kind, self.lang)

    def reason(self, reason_args: str) -> str:
        """A fact-check reason, written from its codes and numbers."""
        return reasons.reason(reason_args, self.names)

    def name(self, entity_id: str) -> str:
        """A place's name."""
        return self.names(entity_id)

    def name_of(self, column: str = "entity_id") -> pl.Expr:
        """An expression naming the place in ``column``."""
        return self.names.of(column)

    def typeset(self, sentence: str) -> str:
        return i18n.typeset(self.lang, sentence)
