"""Every place's name in every language, as one long table: ``entity_id, lang, name``.

The raw tables carry a Chinese and an English name beside each row (the form the article's
figures and the statistics are typed in); the report reads names only from this table, so a
chart, a table and a fact-check reason name a place the same way, and a language is one more
set of rows rather than one more column in every table.
"""

from __future__ import annotations

import polars as pl

from citycluster.data import published

#: The raw name columns, by language, of each table that has them: (id, {lang: column}).
#: In order of precedence.
NAME_COLUMNS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "claims": [("entity_id", {"zh": "entity_zh", "en": "entity_en"})],
    "reference": [("entity_id", {"zh": "entity_zh", "en": "entity_en"})],
    "membership": [("cluster_id", {"zh": "cluster_zh", "en": "cluster_en"}),
                   ("member_entity_id", {"zh": "member_zh", "en": "member_en"})],
}


def place_names(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per place and language.

    Where files spell a place differently, the first table in :data:`NAME_COLUMNS` wins: the
    claims name a place as the article does (鹤壁), while a reference row may name the
    statistical unit it measures (鹤壁市, "Texas Triangle megaregion").
    """
    frames = []
    for table, keys in NAME_COLUMNS.items():
        frame = tables[table]
        for id_col, by_lang in keys:
            for lang, col in by_lang.items():
                frames.append(frame.filter(pl.col(id_col).is_not_null(),
                                           pl.col(col).is_not_null()).select(
                    pl.col(id_col).alias("entity_id"), pl.lit(lang).alias("lang"),
                    pl.col(col).str.strip_chars().alias("name"),
                    pl.col("source_file")))
    names = pl.concat(frames).unique(["entity_id", "lang"], keep="first", maintain_order=True)
    return names.sort("entity_id", "lang", "name").select(published.columns("place_names"))
