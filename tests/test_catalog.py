"""The catalog: each step's reads and writes declared once, and enforced."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from citycluster.chain import catalog
from citycluster.chain.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
CALL = re.compile(r'cat\.(load|save|path|target)\(f?"([^"]+)"')


def test_a_step_cannot_load_what_it_did_not_declare(tmp_path: Path) -> None:
    cat = catalog.Catalog("03_model", {"processed_dir": str(tmp_path)}, interactive=False)
    with pytest.raises(catalog.CatalogError, match="03_model does not declare that it reads "
                                                    "'factcheck'"):
        cat.load("factcheck")
    with pytest.raises(catalog.CatalogError, match="writes"):
        cat.save("claims", None)  # type: ignore[arg-type]


def test_the_cache_hashes_what_the_catalog_declares() -> None:
    for step in STEPS:
        reads, writes = catalog.FLOWS[step.name]
        assert step.inputs == catalog.patterns(reads)
        assert step.outputs == catalog.patterns(writes)


def test_every_dataset_a_notebook_names_is_declared_for_its_step() -> None:
    for step in STEPS:
        reads, writes = catalog.FLOWS[step.name]
        source = "".join("".join(c["source"]) for c in json.loads(
            (ROOT / step.notebook).read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code")
        assert f'Catalog.for_step("{step.name}"' in source, step.notebook
        assert "read_parquet" not in source and "write_parquet" not in source, step.notebook
        for verb, name in CALL.findall(source):
            name = name.replace("{name}", "models")
            allowed = reads if verb in ("load", "path") else writes
            assert name in allowed, f"{step.notebook}: cat.{verb}({name!r}) is not declared"


def test_an_interactive_run_writes_to_scratch_and_reads_its_own_outputs_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("CITYCLUSTER_ROOT", str(tmp_path))
    monkeypatch.delenv(catalog.RUNNER_ENV, raising=False)
    published = tmp_path / "data" / "processed" / "claims.parquet"
    published.parent.mkdir(parents=True)
    published.write_bytes(b"published")
    cat = catalog.Catalog("04_factcheck", {"processed_dir": "data/processed",
                                           "reports_dir": "reports"})
    assert cat.interactive and cat.path("claims") == published
    scratch = tmp_path / "build" / "interactive" / "processed"
    assert cat.target("factcheck") == scratch / "factcheck.parquet"
    (scratch / "claims.parquet").write_bytes(b"mine")
    assert cat.path("claims") == scratch / "claims.parquet"
    monkeypatch.setenv(catalog.RUNNER_ENV, "1")
    runner = catalog.Catalog("04_factcheck", {"processed_dir": "data/processed",
                                              "reports_dir": "reports"})
    assert runner.path("claims") == published
    assert runner.target("factcheck") == published.with_name("factcheck.parquet")


def test_independent_steps_form_waves_from_the_declared_flows() -> None:
    from citycluster.chain.plan import waves

    plan = [(s, lang) for s in STEPS for lang in (["zh", "en"] if s.per_language else [None])]
    grouped = [[f"{s.name}{'.' + lang if lang else ''}" for s, lang in wave]
               for wave in waves(plan)]
    assert grouped == [["01_ingest"], ["02_validate"], ["03_model", "04_factcheck"],
                       ["05_figures.zh", "05_figures.en"], ["06_report.zh", "06_report.en"]]
    assert not catalog.independent("04_factcheck", "05_figures")  # 05 reads factcheck
    assert not catalog.independent("05_figures", "06_report")  # 06 inlines 05's SVGs


def test_each_language_of_the_figures_step_removes_only_its_own_stale_files(
        tmp_path: Path) -> None:
    """The two languages' executions share reports/figures/ and run at once: each removes
    its own figures it no longer makes, and those of a language the run no longer makes,
    never the other language's."""
    from citycluster.report.render import stale_figures

    names = ("kept.zh.svg", "kept.zh.vl.json", "dropped.zh.svg", "kept.en.svg", "old.fr.svg",
             ".kept.en.svg.x1y2z3")  # the English execution's write in progress
    for name in names:
        (tmp_path / name).write_text("x", encoding="utf-8")
    exported = [tmp_path / "kept.zh.svg", tmp_path / "kept.zh.vl.json"]
    assert [p.name for p in stale_figures(tmp_path, exported, "zh", ["zh", "en"])] == [
        "dropped.zh.svg", "old.fr.svg"]
    assert stale_figures(tmp_path, [tmp_path / "kept.en.svg"], "en", ["zh", "en"]) == [
        tmp_path / ".kept.en.svg.x1y2z3", tmp_path / "old.fr.svg"]
    # a language run by hand that the run would not make keeps what it just exported
    assert tmp_path / "kept.zh.svg" not in stale_figures(tmp_path, exported, "zh", ["en"])


def test_only_a_step_run_per_language_declares_files_per_language() -> None:
    """A ``{lang}`` in a step's cache pattern is filled in per execution: a step run once
    would hash a pattern naming no language (``figures/*.None.*``) and miss its files."""
    for step in STEPS:
        for _, glob in (*step.inputs, *step.outputs):
            assert "{lang}" not in glob or step.per_language, (step.name, glob)


def test_validation_publishing_a_stale_table_is_refused(tmp_path: Path) -> None:
    """A table ingest did not stage is carried over by validation's publishing with last run's
    time, so the runner sees 02_validate did not write it and refuses the run."""
    import os

    from citycluster.chain.plan import Execution, MissingOutput, output_stamps, require_outputs
    from citycluster.validation.audit import publish

    dirs = {name: tmp_path / name for name in
            ("raw_dir", "staging_dir", "processed_dir", "reports_dir")}
    for folder in dirs.values():
        folder.mkdir()
    last_run = 1_000_000_000
    for table in catalog.PUBLISHED_TABLES:
        old = dirs["processed_dir"] / f"{table}.parquet"
        old.write_bytes(b"last run")
        os.utime(old, ns=(last_run, last_run))
        if table != "estimates":  # this run's ingest left one table out
            (dirs["staging_dir"] / f"{table}.parquet").write_bytes(b"this run")
    summary = dirs["reports_dir"] / "validation" / "summary.csv"
    summary.parent.mkdir()
    step = next(s for s in STEPS if s.name == "02_validate")
    execution = Execution("[2/6]", step.name, None, step, None, None, None,  # type: ignore[arg-type]
                          output_stamps(step, None, dirs))
    publish(dirs["staging_dir"], dirs["processed_dir"])
    summary.write_text("rule\n", encoding="utf-8")
    assert (dirs["processed_dir"] / "estimates.parquet").stat().st_mtime_ns == last_run
    with pytest.raises(MissingOutput) as refused:
        require_outputs(execution, dirs)
    assert str(refused.value).startswith(
        "step 02_validate finished without writing estimates (processed_dir/estimates.parquet),")
    assert "claims (" not in str(refused.value)
