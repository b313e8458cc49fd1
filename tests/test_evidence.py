"""What makes the report checkable, in-process: the article as described, the citation
metadata, how a verdict's evidence ids are found and linked, and a chart's data as a table."""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib

import altair as alt
import polars as pl
import yaml

from citycluster.paths import repo_root
from citycluster.report import article, citation, evidence, render, sources, xref

ROOT = repo_root()


def test_the_article_is_described_as_printed() -> None:
    """Title and author line are the printed paragraphs' text, byte for byte (their hashes)."""
    checked = article.load(ROOT / "data" / "raw" / "article.yaml")
    with (ROOT / "data" / "raw" / "article_paragraphs.csv").open(encoding="utf-8") as f:
        digest = {r["paragraph"]: r["text_sha256"] for r in csv.DictReader(f)}
    for text, paragraph in ((checked["title"], checked["title_paragraph"]),
                            (checked["author_line"], checked["author_paragraph"])):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest[paragraph]
    assert {e["paragraph"] for e in checked["dating"]} <= set(digest)
    # what the text does not give is left unknown, never filled in
    assert all(checked[k] is None for k in article.LOCATORS)


def test_citation_metadata_agree_with_the_package_and_the_article() -> None:
    cff = citation.load(ROOT)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]["text"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith(f"{cff['license']} License")
    checked = article.load(ROOT / "data" / "raw" / "article.yaml")
    assert checked["title"] in {r["title"] for r in cff["references"]}


def test_a_citation_names_the_commit_it_was_built_from() -> None:
    from citycluster.report.voice import Voice

    cff = yaml.safe_load((ROOT / citation.FILE).read_text(encoding="utf-8"))
    record = {"commit": "0123456789abcdef0123+dirty.abc", "commit_date": "2026-11-30",
              "built_at": "2026-12-07 10:00:00 UTC"}
    entry = citation.bibtex(cff, record)
    assert entry.startswith("@software{citycluster_0123456,")
    assert "0123456789ab+dirty.abc" in entry and "date = {2026-11-30}" in entry
    assert entry.count("{") == entry.count("}")
    names = pl.DataFrame({"entity_id": ["cn"], "lang": ["en"], "name": ["China"]})
    styles = citation.styles(cff, record, Voice.of("en", names))
    # APA: a group author ends with a period before the year; the version and commit follow
    # the title; GB/T 7714: [CP/OL], the version's date, then the date the report was built
    assert styles["apa"].startswith("The citycluster developers. (2026). citycluster:")
    assert "(Version 0.1.0, commit 0123456789ab+dirty.abc) [Computer software]." in styles["apa"]
    assert styles["gbt"].endswith("[CP/OL]. (2026-11-30)[2026-12-07].")
    two = {**cff, "authors": [{"family-names": "Li", "given-names": "Ming"},
                              {"family-names": "Wang", "given-names": "Fang"}]}
    assert citation.authors(two) == "Li, Ming, & Wang, Fang"
    assert citation.authors(two, "bibtex") == "Li, Ming and Wang, Fang"


REASON = json.dumps([
    {"code": "within_bounds", "args": {"bounds": {"type": "all", "items": [
        {"type": "bound", "relation": "upper_bound", "ref": {
            "type": "ref", "ids": ["sum of PROV002, PROV004/NAT001"], "unit": "fraction",
            "values": [0.5], "year": 2023, "label": {"kind": "whole_provinces",
                                                     "entity_id": "cn_big5"}}},
        {"type": "bound", "relation": "lower_bound", "ref": {
            "type": "ref", "ids": ["china_cities_2023.csv/NAT001"], "unit": "fraction",
            "values": [0.4], "year": 2023, "label": {"kind": "member_cities",
                                                     "entity_id": "cn_big5"}}}]}}},
    {"code": "implied_share", "args": {"claim": "C028", "total": "NAT006", "year": 2023}},
])


def test_a_reasons_evidence_ids_are_found_with_their_place() -> None:
    assert list(evidence.reference_ids(REASON)) == [
        ("sum of PROV002, PROV004/NAT001", "cn_big5"),
        ("china_cities_2023.csv/NAT001", "cn_big5"), ("NAT006", None)]


def test_a_derived_figure_leads_to_the_rows_it_is_built_from() -> None:
    totals = pl.DataFrame({"entity_id": ["cn_big5"], "pop_rows": ["CITY001, PROV002, NAT001"],
                           "gdp_rows": ["CITY002, NAT002"], "est_pop_rows": ["CITY001, NAT001"],
                           "est_gdp_rows": ["CITY002, NAT002"],
                           "estimated_ids_population": ["cn_city_1"],
                           "estimated_ids_gdp": [""]})
    estimates = pl.DataFrame({"entity_id": ["cn_city_1"], "metric": ["population"],
                              "base_ref": ["BASE001"], "ratio_refs": ["PROV010, PROV011"],
                              "trend_refs": ["BASE001/BASE120, PROV010/BASE092"]})
    membership = pl.DataFrame({"planning_document": ["某规划"], "document_year": [2016]},
                              schema_overrides={"document_year": pl.Int32})
    tables = {"cluster_totals": totals, "estimates": estimates, "membership": membership}
    member = evidence.derive("china_cities_2023.csv/NAT001", "cn_big5", "pop_share", "direct",
                             tables)
    assert (member.kind, member.rows) == ("member_sum", ["CITY001", "PROV002", "NAT001"])
    with_est = evidence.derive("china_cities_2023.csv/NAT001", "cn_big5", "pop_share",
                               "with_estimates", tables)
    # a city-trend estimate leads to the census counts of its trend as well
    assert with_est.rows == ["CITY001", "NAT001", "BASE001", "PROV010", "PROV011", "BASE120",
                             "BASE092"]
    assert with_est.anchor != member.anchor  # the same text, a different sum
    assert evidence.derive("FOR033−FOR032", "gb", "change", "direct", tables).rows == [
        "FOR033", "FOR032"]
    plan = evidence.derive("某规划 (2016)", "cn_yrd", "member_count", "member_count", tables)
    assert plan.kind == "plan" and plan.plan is not None
    # two plans of one year for two clusters get two entries (the check's place names them)
    check = {"claim_id": "C011", "check": "member_count", "entity_id": "cn_yrd",
             "reason_args": json.dumps([{"code": "x", "args": {"ref": {
                 "type": "ref", "ids": ["某规划 (2016)"], "label": {"kind": "plan_cities"}}}}])}
    other = {**check, "entity_id": "cn_cy"}
    assert evidence.derived_ids(check)[0][1] != evidence.derived_ids(other)[0][1]
    share = evidence.derive("sum of PROV002, PROV004/NAT001", "cn_big5", "pop_share", "direct",
                            tables)
    assert (share.kind, share.rows) == ("share", ["PROV002", "PROV004", "NAT001"])


def test_prose_ids_and_numbered_references_become_links() -> None:
    figure = xref.figure_number("cluster_map")
    text = (f"<b>C006</b> rests on sum of PROV002, PROV004/NAT001 and FOR049; "
            f"see Figure {figure} and 图{figure}, Table 5; C007的上限.")
    out = str(xref.linked(text, [("sum of PROV002, PROV004/NAT001", "d-x")]))
    assert "&lt;b&gt;" in out  # escaped first
    assert '<a href="#C006">C006</a>' in out and '<a href="#FOR049">FOR049</a>' in out
    assert '<a href="#d-x">sum of PROV002, PROV004/NAT001</a>' in out
    assert 'href="#PROV002"' not in out  # inside the derived id, not linked twice
    assert out.count('href="#fig-cluster_map"') == 2
    assert '<a href="#tab-factcheck">Table 5</a>' in out
    assert '<a href="#C007">C007</a>的' in out  # Chinese runs on without a space


def test_a_charts_data_is_every_row_it_draws() -> None:
    points = alt.Chart(pl.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})).mark_point().encode(
        x="x:Q", y="y:Q")
    rule = alt.Chart(alt.Data(values=[{"x": 2}])).mark_rule().encode(x="x:Q")
    data = render.chart_data((points + rule).to_dict())
    assert data.height == 4 and set(data.columns) == {"dataset", "x", "y"}
    assert data["dataset"].n_unique() == 2


def test_a_link_shows_the_site_or_the_doi() -> None:
    assert sources.link_text("https://doi.org/10.1073/pnas.0610172104") == \
        "doi:10.1073/pnas.0610172104"
    assert sources.link_text("https://www.stats.gov.cn/sj/") == "stats.gov.cn"
