"""The section a reader meets first: what holds and what does not, in a few sentences.

It is made from the same published tables as the rest of the report: the verdicts on the
headline figure (C006, C007), the inconsistent claims one line each, the city-level share model
with its interval, and what the data cannot support.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from citycluster.formatting import num, pct
from citycluster.report.text import reason_column, text, typeset

#: The article's headline figure: the five clusters' population and GDP shares.
HEADLINE = ("C006", "C007")
#: The model whose key slope the findings report.
KEY_MODEL = "share_cities"


def findings(checks: pl.DataFrame, totals: pl.DataFrame, models: pl.DataFrame,
               claims: pl.DataFrame, lang: str) -> dict[str, Any]:
    """The findings as a lead paragraph list and one line per inconsistent claim."""
    t = lambda key, **v: text(lang, key, **v)  # noqa: E731
    direct = checks.filter(pl.col("check") == "direct")
    verdict = dict(direct.select("claim_id", "verdict").iter_rows())
    printed = dict(claims.select("claim_id", "printed").iter_rows())
    out = []
    big5 = totals.filter(pl.col("entity_id") == "cn_big5")
    if big5.height and all(c in verdict for c in HEADLINE):
        b = big5.row(0, named=True)
        both = {verdict[c] for c in HEADLINE}
        overall = ("findings_fails" if "inconsistent" in both else
                   "findings_holds" if both == {"consistent"} else "findings_open")
        out.append(t("findings_headline", overall=t(overall), pop=printed[HEADLINE[0]],
                     gdp=printed[HEADLINE[1]],
                     plow=pct(b["pop_share_low"], 1), phigh=pct(b["pop_share_high"], 1),
                     glow=pct(b["gdp_share_low"], 1), ghigh=pct(b["gdp_share_high"], 1),
                     pop_verdict=t(verdict[HEADLINE[0]]), gdp_verdict=t(verdict[HEADLINE[1]])))
    fit = models.filter(pl.col("model") == KEY_MODEL, pl.col("term") == "pop_share",
                        pl.col("status") == "fitted")
    if fit.height:
        m = fit.row(0, named=True)
        above = m["ci_low"] > 1
        out.append(t("findings_model", n=m["n"], slope=num(m["estimate"], 2),
                     low=num(m["ci_low"], 2), high=num(m["ci_high"], 2),
                     reading=t("findings_premium" if above else "findings_no_premium")))
    counts = dict(direct.group_by("verdict").len().iter_rows())
    weak = int(checks.filter(pl.col("verdict") != "unverifiable")["weak_basis"].sum())
    out.append(t("findings_limits", n=direct.height, unverifiable=counts.get("unverifiable", 0),
                 weak=weak, cities=fit.row(0, named=True)["n"] if fit.height else 0))
    reason = reason_column(lang)
    wrong = [typeset(lang, f"{r['claim_id']} · {r[reason]}") for r in direct.filter(
        pl.col("verdict") == "inconsistent").sort("claim_id").iter_rows(named=True)]
    return {"lead": out, "intro": t("findings_inconsistent", n=len(wrong)), "items": wrong}


def section(checks: pl.DataFrame, totals: pl.DataFrame, models: pl.DataFrame,
            claims: pl.DataFrame, lang: str) -> str:
    """The findings section as HTML (escaped like every other section)."""
    from citycluster.report.html import render_template

    return render_template("findings.html.j2", title=text(lang, "findings_title"),
                           **findings(checks, totals, models, claims, lang))
