"""The results section, built as questions a reader would ask of the models.

Each question is answered from one model's key term: a sentence or two with the 95% interval,
the figure drawn from the same model's outputs, then what the data cannot say. Each finding is
stated once, here; the opening summary only says which way each answer goes
(:func:`glance`), and the table of key estimates closes the section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from markupsafe import Markup

from citycluster.analysis.keyrows import key_slopes
from citycluster.report import exhibit, html
from citycluster.report.voice import Voice

Tables = dict[str, pl.DataFrame]
Row = dict[str, Any]


@dataclass(frozen=True)
class Question:
    """One question of the results: the model that answers it, its figures, and how its answer
    and limits are written (each a function of the tables, the key row and the voice)."""

    id: str
    model: str
    figures: tuple[tuple[str, str], ...]  # (figure name, caption key)
    answer: Callable[[Tables, Row, Voice], list[str]]
    limits: Callable[[Tables, Row, Voice], list[str]]


def key_slope_of(models: pl.DataFrame) -> dict[str, Row]:
    """Each fitted model's key-term row (the one carrying the diagnostics)."""
    return {r["model"]: r for r in key_slopes(models).iter_rows(named=True)}


def _slope(voice: Voice, row: Row) -> dict[str, Any]:
    return {"n": row["n"], "slope": voice.num(row["estimate"], 2),
            "low": voice.num(row["ci_low"], 2), "high": voice.num(row["ci_high"], 2)}


def _p_value(tables: Tables, model: str, voice: Voice) -> str:
    tests = dict(tables["model_tests"].select("model", "p_value").iter_rows())
    return voice.num(tests[model], 2) if model in tests else ""


def _term(tables: Tables, model: str, term: str) -> Row:
    return tables["models"].filter(pl.col("model") == model, pl.col("term") == term).row(
        0, named=True)


def premium_answer(tables: Tables, row: Row, voice: Voice) -> list[str]:
    member = _term(tables, row["model"], "member")
    return [voice.t("models_cities", **_slope(voice, row), member=voice.pct(member["estimate"], 2),
                mlow=voice.pct(member["ci_low"], 2), mhigh=voice.pct(member["ci_high"], 2))]


def premium_limits(tables: Tables, row: Row, voice: Voice) -> list[str]:
    return [voice.t("limits_premium", n=row["n"])]


def scaling_answer(tables: Tables, row: Row, voice: Voice) -> list[str]:
    out = [voice.t("scaling_cities", n=row["n"], beta=voice.num(row["estimate"], 2),
               low=voice.num(row["ci_low"], 2), high=voice.num(row["ci_high"], 2))]
    for pub in tables["model_comparison"].filter(pl.col("model") == row["model"]).iter_rows(
            named=True):
        out.append(voice.t("scaling_published_cities", pub=voice.num(pub["published"], 2),
                       plow=voice.num(pub["published_low"], 2),
                       phigh=voice.num(pub["published_high"], 2), pyear=pub["published_year"],
                       kind=voice.label(pub["published_source_kind"]),
                       refs=voice.t("ref_ids", ids=pub["published_refs"])))
    return out


def scaling_limits(tables: Tables, row: Row, voice: Voice) -> list[str]:
    return [voice.t("limits_scaling")]


def linkage_answer(tables: Tables, row: Row, voice: Voice) -> list[str]:
    out = [voice.t("linkage_cities", **_slope(voice, row))]
    capital = key_slope_of(tables["models"]).get("linkage_capital_cities")
    if capital is not None:
        provinces = tables["models"].filter(pl.col("model") == capital["model"],
                                       pl.col("term").str.starts_with("C(")).height + 1
        out.append(voice.t("linkage_capital", **_slope(voice, capital), provinces=provinces))
    return out


def linkage_limits(tables: Tables, row: Row, voice: Voice) -> list[str]:
    out = [voice.t("limits_linkage")]
    for r in tables["models"].filter(pl.col("status") == "not estimable",
                                pl.col("family") == "linkage").iter_rows(named=True):
        out.append(voice.t("linkage_none", places=voice.plural("n_places", r["n"])))
    return out


def places_answer(tables: Tables, row: Row, voice: Voice) -> list[str]:
    return [voice.t("models_share", **_slope(voice, row), p=_p_value(tables, row["model"], voice))]


def places_limits(tables: Tables, row: Row, voice: Voice) -> list[str]:
    ref = key_slope_of(tables["models"]).get("share_entities_reference")
    return [voice.t("limits_places", n=row["n"], n_ref=ref["n"] if ref else 0)]


def provinces_answer(tables: Tables, row: Row, voice: Voice) -> list[str]:
    verdict = voice.t("prop_yes") if row["ci_low"] <= 1 <= row["ci_high"] else voice.t("prop_no")
    p_value = _p_value(tables, row["model"], voice)
    out = [voice.t("models_provinces", **_slope(voice, row), p=p_value, verdict=verdict)]
    scaling = key_slope_of(tables["models"]).get("scaling_provinces")
    if scaling is not None:
        out.append(voice.t("scaling_intro", beta=voice.num(scaling["estimate"], 2),
                       low=voice.num(scaling["ci_low"], 2), high=voice.num(scaling["ci_high"], 2)))
    return out


def provinces_limits(tables: Tables, row: Row, voice: Voice) -> list[str]:
    return [voice.t("limits_provinces")]


#: The questions, in the order the section asks them.
QUESTIONS: tuple[Question, ...] = (
    Question("premium", "share_cities", (("city_shares", "figure_city_shares"),),
             premium_answer, premium_limits),
    Question("scaling", "scaling_cities", (("city_scaling", "figure_city_scaling"),),
             scaling_answer, scaling_limits),
    Question("linkage", "linkage_distance_cities", (("city_linkage", "figure_city_linkage"),
                                                    ("city_capital", "figure_city_capital")),
             linkage_answer, linkage_limits),
    Question("places", "share_entities", (("share_scatter", "figure_share"),
                                          ("premium_bars", "figure_premium")),
             places_answer, places_limits),
    Question("provinces", "share_provinces", (("province_shares", "figure_province_shares"),
                                              ("province_scaling", "figure_province_scaling")),
             provinces_answer, provinces_limits),
)


def reading(row: Row) -> str:
    """Which way a key slope goes against its null value: ``above``, ``below`` or ``spans``."""
    null = row["null_value"] or 0.0
    return "above" if row["ci_low"] > null else "below" if row["ci_high"] < null else "spans"


def glance(tables: Tables, voice: Voice) -> list[dict[str, str]]:
    """For the summary: each question with which way its answer goes, no number repeated."""
    rows = key_slope_of(tables["models"])
    return [{"href": f"#q-{q.id}", "question": voice.t(f"q_{q.id}"),
             "answer": voice.t(f"glance_{reading(rows[q.model])}",
                           null=voice.num(rows[q.model]["null_value"] or 0.0, 0))}
            for q in QUESTIONS if q.model in rows]


def key_table(models: pl.DataFrame, voice: Voice) -> dict[str, Any]:
    """The key estimate of every fitted model, with its intervals and reading warnings."""
    def f3(x: float) -> str:
        return voice.num(x, 3)

    rows = pl.DataFrame([{
        "term": voice.t("model_term", model=voice.label(r["model"]), term=voice.label(r["term"])),
        "estimate": r["estimate"], "ci": voice.interval(r["ci_low"], r["ci_high"]),
        "boot": voice.interval(r["boot_ci_low"], r["boot_ci_high"]), "n": r["n"],
        "r_squared": r["r_squared"], "reading": html.reading(r, voice)}
        for r in key_slope_of(models).values()])
    return html.table(rows, [voice.t(k) for k in ("table_term", "table_estimate", "table_ci",
                                              "table_boot", "table_n", "table_r2",
                                              "table_warning")],
                      {"estimate": f3, "r_squared": f3})


def section(tables: Tables, voice: Voice) -> str:
    """The results section as HTML: the questions, then the table of key estimates."""
    rows = key_slope_of(tables["models"])
    questions = [{
        "id": f"q-{q.id}", "title": voice.t(f"q_{q.id}"),
        "answer": q.answer(tables, rows[q.model], voice),
        "figures": Markup(exhibit.figures(tables, voice, q.figures)),
        "limits": voice.t("sentence_sep").join(q.limits(tables, rows[q.model], voice))}
        for q in QUESTIONS if q.model in rows]
    return html.render_template(
        "results.html.j2", title=voice.t("models_title"), intro=voice.t("models_intro"),
        questions=questions, limits_lead=voice.t("limits_lead"),
        table=key_table(tables["models"], voice),
        caption=html.numbered("models", voice.t("models_table"), voice))
