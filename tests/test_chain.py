"""The real chain: five notebooks under papermill, through the command line."""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import polars as pl
import pytest
import yaml

from citycluster.report.i18n import language_tag
from tests.conftest import completed, has_traceback, recorded_once, run_cli, tree_bytes
from tests.standin import hold, release, wait_started

pytestmark = pytest.mark.chain


def test_chain_publishes_reports_and_executed_notebooks(chain_repo: Path) -> None:
    reports = chain_repo / "reports"
    for lang in ("en", "zh"):
        html = (reports / f"report.{lang}.html").read_text(encoding="utf-8")
        assert f'<html lang="{language_tag(lang)}">' in html
        assert "<script src=" not in html  # nothing loaded from the network
    remote = re.compile(r"<(?:script|link|img)[^>]+(?:src|href)\s*=\s*[\"']https?://", re.I)
    pages = list(reports.rglob("*.html"))
    assert (reports / "validation" / "index.html").is_file()  # the offline validation record
    assert not (reports / "validation" / "data-docs").exists()  # Data Docs only when asked
    assert not [p for p in pages if remote.search(p.read_text(encoding="utf-8"))]
    executed = sorted(p.name for p in (reports / "executed").glob("*.ipynb"))
    assert executed == ["01_ingest.ipynb", "02_validate.ipynb", "03_model.ipynb",
                        "04_factcheck.ipynb", "05_figures.en.ipynb", "05_figures.zh.ipynb",
                        "06_report.en.ipynb", "06_report.zh.ipynb"]
    nb = nbformat.read(reports / "executed" / "03_model.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["bootstrap_reps"] == 2000
    for path in (reports / "executed").glob("*.ipynb"):  # the imports run ahead left no trace
        counts = [c.execution_count for c in nbformat.read(path, as_version=4).cells
                  if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), (path.name, counts)
    processed = sorted(p.name for p in (chain_repo / "data" / "processed").glob("*.parquet"))
    assert processed == ["claims.parquet", "cluster_totals.parquet", "coordinates.parquet",
                         "estimates.parquet", "estimates_backtest.parquet",
                         "factcheck.parquet", "links.parquet",
                         "membership.parquet", "missing_figures.parquet",
                         "model_comparison.parquet", "model_influence.parquet",
                         "model_predictions.parquet",
                         "model_tests.parquet", "models.parquet", "paragraphs.parquet",
                         "place_names.parquet", "reference.parquet", "shares.parquet"]


def test_models_csv_follows_the_contract(chain_repo: Path) -> None:
    models = pl.read_csv(chain_repo / "reports" / "models.csv")
    for col in ("model", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n",
                "r_squared"):
        assert col in models.columns
    assert set(models["family"]) == {"share", "scaling", "linkage"}
    fitted = models.filter(pl.col("status") == "fitted")
    assert (fitted["ci_low"] <= fitted["estimate"]).all()
    assert (fitted["estimate"] <= fitted["ci_high"]).all()
    key = fitted.filter(pl.col("max_cooks").is_not_null())
    assert key["model"].to_list() == ["share_cities", "scaling_cities",
                                      "linkage_distance_cities", "linkage_capital_cities",
                                      "share_entities",
                                      "share_entities_reference", "share_provinces",
                                      "scaling_provinces", "scaling_clusters_cn"]
    diagnostics = key.select("boot_ci_low", "boot_ci_high", "loo_low", "loo_high", "max_cooks")
    assert diagnostics.null_count().sum_horizontal().item() == 0
    thin = models.filter(pl.col("status") == "not estimable").row(0, named=True)
    assert thin["model"] == "linkage_premium" and "at least 3" in thin["warning"]
    trends = models.filter(pl.col("status") == "endpoints")
    assert set(trends["model"]) == {"trend_cn_hebi_supporting_rate", "trend_cn_zhangye_output"}
    small = key.filter(pl.col("n") < 10)
    assert small["warning"].str.contains("indicative only").all()


#: A model the defaults lack, added in a params file: fitted without an intercept.
EXTRA_MODEL = {"name": "share_provinces_origin", "family": "share", "sample": "provinces",
               "formula": "gdp_share ~ pop_share - 1", "h0": {"pop_share": 1}}


@pytest.fixture(scope="session")
def model_rerun(chain_repo: Path,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The model step alone, rerun on a copy of the chain's outputs with a params file that
    adds a model and a command-line override (``-p``): one run, judged three ways below."""
    def rerun(root: Path) -> dict[str, Any]:
        defaults = yaml.safe_load((root / "params" / "default.yaml").read_text(encoding="utf-8"))
        params = root / "extra.yaml"
        params.write_text(yaml.safe_dump({"models": [*defaults["models"], EXTRA_MODEL]}),
                          encoding="utf-8")
        return completed(run_cli(root, "run", "--only", "03_model", "--params", str(params),
                                 "-p", "bootstrap_reps=50"))

    root, result = recorded_once(tmp_path_factory, "model-rerun", rerun, start=chain_repo)
    assert result["returncode"] == 0, result["stderr"]
    return root, result


def test_a_model_added_in_a_params_file_is_fitted(
        model_rerun: tuple[Path, dict[str, Any]]) -> None:
    root, _ = model_rerun
    models = pl.read_csv(root / "reports" / "models.csv")
    added = models.filter(pl.col("model") == EXTRA_MODEL["name"])
    assert added["term"].to_list() == ["pop_share"]  # no intercept, as the formula says
    assert added["n"].item() == 31 and added["boot_ci_low"].item() is not None


def test_parameter_override_reaches_the_notebook(
        model_rerun: tuple[Path, dict[str, Any]]) -> None:
    root, _ = model_rerun
    nb = nbformat.read(root / "reports" / "executed" / "03_model.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["bootstrap_reps"] == 50


def test_a_partial_run_lists_what_it_left_out_of_date(
        model_rerun: tuple[Path, dict[str, Any]]) -> None:
    _, result = model_rerun
    assert "now out of date" in result["stdout"] and "06_report [en] (" in result["stdout"]
    assert "(out of date: see above)" in result["stdout"]


def test_unknown_parameter_lists_the_valid_ones(chain_repo: Path) -> None:
    result = run_cli(chain_repo, "run", "-p", "bootstrap_rep=10")
    assert result.returncode == 2
    assert "unknown parameter(s): bootstrap_rep" in result.stderr
    assert "bootstrap_reps" in result.stderr and "models" in result.stderr


def test_bad_model_spec_fails_before_any_step(chain_repo: Path) -> None:
    before = tree_bytes(chain_repo / "reports")
    result = run_cli(chain_repo, "run", "-p",
                     'models=[{name: a, family: share, sample: towns, formula: "y ~ x"}]')
    assert result.returncode == 2
    assert "models[0] (a): sample 'towns' is not one of cities" in result.stderr
    assert tree_bytes(chain_repo / "reports") == before


def test_wrong_type_is_refused(chain_repo: Path) -> None:
    result = run_cli(chain_repo, "run", "-p", "bootstrap_reps=many")
    assert result.returncode == 2
    assert "bootstrap_reps must be a int" in result.stderr


def test_failing_notebook_gives_summary_and_keeps_outputs(standin_chain: Path, tmp_path: Path,
                                                         kernel_tmp: Path) -> None:
    """A failing step (its kernel started ahead, as the fact-check's turn came): its summary,
    nothing published, and every kernel shut down. (On the stand-in chain: the runner's
    work.)"""
    root = tmp_path / "repo"
    shutil.copytree(standin_chain, root)
    nb_path = root / "notebooks" / "05_figures.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        'print("about to fail")\nraise RuntimeError("injected failure")'))
    nbformat.write(nb, nb_path)
    before = tree_bytes(root / "reports")

    result = run_cli(root, "run", "--only", "04_factcheck", "--only", "05_figures", "--force",
                     env={"TMPDIR": str(kernel_tmp)})

    assert result.returncode == 1
    assert not list(kernel_tmp.iterdir())  # every kernel shut down: no socket folder left
    assert "step 05_figures failed" in result.stderr
    assert f"cell: 2 of {len(nb.cells)}" in result.stderr
    assert "RuntimeError: injected failure" in result.stderr
    assert "about to fail" in result.stderr
    # both languages fail; the first failure is the one reported
    kept = next(root / "build" / "executed" / f"05_figures.{lang}.ipynb" for lang in ("zh", "en")
                if f"05_figures.{lang}.ipynb" in result.stderr)
    assert f"executed notebook kept at: {kept}" in result.stderr
    assert kept.is_file()
    assert tree_bytes(root / "reports") == before


def test_a_step_that_leaves_out_a_declared_output_is_refused(standin_chain: Path,
                                                            tmp_path: Path) -> None:
    """A step that finishes without writing an output it declares is refused: the error names
    the step and the output, and nothing is published (the staging copy of the reports still
    holds the last run's file, which must not pass for this run's). On the stand-in chain."""
    root = tmp_path / "repo"
    shutil.copytree(standin_chain, root)
    nb_path = root / "notebooks" / "04_factcheck.ipynb"
    text = nb_path.read_text(encoding="utf-8")
    assert "for name in cat.writes:" in text
    nb_path.write_text(text.replace(
        "for name in cat.writes:",
        "for name in [n for n in cat.writes if n != 'missing_figures_csv']:"), encoding="utf-8")
    before = tree_bytes(root / "reports")

    result = run_cli(root, "run", "--only", "04_factcheck", "--force")

    assert result.returncode != 0
    assert ("step 04_factcheck finished without writing missing_figures_csv "
            "(reports_dir/missing_figures.csv)") in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(root / "reports") == before


def test_failing_validation_leaves_processed_untouched(chain_repo: Path,
                                                      tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(chain_repo, root)
    claims = root / "data" / "raw" / "claims.csv"
    claims.write_text(claims.read_text(encoding="utf-8").replace(",万人,", ",萬人,", 1),
                      encoding="utf-8")
    before_processed = tree_bytes(root / "data" / "processed")
    before_reports = tree_bytes(root / "reports")

    result = run_cli(root, "run", "--until", "02_validate")

    assert result.returncode == 1
    assert "data/raw/claims.csv: column unit" in result.stderr
    assert "unit is one of the unit table" in result.stderr
    assert "萬人" in result.stderr
    assert tree_bytes(root / "data" / "processed") == before_processed
    assert tree_bytes(root / "reports") == before_reports


def test_unreadable_raw_file_stops_the_chain_with_its_location(chain_repo: Path,
                                                              tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(chain_repo, root)
    national = root / "data" / "raw" / "reference" / "national_totals.csv"
    national.write_bytes(b"\xef\xbb\xbf" + national.read_bytes())
    before = tree_bytes(root / "data" / "processed")

    result = run_cli(root, "run")

    assert result.returncode == 1
    assert "step 01_ingest failed" in result.stderr
    assert "national_totals.csv, row 1: [byte-order-mark]" in result.stderr
    assert tree_bytes(root / "data" / "processed") == before


@pytest.fixture(scope="session")
def partial_runs(standin_chain: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """On a copy of the stand-in chain's outputs (the runner's work): validation alone
    (forced, and held until the other runs have been seen to wait), with a second run started
    while it holds the folders, once refused (``--no-wait``) and once waiting its turn; then
    the report alone in one language. What each said and left is recorded for the tests."""
    import os
    import subprocess
    import sys

    def runs(root: Path) -> dict[str, Any]:
        held = root.with_name(f"{root.name}-held")
        env = dict(os.environ, CITYCLUSTER_ROOT=str(root), **hold("02_validate", held))
        first = subprocess.Popen(
            [sys.executable, "-m", "citycluster", "run", "--only", "02_validate", "--force"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_started(held)  # the first run holds the folders
        refused = run_cli(root, "run", "--until", "02_validate", "--force", "--no-wait")
        second = subprocess.Popen(  # the wait, not work
            [sys.executable, "-m", "citycluster", "run", "--until", "01_ingest", "--force"],
            cwd=root, env=dict(os.environ, CITYCLUSTER_ROOT=str(root)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert second.stdout is not None
        seen = []
        for line in second.stdout:  # until it says it waits (or ends, for the test to judge)
            seen.append(line)
            if "waiting for it to finish" in line:
                break
        release(held)
        rest, err = second.communicate(timeout=600)
        waited = {"returncode": second.returncode, "stdout": "".join(seen) + rest,
                  "stderr": err}
        out, _ = first.communicate(timeout=600)
        return {"first": {"pid": first.pid, "returncode": first.returncode, "stdout": out},
                "refused": completed(refused), "waited": waited,
                "processed": sorted(p.name for p in (root / "data" / "processed").iterdir()),
                "reports": sorted(p.name for p in (root / "reports").iterdir()),
                "report": completed(run_cli(root, "run", "--only", "06_report", "-p",
                                            "report_languages=[en]"))}

    return recorded_once(tmp_path_factory, "partial-runs", runs, start=standin_chain)


def test_two_runs_at_once_take_turns(partial_runs: tuple[Path, dict[str, Any]]) -> None:
    """A second run waits for the first (or, with --no-wait, says who holds the folders and
    exits 75); both end cleanly and the reports stay whole."""
    _, seen = partial_runs
    first, refused, waited = seen["first"], seen["refused"], seen["waited"]
    assert refused["returncode"] == 75, refused["stdout"] + refused["stderr"]
    assert f"pid {first['pid']}" in refused["stderr"] and "started" in refused["stderr"]
    assert first["returncode"] == 0 and waited["returncode"] == 0, \
        first["stdout"] + waited["stderr"]
    assert "waiting for it to finish" in waited["stdout"]
    for text in (first["stdout"], waited["stdout"], waited["stderr"], refused["stderr"]):
        assert not has_traceback(text), text
    assert {"report.en.html", "report.zh.html", "index.html"} <= set(seen["reports"])


def test_validation_alone_keeps_the_later_steps_tables(
        partial_runs: tuple[Path, dict[str, Any]]) -> None:
    _, seen = partial_runs
    later = {"models.parquet", "factcheck.parquet", "model_predictions.parquet"}
    assert later <= set(seen["processed"])
    # the report alone, after it, still finds every table it reads
    assert seen["report"]["returncode"] == 0, seen["report"]["stderr"]


def test_a_dropped_language_leaves_no_stale_report(
        partial_runs: tuple[Path, dict[str, Any]]) -> None:
    root, seen = partial_runs
    assert seen["report"]["returncode"] == 0, seen["report"]["stderr"]
    reports = root / "reports"
    assert sorted(p.name for p in reports.glob("report.*.html")) == ["report.en.html"]
    assert sorted(p.name for p in (reports / "executed").glob("06_report*")) == [
        "06_report.en.html", "06_report.en.ipynb"]  # the notebook and its page, not zh's
    assert 'href="report.zh.html"' not in (reports / "index.html").read_text(encoding="utf-8")


def test_every_published_table_meets_its_contract(chain_repo: Path) -> None:
    from citycluster.data import published

    processed = chain_repo / "data" / "processed"
    names = {c.name for c in published.package()}
    assert names == {p.stem for p in processed.glob("*.parquet")}
    for name in sorted(names):
        published.check(name, pl.read_parquet(processed / f"{name}.parquet"))


def test_a_step_whose_inputs_are_missing_names_the_step_that_makes_them(tmp_path: Path) -> None:
    from tests.conftest import copy_repo

    root = copy_repo(tmp_path / "fresh")  # as after `make clean`: nothing published yet
    result = run_cli(root, "run", "--only", "03_model")
    assert result.returncode == 1
    assert "shares.parquet" in result.stderr and "02_validate makes" in result.stderr
    assert not has_traceback(result.stderr), result.stderr


def test_a_kernel_whose_imports_printed_is_started_afresh(tmp_path: Path) -> None:
    """A kernel started ahead keeps its imports only if they printed nothing: a warning at
    import must reach the executed notebook from the notebook's own cell, so the kernel is
    restarted and has imported nothing; a quiet import stays loaded."""
    import threading

    from jupyter_core.utils import run_sync

    from citycluster.chain import runner

    async def names(km: object) -> str:
        client = km.client()  # type: ignore[attr-defined]
        client.start_channels()
        seen: list[str] = []
        await client.wait_for_ready(timeout=60)
        await client.execute_interactive(
            "print(sorted(n for n in ('json', 'warnings') if n in globals()))",
            output_hook=lambda m: seen.append(m["content"].get("text", "")))
        client.stop_channels()
        return "".join(seen).strip()

    def start_import_ask(imports: str) -> str:
        """In a thread of its own, with its own event loop, as a step's worker drives it."""
        km = runner.new_kernel()
        try:
            run_sync(runner._start_and_import)(km, tmp_path, imports, threading.Event())
            return run_sync(names)(km)
        finally:
            runner.shutdown_kernel(km)

    loud = "import json\nimport warnings\nwarnings.warn('a warning at import')"
    with ThreadPoolExecutor(max_workers=1) as pool:
        for imports, kept in ((loud, "[]"),
                              ("import json\nimport warnings", "['json', 'warnings']")):
            assert pool.submit(start_import_ask, imports).result() == kept
