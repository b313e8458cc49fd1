"""Places by name in the report's language, from the published ``place_names`` table."""

from __future__ import annotations

import polars as pl

from citycluster.report.i18n import MissingMessage


class Names:
    """The names of every place in one language; a place without one is an error that names
    it, never a silent code in the reader's text."""

    def __init__(self, place_names: pl.DataFrame, lang: str) -> None:
        self.lang = lang
        self._names: dict[str, str] = dict(place_names.filter(pl.col("lang") == lang).select(
            "entity_id", "name").iter_rows())
        if not self._names:
            raise MissingMessage(f"place_names has no names in {lang!r}: add them beside the "
                                 "catalog of the language")

    def __call__(self, entity_id: str) -> str:
        try:
            return self._names[entity_id]
        except KeyError:
            raise MissingMessage(f"place_names has no {self.lang!r} name for "
                                 f"{entity_id!r}") from None

    def of(self, column: str = "entity_id") -> pl.Expr:
        """An expression giving the name of the place in ``column``."""
        return pl.col(column).map_elements(self, return_dtype=pl.String)
