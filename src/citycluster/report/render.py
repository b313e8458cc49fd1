"""Turning a chart into what a reader gets: the theme, a CJK-capable font, the layout limits
every chart keeps, the spec as exported (:func:`prepared`), the exported files, and the
notebooks' offline embedding.

The reports inline each chart's exported SVG (:mod:`citycluster.report.exhibit`) and carry no
charting library. The executed notebooks draw their charts live: :func:`vega_bundle_html` emits
the Vega, Vega-Lite and vega-embed libraries once per page (from vl-convert, wrapped in a
function scope so the bundle's top-level constants cannot clash) and :class:`OfflineRenderer`
one ``div`` and one ``vegaEmbed`` call per chart; Altair's own HTML output loads these
libraries from a CDN, which a reader offline lacks.
"""

from __future__ import annotations

import html
import json
import re
from importlib import metadata
from pathlib import Path

import altair as alt
import polars as pl

from citycluster.errors import EnvironmentProblem

FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
#: The widest a chart is drawn, axes, labels and legends included. The narrowest column the
#: report is laid out for is a phone's 360 px: a chart is scaled by 0.75 at most there, and
#: its smallest text (:data:`TEXT_PX`) stays at 9 px, the least the report takes as readable.
#: One layout for every screen: a wide column shows the same drawing larger.
MAX_WIDTH = 480
#: The smallest text a chart draws (labels, legends, names beside points).
TEXT_PX = 12
#: The chart title's size, for breaking it into lines that fit.
TITLE_PX = 15
#: How many characters an axis label runs to before it breaks onto a second line.
LABEL_CHARS = 26
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"),
             Path("/usr/share/fonts/noto-cjk"))


def theme() -> dict:
    """One look for every chart: readable sizes, a CJK-capable font stack."""
    return {"config": {"font": FONT, "view": {"stroke": None},
                       "axis": {"labelFontSize": TEXT_PX, "titleFontSize": 13, "labelLimit": 240},
                       # a narrow log axis drops the numbers that would collide (60 70 ...);
                       # a category's label is never dropped
                       "axisQuantitative": {"labelOverlap": True},
                       "legend": {"labelFontSize": TEXT_PX, "titleFontSize": TEXT_PX},
                       "header": {"labelFontSize": TEXT_PX, "titleFontSize": 13},
                       "title": {"fontSize": TITLE_PX, "anchor": "start"}}}


def wrapped_labels(chars: int = LABEL_CHARS) -> str:
    """A label expression that breaks a long axis label at its last space within ``chars``
    characters, onto two lines: long place names stay whole in a narrow chart. Chinese labels,
    which have no spaces and are short, stay on one line."""
    cut = f"lastindexof(substring(datum.label, 0, {chars}), ' ')"
    return (f"length(datum.label) > {chars} && {cut} > 0 ? "
            f"[substring(datum.label, 0, {cut}), substring(datum.label, {cut} + 1)] "
            ": datum.label")


def themed(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the project's theme applied (for embedding and export alike)."""
    return chart.configure(**theme()["config"])


def register_cjk_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> Path:
    """Make vl-convert's PNG/SVG rendering find a CJK font, or say what to install.

    vl-convert ships only Latin fonts; without a CJK font every Chinese glyph in a PNG is an
    empty box. Debian's ``fonts-noto-cjk`` (installed by ``scripts/ensure_system_deps.sh``)
    provides Noto Sans CJK SC.
    """
    import vl_convert as vlc

    for folder in dirs:
        if any(folder.glob("*CJK*")):
            vlc.register_font_directory(str(folder))
            return folder
    raise EnvironmentProblem("no CJK font found in " + ", ".join(map(str, dirs)) + ": Chinese text "
                       "would render as empty boxes. Install Debian's fonts-noto-cjk "
                       "(scripts/ensure_system_deps.sh does it when run as root).")


#: Significant digits a chart's data keeps: a drawn point moves by less than a millionth of
#: its value, far below a pixel, and the reports carry a third less JSON.
DIGITS = 6


def compact(spec: dict) -> dict:
    """The spec with every float in its data rounded to :data:`DIGITS` significant digits: what
    the report embeds, the exported spec and SVG draw, and the CSV lists."""
    def rounded(node: object) -> object:
        if isinstance(node, float):
            return float(f"{node:.{DIGITS}g}")
        if isinstance(node, list):
            return [rounded(x) for x in node]
        if isinstance(node, dict):
            return {k: rounded(x) for k, x in node.items()}
        return node

    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {k: (rounded(x) if k in ("datasets", "values") else walk(x))
                    for k, x in node.items()}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    out = walk(spec)
    assert isinstance(out, dict)
    return out


def prepared(chart: alt.TopLevelMixin, pair: str = "{title}: {value}") -> dict:
    """The spec every reader gets, exported, drawn and embedded alike: themed, its data
    rounded (:func:`compact`), its title broken into lines that fit :data:`MAX_WIDTH`, and each
    tooltip also written as its mark's description, one ``pair`` (the language's
    ``tip_pair``) per line, which the SVG carries as text (the static chart's tooltip); marks
    without a tooltip are left out of the accessibility tree."""
    spec = compact(themed(chart).to_dict())
    title = spec.get("title")
    if isinstance(title, str):
        spec["title"] = _lines(title, TITLE_PX)
    elif isinstance(title, dict) and isinstance(title.get("text"), str):
        title["text"] = _lines(title["text"], TITLE_PX)
    out = _described(spec, pair)
    assert isinstance(out, dict)
    return out



def _lines(text: str, font_px: float, width: float = MAX_WIDTH - 10) -> str | list[str]:
    """``text`` broken at spaces (anywhere in Chinese) into lines no wider than ``width``."""
    from citycluster.report.labels import text_width

    lines, line = [], ""
    for char in text:
        if text_width(line + char, font_px * 1.05) > width:  # bold runs about 5% wider
            space = line.rfind(" ")
            if space > 0:
                lines.append(line[:space])
                line = line[space + 1:]
            else:
                lines.append(line)
                line = ""
        line += char
    lines.append(line)
    return lines[0] if len(lines) == 1 else lines


def _tip_expression(items: list, pair: str) -> str:
    """A Vega expression writing a tooltip's fields as lines, each ``pair`` filled with the
    field's title and value."""
    parts = []
    for item in items:
        field = json.dumps(item["field"])
        value = f"datum[{field}]"
        if item.get("format") and item.get("type") == "quantitative":
            value = f"format({value}, {json.dumps(item['format'])})"
        before, _, after = pair.format(title=item.get("title", item["field"]),
                                       value="\x00").partition("\x00")
        parts.append(f"{json.dumps(before)} + (isValid(datum[{field}]) ? {value} : '–')"
                     f" + {json.dumps(after)}")
    return " + '\\n' + ".join(parts)


def _described(node: object, pair: str) -> object:
    """:func:`prepared`'s tooltip descriptions, on every unit of the spec."""
    if isinstance(node, list):
        return [_described(x, pair) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in ("datasets", "data") else _described(v, pair))
           for k, v in node.items()}
    encoding = out.get("encoding")
    if "mark" in out and isinstance(encoding, dict):
        tip = encoding.get("tooltip")
        items = tip if isinstance(tip, list) else [tip] if isinstance(tip, dict) else []
        items = [i for i in items if isinstance(i, dict) and "field" in i]
        if items:
            transforms = out.get("transform")
            out["transform"] = [*(transforms if isinstance(transforms, list) else []),
                                {"calculate": _tip_expression(items, pair), "as": "_tip"}]
            encoding["description"] = {"field": "_tip", "type": "nominal"}
        else:
            mark = out["mark"]
            out["mark"] = {**(mark if isinstance(mark, dict) else {"type": mark}),
                           "aria": False}
    return out


def chart_data(spec: dict) -> pl.DataFrame:
    """The rows a chart draws, as one table: each tabular dataset of the spec (Altair names
    them ``data-<hash>``; a layer's inline values count too), stacked with a ``dataset`` column
    naming where it is in the spec, in the order of the exported (key-sorted) spec. A map's
    boundaries (TopoJSON text) are geometry, not rows, and stay in the spec."""
    sets: dict[str, list] = dict(sorted(spec.get("datasets", {}).items()))

    def inline(node: object, path: str) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                sets[f"{path}/data"] = data["values"]
            for key, value in sorted(node.items()):  # the order of the spec as exported
                if key not in ("data", "datasets"):
                    inline(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                inline(item, f"{path}/{i}")

    inline(spec, "")
    frames = [pl.DataFrame(rows, infer_schema_length=None).select(
        pl.lit(name).alias("dataset"), pl.all())
        for name, rows in sets.items() if isinstance(rows, list) and rows
        and all(isinstance(r, dict) for r in rows)]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(
        {"dataset": []}, schema={"dataset": pl.String})


def export(chart: alt.TopLevelMixin, folder: Path, stem: str, png: bool = False,
           pair: str = "{title}: {value}") -> list[Path]:
    """``stem.vl.json``, ``stem.svg`` and ``stem.csv`` (the rows it draws, :func:`chart_data`)
    of a themed chart, atomically, and ``stem.png`` (2x) when asked: rasterising is the slowest
    part of the figures step and the reports do not use the PNGs."""
    import vl_convert as vlc

    from citycluster.publish import write_bytes_atomic, write_text_atomic

    spec = prepared(chart, pair)
    paths = [folder / f"{stem}.vl.json", folder / f"{stem}.svg", folder / f"{stem}.csv"]
    write_text_atomic(paths[0], json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True))
    svg = vlc.vegalite_to_svg(spec)
    write_text_atomic(paths[1], svg)
    write_text_atomic(paths[2], chart_data(spec).write_csv())
    if png:
        paths.append(folder / f"{stem}.png")
        write_bytes_atomic(paths[3], vlc.svg_to_png(svg, scale=2))  # no second Vega evaluation
    return paths


def figure_language(path: Path) -> str | None:
    """The language of an exported figure file, ``<name>.<lang>.<ext>`` (the ``zh`` of
    ``share_scatter.zh.vl.json``), also of one still being written (``.<name>.<lang>.<ext>.<tmp>``,
    :func:`citycluster.publish.write_text_atomic`); None for a file named otherwise."""
    parts = path.name.lstrip(".").split(".")
    return parts[1] if len(parts) > 2 else None


def stale_figures(folder: Path, exported: list[Path], lang: str,
                  languages: list[str]) -> list[Path]:
    """Files of ``folder`` that no execution of the figures step makes any more: this
    language's that it did not export now (a figure dropped from the registry, a write left
    by a killed run), and every file of a language the run no longer makes. Each language's
    execution writes only its own files, and may run while the other is writing."""
    def stale(path: Path) -> bool:
        code = figure_language(path)
        return path not in exported and (code == lang or code not in languages)

    return sorted(p for p in folder.iterdir() if stale(p))


def vega_bundle_html() -> str:
    """The Vega libraries as one inline script, scoped so two charts on a page cannot clash.

    vl-convert takes about two seconds of CPU to assemble the bundle; the result depends only on
    the vl-convert and Vega-Lite versions, so it is kept in ``build/``, and of the kernels that
    ask for it at once one assembles it while the others wait.
    """
    import vl_convert as vlc
    from filelock import FileLock

    from citycluster.paths import repo_root
    from citycluster.publish import write_text_atomic

    version = _vl_version()
    converter = metadata.version("vl-convert-python")
    cached = repo_root() / "build" / f"vega-bundle-{converter}-{version}.js"

    def assemble() -> str:
        # the stub marks the optional snippet as required; the function takes it as optional
        return str(vlc.javascript_bundle(vl_version=version))  # type: ignore[call-arg]

    try:
        bundle = cached.read_text(encoding="utf-8")
    except OSError:
        # A cold run starts the kernels of both figures and both reports at once: one
        # assembles the bundle while the others wait for it (2 s of CPU each otherwise).
        made: str | None = None
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(f"{cached}.lock", timeout=300):  # its Timeout is an OSError too
                try:
                    made = cached.read_text(encoding="utf-8")  # assembled while this one waited
                except OSError:
                    made = assemble()
                    write_text_atomic(cached, made)
        except OSError:
            pass  # a read-only checkout just assembles the bundle each time
        bundle = made if made is not None else assemble()
    bundle = bundle.replace("</script", "<\\/script")
    return f"<script>(function(){{\n{bundle}\n}})();</script>"


def _vl_version() -> str:
    m = re.match(r"v?(\d+\.\d+)", alt.SCHEMA_VERSION)
    return f"v{m.group(1)}" if m else alt.SCHEMA_VERSION


def _embed(spec: dict, element_id: str, label: str) -> tuple[str, str]:
    """The chart's ``div`` and its vegaEmbed call (SVG renderer).

    The spec is JSON inside a script element; ``</`` is escaped so no string from the data can
    close the script early.
    """
    spec_json = json.dumps(spec, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":")).replace("</", "<\\/")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "-", element_id)
    div = (f'<div id="{safe_id}" class="vega-chart" role="img" '
           f'aria-label="{html.escape(label)}"></div>')
    script = (f'<script>vegaEmbed("#{safe_id}", {spec_json}, {{"renderer": "svg", '
              f'"actions": false}}).catch(function (e) {{ console.error(e); }});</script>')
    return div, script


class OfflineRenderer:
    """An Altair renderer for notebooks: the Vega bundle once, then a div per chart.

    Registered as ``citycluster`` by :func:`enable_offline_renderer`. Chart ids are numbered, not
    random, so executing a notebook twice gives identical outputs.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, spec: dict, **_: object) -> dict[str, str]:
        self.count += 1
        head = vega_bundle_html() if self.count == 1 else ""
        label = str(spec.get("description") or f"chart {self.count}")
        div, script = _embed(spec, f"chart-{self.count}", label)
        return {"text/html": head + div + script}


def enable_offline_renderer() -> OfflineRenderer:
    """Make every displayed chart render offline (the bundle inline, once per notebook)."""
    renderer = OfflineRenderer()
    alt.renderers.register("citycluster", renderer)
    alt.renderers.enable("citycluster")
    return renderer
