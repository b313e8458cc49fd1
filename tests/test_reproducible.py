"""Reproducible and resumable: the cache, determinism, and interrupted runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import built_once, copy_repo, run_chain, run_cli, tree_bytes

pytestmark = pytest.mark.chain
VOLATILE = re.compile(r'<(dd|details) class="volatile">.*?</\1>', re.S)


def report_body(root: Path, lang: str) -> str:
    """A report without its volatile footer parts (build time, step timings)."""
    html = (root / "reports" / f"report.{lang}.html").read_text(encoding="utf-8")
    return VOLATILE.sub("", html)


def assert_same_results(a: Path, b: Path) -> None:
    assert tree_bytes(a / "data" / "processed") == tree_bytes(b / "data" / "processed")
    for name in ("models.csv", "factcheck.csv", "model_influence.csv"):
        assert (a / "reports" / name).read_bytes() == (b / "reports" / name).read_bytes()
    assert tree_bytes(a / "reports" / "figures") == tree_bytes(b / "reports" / "figures")
    for lang in ("en", "zh"):
        assert report_body(a, lang) == report_body(b, lang)


@pytest.fixture(scope="session")
def second_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, independent clean run (the determinism check compares it with chain_repo)."""
    return built_once(tmp_path_factory, "second", run_chain)


def test_two_clean_runs_give_identical_outputs(chain_repo: Path, second_run: Path) -> None:
    assert_same_results(chain_repo, second_run)


def test_an_up_to_date_rerun_touches_nothing(second_run: Path) -> None:
    before = tree_bytes(second_run / "reports")
    result = run_cli(second_run, "run")
    assert result.returncode == 0, result.stderr
    assert "everything is up to date" in result.stdout
    assert "7 up to date" in result.stdout
    assert tree_bytes(second_run / "reports") == before


def test_force_reruns_and_the_summary_says_why(second_run: Path, tmp_path: Path,
                                               kernel_tmp: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(second_run, root)
    result = run_cli(root, "run", "--only", "04_factcheck", "--force")
    assert result.returncode == 0, result.stderr
    assert "ran         04_factcheck: --force" in result.stdout
    # a raw file no table reads: ingest reruns and finds the same tables, so the steps between
    # are skipped; the reports rerun because their footer lists every raw file's hash
    readme = root / "data" / "raw" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA note.\n", encoding="utf-8")
    result = run_cli(root, "run", env={"TMPDIR": str(kernel_tmp)})
    assert result.returncode == 0, result.stderr
    assert "3 step(s) ran, 4 up to date" in result.stdout
    # the kernels started ahead for the steps found up to date were shut down
    assert not list(kernel_tmp.iterdir())
    assert "ran         01_ingest: inputs changed" in result.stdout
    for step in ("02_validate", "03_model", "04_factcheck", "05_figures"):
        assert f"up to date  {step}" in result.stdout
    # a changed figure reruns the steps that read it
    ref = root / "data" / "raw" / "reference" / "china_local.csv"
    ref.write_text(ref.read_text(encoding="utf-8").replace(",214.85,", ",230.5,"),
                   encoding="utf-8")
    result = run_cli(root, "run")
    assert result.returncode == 0, result.stderr
    assert "ran         01_ingest: inputs changed" in result.stdout
    assert "ran         04_factcheck: inputs changed" in result.stdout
    # a deleted output is noticed
    (root / "reports" / "factcheck.csv").unlink()
    result = run_cli(root, "run")
    assert "ran         04_factcheck: outputs missing or changed" in result.stdout


def test_a_terminated_run_stops_like_ctrl_c_and_records_why(tmp_path: Path) -> None:
    """SIGTERM (a SLURM time limit, a cancelled CI job) stops the run as Ctrl-C does, with no
    traceback, and its record says failed and why rather than "running"."""
    root = copy_repo(tmp_path / "repo")
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run", "--until", "03_model"],
                          cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True) as proc:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "02_validate ..." in line:
                break
        time.sleep(1.0)  # inside the validation step, with a kernel running
        os.killpg(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    output = "".join(seen) + rest
    assert proc.returncode == 128 + signal.SIGTERM, output
    assert "Traceback" not in output
    assert "stopped by SIGTERM before it finished: its reports and executed notebooks were not " \
           "published" in output
    outcome = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["status"] == "failed" and outcome["error"] == "stopped by SIGTERM"
    assert not (root / "data" / "processed").exists()  # nothing half-published


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_run_resumes_to_the_same_outputs(chain_repo: Path, tmp_path: Path,
                                                        kernel_tmp: Path,
                                                        sig: signal.Signals) -> None:
    root = copy_repo(tmp_path / "repo")
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root), TMPDIR=str(kernel_tmp))
    with subprocess.Popen([sys.executable, "-m", "citycluster", "run"], cwd=root, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            if "03_model ..." in line or time.monotonic() > deadline:
                break
        time.sleep(1.0)  # inside the model step, with a kernel running
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    assert proc.returncode != 0
    assert not (root / "reports" / "report.en.html").exists()  # nothing half-published
    # the run's record says it did not end well: failed when it could say so, else "running"
    outcome = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["status"] == ("failed" if sig == signal.SIGINT else "running"), outcome
    if sig == signal.SIGKILL:  # it could not clean up: its kernels' folders are there
        assert list(kernel_tmp.glob("citycluster-kernel-*"))
    result = run_cli(root, "run", env={"TMPDIR": str(kernel_tmp)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert_same_results(chain_repo, root)
    outcome = json.loads((root / "build" / "outcome.json").read_text(encoding="utf-8"))
    assert outcome["status"] == "ok" and outcome["steps"][-1] == "06_report"
    # the next run removed what a run killed outright left, and left nothing of its own
    assert not list(kernel_tmp.iterdir())
