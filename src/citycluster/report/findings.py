"""The section a reader meets first: what holds and what does not, in a few sentences.

It is made from the same published tables as the rest of the report: the verdicts on the
headline figure (C006, C007), the inconsistent claims one line each, the city-level share model
with its interval, and what the data cannot support.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from citycluster.report.voice import Voice

#: The article's headline figure: the five clusters' population and GDP shares.
HEADLINE = ("C006", "C007")
#: The model whose key slope the findings report.
KEY_MODEL = "share_cities"


def findings(checks: pl.DataFrame, totals: pl.DataFrame, models: pl.DataFrame,
             claims: pl.DataFrame, v: Voice) -> dict[str, Any]:
    """The findings as a lead paragraph list and one line per inconsistent claim."""
    t = v.t
    direct = checks.filter(pl.col("check") == "direct")
    verdict = dict(direct.select("claim_id", "verdict").iter_rows())
    claim = {r["claim_id"]: r for r in claims.iter_rows(named=True)}
    out = []
    big5 = totals.filter(pl.col("entity_id") == "cn_big5")
    if big5.height and all(c in verdict for c in HEADLINE):
        b = big5.row(0, named=True)
        both = {verdict[c] for c in HEADLINE}
        overall = ("findings_fails" if "inconsistent" in both else
                   "findings_holds" if both == {"consistent"} else "findings_open")
        out.append(t("findings_headline", overall=t(overall), pop=v.claimed(claim[HEADLINE[0]]),
                     gdp=v.claimed(claim[HEADLINE[1]]),
                     plow=v.pct(b["pop_share_low"], 1), phigh=v.pct(b["pop_share_high"], 1),
                     glow=v.pct(b["gdp_share_low"], 1), ghigh=v.pct(b["gdp_share_high"], 1),
                     pop_verdict=t(verdict[HEADLINE[0]]), gdp_verdict=t(verdict[HEADLINE[1]])))
    fit = models.filter(pl.col("model") == KEY_MODEL, pl.col("term") == "pop_share",
                        pl.col("status") == "fitted")
    if fit.height:
        m = fit.row(0, named=True)
        above = m["ci_low"] > 1
        out.append(t("findings_model", n=m["n"], slope=v.num(m["estimate"], 2),
                     low=v.num(m["ci_low"], 2), high=v.num(m["ci_high"], 2),
                     reading=t("findings_premium" if above else "findings_no_premium")))
    counts = dict(direct.group_by("verdict").len().iter_rows())
    weak = int(checks.filter(pl.col("verdict") != "unverifiable")["weak_basis"].sum())
    out.append(t("findings_limits", n=direct.height, unverifiable=counts.get("unverifiable", 0),
                 weak=weak, cities=fit.row(0, named=True)["n"] if fit.height else 0))
    wrong = [t("claim_reason", claim=r["claim_id"], reason=v.reason(r["reason_args"]))
             for r in direct.filter(
        pl.col("verdict") == "inconsistent").sort("claim_id").iter_rows(named=True)]
    return {"lead": out, "intro": t("findings_inconsistent", n=len(wrong)), "items": wrong}


def section(checks: pl.DataFrame, totals: pl.DataFrame, models: pl.DataFrame,
            claims: pl.DataFrame, v: Voice) -> str:
    """The findings section as HTML (escaped like every other section)."""
    from citycluster.report.html import render_template

    return render_template("findings.html.j2", title=v.t("findings_title"),
                           **findings(checks, totals, models, claims, v))
