"""The front door: the README is one screen with a picture, docs/ holds the rest once, and no
relative link or anchor in either points nowhere."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from citycluster.paths import repo_root
from citycluster.report.paper import missing_browser

ROOT = repo_root()
README = ROOT / "README.md"
#: The documents a reader follows from the README: it, docs/ and what they link to in the repo.
DOCS = [README, *sorted((ROOT / "docs").rglob("*.md"))]
#: The README's budget: one or two screens, read in two minutes.
MAX_LINES, MAX_WORDS = 150, 1500
#: A block shorter than this (a heading, a one-line pointer) may well recur on purpose.
SHORTEST_PARAGRAPH = 80

PARSER = MarkdownIt("commonmark").enable("table")


def _slug(heading: str, seen: dict[str, int]) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens,
    and -1, -2 after a repeat."""
    base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    n = seen[base]
    seen[base] += 1
    return base if n == 0 else f"{base}-{n}"


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file's headings."""
    tokens = PARSER.parse(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = defaultdict(int)
    return {_slug(inline.content, seen) for heading, inline in pairwise(tokens)
            if heading.type == "heading_open"}


def links(path: Path) -> list[str]:
    """Every link and image target in a Markdown file (code spans and blocks are not links)."""
    found = []
    for token in PARSER.parse(path.read_text(encoding="utf-8")):
        for child in token.children or ():
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


def broken(path: Path) -> list[str]:
    """The relative links of ``path`` whose file or anchor does not exist."""
    bad = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto: ... are not checked here
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            bad.append(f"{target}: no {file_part}")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            bad.append(f"{target}: no heading #{anchor} in {dest.name}")
    return bad


def paragraphs(path: Path) -> list[str]:
    """The prose blocks of a Markdown file, whitespace folded (tables and code are blocks too)."""
    text = path.read_text(encoding="utf-8")
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def test_the_link_check_finds_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    page = tmp_path / "a.md"
    page.write_text("# Title\n\n## Two words\n\n[ok](#two-words) [x](#none) [y](b.md) "
                    "[z](a.md#title) `[code](nowhere.md)` [web](https://example.org/x)\n",
                    encoding="utf-8")
    assert broken(page) == ["#none: no heading #none in a.md", "b.md: no b.md"]


def test_the_anchors_are_github_s() -> None:
    seen: dict[str, int] = defaultdict(int)
    assert _slug("Sweeps beyond one machine", seen) == "sweeps-beyond-one-machine"
    assert _slug("Kernels and JupyterLab", seen) == "kernels-and-jupyterlab"
    assert _slug("Missing member figures: estimates and the worklist", seen) == (
        "missing-member-figures-estimates-and-the-worklist")
    assert _slug("Kernels and JupyterLab", seen) == "kernels-and-jupyterlab-1"


def test_every_relative_link_and_anchor_resolves() -> None:
    problems = {str(p.relative_to(ROOT)): broken(p) for p in DOCS}
    assert not {k: v for k, v in problems.items() if v}, problems


def test_the_readme_is_one_screen_with_a_picture_of_the_report() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    assert len(text.split()) <= MAX_WORDS
    images = [t for t in links(README) if t.endswith(".png")]
    assert images and all((ROOT / t).is_file() for t in images), images
    # the two commands, as .ci/run runs the second
    assert "make report" in text and "make test " in text
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_docs_cover_each_task_the_readme_points_to() -> None:
    names = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert {"running", "data", "models", "report", "developing"} <= names
    for name in names:
        assert f"docs/{name}.md" in links(README), f"the README does not point to docs/{name}.md"


def test_no_paragraph_is_written_twice() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path in DOCS:
        for block in paragraphs(path):
            if len(block) >= SHORTEST_PARAGRAPH:
                where[block].append(str(path.relative_to(ROOT)))
    twice = {block[:80]: files for block, files in where.items() if len(files) > 1}
    assert not twice, twice


@pytest.mark.chain
@pytest.mark.browser
def test_the_readme_picture_is_drawn_by_its_script(chain_repo: Path, tmp_path: Path) -> None:
    """scripts/screenshot.py draws the picture from a real report: a PNG of the width it
    declares, with both screens in it (taller than the phone's column is wide)."""
    if missing_browser():
        pytest.skip(missing_browser() or "")
    out = tmp_path / "report.png"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot.py"), "--report",
                    str(chain_repo / "reports" / "report.en.html"), "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=120)
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import screenshot
    finally:
        sys.path.pop(0)
    assert width == screenshot.WIDTH and height > screenshot.PHONE_WIDTH
    committed = ROOT / "docs" / "images" / "report.png"
    assert struct.unpack(">I", committed.read_bytes()[16:20])[0] == screenshot.WIDTH
