"""The contracts as the Frictionless Data standard's own validator reads them: the raw contract
in the repository, and the two packages a run publishes beside its outputs, each with its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citycluster.paths import repo_root

RAW = repo_root() / "data" / "raw" / "datapackage.yaml"


def problems(descriptor: Path) -> list[str]:
    """What ``frictionless validate`` finds wrong with a package and its data (none: valid)."""
    from frictionless import validate

    report = validate(str(descriptor))
    found = [f"package: {e.message}" for e in report.errors]
    for task in report.tasks:
        found += [f"{task.name}: {e.message}" for e in task.errors]
    return found


def test_the_raw_contract_and_files_pass_the_reference_validator() -> None:
    assert problems(RAW) == []


def test_the_validator_would_catch_a_broken_raw_file(tmp_path: Path) -> None:
    """The check has teeth: a reference row whose year is not a number is reported."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(RAW.parent, raw)
    path = raw / "reference" / "national_totals.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[7] = "soon"  # the year column
    lines[1] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    found = problems(raw / "datapackage.yaml")
    assert len(found) == 1 and found[0].startswith("reference_national_totals:"), found


@pytest.mark.chain
@pytest.mark.parametrize("folder", ["data/processed", "reports"])
def test_the_published_packages_pass_the_reference_validator(chain_repo: Path,
                                                            folder: str) -> None:
    """Each package describes every table it lists in full, with paths that resolve from its
    folder, under a licence and with its sources, and its data passes."""
    descriptor = chain_repo / folder / "datapackage.json"
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    assert package["licenses"] and package["sources"] and package["resources"]
    for resource in package["resources"]:
        assert (descriptor.parent / resource["path"]).is_file(), resource["path"]
        assert resource["schema"]["fields"], resource["name"]
    if folder == "data/processed":  # every table published there, and nothing else
        assert {r["path"] for r in package["resources"]} == {
            p.name for p in descriptor.parent.glob("*.parquet")}
    assert problems(descriptor) == []
