"""The section a reader meets first: what holds and what does not, in a few sentences.

It states the headline finding (the five clusters' shares, C006 and C007, against the bounds
summed from their member cities) and how many of the article's figures hold, and lists the
results' questions with the way each answer goes, linked to where the answer is given with its
interval. No finding stated later in the report is repeated here.
"""

from __future__ import annotations

import polars as pl

from citycluster.factcheck.verdicts import CONSISTENT, INCONSISTENT, UNVERIFIABLE
from citycluster.report import exhibit, results
from citycluster.report.charts import HEADLINE
from citycluster.report.voice import Voice
from citycluster.report.xref import figure_number


def lead(checks: pl.DataFrame, totals: pl.DataFrame, claims: pl.DataFrame,
         voice: Voice) -> list[str]:
    """The headline verdicts with their bounds, and why the bounds are as wide as they are."""
    t = voice.t
    direct = checks.filter(pl.col("check") == "direct")
    verdict = dict(direct.select("claim_id", "verdict").iter_rows())
    claim = {r["claim_id"]: r for r in claims.iter_rows(named=True)}
    big5 = totals.filter(pl.col("entity_id") == "cn_big5")
    if not big5.height or not all(c in verdict for c in HEADLINE):
        return []
    b = big5.row(0, named=True)
    both = {verdict[c] for c in HEADLINE}
    overall = ("findings_fails" if INCONSISTENT in both else
               "findings_holds" if both == {CONSISTENT} else "findings_open")
    return [t("findings_headline", overall=t(overall), pop=voice.claimed(claim[HEADLINE[0]]),
              gdp=voice.claimed(claim[HEADLINE[1]]),
              plow=voice.pct(b["pop_share_low"], 1), phigh=voice.pct(b["pop_share_high"], 1),
              glow=voice.pct(b["gdp_share_low"], 1), ghigh=voice.pct(b["gdp_share_high"], 1),
              pop_verdict=t(verdict[HEADLINE[0]]), gdp_verdict=t(verdict[HEADLINE[1]]),
              figure=t("figure_ref", n=figure_number("headline"))),
            t("findings_coverage", members=b["members"], known_pop=b["members_known_population"],
              known_gdp=b["members_known_gdp"])]


def with_estimates(checks: pl.DataFrame, totals: pl.DataFrame, voice: Voice) -> list[str]:
    """Each headline verdict again on observed plus estimated member figures, the members the
    estimates stand for, and how much the verdict rests on them: the total the missing members
    would need for it to change, beside what the estimates give them."""
    big5 = totals.filter(pl.col("entity_id") == "cn_big5")
    rows = checks.filter(pl.col("check") == "with_estimates",
                         pl.col("claim_id").is_in(list(HEADLINE)))
    if not big5.height:
        return []
    b = big5.row(0, named=True)
    out = []
    for r in rows.sort("claim_id").iter_rows(named=True):
        metric = "population" if r["metric"] == "pop_share" else "gdp"
        unit = "persons" if metric == "population" else "CNY"
        national = b[f"observed_{metric}"] / b[f"{r['metric']}_low"]
        low, high = b[f"est_{r['metric']}_low"], b[f"est_{r['metric']}_high"]
        if high < r["claimed_low"]:
            needed, side = r["claimed_low"] * national - b[f"observed_{metric}"], "at_least"
        elif low > r["claimed_high"]:
            needed, side = r["claimed_high"] * national - b[f"observed_{metric}"], "at_most"
        else:
            needed, side = None, None
        named = [e for e in (b[f"estimated_ids_{metric}"] or "").split(", ") if e]
        n = b[f"members_estimated_{metric}"]
        missing = b["members"] - b[f"members_known_{metric}"]
        out.append(voice.t("findings_estimated", claim=r["claim_id"], metric=voice.label(metric),
                       estimated=voice.plural("n_are_estimated", n), missing=missing,
                       low=voice.pct(low, 1),
                       high=voice.pct(high, 1), verdict=voice.t(r["verdict"]),
                       members=voice.t("name_sep").join(voice.name(e) for e in named)))
        if missing > n:
            rest = voice.plural("n_figures_have", missing - n)
            out.append(voice.t("findings_unestimated", rest=rest, metric=voice.label(metric)))
        if needed is not None:
            out.append(voice.t(f"findings_flip_{side}", needed=voice.readable(needed, unit),
                           estimated=voice.readable(b[f"estimated_{metric}"], unit)))
            if missing > n:
                out.append(voice.t(f"findings_flip_rest_{side}", claim=r["claim_id"],
                               metric=voice.label(metric)))
    return out


def close(checks: pl.DataFrame, voice: Voice) -> list[str]:
    """How the article's figures fare as a whole; the fact-check lists them one by one."""
    direct = checks.filter(pl.col("check") == "direct")
    counts = dict(direct.group_by("verdict").len().iter_rows())
    return [voice.t("findings_verdicts", n=direct.height, consistent=counts.get(CONSISTENT, 0),
                inconsistent=counts.get(INCONSISTENT, 0),
                unverifiable=counts.get(UNVERIFIABLE, 0))]


def section(tables: dict[str, pl.DataFrame], voice: Voice) -> str:
    """The findings section as HTML (escaped like every other section): the answer in one
    paragraph, the headline figure, then why the bounds are as wide as they are, what the
    estimates change, which way each result goes and how the claims fare."""
    from markupsafe import Markup

    from citycluster.report.html import render_template

    headline, *details = lead(tables["factcheck"], tables["cluster_totals"], tables["claims"],
                              voice) or [""]
    return render_template(
        "findings.html.j2", title=voice.t("findings_title"), lead=[headline] if headline else [],
        figure=Markup(exhibit.figure("headline", tables, voice, voice.t("figure_headline"))),
        details=[*details, *with_estimates(tables["factcheck"], tables["cluster_totals"], voice)],
        glance_intro=voice.t("findings_glance"), glance=results.glance(dict(tables), voice),
        close=close(tables["factcheck"], voice))
