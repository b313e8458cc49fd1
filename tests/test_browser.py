"""The reports in a real browser (chromium, driven by Playwright; tests/conftest.py says which
binary), network blocked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from citycluster.report.charts import FIGURES
from citycluster.report.i18n import language_tag

OTHER = {"en": "zh", "zh": "en"}
N_CHARTS = len(FIGURES)  # every registered figure appears once in each report

pytestmark = [pytest.mark.browser, pytest.mark.chain]


@dataclass
class Visit:
    """A page opened from disk, with everything it tried that a report must not do."""

    page: object
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def visit_page(browser, path: Path, *, javascript: bool = True,
               viewport: tuple[int, int] = (1100, 1400)) -> Visit:
    """``path`` opened in a browser context of its own, every request off the disk refused."""
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    visit = Visit(page)

    def route(r) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            visit.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.as_uri())
    except Exception:
        context.close()
        raise
    return visit


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., Visit]]:
    """:func:`visit_page` for one test: what it opens is closed when it ends."""
    visits: list[Visit] = []

    def opener(path: Path, **options: Any) -> Visit:
        visits.append(visit_page(browser, path, **options))
        return visits[-1]

    yield opener
    for visit in visits:
        visit.page.context.close()


@pytest.fixture(scope="module")
def drawn(browser, chain_repo: Path) -> Iterator[Callable[[str, tuple[int, int]], Visit]]:
    """A report with every chart drawn, one page per language and window size, shared by the
    tests that only measure it (each leaves its page as it found it): drawing the charts is
    most of a test's time."""
    opened: dict[tuple[str, tuple[int, int]], Visit] = {}

    def report(lang: str, viewport: tuple[int, int]) -> Visit:
        if (lang, viewport) not in opened:
            visit = visit_page(browser, chain_repo / "reports" / f"report.{lang}.html",
                               viewport=viewport)
            try:
                visit.page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
                # the page names its scroll boxes while idle after loading
                visit.page.wait_for_function(REGIONS_NAMED, timeout=20_000)
                visit.page.add_style_tag(content=RENDER_ALL)
            except Exception:
                visit.page.context.close()
                raise
            opened[lang, viewport] = visit
        return opened[lang, viewport]

    yield report
    for visit in opened.values():
        visit.page.context.close()


REGIONS_NAMED = "() => document.documentElement.hasAttribute('data-regions')"
#: The page lays a section out only as the reader nears it (content-visibility); the tests
#: that measure the whole page at once see it as a reader who has scrolled through it does.
RENDER_ALL = "section, footer.cc-footer { content-visibility: visible !important; }"
CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.cc-chart')];
  return charts.length > 0 && charts.every(c => c.querySelector('svg'));
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_offline_with_every_chart(open_page, chain_repo: Path, lang: str) -> None:
    reports = chain_repo / "reports"
    visit = open_page(reports / f"report.{lang}.html")
    page = visit.page
    page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    assert page.locator(".cc-chart").count() == N_CHARTS
    assert page.locator(".cc-chart svg .mark-symbol, .cc-chart svg .mark-rect").count() > 0
    assert page.evaluate("document.documentElement.lang") == language_tag(lang)
    assert visit.errors == []
    assert visit.outside == []
    assert visit.dialogs == []

    page.click(f'a[hreflang="{language_tag(OTHER[lang])}"]')
    page.wait_for_load_state()
    assert page.url.endswith(f"report.{OTHER[lang]}.html")
    assert page.evaluate("document.documentElement.lang") == language_tag(OTHER[lang])
    page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    assert visit.outside == [] and visit.errors == []


MAP_DRAWN = """() => {
  const svg = document.querySelector('#cluster_map svg');
  const shapes = svg ? svg.querySelectorAll('.mark-shape path').length : 0;
  const legend = svg ? svg.querySelectorAll('.role-legend-label text').length : 0;
  return {shapes, legend};
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_map_draws_every_cluster_offline(drawn, lang: str) -> None:
    visit = drawn(lang, (1100, 1400))
    counts = visit.page.evaluate(MAP_DRAWN)
    # 34 provinces twice (fill and outline), the coloured members, and the ten-dash line
    assert counts["shapes"] >= 34 * 2 + 90 + 1 and counts["legend"] == 5, counts
    assert visit.outside == [] and visit.errors == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_prose_tables_and_charts_read_without_javascript(open_page, chain_repo: Path,
                                                        lang: str) -> None:
    """Reading modes and some in-app browsers run no script: every chart is still drawn (its
    SVG is in the page), with the marks' tooltips as their titles."""
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", javascript=False)
    page = visit.page
    widths = page.eval_on_selector_all(".cc-chart svg",
                                       "ss => ss.map(s => s.getBoundingClientRect().width)")
    assert len(widths) == N_CHARTS and min(widths) > 300, widths
    assert page.locator(".cc-chart svg .mark-symbol path title").count() >= 87  # city points
    assert page.locator("section").count() >= 6
    assert page.locator("table.cc-table").count() >= 3
    body = page.inner_text("body")
    assert "C058" in body  # the last row of the claims table
    assert page.locator("nav.toc a").count() >= 6
    assert visit.outside == []


def test_index_links_reports_notebooks_and_validation(open_page, chain_repo: Path) -> None:
    reports = chain_repo / "reports"
    visit = open_page(reports / "index.html")
    hrefs = visit.page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
    for needed in ("report.zh.html", "report.en.html", "executed/03_model.ipynb",
                   "executed/03_model.html", "validation/index.html", "validation/summary.csv",
                   "models.csv", "provenance.json", "run.json"):
        assert needed in hrefs
    assert all((reports / h).is_file() for h in hrefs)
    notebook = open_page(reports / "executed" / "03_model.html")
    assert "share_cities" in notebook.page.inner_text("body")  # code and outputs are there
    assert notebook.page.locator(".jp-InputArea").count() > 0
    assert notebook.outside == [] and notebook.errors == []
    visit.page.click('a[href="report.zh.html"]')
    visit.page.wait_for_load_state()
    assert visit.page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert visit.outside == []


def test_the_validation_record_reads_offline_with_every_rule(open_page, chain_repo: Path) -> None:
    import polars as pl

    record = chain_repo / "reports" / "validation"
    summary = pl.read_csv(record / "summary.csv")
    visit = open_page(record / "index.html")
    page = visit.page
    rows = page.locator("#vr-table tbody tr")
    assert rows.count() == summary.height
    shown = set(page.locator("#vr-table tbody tr td:nth-child(3)").all_inner_texts())
    assert shown == set(summary["description"])
    page.select_option("#vr-status", "warning")
    warned = page.locator("#vr-table tbody tr:not([hidden])")
    assert warned.count() == summary.filter(~pl.col("success"),
                                            pl.col("severity") == "warning").height
    assert visit.outside == [] and visit.errors == []


def test_a_script_in_an_entity_name_stays_text(open_page, tampered_repo: Path) -> None:
    report = tampered_repo / "reports" / "report.en.html"
    visit = open_page(report)
    visit.page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    assert "<script>alert(1)</script>" in visit.page.inner_text("body")
    assert visit.dialogs == []
    assert visit.errors == []
    assert not re.search(r"<script>alert\(1\)</script>", report.read_text(encoding="utf-8"))


def test_factcheck_table_sorts_and_filters_offline(open_page, chain_repo: Path) -> None:
    import polars as pl

    checks = pl.read_csv(chain_repo / "reports" / "factcheck.csv")
    visit = open_page(chain_repo / "reports" / "report.en.html")
    page = visit.page
    rows = page.locator("#fc-table tbody tr")
    total = rows.count()
    assert total == checks.height >= 58
    assert page.locator("#fc-controls").is_visible()
    # what contradicts the article comes first
    assert rows.first.get_attribute("data-verdict") == "inconsistent"
    page.select_option("#fc-verdict", "inconsistent")
    visible = page.locator("#fc-table tbody tr:not([hidden])")
    assert visible.count() == checks.filter(pl.col("verdict") == "inconsistent").height
    verdicts = visible.evaluate_all("rs => rs.map(r => r.getAttribute('data-verdict'))")
    assert set(verdicts) == {"inconsistent"}
    assert page.text_content("#fc-count").startswith(f"{visible.count()} ")
    page.select_option("#fc-verdict", "")
    page.fill("#fc-filter", "C045")
    ids = page.locator("#fc-table tbody tr:not([hidden]) td:first-child").all_inner_texts()
    assert ids and set(ids) == {"C045"}
    page.fill("#fc-filter", "")
    sort = page.locator("#fc-table thead th:first-child button")  # a header is a button
    assert sort.get_attribute("type") == "button"
    sort.click()  # ascending by ID
    assert page.get_attribute("#fc-table thead th:first-child", "aria-sort") == "ascending"
    sort.click()  # then descending
    first = page.locator("#fc-table tbody tr td:first-child").first.inner_text()
    assert first == "C058"
    assert visit.errors == [] and visit.outside == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_findings_come_before_the_claims_ledger(open_page, chain_repo: Path, lang: str) -> None:
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", javascript=False)
    order = visit.page.evaluate("[...document.querySelectorAll('main section, body section')]"
                                ".map(s => s.id).filter(Boolean)")
    assert order.index("findings") < order.index("claims"), order
    first_toc = visit.page.locator("nav.toc a").first.get_attribute("href")
    assert first_toc == "#findings"
    text = visit.page.inner_text("#findings")
    assert "57%" in text  # the headline GDP claim, inconsistent, is named first thing
    # the summary links each question of the results and states no interval of its own
    links = visit.page.eval_on_selector_all("#findings li a", "as => as.map(a => a.hash)")
    assert links and all(visit.page.locator(f"section#models {h}").count() == 1 for h in links)


PHONE_LAYOUT = """() => {
  const wide = [];
  for (const el of document.querySelectorAll('table, .cc-chart, figure, pre, img, svg')) {
    if (el.getBoundingClientRect().right <= window.innerWidth + 1) continue;
    let a = el.parentElement, scrolls = false;
    while (a && !scrolls) {
      scrolls = ['auto', 'scroll'].includes(getComputedStyle(a).overflowX); a = a.parentElement;
    }
    if (!scrolls) wide.push(el.tagName + '#' + el.id + '.' + el.className);
  }
  const cells = [...document.querySelectorAll('section .cc-table td')]
    .filter(td => td.innerText.trim().length > 3).map(td => td.clientWidth);
  return {page: document.documentElement.scrollWidth, view: window.innerWidth, wide,
          narrowest: Math.min(...cells)};
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reports_read_on_a_phone(drawn, lang: str) -> None:
    """At 390 x 844: nothing widens the page, anything wider than the screen scrolls inside its
    own box, and no table column is squeezed to a character."""
    visit = drawn(lang, (390, 844))
    layout = visit.page.evaluate(PHONE_LAYOUT)
    assert layout["page"] <= layout["view"], layout
    assert layout["wide"] == [], layout
    assert layout["narrowest"] >= 50, layout  # was 39 px: one Chinese character per line


TEXT_OVERLAPS = """() => [...document.querySelectorAll('.cc-chart')].map(chart => {
  const boxes = [...chart.querySelectorAll('g.mark-text.role-mark text')]
    .map(t => [t.textContent, t.getBoundingClientRect()]).filter(([s, r]) => s && r.width > 0);
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i][1], b = boxes[j][1];
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
        a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
      hits.push(boxes[i][0] + ' / ' + boxes[j][0]);
    }
  }
  return [chart.id, hits];
})"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_chart_label_overlaps_another(drawn, lang: str) -> None:
    visit = drawn(lang, (1100, 1400))
    overlaps = {chart: hits for chart, hits in visit.page.evaluate(TEXT_OVERLAPS) if hits}
    assert overlaps == {}


def test_the_claims_ledger_filters_by_verdict_offline(open_page, chain_repo: Path) -> None:
    import polars as pl

    checks = pl.read_csv(chain_repo / "reports" / "factcheck.csv").filter(
        pl.col("check") == "direct")
    visit = open_page(chain_repo / "reports" / "report.zh.html")
    page = visit.page
    rows = page.locator("#cl-table tbody tr")
    assert rows.count() == checks.height
    for verdict, n in checks.group_by("verdict").len().iter_rows():
        page.select_option("#cl-verdict", verdict)
        shown = page.locator("#cl-table tbody tr:not([hidden])")
        assert shown.count() == n, verdict
        assert set(shown.evaluate_all("rs => rs.map(r => r.dataset.verdict)")) == {verdict}
    page.select_option("#cl-verdict", "")
    page.fill("#cl-filter", "P030")  # a paragraph: its two headline claims
    ids = page.locator("#cl-table tbody tr:not([hidden]) td:first-child").all_inner_texts()
    assert ids == ["C006", "C007"]
    assert visit.errors == [] and visit.outside == []


def large_models(chain_repo: Path) -> dict[str, int]:
    import polars as pl

    models = pl.read_csv(chain_repo / "reports" / "models.csv")
    return dict(models.filter(pl.col("status") == "fitted", pl.col("max_cooks").is_not_null(),
                              pl.col("n") >= 30).select("model", "n").iter_rows())


HOVER_POINTS = """(id) => [...document.querySelectorAll(
  '#' + id + ' svg g.mark-symbol.role-mark path')].map(p => {
    const r = p.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];
  })"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_model_figure_draws_its_sample_with_tooltips(open_page, chain_repo: Path,
                                                          lang: str) -> None:
    """Each model fitted on 30 or more rows has a figure with one point per row, and a
    point's tooltip names the place and the kind of source of its figures."""
    from citycluster import languages

    words = languages.catalog(lang)["chart"]
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", viewport=(1280, 900))
    page = visit.page
    page.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    figures = {m: f.name for f in FIGURES for m in f.models}
    for model, n in large_models(chain_repo).items():
        name = figures[model]
        points = page.evaluate(HOVER_POINTS, name)
        assert len(points) == n, (name, len(points), n)
        page.locator(f"#{name}").scroll_into_view_if_needed()
        x, y = page.evaluate(HOVER_POINTS, name)[0]
        page.mouse.move(x, y)
        tip = page.locator(".cc-tip:not([hidden])")
        tip.wait_for(timeout=5_000)
        text = tip.inner_text()
        assert words["entity"] in text and words["pop_kind"] in text, (name, text)
        assert words["gdp_kind"] in text, (name, text)
        page.mouse.move(0, 0)
    assert visit.errors == [] and visit.outside == []


FITS = """() => {
  const closed = [...document.querySelectorAll('details:not([open])')];
  closed.forEach(d => d.open = true);
  try {
    const cut = [], unboxed = [];
    for (const t of document.querySelectorAll('table')) {
      const box = t.closest('.cc-table-wrap');
      const scrolls = box && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
      if (!scrolls) unboxed.push(t.id || t.className);
      if (t.scrollWidth > (box || t.parentElement).clientWidth + 1) cut.push(t.id || t.className);
    }
    const charts = [...document.querySelectorAll('.cc-chart')].filter(c => {
      const svg = c.querySelector('svg');
      return svg && svg.getBoundingClientRect().width > c.parentElement.clientWidth + 1;
    }).map(c => c.id);
    return {cut, unboxed, charts, page: document.documentElement.scrollWidth,
            view: window.innerWidth};
  } finally {
    closed.forEach(d => d.open = false);  // as it found the page
  }
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_table_is_cut_at_either_width(drawn, lang: str) -> None:
    """At 1280 px every table and chart fits its column; at 390 px every chart still does (it
    is drawn no wider than render.MAX_WIDTH, and scales down), each table scrolls inside its
    own box and the page itself does not widen (the footer's collapsed blocks open)."""
    for width, height in ((1280, 900), (390, 844)):
        fits = drawn(lang, (width, height)).page.evaluate(FITS)
        assert fits["unboxed"] == [], (width, fits)
        assert fits["page"] <= fits["view"], (width, fits)
        assert fits["charts"] == [], (width, fits)  # no chart wider than its column
        if width == 1280:
            assert fits["cut"] == [], (width, fits)


# ---- every verdict, number and chart leads to its evidence ---------------------------------

LINKS = """() => {
  const out = {missing: [], files: [], web: 0};
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (href.startsWith('#')) {
      if (!document.getElementById(decodeURIComponent(href.slice(1)))) out.missing.push(href);
    } else if (/^https?:/.test(href)) { out.web += 1; }
    else { out.files.push(href); }
  }
  return out;
}"""

#: Text a reader sees that names a claim or a reference row without leading to it: an id
#: is shown either as a link or inside the entry it names (a ledger row, a Sources entry);
#: data shown as recorded (translate="no": a document's title, a derived figure's id, whose
#: rows its entry links) is not prose.
UNLINKED_IDS = """() => {
  const ids = /\\b(?:C\\d{3,}|[A-Z]{2,5}\\d{3,})\\b/g, out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el.closest('a, script, style, code, svg, .cc-chart, [translate="no"]')) continue;
    for (const m of node.textContent.matchAll(ids)) {
      let owner = el.closest('[id]'), own = false;
      while (owner && !own) {
        own = owner.id === m[0]; owner = owner.parentElement?.closest('[id]');
      }
      if (!own) out.push(m[0] + ' in ' + node.textContent.trim().slice(0, 60));
    }
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_link_resolves_and_every_id_leads_to_its_entry(open_page, chain_repo: Path,
                                                              lang: str) -> None:
    reports = chain_repo / "reports"
    visit = open_page(reports / f"report.{lang}.html", javascript=False)
    found = visit.page.evaluate(LINKS)
    assert found["missing"] == []
    assert found["web"] > 200  # the sources' copies, one link each
    for href in sorted(set(found["files"])):
        path, _, fragment = href.partition("#")
        target = reports / path
        assert target.is_file(), href
        if fragment:
            assert f'id="{fragment}"' in target.read_text(encoding="utf-8"), href
    assert visit.page.evaluate(UNLINKED_IDS) == []
    assert visit.outside == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_claim_check_and_source_can_be_pointed_at(open_page, chain_repo: Path,
                                                       lang: str) -> None:
    import polars as pl

    from citycluster.data.sources import REF_ID
    from citycluster.report.evidence import derived_ids, reference_ids
    from citycluster.report.xref import check_anchor

    processed = chain_repo / "data" / "processed"
    claims = pl.read_parquet(processed / "claims.parquet")
    checks = pl.read_parquet(processed / "factcheck.parquet")
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", javascript=False)
    ids = set(visit.page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)"))
    assert set(claims["claim_id"]) <= ids and claims.height == 58
    assert {check_anchor(r["claim_id"], r["check"]) for r in checks.iter_rows(named=True)} <= ids
    # every reference row behind a verdict has its entry, which links to where it was seen
    # (or says that no copy was seen, or that no address was recorded)
    rows = {ref for args in checks["reason_args"] for ref, _ in reference_ids(args)
            if REF_ID.fullmatch(ref)}
    assert rows and rows <= ids
    entries = visit.page.evaluate("""ids => ids.map(id => {
        const li = document.getElementById(id);
        return [id, li.querySelectorAll('a[href^="http"]').length, li.textContent]; })""",
                                  sorted(rows))
    reference = pl.read_parquet(processed / "reference.parquet")
    url = dict(reference.select("ref_id", "source_url").iter_rows())
    for ref, web, _ in entries:
        assert web == (1 if url[ref] else 0), ref
    # each check's evidence leads there and back: its reason links each row and derived
    # figure it names, and each of those entries links back to the check
    links = visit.page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('[id]')].filter(e => e.querySelector('a[href^="#"]'))
        .map(e => [e.id, [...e.querySelectorAll('a[href^="#"]')].map(a => a.hash.slice(1))]))""")
    for r in checks.iter_rows(named=True):
        anchor = check_anchor(r["claim_id"], r["check"])
        named = [ref for ref, _ in reference_ids(r["reason_args"]) if REF_ID.fullmatch(ref)]
        named += [a for _, a in derived_ids(r)]
        for target in named:
            assert target in links[anchor], (anchor, target)
            assert anchor in links[target], (target, anchor)
    # the article is named, as printed
    from citycluster.report import article

    checked = article.load(chain_repo / "data" / "raw" / "article.yaml")
    header = visit.page.inner_text("header")
    assert checked["title"] in header and checked["author_line"] in header


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_figures_are_numbered_and_lead_to_their_data(open_page, chain_repo: Path,
                                                     lang: str) -> None:
    import polars as pl

    from citycluster.report import i18n, render

    reports = chain_repo / "reports"
    visit = open_page(reports / f"report.{lang}.html", javascript=False)
    figures = visit.page.evaluate("""[...document.querySelectorAll('figure.chart')].map(f =>
        [f.id, f.querySelector('figcaption b').textContent,
         [...f.querySelectorAll('.cc-evidence a')].map(a => a.getAttribute('href'))])""")
    assert [f[0] for f in figures] == [f"fig-{f.name}" for f in FIGURES]
    assert [f[1] for f in figures] == [i18n.text(lang, "figure_ref", n=n)
                                       for n in range(1, len(FIGURES) + 1)]
    for (anchor, _, links), fig in zip(figures, FIGURES, strict=True):
        stem = f"figures/{fig.name}.{lang}"
        assert links[:3] == [f"{stem}.csv", f"{stem}.vl.json", f"{stem}.svg"], anchor
        assert links[3].startswith(f"executed/05_figures.{lang}.html#"), anchor
        # the CSV holds every row of every dataset the spec draws, and nothing else
        spec = json.loads((reports / f"{stem}.vl.json").read_text(encoding="utf-8"))
        drawn = render.chart_data(spec)
        written = pl.read_csv(reports / f"{stem}.csv", infer_schema_length=None)
        assert written.height == drawn.height > 0, anchor
        assert sorted(written.columns) == sorted(drawn.columns), anchor
        assert written["dataset"].to_list() == drawn["dataset"].to_list(), anchor
    tables = visit.page.evaluate(
        "[...document.querySelectorAll('caption b')].map(b => b.textContent)")
    assert tables == [i18n.text(lang, "table_ref", n=n) for n in range(1, len(tables) + 1)]


#: The words a reader meets before the headline figure: headings and prose, not navigation.
BEFORE_HEADLINE = """() => {
  const fig = document.getElementById('fig-headline'), parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!(node.compareDocumentPosition(fig) & Node.DOCUMENT_POSITION_FOLLOWING)) break;
    if (node.parentElement.closest('nav, script, style')) continue;
    if (!node.parentElement.checkVisibility()) continue;  // the version line is for paper
    parts.push(node.textContent);
  }
  return parts.join(' ');
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_answer_comes_first(open_page, chain_repo: Path, lang: str) -> None:
    """At most 120 words (250 characters in Chinese) before the headline figure, which puts
    the article's two shares beside what the member cities give."""
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", javascript=False)
    text = visit.page.evaluate(BEFORE_HEADLINE)
    if lang == "zh":
        assert len(re.sub(r"\s", "", text)) <= 250, text
    else:
        assert len(text.split()) <= 120, text
    assert "57%" in text and "45%" in text
    # and the figure sets the article's two shares beside the member cities' ranges
    import polars as pl

    headline = pl.read_csv(chain_repo / "reports" / "figures" / f"headline.{lang}.csv")
    article_rows = headline.filter(pl.col("order") == 0)
    assert article_rows["claim"].to_list() == ["C006", "C007"]
    assert article_rows["low"][0] <= 0.45 <= article_rows["high"][0]
    assert article_rows["low"][1] == article_rows["high"][1] == 0.57
    assert headline["order"].n_unique() == 4


# ---- on every screen: accessible, and the charts readable on a phone -----------------------

#: axe-core as the pinned axe-playwright-python wheel bundles it (requirements.lock): the
#: test injects the file itself, so the rules run are the pinned release's.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}));
}"""
STRAY_TAB_STOPS = """() => [...document.querySelectorAll('[tabindex]')].filter(el =>
  el.tabIndex >= 0 && !(el.getAttribute('role') === 'region' && el.getAttribute('aria-label')))
  .map(el => el.tagName + '.' + el.className)"""


def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)])
def test_no_accessibility_violations(drawn, lang: str, viewport: tuple[int, int]) -> None:
    """axe-core's WCAG 2.2 A and AA rules find nothing, on a desktop and on a phone, and the
    only tab stops besides links and controls are scroll boxes named by their table."""
    page = drawn(lang, viewport).page
    page.add_script_tag(content=axe_source())
    assert page.evaluate(AXE_RUN, AXE_TAGS) == []
    assert page.evaluate(STRAY_TAB_STOPS) == []


def test_a_chart_is_one_image_with_a_name_and_a_summary(drawn) -> None:
    """Each chart is read as one image named by its title and described by the summary under
    it, not as a document of marks."""
    page = drawn("en", (1280, 900)).page
    charts = page.evaluate("""() => [...document.querySelectorAll('.cc-chart svg')].map(s => ({
      role: s.getAttribute('role'), name: s.getAttribute('aria-label'),
      summary: document.getElementById(s.getAttribute('aria-describedby')).textContent,
      inner: s.querySelectorAll('[role], [aria-label]').length}))""")
    assert len(charts) == N_CHARTS
    for chart in charts:
        assert chart["role"] == "img" and chart["name"] and len(chart["summary"]) > 40, chart
        assert chart["inner"] == 0, chart


PRINTED = """() => {
  const page = document.body.clientWidth;
  return {
    charts: [...document.querySelectorAll('.cc-chart svg')].map(s => {
      const r = s.getBoundingClientRect();
      return [s.closest('.cc-chart').id, Math.round(r.width), Math.round(r.height)];
    }).filter(([id, w, h]) => w > page + 1 || h > 400 || w < 150),
    controls: [...document.querySelectorAll('.cc-filter, nav.toc')]
      .filter(e => e.getBoundingClientRect().height > 0).length,
    version: getComputedStyle(document.querySelector('.cc-version')).display,
  };
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_on_paper_every_chart_fits_a_page_and_no_control_is_printed(open_page, chain_repo: Path,
                                                                    lang: str) -> None:
    """As printed (A4's column, print media): every chart whole within the column and at
    most 95 mm tall, with its legend in its drawing; no filter controls or contents; the
    version line shown. The PDFs make report writes are printed from this layout."""
    visit = open_page(chain_repo / "reports" / f"report.{lang}.html", viewport=(718, 1000))
    visit.page.emulate_media(media="print")
    printed = visit.page.evaluate(PRINTED)
    assert printed == {"charts": [], "controls": 0, "version": "block"}, printed
