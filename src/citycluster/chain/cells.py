"""The notebooks' parameters cells, generated from ``params/default.yaml`` and
``params/schema.yaml`` (``citycluster cells`` rewrites them): each name with its type, default
and meaning, as ``papermill --help-notebook`` shows them.

Apart from :mod:`.params` because it reads the notebooks through :mod:`.steps`, which itself
needs :mod:`.params`; here both are imported one way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from citycluster.chain.params import load_defaults, load_schema
from citycluster.chain.steps import declared_parameters


def parameter_cell(names: Iterable[str], defaults: Mapping[str, Any],
                   schema: Mapping[str, Any]) -> str:
    """A notebook's parameters cell: each name with its type, default and meaning, so that
    ``papermill --help-notebook`` and a reader of the notebook see what the YAML declares."""
    import pprint

    props = schema["properties"]
    lines = []
    for name in names:
        if name == "lang":  # the runner sets it per language; alone, a notebook makes the first
            value = defaults["report_languages"][0]
            meaning = "language of this execution; citycluster run sets it per report_languages"
        else:
            value, meaning = defaults[name], props[name]["description"]
        kind = {bool: "bool", int: "int", float: "float", str: "str", list: "list",
                dict: "dict"}[type(value)]
        text = pprint.pformat(value, width=88, sort_dicts=False)
        # one comment after the whole statement, even a multi-line one: papermill reads that
        lines.append(f"{name}: {kind} = {text}  # {meaning}")
    return "\n".join(lines)


def parameter_cells(root: Path) -> dict[Path, str]:
    """The parameters cell each notebook should hold, generated from the defaults and the
    schema; the names a notebook takes are the ones its cell assigns today."""
    defaults, schema = load_defaults(), load_schema()
    return {nb: parameter_cell(declared_parameters(nb), defaults, schema)
            for nb in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def write_parameter_cells(root: Path) -> list[Path]:
    """Rewrite the notebooks whose parameters cell differs from :func:`parameter_cells`."""
    changed = []
    for nb, cell_text in parameter_cells(root).items():
        doc = json.loads(nb.read_text(encoding="utf-8"))
        for cell in doc["cells"]:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                if "".join(cell["source"]) != cell_text:
                    cell["source"] = cell_text.splitlines(keepends=True)
                    changed.append(nb)
                break
        if changed and changed[-1] == nb:
            nb.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return changed
