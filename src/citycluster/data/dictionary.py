"""The data dictionary, rendered from the contracts so it cannot drift from them.

``data/raw/README.md`` keeps its hand-written prose (the unit table, how to add a reference file)
and one generated block between two markers; ``citycluster dictionary`` rewrites the block and a
test fails when the committed block differs from what the descriptor gives.
"""

from __future__ import annotations

from pathlib import Path

from citycluster.data import contracts

BEGIN = "<!-- BEGIN GENERATED: citycluster dictionary (edit datapackage.yaml, not this block) -->"
END = "<!-- END GENERATED -->"


def _constraints(field: contracts.Field) -> str:
    parts = []
    if field.required:
        parts.append("required")
    if field.unique:
        parts.append("unique")
    if field.enum is not None:
        parts.append("one of " + ", ".join(f"`{v}`" for v in field.enum))
    if field.enum_from == "units":
        parts.append("a unit of the unit table")
    if field.as_number:
        parts.append("a plain decimal, or N/M")
    if field.pattern:
        parts.append(f"matches `{field.pattern}`")
    if field.minimum is not None and field.maximum is not None:
        parts.append(f"within [{field.minimum}, {field.maximum}]")
    elif field.minimum is not None:
        parts.append(f"≥ {field.minimum}")
    elif field.maximum is not None:
        parts.append(f"≤ {field.maximum}")
    return "; ".join(parts)


def render(package: contracts.Package) -> str:
    """Markdown: one section per table, its files, keys and a row per column."""
    out = [BEGIN, ""]
    for table in package.tables():
        files = package.table(table)
        first = files[0]
        out.append(f"### `{table}` — {first.title if len(files) == 1 else 'reference statistics'}")
        out.append("")
        if first.description:
            out += [first.description, ""]
        for c in files:
            out.append(f"- `{c.path}`" + (f": {c.title}" if len(files) > 1 else ""))
        out.append("")
        if first.primary_key:
            scope = " within its file" if len(files) > 1 else ""
            out.append(f"Key: {', '.join(f'`{k}`' for k in first.primary_key)}{scope}.")
        for fk in first.foreign_keys:
            out.append(f"Foreign key: {', '.join(fk.fields)} → `{fk.table}` "
                       f"({', '.join(fk.ref_fields)}).")
        for rule in first.rules:
            out.append(f"Rule ({rule.severity}): {rule.description}.")
        out += ["", "| column | type | constraints | meaning |", "| --- | --- | --- | --- |"]
        for f in first.fields:
            out.append(f"| `{f.name}` | {f.type} | {_constraints(f)} | "
                       f"{f.description.replace('|', '/')} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def updated(readme: str, package: contracts.Package) -> str:
    """The README with its generated block replaced (appended if it has none yet)."""
    block = render(package)
    if BEGIN in readme and END in readme:
        head, _, rest = readme.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block + tail
    return readme.rstrip("\n") + "\n\n" + block + "\n"


def write(raw_dir: Path) -> Path:
    """Rewrite the dictionary block of ``raw_dir/README.md``; returns the file."""
    path = raw_dir / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# data/raw\n"
    path.write_text(updated(text, contracts.load(raw_dir)), encoding="utf-8")
    return path


PUBLISHED_README = """# data/

- `raw/`: the inputs, each declared in `raw/datapackage.yaml` (see `raw/README.md`).
- `staging/`: what ingest wrote and validation audits (not kept in git).
- `processed/`: what validation published and the later steps wrote (not kept in git), each
  table declared in `processed.datapackage.yaml`. Every table is checked against its
  declaration before it is written; the tables below are generated from that file
  (`citycluster dictionary`).

## Published tables
"""


def write_published(data_dir: Path) -> Path:
    """Rewrite the dictionary block of ``data/README.md`` from the published contracts."""
    from citycluster.data import published

    path = data_dir / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else PUBLISHED_README
    path.write_text(updated(text, published.package()), encoding="utf-8")
    return path
