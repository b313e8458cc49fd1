"""JupyterLab on a chain notebook in a real browser (chromium through Playwright, everything but
the local server blocked): the kernel comes from the environment's kernel spec on local sockets,
every cell runs, and the Altair charts draw offline inside JupyterLab."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from citycluster.chain.catalog import INTERACTIVE_NOTICE
from citycluster.chain.params import load_defaults
from citycluster.kernel import PROVISIONER
from citycluster.report.charts import FIGURES
from citycluster.report.render import figure_language
from tests.conftest import has_traceback, tree_bytes

pytestmark = [pytest.mark.browser, pytest.mark.chain]

#: The notebook that draws charts inline: every registered figure, through the offline renderer
#: (citycluster.report.render.enable_offline_renderer: the Vega bundle inline, no CDN).
NOTEBOOK = "05_figures.ipynb"
#: The language it makes when run as it stands: its ``lang`` default, the first report language
#: (citycluster.chain.cells). The run by hand makes the others (tests/test_reproducible.py).
LANG = load_defaults()["report_languages"][0]
LOCAL = {"127.0.0.1", "localhost"}

#: JupyterLab's user settings, so nothing asks or fetches: start the notebook's kernel without
#: the kernel-selection dialog, no news or update checks, no extension manager.
SETTINGS = {
    "notebook-extension/tracker": {"autoStartDefaultKernel": True},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "extensionmanager-extension/plugin": {"enabled": False},
}

KERNEL_IDLE = r"""() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
  .some(e => /^Python 3 \(ipykernel\) \| Idle$/.test(e.textContent.trim()))"""

ALL_RUN = r"""() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent.trim());
  const idle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => /\| Idle$/.test(e.textContent.trim()));
  return prompts.length > 0 && prompts.every(t => /^\[\d+\]:$/.test(t)) && idle;
}"""

CHARTS = """() => [...document.querySelectorAll('.jp-OutputArea-output .vega-embed')]
  .filter(c => c.querySelector('svg, canvas')).length"""


@dataclass
class Lab:
    url: str
    token: str
    log: Path
    runtime: Path

    def get(self, path: str) -> dict:
        req = urllib.request.Request(self.url + path,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyter_lab(root: Path, home: Path) -> Iterator[Lab]:
    """``jupyter lab`` from this checkout's environment on ``root``'s notebooks, offline and
    isolated (home, config, data and runtime folders under ``home``; the kernel specs still
    come from the environment), shut down on the way out."""
    port, token = _free_port(), secrets.token_hex(16)
    config, runtime = home / "jupyter-config", home / "jupyter-runtime"
    for name, values in SETTINGS.items():
        target = config / "lab" / "user-settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if k != "CITYCLUSTER_RUN" and not k.startswith("JUPYTER")}
    env.update(CITYCLUSTER_ROOT=str(root), HOME=str(home), JUPYTER_CONFIG_DIR=str(config),
               JUPYTER_DATA_DIR=str(home / "jupyter-data"), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_PREFER_ENV_PATH="1")
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root / 'notebooks'}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    lab = Lab(f"http://127.0.0.1:{port}", token, home / "lab.log", runtime)
    with lab.log.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=root / "notebooks", env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    lab.get("/api/status")
                    break
                except (OSError, urllib.error.URLError):
                    assert proc.poll() is None, lab.log.read_text(errors="replace")[-3000:]
                    assert time.monotonic() < deadline, "JupyterLab did not answer in 60 s"
                    time.sleep(0.3)
            yield lab
        finally:
            try:  # a clean shutdown stops the kernels too
                req = urllib.request.Request(lab.url + "/api/shutdown", method="POST",
                                             headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(req, timeout=5).close()
                proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_lab_runs_the_figures_notebook_offline_on_local_sockets(
        browser, chain_repo: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(chain_repo, root)
    published = {name: tree_bytes(root / name) for name in ("data/processed", "reports")}
    outside: list[str] = []
    page_errors: list[str] = []
    with jupyter_lab(root, tmp_path / "home") as lab:
        spec = lab.get("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
        assert spec["metadata"].get("kernel_provisioner", {}).get("provisioner_name") \
            == PROVISIONER, "the environment's python3 kernel spec is ipykernel's own: " \
                            "run `.venv/bin/python -m citycluster.kernel` (make does)"
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            def route(r) -> None:
                if urlsplit(r.request.url).hostname in LOCAL:
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}")
            page.wait_for_function(KERNEL_IDLE, timeout=40_000)  # started from the spec

            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function(ALL_RUN, timeout=60_000)
            page.wait_for_function(f"() => ({CHARTS})() === {len(FIGURES)}", timeout=20_000)
            assert page.locator(".vega-embed svg .mark-symbol, .vega-embed svg .mark-rect"
                                ).count() > 0
            first = page.locator(".jp-OutputArea-output").first.inner_text()
            assert first.startswith(f"{INTERACTIVE_NOTICE} {Path(NOTEBOOK).stem}"), first
            # JupyterLab shows an error output (application/vnd.jupyter.error) with its stderr
            # renderer, traceback and all: none here, and no warning on stderr either
            shown = page.locator('.jp-OutputArea-output[data-mime-type="application/'
                                 'vnd.jupyter.stderr"]').all_inner_texts()
            assert shown == [], shown

            connections = [json.loads(p.read_text()) for p in lab.runtime.glob("kernel-*.json")]
            assert [c["transport"] for c in connections] == ["ipc"], connections
            sockets = Path(connections[0]["ip"]).parent
            assert sockets.is_dir()
        finally:
            context.close()
    assert not sockets.exists()  # the provisioner's folder goes with the kernel
    assert outside == []
    assert page_errors == []
    log = lab.log.read_text(errors="replace")
    assert "without encryption" not in log
    assert not has_traceback(log), log[-3000:]
    for name, before in published.items():
        assert tree_bytes(root / name) == before, f"{name} changed"
    # the figures drawn by hand, of the notebook's own language, equal the chain's byte for
    # byte: with the run by hand of the other notebooks and languages
    # (tests/test_reproducible.py), a second clean run to compare with
    figures = tree_bytes(root / "build" / "interactive" / "reports" / "figures")
    chains = tree_bytes(root / "reports" / "figures")
    assert set(figures) == {n for n in chains if figure_language(Path(n)) == LANG} != set()
    assert figures == {n: chains[n] for n in figures}

