"""Sweeps: a grid on the local pool, planned for other machines and collected, and on Dask.

One grid, three ways: ``citycluster sweep`` on the local process pool (the reference, run once
per session), ``--emit-matrix`` in one checkout with each entry run by ``citycluster run
--params`` in another and the run folders collected from a third place (what a CI matrix or a
SLURM array does), and ``--scheduler local`` (a Dask LocalCluster). All three must index the
same results; only the timings differ.

Sweeping is the runner's work, so the grid runs on the stand-in chain (tests/standin.py) with
the one step it varies kept real: the fact-check judges the replayed tables with each run's own
tolerance, so every route must index the verdicts that tolerance gives.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from tests.conftest import built_once, run_cli
from tests.standin import standin_repo, write_standins

pytestmark = pytest.mark.chain
#: Two tolerances to the fact-check, the one step of the grid kept real.
GRID = ("-g", "rounding_tolerance=[0.0, 0.05]", "--until", "04_factcheck")
REAL = ("04_factcheck",)
RUNS = ["rounding_tolerance=0.0", "rounding_tolerance=0.05"]


def only_sweep(root: Path) -> Path:
    """The one sweep folder a repository copy holds."""
    (folder,) = (p.parent for p in (root / "sweeps").glob("*/sweep.json"))
    return folder


def results(folder: Path) -> pl.DataFrame:
    """A sweep's index without its timing column (the one thing that may differ)."""
    return pl.read_csv(folder / "index.csv").drop("seconds")


def outcome(folder: Path, run: str) -> Path:
    return folder / run / "build" / "outcome.json"


@pytest.fixture(scope="session")
def pooled(tmp_path_factory: pytest.TempPathFactory, chain_repo: Path) -> Path:
    """The reference: a stand-in copy where `citycluster sweep` ran the grid on its pool."""
    def sweep(root: Path) -> None:
        write_standins(root, chain_repo, REAL)
        result = run_cli(root, "sweep", *GRID, "--jobs", "2")
        assert result.returncode == 0, result.stdout + result.stderr

    return built_once(tmp_path_factory, "sweep-pool", sweep)


@pytest.fixture(scope="session")
def elsewhere(tmp_path_factory: pytest.TempPathFactory, chain_repo: Path) -> Path:
    """The grid planned with --emit-matrix in one checkout, its plan copied to another (as a CI
    artifact is) and each entry run there on its own; returns the checkout that ran them."""
    def plan_and_run(root: Path) -> None:
        write_standins(root, chain_repo, REAL)
        planner = standin_repo(tmp_path_factory.mktemp("sweep-planner"), chain_repo, REAL)
        matrix = planner / "matrix.json"
        result = run_cli(planner, "sweep", *GRID, "--emit-matrix", str(matrix))
        assert result.returncode == 0, result.stdout + result.stderr
        plan = only_sweep(planner)
        shutil.copytree(plan, root / "sweeps" / plan.name)
        entries = json.loads(matrix.read_text(encoding="utf-8"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = list(pool.map(lambda e: run_cli(root, "run", "--params", e["params"],
                                                   "--until", e["until"]), entries))
        for run in done:
            assert run.returncode == 0, run.stdout + run.stderr
        for entry in entries:  # nothing ran in the planning checkout
            assert [p.name for p in (plan / entry["id"]).iterdir()] == ["params.yaml"]

    return built_once(tmp_path_factory, "sweep-matrix", plan_and_run)


def test_sweep_runs_a_grid_in_parallel_and_indexes_it(pooled: Path) -> None:
    root = pooled
    sweeps = pl.read_csv(root / "sweeps" / "index.csv")  # every sweep, one row each
    assert sweeps.height == 1 and sweeps["ok"].to_list() == [2]
    folder = root / "sweeps" / sweeps["sweep"][0]
    index = pl.read_csv(folder / "index.csv")
    assert index["run"].to_list() == RUNS
    assert index["status"].to_list() == ["ok", "ok"]
    strict, loose = index.row(0, named=True), index.row(1, named=True)
    assert strict["inconsistent"] > loose["inconsistent"]  # the tolerance matters
    assert strict["consistent"] + strict["inconsistent"] + strict["unverifiable"] == 58
    for run in index["run"]:  # each run kept to its own folders
        assert (folder / run / "processed" / "factcheck.parquet").is_file()
    assert not (root / "data" / "processed").exists()
    assert (folder / "index.html").is_file()


def test_a_matrix_run_elsewhere_and_collected_indexes_like_the_sweep(
        pooled: Path, elsewhere: Path, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"  # the run folders, fetched anywhere (CI artifacts)
    collected = downloads / only_sweep(elsewhere).name
    shutil.copytree(only_sweep(elsewhere), collected)

    result = run_cli(elsewhere, "sweep", "--collect", str(collected))

    assert result.returncode == 0, result.stdout + result.stderr
    assert_frame_equal(results(collected), results(only_sweep(pooled)))
    assert (collected / "index.html").is_file()
    sweeps = pl.read_csv(downloads / "index.csv")
    assert sweeps["sweep"].to_list() == [collected.name] and sweeps["ok"].to_list() == [2]
    record = json.loads(outcome(collected, RUNS[0]).read_text(encoding="utf-8"))
    lock = hashlib.sha256((elsewhere / "requirements.lock").read_bytes()).hexdigest()
    assert record["status"] == "ok" and record["error"] is None
    assert record["lock_sha256"] == lock
    assert record["python"] == platform.python_version()
    assert record["seconds"] > 0 and record["finished"] and record["commit"]


@pytest.mark.parametrize("field,odd_value", [("commit", "0123456789abcdef"),
                                             ("python", "3.99.0"),
                                             ("packages_sha256", "f" * 64)])
def test_collect_refuses_runs_of_different_builds(elsewhere: Path, tmp_path: Path, field: str,
                                                  odd_value: str) -> None:
    """A run made from another commit, on another interpreter or with other packages installed
    (the lock is universal: some pins depend on the interpreter) is not comparable: nothing is
    indexed."""
    collected = tmp_path / "downloads" / only_sweep(elsewhere).name
    shutil.copytree(only_sweep(elsewhere), collected)
    odd = outcome(collected, RUNS[1])
    record = json.loads(odd.read_text(encoding="utf-8"))
    odd.write_text(json.dumps({**record, field: odd_value}), encoding="utf-8")

    result = run_cli(elsewhere, "sweep", "--collect", str(collected))

    assert result.returncode == 1
    assert "2 different builds (commit, lock" in result.stderr
    usual = (f"commit {record['commit']}, lock {record['lock_sha256']}, Python {record['python']}"
             f", packages {record['packages_sha256']}")
    assert f"{RUNS[0]}: {usual}" in result.stderr
    assert f"{RUNS[1]}: {usual}".replace(str(record[field]), odd_value) in result.stderr
    assert not (collected / "index.csv").exists()
    assert not (collected.parent / "index.csv").exists()


def test_collect_fails_runs_that_never_finished_or_ran_other_steps(elsewhere: Path,
                                                                   tmp_path: Path) -> None:
    """A record still saying "running" (the run was killed outright: the SIGKILL test in
    test_reproducible.py shows a real one) and a run asked for other steps than the sweep
    planned both count as failed, with why."""
    collected = tmp_path / "downloads" / only_sweep(elsewhere).name
    shutil.copytree(only_sweep(elsewhere), collected)
    for run_name, change in ((RUNS[0], {"status": "running"}), (RUNS[1], {"steps": ["01_ingest"]})):
        path = outcome(collected, run_name)
        record = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**record, **change}), encoding="utf-8")

    result = run_cli(elsewhere, "sweep", "--collect", str(collected))

    assert result.returncode == 1
    assert f"{RUNS[0]}: failed (did not finish (killed, or still running))" in result.stdout
    assert f"{RUNS[1]}: failed (ran 01_ingest; the sweep planned 01_ingest, " in result.stdout
    assert f"2 run(s) failed: {', '.join(RUNS)}" in result.stderr
    assert pl.read_csv(collected / "index.csv")["status"].to_list() == ["failed", "failed"]


def test_combinations_that_read_alike_get_their_own_folders(repo_copy: Path) -> None:
    """Two values that make the same folder name (here 0.01 written twice) still get a run
    each, in folders of their own, so neither run's parameters overwrite the other's."""
    matrix = repo_copy / "matrix.json"
    result = run_cli(repo_copy, "sweep", "-g", "rounding_tolerance=[0.01, 0.010]",
                     "--emit-matrix", str(matrix))
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [e["id"] for e in json.loads(matrix.read_text(encoding="utf-8"))]
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    assert ids[0] == "rounding_tolerance=0.01" and ids[1].startswith("rounding_tolerance=0.01-")
    assert all((only_sweep(repo_copy) / i / "params.yaml").is_file() for i in ids)


def test_collect_reports_failed_and_missing_runs(repo_copy: Path) -> None:
    matrix = repo_copy / "matrix.json"
    result = run_cli(repo_copy, "sweep", "-g", "rounding_tolerance=[0.0, 0.05]", "--until",
                     "01_ingest", "--emit-matrix", str(matrix))
    assert result.returncode == 0, result.stdout + result.stderr
    national = repo_copy / "data" / "raw" / "reference" / "national_totals.csv"
    national.write_bytes(b"\xef\xbb\xbf" + national.read_bytes())  # 01_ingest refuses a BOM
    first = json.loads(matrix.read_text(encoding="utf-8"))[0]
    run = run_cli(repo_copy, "run", "--params", first["params"], "--until", first["until"])
    assert run.returncode == 1, run.stdout + run.stderr
    folder = only_sweep(repo_copy)  # the second run never happened

    result = run_cli(repo_copy, "sweep", "--collect", str(folder))

    assert result.returncode == 1
    record = json.loads(outcome(folder, RUNS[0]).read_text(encoding="utf-8"))
    assert record["status"] == "failed" and record["error"] == "step 01_ingest failed"
    assert f"{RUNS[0]}: failed (step 01_ingest failed)" in result.stdout
    assert f"1 run(s) failed: {RUNS[0]}" in result.stderr
    assert f"1 run(s) missing: {RUNS[1]}" in result.stderr
    index = pl.read_csv(folder / "index.csv")
    assert index["run"].to_list() == RUNS
    assert index["status"].to_list() == ["failed", "missing"]
    sweeps = pl.read_csv(repo_copy / "sweeps" / "index.csv")
    assert sweeps["runs"].to_list() == [2] and sweeps["ok"].to_list() == [0]


def test_sweep_on_a_local_dask_cluster_indexes_like_the_pool(pooled: Path, chain_repo: Path,
                                                             tmp_path: Path) -> None:
    root = standin_repo(tmp_path / "repo", chain_repo, REAL)

    result = run_cli(root, "sweep", *GRID, "--scheduler", "local", "--jobs", "2")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "on a local Dask cluster of 2 workers" in result.stdout
    assert_frame_equal(results(only_sweep(root)), results(only_sweep(pooled)))


def test_emit_matrix_plans_portable_runs_and_runs_none(
        repo_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    matrix = repo_copy / "matrix.json"
    result = run_cli(repo_copy, "sweep", "-g", "rounding_tolerance=[0.0, 0.05]",
                     "--emit-matrix", str(matrix))
    assert result.returncode == 0, result.stdout + result.stderr
    folder = only_sweep(repo_copy)
    inside = f"sweeps/{folder.name}"
    assert json.loads(matrix.read_text(encoding="utf-8")) == [
        {"id": run, "params": f"{inside}/{run}/params.yaml"} for run in RUNS]
    params = yaml.safe_load((folder / RUNS[0] / "params.yaml").read_text(encoding="utf-8"))
    assert params["build_dir"] == f"{inside}/{RUNS[0]}/build"  # any checkout finds its own
    record = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in record["planned"]] == RUNS and record["ok"] is None
    for run in RUNS:  # planned, not run
        assert [p.name for p in (folder / run).iterdir()] == ["params.yaml"]

    outside = tmp_path_factory.mktemp("outside")  # outside the repository: absolute paths
    result = run_cli(repo_copy, "sweep", "-g", "rounding_tolerance=[0.0]", "--out",
                     str(outside), "--emit-matrix", str(matrix))
    assert result.returncode == 0, result.stdout + result.stderr
    (entry,) = json.loads(matrix.read_text(encoding="utf-8"))
    assert Path(entry["params"]).is_absolute() and Path(entry["params"]).is_relative_to(outside)
    params = yaml.safe_load(Path(entry["params"]).read_text(encoding="utf-8"))
    assert Path(params["build_dir"]).is_absolute()


def test_sweep_refuses_a_bad_grid(repo_copy: Path) -> None:
    result = run_cli(repo_copy, "sweep", "-g", "rounding_tolerance=0.1")
    assert result.returncode == 2 and "needs a non-empty list" in result.stderr
    result = run_cli(repo_copy, "sweep", "-g", "reports_dir=[a, b]")
    assert result.returncode == 2 and "set per run by the sweep" in result.stderr


def test_sweep_refuses_options_that_do_not_go_together(repo_copy: Path) -> None:
    result = run_cli(repo_copy, "sweep", "--collect", "data", "-g", "rounding_tolerance=[0.1]")
    assert result.returncode == 2 and "--collect indexes runs already made" in result.stderr
    result = run_cli(repo_copy, "sweep", "--collect", "data")
    assert result.returncode == 1 and "has no sweep.json" in result.stderr
    result = run_cli(repo_copy, "sweep", "--scheduler", "somewhere")
    assert result.returncode == 2 and "address of a Dask scheduler" in result.stderr
    result = run_cli(repo_copy, "sweep", "--scheduler", "local", "--emit-matrix", "m.json")
    assert result.returncode == 2 and "--emit-matrix runs nothing" in result.stderr
    assert not (repo_copy / "sweeps").exists()  # nothing planned
