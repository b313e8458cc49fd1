"""An exported chart's SVG made fit to stand in a page: the static chart every reader sees.

The figures step exports each chart as a standalone SVG (:func:`citycluster.report.render.export`),
drawn by vl-convert with Vega's own ARIA markup. The report inlines it, so it shows at once, prints
and reads without JavaScript. On the way in:

- the chart becomes one image with one name: the SVG is ``role="img"``, named by its
  figure's caption and described by its summary; Vega's roles for axes, legends and marks, which
  a screen reader would read as a document of up to a hundred marks, are dropped;
- each mark's description, which :func:`citycluster.report.render.prepared` writes from its
  tooltip, becomes the mark's ``<title>``: the browser's own tooltip without JavaScript, and the
  text the report's small script shows on touch;
- ids are prefixed with the figure's, so two charts' clip paths cannot collide in one page;
- what the page's stylesheet says once (the font) and what draws nothing (empty background
  paths, default attributes) is left out, and path coordinates are written relative, to a
  tenth of a pixel: the map's 440 KB of boundaries become about a third of that.

The standard library's ElementTree is enough for vl-convert's regular output; a general SVG
optimiser (scour, svgo) would add a dependency for the one transform that matters here, the
path data.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

#: Vega's role descriptions of the parts of a chart that are not marks (their labels go).
NOT_MARKS = {"axis", "legend", "title", "group mark container"}
#: Attributes the page states once, or Vega's ARIA markup the chart's one name replaces.
#: (``pointer-events="none"`` stays: it lets a legend or a label pass the pointer to the mark
#: beneath, whose tooltip the reader is after.)
DROPPED = {"font-family", "role", "aria-roledescription", "aria-hidden", "aria-label"}
#: In a wide column a chart is shown up to this much larger than drawn: its 12 px labels at
#: 15 px, the body text's size, and no larger.
ENLARGE = 1.25
_NUMBER = re.compile(r"-?\d*\.?\d+(?:e-?\d+)?")
_PATH = re.compile(r"^[MLZ0-9.,\-e\s]*$")


def _tag(name: str) -> str:
    return f"{{{SVG_NS}}}{name}"


def _num(value: float) -> str:
    """A number to a tenth, as short as it writes: ``0.5`` as ``.5``, ``2.0`` as ``2``."""
    text = f"{round(value, 1):.1f}".rstrip("0").rstrip(".")
    text = text.replace("-0.", "-.") if text.startswith("-0.") else text
    text = text[1:] if text.startswith("0.") else text
    return "0" if text in ("", "-0", "-") else text


def path_data(path: str) -> str:
    """Move/line/close path data written relative to a tenth of a pixel, repeated points
    dropped; other path data with its numbers rounded to a tenth."""
    if not _PATH.match(path):
        return _NUMBER.sub(lambda m: _num(float(m.group())), path)
    out: list[str] = []
    x = y = 0.0  # the pen, in the rounded coordinates drawn so far
    start = (0.0, 0.0)  # where the subpath began: a close returns the pen there
    for command, args in re.findall(r"([MLZ])([^MLZ]*)", path):
        if command == "Z":
            out.append("z")
            x, y = start
            continue
        values = [float(v) for v in _NUMBER.findall(args)]
        for i in range(0, len(values) - 1, 2):
            nx, ny = round(values[i], 1), round(values[i + 1], 1)
            dx, dy = nx - x, ny - y
            if command == "L" and abs(dx) < 0.05 and abs(dy) < 0.05:
                continue
            pair = _num(dx) + ("" if _num(dy).startswith("-") else ",") + _num(dy)
            out.append(("m" if command == "M" and i == 0 else "l") + pair)
            x, y = nx, ny
            if command == "M" and i == 0:
                start = (x, y)
    return "".join(out)


def inline(svg: str, prefix: str, label: str, described_by: str) -> str:
    """The exported ``svg`` as an image in a page: named ``label``, described by the element
    ``described_by``, its ids prefixed with ``prefix``."""
    root = ET.fromstring(svg)
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in list(root.iter()):
        attrs = element.attrib
        description = attrs.get("aria-label")
        if description and attrs.get("aria-roledescription") not in NOT_MARKS and \
                attrs.get("role") == "graphics-symbol":
            title = ET.Element(_tag("title"))
            title.text = description
            element.insert(0, title)
        if element.tag == _tag("path") and attrs.get("class") in ("background", "foreground") \
                and "fill" not in attrs and "stroke" not in attrs and element in parents:
            parents[element].remove(element)
            continue
        for name in DROPPED & attrs.keys():
            del attrs[name]
        if attrs.get("opacity") == "1":
            del attrs["opacity"]
        if attrs.get("transform") == "translate(0,0)":
            del attrs["transform"]
        if "d" in attrs:
            attrs["d"] = path_data(attrs["d"])
        if "id" in attrs:
            attrs["id"] = f"{prefix}-{attrs['id']}"
        for name, value in attrs.items():
            if "url(#" in value:
                attrs[name] = value.replace("url(#", f"url(#{prefix}-")
    width = float(root.attrib.get("width", "0"))
    root.attrib.update({"role": "img", "aria-label": label, "aria-describedby": described_by,
                        "style": f"max-width: {round(width * ENLARGE)}px"})
    return ET.tostring(root, encoding="unicode")
