"""Shared fixtures: a private copy of the repository to run the real chain in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from citycluster.report.paper import CHROMIUM, CHROMIUM_FLAGS, missing_browser

ROOT = Path(__file__).resolve().parents[1]

#: Where a browser is required (CI), a missing one fails the browser tests instead of skipping.
REQUIRE_BROWSER = os.environ.get("CITYCLUSTER_REQUIRE_BROWSER") == "1"


#: A traceback ipykernel 7.4 itself may print while a kernel shuts down: its control thread
#: announces "idle" on a socket its closing I/O thread has just closed (ipython/ipykernel#1518
#: caught one path of this race, not this one). It comes from the kernel process, not from
#: this project's code, and it is the one traceback a run may show.
KERNEL_SHUTDOWN_RACE = re.compile(
    r"ERROR:tornado\.general:Uncaught exception in ZMQStream callback\n"
    r"Traceback \(most recent call last\):\n(?:[ \^~].*\n)*"
    r"zmq\.error\.ZMQError: Socket operation on non-socket\n")


class DataAware(HTMLParser):
    """An HTML parser that knows when it is inside data shown as recorded, marked
    ``translate="no"`` (the article's title, a source's publisher and document, a citation),
    and inside a chart's drawing: the checks on the report's prose leave them out."""

    def __init__(self) -> None:
        super().__init__()
        self._data: list[str] = []  # the open data elements, by tag

    @property
    def in_data(self) -> bool:
        return bool(self._data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        # a chart's text is its spec's, which the language tests check there (chart_words)
        if tag == "svg" or ("translate", "no") in attrs or (self._data and tag == self._data[-1]):
            self._data.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._data and tag == self._data[-1]:
            self._data.pop()


def has_traceback(output: str) -> bool:
    """Whether a command's output shows a traceback (other than :data:`KERNEL_SHUTDOWN_RACE`)."""
    return "Traceback" in KERNEL_SHUTDOWN_RACE.sub("", output)


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"],
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


def copy_repo(dest: Path) -> Path:
    """The repository's files (not .venv, outputs or step caches) copied to ``dest``, with the
    warm caches that depend only on the installed packages: the Vega bundle vl-convert takes
    about two seconds to assemble in every report kernel. Copies run with this checkout's
    .venv (``sys.executable``)."""
    for f in tracked_files():
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, target)
    for bundle in (ROOT / "build").glob("vega-bundle-*.js"):
        (dest / "build").mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle, dest / "build" / bundle.name)
    return dest


def run_cli(root: Path, *args: str, timeout: int = 900,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m citycluster`` on a repository copy, as a user would call it (``env``: more
    environment variables)."""
    env = dict(os.environ, CITYCLUSTER_ROOT=str(root), **(env or {}))
    return subprocess.run([sys.executable, "-m", "citycluster", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def kernel_tmp() -> Iterator[Path]:
    """A short temporary folder for a run's TMPDIR: each kernel's connection file and socket
    folder are made in it and removed when the kernel is shut down, so anything left names a
    kernel not shut down. (Short: a Unix socket's path may not exceed about 100 characters.)"""
    folder = Path(tempfile.mkdtemp(prefix="cc-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to prove a failed run changed nothing."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """The files of two :func:`tree_bytes` readings that were added, removed or changed."""
    return sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None], start: Path | None = None) -> Path:
    """A repository copy built by ``build`` once per test session, shared by every worker.

    The copy is of this checkout, or of ``start`` (a copy already built, outputs and all).
    Under pytest-xdist (``make test`` runs two workers) each worker has its own session; the
    first to ask builds the copy under a file lock in the run's common temporary folder, the
    others wait and reuse it, so the chain runs once however many workers there are.
    """
    def fresh(root: Path) -> None:
        if start is None:
            copy_repo(root)
        else:
            shutil.copytree(start, root)
        build(root)

    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        root = tmp_path_factory.mktemp(name)
        shutil.rmtree(root)
        fresh(root)
        return root
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent / name
    done = root.with_name(f"{name}.built")
    with FileLock(str(root.with_name(f"{name}.lock"))):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed in another worker
            fresh(root)
            done.touch()
    return root


def recorded_once(tmp_path_factory: pytest.TempPathFactory, name: str,
                  build: Callable[[Path], dict[str, Any]],
                  start: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """:func:`built_once` for a build that also reports what it saw (command results, file
    lists, as JSON): every test reading the shared copy gets the same record."""
    record = f"{name}.record.json"

    def build_and_record(root: Path) -> None:
        seen = build(root)
        (root.parent / record).write_text(json.dumps(seen), encoding="utf-8")

    root = built_once(tmp_path_factory, name, build_and_record, start)
    return root, json.loads((root.parent / record).read_text(encoding="utf-8"))


def completed(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """A command's result as a record can keep it."""
    return {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


def run_chain(root: Path) -> None:
    result = run_cli(root, "run")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def chain_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy on which the whole chain has run once, successfully."""
    return built_once(tmp_path_factory, "chain", run_chain)


#: Changes made to claims.csv by :func:`tampered`: one headline figure, and a hostile name.
TAMPER = (("C006,P030,cn_big5,五大国家级城市群,Five national city clusters,city_cluster,CHN,"
           "pop_share,约45%,45,", "C006,P030,cn_big5,五大国家级城市群,Five national city clusters,"
           "city_cluster,CHN,pop_share,约47%,47,"),
          ("C024,P094,jp_shinjuku_odakyu,小田急百货重建项目,Shinjuku Odakyu department store "
           "rebuild,", "C024,P094,jp_shinjuku_odakyu,<script>alert(1)</script>,"
           "<script>alert(1)</script>,"))


#: What the tampered copy reruns: the reports and every step they read from (not the models
#: and figure files, the slowest, which nothing judged on that copy reads).
TAMPERED_STEPS = ("01_ingest", "02_validate", "04_factcheck", "06_report")


@pytest.fixture(scope="session")
def tampered(tmp_path_factory: pytest.TempPathFactory,
             chain_repo: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the chain's outputs whose claims then changed (see TAMPER), and what the
    chain said when run on it again: the steps the reports need (ingest, validation, the
    fact-check, both reports) rerun from the cache; the models and the figure files, which
    no test of this copy reads, are left for the run to list as out of date."""
    def tamper_and_run(root: Path) -> dict[str, Any]:
        claims = root / "data" / "raw" / "claims.csv"
        text = claims.read_text(encoding="utf-8")
        for old, new in TAMPER:
            assert old in text, old
            text = text.replace(old, new)
        claims.write_text(text, encoding="utf-8")
        result = run_cli(root, "run", *(a for step in TAMPERED_STEPS for a in ("--only", step)))
        assert result.returncode == 0, result.stdout + result.stderr
        return completed(result)

    return recorded_once(tmp_path_factory, "tampered", tamper_and_run, start=chain_repo)


@pytest.fixture(scope="session")
def tampered_repo(tampered: tuple[Path, dict[str, Any]]) -> Path:
    """The tampered copy's folder, its chain rerun (:func:`tampered`)."""
    return tampered[0]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


@pytest.fixture(scope="session")
def standin_run(tmp_path_factory: pytest.TempPathFactory,
                chain_repo: Path) -> tuple[Path, dict[str, Any]]:
    """A stand-in copy (tests/standin.py: the real steps, notebooks replaying ``chain_repo``)
    on which the whole chain has run once, then again at once, for the runner's behaviour at
    a seventh of the cost; with what the second run said and the files it changed (recorded
    here: tests copy the folder while others read it, so none runs in it)."""
    from tests.standin import write_standins

    def build(root: Path) -> dict[str, Any]:
        write_standins(root, chain_repo)
        run_chain(root)
        before = tree_bytes(root / "reports")
        rerun = run_cli(root, "run")
        after = tree_bytes(root / "reports")
        return {"rerun": completed(rerun), "rerun_changed": changed_files(before, after)}

    return recorded_once(tmp_path_factory, "standin", build)


@pytest.fixture(scope="session")
def standin_chain(standin_run: tuple[Path, dict[str, Any]]) -> Path:
    """The stand-in copy's folder, its chain run (:func:`standin_run`); only ever copied."""
    return standin_run[0]


@pytest.fixture
def standin_copy(tmp_path: Path, chain_repo: Path) -> Path:
    """A fresh stand-in copy replaying ``chain_repo``, nothing run or published yet."""
    from tests.standin import standin_repo

    return standin_repo(tmp_path / "standin", chain_repo)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One chromium for the session (the reports' and JupyterLab's browser tests).

    Playwright's sync API keeps an event loop running in this thread until the session ends:
    a later test on the same worker that drives asyncio itself does so in a thread of its own
    (as tests/test_chain.py's kernel test does)."""
    why = missing_browser()
    if why:
        if REQUIRE_BROWSER:
            pytest.fail(why + " (CITYCLUSTER_REQUIRE_BROWSER=1)")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield b
        b.close()


#: The shared runs that take longest to build after the chain's own, longest first: the tests
#: that need them are handed out first, so that the two workers build two at a time and
#: neither is left building one alone at the end.
LONGEST_BUILDS = ("by_hand", "tampered", "browser")

#: Tests that run on one worker together, by the start of their test ids: the browser's tests
#: share one chromium (a session fixture), the bad-input corpus its module-scoped audits, and
#: the run by hand's two tests one build (split, one worker would wait for the other's).
GROUPS = {
    "browser": ("tests/test_browser.py::", "tests/test_lab.py::"),
    "bad-input": ("tests/test_bad_input.py::",),
    "by-hand": ("tests/test_reproducible.py::test_notebooks_run_by_hand_",
                "tests/test_reproducible.py::test_two_clean_runs_"),
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n`` (``--dist load``), hand out a test, or a whole group of :data:`GROUPS`, at
    a time, in collection order.

    pytest-xdist's own ``--dist loadgroup`` does not group under pytest 9 (it renames the test
    ids through an attribute pytest no longer reads), so the groups are declared here; the
    scheduler is xdist's per-scope one with this file's scopes, not reordered by size.
    """
    if config.getvalue("dist") != "load":  # -n's default; another asked for is kept
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return next((group for group, starts in GROUPS.items()
                         if nodeid.startswith(starts)), nodeid)

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One test of the real chain first, then every test that needs no chain, then the chain
    tests, those needing the longest builds (:data:`LONGEST_BUILDS`) first.

    ``make test`` runs two workers (``-n 2``), each kept a test or a group or two ahead (see
    :func:`pytest_xdist_make_scheduler`): so one builds the chain's run (:func:`chain_repo`,
    which nearly every chain test reads) while the other works through the tests that need
    none, instead of waiting for it. Otherwise the order is pytest's.
    """
    def build(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return next((i for i, n in enumerate(LONGEST_BUILDS) if n in names),
                    len(LONGEST_BUILDS))

    chain = [i for i in items if i.get_closest_marker("chain")]
    first = next((i for i in chain if "chain_repo" in getattr(i, "fixturenames", ())
                  and build(i) == len(LONGEST_BUILDS)), None)
    if first is None:
        return
    items[:] = [first, *(i for i in items if not i.get_closest_marker("chain")),
                *sorted((i for i in chain if i is not first), key=build)]
