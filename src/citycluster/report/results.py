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


def _slope(v: Voice, row: Row) -> dict[str, Any]:
    return {"n": row["n"], "slope": v.num(row["estimate"], 2), "low": v.num(row["ci_low"], 2),
            "high": v.num(row["ci_high"], 2)}


def _p_value(d: Tables, model: str, v: Voice) -> str:
    tests = dict(d["model_tests"].select("model", "p_value").iter_rows())
    return v.num(tests[model], 2) if model in tests else ""


def _term(d: Tables, model: str, term: str) -> Row:
    return d["models"].filter(pl.col("model") == model, pl.col("term") == term).row(
        0, named=True)


def premium_answer(d: Tables, row: Row, v: Voice) -> list[str]:
    member = _term(d, row["model"], "member")
    return [v.t("models_cities", **_slope(v, row), member=v.pct(member["estimate"], 2),
                mlow=v.pct(member["ci_low"], 2), mhigh=v.pct(member["ci_high"], 2))]


def premium_limits(d: Tables, row: Row, v: Voice) -> list[str]:
    return [v.t("limits_premium", n=row["n"])]


def scaling_answer(d: Tables, row: Row, v: Voice) -> list[str]:
    out = [v.t("scaling_cities", n=row["n"], beta=v.num(row["estimate"], 2),
               low=v.num(row["ci_low"], 2), high=v.num(row["ci_high"], 2))]
    for pub in d["model_comparison"].filter(pl.col("model") == row["model"]).iter_rows(
            named=True):
        out.append(v.t("scaling_published_cities", pub=v.num(pub["published"], 2),
                       plow=v.num(pub["published_low"], 2),
                       phigh=v.num(pub["published_high"], 2), pyear=pub["published_year"],
                       kind=v.label(pub["published_source_kind"]),
                       refs=v.t("ref_ids", ids=pub["published_refs"])))
    return out


def scaling_limits(d: Tables, row: Row, v: Voice) -> list[str]:
    return [v.t("limits_scaling")]


def linkage_answer(d: Tables, row: Row, v: Voice) -> list[str]:
    out = [v.t("linkage_cities", **_slope(v, row))]
    capital = key_slope_of(d["models"]).get("linkage_capital_cities")
    if capital is not None:
        provinces = d["models"].filter(pl.col("model") == capital["model"],
                                       pl.col("term").str.starts_with("C(")).height + 1
        out.append(v.t("linkage_capital", **_slope(v, capital), provinces=provinces))
    return out


def linkage_limits(d: Tables, row: Row, v: Voice) -> list[str]:
    out = [v.t("limits_linkage")]
    for r in d["models"].filter(pl.col("status") == "not estimable",
                                pl.col("family") == "linkage").iter_rows(named=True):
        out.append(v.t("linkage_none", places=v.plural("n_places", r["n"])))
    return out


def places_answer(d: Tables, row: Row, v: Voice) -> list[str]:
    return [v.t("models_share", **_slope(v, row), p=_p_value(d, row["model"], v))]


def places_limits(d: Tables, row: Row, v: Voice) -> list[str]:
    ref = key_slope_of(d["models"]).get("share_entities_reference")
    return [v.t("limits_places", n=row["n"], n_ref=ref["n"] if ref else 0)]


def provinces_answer(d: Tables, row: Row, v: Voice) -> list[str]:
    verdict = v.t("prop_yes") if row["ci_low"] <= 1 <= row["ci_high"] else v.t("prop_no")
    out = [v.t("models_provinces", **_slope(v, row), p=_p_value(d, row["model"], v),
               verdict=verdict)]
    scaling = key_slope_of(d["models"]).get("scaling_provinces")
    if scaling is not None:
        out.append(v.t("scaling_intro", beta=v.num(scaling["estimate"], 2),
                       low=v.num(scaling["ci_low"], 2), high=v.num(scaling["ci_high"], 2)))
    return out


def provinces_limits(d: Tables, row: Row, v: Voice) -> list[str]:
    return [v.t("limits_provinces")]


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


def glance(d: Tables, v: Voice) -> list[dict[str, str]]:
    """For the summary: each question with which way its answer goes, no number repeated."""
    rows = key_slope_of(d["models"])
    return [{"href": f"#q-{q.id}", "question": v.t(f"q_{q.id}"),
             "answer": v.t(f"glance_{reading(rows[q.model])}",
                           null=v.num(rows[q.model]["null_value"] or 0.0, 0))}
            for q in QUESTIONS if q.model in rows]


def key_table(models: pl.DataFrame, v: Voice) -> dict[str, Any]:
    """The key estimate of every fitted model, with its intervals and reading warnings."""
    def f3(x: float) -> str:
        return v.num(x, 3)

    rows = pl.DataFrame([{
        "term": v.t("model_term", model=v.label(r["model"]), term=v.label(r["term"])),
        "estimate": r["estimate"], "ci": v.interval(r["ci_low"], r["ci_high"]),
        "boot": v.interval(r["boot_ci_low"], r["boot_ci_high"]), "n": r["n"],
        "r_squared": r["r_squared"], "reading": html.reading(r, v)}
        for r in key_slope_of(models).values()])
    return html.table(rows, [v.t(k) for k in ("table_term", "table_estimate", "table_ci",
                                              "table_boot", "table_n", "table_r2",
                                              "table_warning")],
                      {"estimate": f3, "r_squared": f3})


def section(d: Tables, v: Voice) -> str:
    """The results section as HTML: the questions, then the table of key estimates."""
    rows = key_slope_of(d["models"])
    questions = [{
        "id": f"q-{q.id}", "title": v.t(f"q_{q.id}"),
        "answer": q.answer(d, rows[q.model], v),
        "figures": Markup(exhibit.figures(d, v, q.figures)),
        "limits": v.t("sentence_sep").join(q.limits(d, rows[q.model], v))}
        for q in QUESTIONS if q.model in rows]
    return html.render_template(
        "results.html.j2", title=v.t("models_title"), intro=v.t("models_intro"),
        questions=questions, limits_lead=v.t("limits_lead"), table=key_table(d["models"], v),
        caption=html.numbered("models", v.t("models_table"), v))
