"""The rendered outputs as files: bound prose, escaping, size, figures, index, provenance."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from citycluster.report import charts
from tests.conftest import TAMPERED_STEPS, DataAware

pytestmark = pytest.mark.chain
MAX_REPORT_BYTES = 1_500_000


def body(root: Path, lang: str) -> str:
    return (root / "reports" / f"report.{lang}.html").read_text(encoding="utf-8")


def test_prose_follows_the_input_figures(chain_repo: Path, tampered_repo: Path) -> None:
    assert "about 45% of China's population" in body(chain_repo, "en")
    assert "about 47% of China's population" in body(tampered_repo, "en")
    assert "占全国人口的约45%" in body(chain_repo, "zh")
    assert "占全国人口的约47%" in body(tampered_repo, "zh")


def test_a_changed_figure_reruns_the_steps_that_read_it(
        tampered: tuple[Path, dict[str, Any]]) -> None:
    """The tampered claims, on a copy of the chain's outputs: every step reads the claims,
    directly or through what ingest and validation make of them, so each step the run was
    given reruns, and each it was not is listed as out of date, all saying why."""
    from citycluster.chain.steps import STEPS, step_label

    _, result = tampered
    out = result["stdout"]
    stale = next(line for line in out.splitlines() if line.startswith("now out of date"))
    for step in STEPS:
        for lang in ("en", "zh") if step.per_language else (None,):
            if step.name not in TAMPERED_STEPS:
                assert f"{step_label(step, lang)} (inputs changed)" in stale, stale
            else:
                assert f"ran         {step_label(step, lang)}: inputs changed" in out, out


def test_strings_from_data_are_escaped(tampered_repo: Path) -> None:
    for lang in ("en", "zh"):
        html = body(tampered_repo, lang)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_is_self_contained_and_small(chain_repo: Path, lang: str) -> None:
    path = chain_repo / "reports" / f"report.{lang}.html"
    html = path.read_text(encoding="utf-8")
    assert path.stat().st_size <= MAX_REPORT_BYTES
    # every chart is its SVG, inlined: no charting library, nothing drawn by script
    assert html.count('<div class="cc-chart"') == len(charts.FIGURES)
    assert "vegaEmbed" not in html and "vega@" not in html
    assert not re.search(r"<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                         html, re.I)
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", html)  # no remote fonts or images
    for section in ("claims", "data", "validation", "models", "cases", "factcheck", "caveats",
                    "sources", "cite", "provenance"):
        assert f'id="{section}"' in html


def test_footer_records_commit_lock_inputs_and_timings(chain_repo: Path) -> None:
    html = body(chain_repo, "en")
    lock = hashlib.sha256((chain_repo / "requirements.lock").read_bytes()).hexdigest()
    claims = hashlib.sha256((chain_repo / "data" / "raw" / "claims.csv").read_bytes()).hexdigest()
    assert lock in html and claims in html
    assert "01_ingest" in html and "bootstrap_reps" in html


def test_figures_are_exported_per_language_and_png_only_when_asked(chain_repo: Path,
                                                                    tmp_path: Path) -> None:
    from citycluster.report import render

    folder = chain_repo / "reports" / "figures"
    expected = {f"{f.name}.{lang}.{ext}" for f in charts.FIGURES for lang in ("zh", "en")
                for ext in ("vl.json", "svg", "csv")}
    assert {p.name for p in folder.iterdir()} == expected
    chart = charts.alt.Chart(charts.alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q")
    (png,) = [p for p in render.export(chart, tmp_path, "one", png=True) if p.suffix == ".png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (folder / "share_scatter.zh.svg").read_text(encoding="utf-8")
    assert "GDP比重与人口比重" in svg and "Noto Sans CJK SC" in svg


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_is_printed_to_a4_with_its_version_first(chain_repo: Path, lang: str) -> None:
    """make report prints each report (reports/report.<lang>.pdf): A4 pages, numbered, the
    version and how to cite it on the first page, no controls, every chart."""
    import json

    from pypdf import PdfReader

    from citycluster import languages
    from citycluster.report import citation

    pdf = PdfReader(chain_repo / "reports" / f"report.{lang}.pdf")
    pages = len(pdf.pages)
    assert 10 <= pages <= 60, pages
    for page in pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595) < 2 and abs(height - 842) < 2, (width, height)  # A4 in points
    record = json.loads((chain_repo / "reports" / "provenance.json").read_text())
    version = citation.version(citation.load(chain_repo), record)
    first = pdf.pages[0].extract_text()
    assert version["release"] in first and version["commit"][:12] in first, first[:400]
    assert f"1 / {pages}" in first and f"{pages} / {pages}" in pdf.pages[-1].extract_text()
    text = "".join(page.extract_text() for page in pdf.pages)
    words = languages.catalog(lang)["text"]
    assert words["fc_filter"] not in text  # the table controls are not printed
    images = sum(1 for page in pdf.pages for _ in page.images)
    drawn = text.count(words["figure_ref"].format(n=1)) >= 1
    assert drawn and images == 0  # charts are vector drawings, not pictures of them


def test_every_figure_reads_on_a_phone(chain_repo: Path) -> None:
    """Each exported chart is drawn no wider than render.MAX_WIDTH with no text under
    render.TEXT_PX: scaled into a phone's 360 px column, its smallest text stays at 9 px or
    more, so no chart needs to scroll sideways or be zoomed."""
    from citycluster.report import render

    for path in sorted((chain_repo / "reports" / "figures").glob("*.svg")):
        image = path.read_text(encoding="utf-8")
        width = float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', image).group(1))
        sizes = [float(x) for x in re.findall(r'font-size="([\d.]+)px"', image)]
        assert width <= render.MAX_WIDTH, (path.name, width)
        assert sizes and min(sizes) >= render.TEXT_PX, (path.name, min(sizes))
        assert min(sizes) * 360 / max(width, 360) >= 9, path.name


def test_factcheck_csv_gives_every_claim_a_verdict(chain_repo: Path) -> None:
    import polars as pl

    checks = pl.read_csv(chain_repo / "reports" / "factcheck.csv")
    for col in ("claim_id", "entity_id", "metric", "claimed", "reference", "unit", "verdict",
                "reason_code", "reason_args", "source"):
        assert col in checks.columns
    claims = pl.read_csv(chain_repo / "data" / "raw" / "claims.csv")
    direct = checks.filter(pl.col("check") == "direct")
    assert sorted(direct["claim_id"]) == sorted(claims["claim_id"])
    assert set(checks["verdict"]) <= {"consistent", "inconsistent", "unverifiable"}
    assert checks["reason_code"].null_count() == 0 and checks["reason_args"].null_count() == 0
    judged = checks.filter(pl.col("verdict") != "unverifiable")
    assert judged["source"].null_count() == 0
    # the known findings of the reference research
    verdict = dict(direct.select("claim_id", "verdict").iter_rows())
    assert verdict["C011"] == verdict["C028"] == verdict["C045"] == "inconsistent"
    assert verdict["C012"] == verdict["C040"] == "consistent"
    assert verdict["C008"] == "unverifiable"


def test_index_lists_every_output(chain_repo: Path) -> None:
    index = (chain_repo / "reports" / "index.html").read_text(encoding="utf-8")
    for href in ("report.zh.html", "report.en.html", "executed/06_report.zh.ipynb",
                 "validation/index.html", "models.csv", "figures/growth_cases.en.svg"):
        assert f'href="{href}"' in index


def test_chinese_prose_uses_chinese_punctuation(chain_repo: Path) -> None:
    """A native reader's check: no ASCII ( ) , ; : touching a Chinese character in the text of
    the Chinese report (scripts and styles aside)."""
    cjk = "[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
    pattern = re.compile(rf"[(),;:](?={cjk})|(?<={cjk})[(),;:]")

    class Text(DataAware):  # data shown as recorded (the article's title) keeps its marks
        def __init__(self) -> None:
            super().__init__()
            self.skip, self.parts = 0, []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            super().handle_starttag(tag, attrs)
            self.skip += tag in ("script", "style")

        def handle_endtag(self, tag: str) -> None:
            super().handle_endtag(tag)
            self.skip -= tag in ("script", "style")

        def handle_data(self, data: str) -> None:
            if not self.skip and not self.in_data:
                self.parts.append(data)

    parser = Text()
    parser.feed(body(chain_repo, "zh"))
    hits = [p[max(0, m.start() - 10):m.end() + 10] for p in parser.parts
            for m in pattern.finditer(p)]
    assert hits == []


def test_labels_are_placed_without_collisions() -> None:
    import polars as pl

    from citycluster.report.labels import placed

    data = pl.DataFrame({"x": [0.10, 0.101, 0.30], "y": [0.10, 0.101, 0.30],
                         "name": ["长江三角洲城市群", "粤港澳大湾区", "Tokaido"],
                         "size": [3.0, 2.0, 1.0]})
    kept = placed(data, "x", "y", "name", "size", x_domain=[0, 0.4], y_domain=[0, 0.4],
                  width=560, height=420)
    assert kept["name"].to_list() == ["长江三角洲城市群", "Tokaido"]  # the smaller twin gives way


class Narrative(DataAware):
    """The report's text by element: each paragraph, list item and caption as one string, and
    all the text outside scripts and styles (the collapsed blocks included); data shown as
    recorded (a source's publisher and document) is no sentence of the narrative."""

    UNITS = frozenset({"p", "li", "figcaption"})

    def __init__(self) -> None:
        super().__init__()
        self.skip, self.depth = 0, 0
        self.units: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        super().handle_starttag(tag, attrs)
        self.skip += tag in ("script", "style")
        if tag in self.UNITS:
            if self.depth == 0:
                self.units.append("")
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        self.skip -= tag in ("script", "style")
        self.depth -= tag in self.UNITS and self.depth > 0

    def handle_data(self, data: str) -> None:
        if self.skip or self.in_data:
            return
        self.text.append(data)
        if self.depth:
            self.units[-1] += data


def narrative(root: Path, lang: str) -> Narrative:
    parser = Narrative()
    parser.feed(body(root, lang))
    return parser


#: A sentence ends at a Chinese full stop or semicolon, or at an ASCII one before a space (so
#: that 1.63 stays one number).
SENTENCE_END = re.compile(r"(?<=[。；])|(?<=[.;])(?=\s|$)")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_narrative_sentence_is_repeated(chain_repo: Path, lang: str) -> None:
    """Each finding is stated once: no sentence of a paragraph, list item or caption appears
    twice in a report."""
    seen: dict[str, int] = {}
    for unit in narrative(chain_repo, lang).units:
        for sentence in SENTENCE_END.split(" ".join(unit.split())):
            sentence = sentence.strip(" ;；")
            if len(sentence) >= 8:
                seen[sentence] = seen.get(sentence, 0) + 1
    assert {s: n for s, n in seen.items() if n > 1} == {}
    assert len(seen) > 60  # the report's narrative, not an empty page


def test_the_sentence_check_catches_a_repeat() -> None:
    parser = Narrative()
    parser.feed("<p>The slope is 1.63 (1.09 to 2.17). It is above 1.</p><ul><li>It is above 1."
                "</li></ul><script>var a = 'It is above 1.';</script>")
    sentences = [s.strip() for u in parser.units for s in SENTENCE_END.split(u) if s.strip()]
    assert sentences == ["The slope is 1.63 (1.09 to 2.17).", "It is above 1.",
                         "It is above 1."]


#: What a formula, a Python value or a JSON dump looks like in text.
CODE = re.compile(r"~|np\.|C\(|\[T\.|\{\"|\"\}|\bTrue\b|\bFalse\b|\bNone\b|\bnull\b")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_code_in_the_report_text(chain_repo: Path, lang: str) -> None:
    """Formulas live in the executed notebooks; the report, footer included, says them in
    words."""
    text = " ".join(narrative(chain_repo, lang).text)
    assert [text[max(0, m.start() - 30):m.end() + 30] for m in CODE.finditer(text)] == []
    assert "share_cities" not in text and "scaling_cities" not in text  # ids stay in the data


def test_each_model_fitted_on_30_or_more_has_its_figure(chain_repo: Path) -> None:
    import polars as pl

    reports = chain_repo / "reports"
    models = pl.read_csv(reports / "models.csv")
    large = set(models.filter(pl.col("status") == "fitted", pl.col("max_cooks").is_not_null(),
                              pl.col("n") >= 30)["model"])
    assert {"share_cities", "scaling_cities", "linkage_distance_cities"} <= large
    drawn = {m: f.name for f in charts.FIGURES for m in f.models}
    assert large <= set(drawn), large - set(drawn)
    predicted = set(pl.read_parquet(chain_repo / "data" / "processed"
                                    / "model_predictions.parquet")["model"])
    assert large <= predicted
    for lang in ("en", "zh"):
        html = body(chain_repo, lang)
        for model in large:
            assert f'<div class="cc-chart" id="{drawn[model]}">' in html, (lang, model)


def test_a_cluster_total_names_the_rows_it_rests_on(chain_repo: Path) -> None:
    """The rows a cluster's bounds rest on are reference rows of the metric and year, about
    its members, their provinces or those provinces' other cities, with the national total
    last; every member whose province part is a plain sum of its members has its row there.
    The Sources link these rows."""
    import polars as pl

    from citycluster.ingest.shares import city_plan_members

    processed = chain_repo / "data" / "processed"
    totals = pl.read_parquet(processed / "cluster_totals.parquet")
    reference = pl.read_parquet(processed / "reference.parquet").filter(
        pl.col("year") == 2023, pl.col("metric").is_in(["population", "gdp"]))
    coordinates = pl.read_parquet(processed / "coordinates.parquet")
    members = city_plan_members(pl.read_parquet(processed / "membership.parquet")).filter(
        pl.col("member_level") != "sar")
    province_of = dict(coordinates.select("entity_id", "province_zh").iter_rows())
    zh_of = dict(reference.filter(pl.col("entity_type") == "province")
                 .select("entity_id", "entity_zh").iter_rows())
    entity_of = dict(reference.select("ref_id", "entity_id").iter_rows())
    metric_of = dict(reference.select("ref_id", "metric").iter_rows())
    for r in totals.iter_rows(named=True):
        group = members if r["entity_id"] == "cn_big5" else members.filter(
            pl.col("cluster_id") == r["entity_id"])
        ids = set(group["member_entity_id"])
        provinces = {province_of.get(m) or zh_of.get(m) for m in ids}
        for metric, column in (("population", "pop_rows"), ("gdp", "gdp_rows")):
            rows = r[column].split(", ")
            assert rows[-1].startswith("NAT") and metric_of[rows[-1]] == metric
            for row in rows[:-1]:
                entity = entity_of[row]
                assert metric_of[row] == metric, (r["entity_id"], row)
                assert entity in ids or province_of.get(entity) in provinces \
                    or zh_of.get(entity) in provinces, (r["entity_id"], row, entity)
        if r["pop_share_low"] == r["pop_share_high"]:  # every member known: all are summed
            assert r["members_known_population"] == r["members"]
