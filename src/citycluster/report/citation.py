"""How to cite a report: the work as ``CITATION.cff`` describes it, at the commit and date of
the run that built the report, in APA and GB/T 7714 and as BibTeX.

``CITATION.cff`` is the one description of the work (``make lint`` validates it with
cffconvert); the styles' patterns are the catalogs' (``cite_apa``, ``cite_gbt``), since a
style's words (Version, 版本) are language. BibTeX is data and is built here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FILE = "CITATION.cff"


def load(root: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((root / FILE).read_text(encoding="utf-8")))


def authors(cff: dict[str, Any], joiner: str = "apa") -> str:
    """The authors as a style writes them: APA joins the last with "&", BibTeX all with
    "and"; an entity is written by its name."""
    names = [a.get("name") or f"{a['family-names']}, {a.get('given-names', '')}".strip(", ")
             for a in cff["authors"]]
    if joiner == "bibtex":
        return " and ".join(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]


def version(cff: dict[str, Any], record: dict[str, Any]) -> dict[str, str]:
    """The version a reader cites: the release and the commit the report was built from
    (short, with ``+dirty`` kept: an uncommitted tree is not the commit), and its date."""
    commit = str(record.get("commit", "unknown"))
    head, _, dirty = commit.partition("+")
    short = head[:12] + ("+" + dirty if dirty else "")
    date = str(record.get("commit_date") or cff.get("date-released", ""))
    return {"release": str(cff["version"]), "commit": short, "date": date, "year": date[:4],
            "accessed": str(record.get("built_at", ""))[:10] or date}


def bibtex(cff: dict[str, Any], record: dict[str, Any]) -> str:
    """A BibTeX ``@software`` entry (biblatex's type; BibTeX styles read it as ``@misc``)."""
    ver = version(cff, record)
    fields = {"author": "{" + authors(cff, "bibtex") + "}", "title": "{" + cff["title"] + "}",
              "year": ver["year"], "version": f"{ver['release']} ({ver['commit']})",
              "date": ver["date"], "license": cff.get("license", "")}
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@software{{citycluster_{ver['commit'][:7]},\n{body}\n}}"


def styles(cff: dict[str, Any], record: dict[str, Any], voice: Any) -> dict[str, str]:
    """The citation in each style the report offers."""
    ver = version(cff, record)
    values = {"authors": authors(cff), "title": cff["title"], **ver}
    return {"apa": voice.t("cite_apa", **values), "gbt": voice.t("cite_gbt", **values),
            "bibtex": bibtex(cff, record)}
