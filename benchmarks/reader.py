"""What a reader of the report waits for on a phone, measured beside an earlier report.

(h) phone: the time from navigation until every chart of the page is drawn, in a 390 x 844
    window with the CPU slowed four times (Chrome's own throttling, over the DevTools
    protocol), for each language; this checkout's report against the report commit
    :data:`BASELINE` builds (the last before the charts became static SVG, drawn by Vega in
    the page), both built in this run from a clean copy and measured alternately, each
    figure the median of ``repeat`` loads;
(i) Lighthouse 12.2 (its mobile preset: simulated slow 4G and a 4x slower CPU) on each
    report, over a loopback server that sends the pages gzip-compressed as any static host
    does: the performance score, Total Blocking Time and Largest Contentful Paint, for both
    reports, each the median of ``repeat`` runs (one run's blocking time varies by 100 ms).
    Lighthouse comes from the npm registry, pinned with its lock in ``benchmarks/lighthouse/``,
    installed into ``build/lighthouse`` on first use.

Measures and prints; never asserts. Run alone with ``python benchmarks/reader.py``, or as
part of ``make bench``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import mimetypes
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from statistics import median_low
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citycluster.report.paper import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402

#: The commit whose report the phone timing compares with: charts drawn by Vega in the page.
BASELINE = "020f1fc"
TARGETS = {"phone_ratio": 0.5, "tbt_ms": 200.0, "performance": 90}
LANGUAGES = ("zh", "en")
LIGHTHOUSE = ROOT / "benchmarks" / "lighthouse"

#: Set on the page before it loads: the moment every chart of the page holds its drawing.
#: Both reports put each chart in a ``figure.chart``; the earlier one draws its SVG by script.
CHARTS_DRAWN = """(() => {
  const drawn = () => {
    const figures = [...document.querySelectorAll('figure.chart')];
    return document.readyState !== 'loading' && figures.length > 0
      && figures.every(f => f.querySelector('svg'));
  };
  const tick = () => {
    if (drawn()) { window.__chartsDrawn = performance.now(); }
    else { requestAnimationFrame(tick); }
  };
  requestAnimationFrame(tick);
})();"""


def build_report(commit: str | None, dest: Path) -> Path:
    """The ``reports/`` folder a clean copy of ``commit`` (None: this checkout's tracked and
    untracked files) builds with ``citycluster run``, in this environment."""
    if commit is None:
        files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"],
                               capture_output=True, text=True, check=True).stdout.split()
        for name in files:
            if (ROOT / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    # The copy's own package, ahead of this checkout's editable install, in the CLI and in
    # the kernels it starts (they inherit the environment).
    env = dict(os.environ, CITYCLUSTER_ROOT=str(dest), PYTHONPATH=str(dest / "src"))
    proc = subprocess.run([sys.executable, "-m", "citycluster", "run"], cwd=dest, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"building the report of {commit or 'this checkout'} failed:\n"
                         f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return dest / "reports"


def phone_times(pages: dict[str, Path], repeat: int) -> dict[str, list[float]]:
    """Milliseconds until every chart is drawn, per page, loads alternated between pages."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            for _ in range(repeat):
                for name, path in pages.items():
                    context = browser.new_context(
                        viewport={"width": 390, "height": 844}, device_scale_factor=3,
                        is_mobile=True, has_touch=True)
                    page = context.new_page()
                    page.add_init_script(CHARTS_DRAWN)
                    cdp = context.new_cdp_session(page)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                    page.goto(path.as_uri(), wait_until="commit")
                    page.wait_for_function("window.__chartsDrawn", timeout=180_000)
                    times[name].append(float(page.evaluate("window.__chartsDrawn")))
                    context.close()
        finally:
            browser.close()
    return times


class _Gzipped(SimpleHTTPRequestHandler):
    """A static file server that compresses what it sends, as hosts do, and logs nothing."""

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0]
                         or "application/octet-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return BytesIO(body)

    def log_message(self, *args: Any) -> None:
        pass


def lighthouse_binary() -> Path:
    """Lighthouse from its pinned lock, installed into ``build/lighthouse`` once."""
    home = ROOT / "build" / "lighthouse"
    binary = home / "node_modules" / ".bin" / "lighthouse"
    lock = (LIGHTHOUSE / "package-lock.json").read_bytes()
    if not binary.exists() or (home / "package-lock.json").read_bytes() != lock:
        home.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(LIGHTHOUSE / name, home / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=home,
                       check=True)
    return binary


def lighthouse(folder: Path, page: str, out: Path) -> dict[str, float]:
    """Lighthouse's mobile performance figures for ``folder/page``, served on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Gzipped, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
        subprocess.run([str(lighthouse_binary()), url, f"--chrome-path={CHROMIUM}",
                        "--chrome-flags=--headless=new " + " ".join(CHROMIUM_FLAGS),
                        "--only-categories=performance", "--output=json",
                        f"--output-path={out}", "--quiet"], check=True)
    finally:
        server.shutdown()
    audits = json.loads(out.read_text(encoding="utf-8"))
    return {"performance": round(100 * audits["categories"]["performance"]["score"]),
            "tbt_ms": audits["audits"]["total-blocking-time"]["numericValue"],
            "lcp_ms": audits["audits"]["largest-contentful-paint"]["numericValue"],
            "bytes": audits["audits"]["total-byte-weight"]["numericValue"]}


def measure(repeat: int = 3, tmp: Path | None = None) -> dict[str, Any]:
    """(h) and (i), printed as they are measured; the figures, for the harness's JSON."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cc-reader-", dir=tmp) as work:
        print(f"(h) building the report of this checkout and of {BASELINE} ...", flush=True)
        built = {"now": build_report(None, Path(work) / "now"),
                 "baseline": build_report(BASELINE, Path(work) / "baseline")}
        for lang in LANGUAGES:
            pages = {name: folder / f"report.{lang}.html" for name, folder in built.items()}
            times = phone_times(pages, repeat)
            now, base = median_low(times["now"]), median_low(times["baseline"])
            ratio = now / base
            results[f"phone_{lang}"] = {"now_ms": times["now"], "baseline_ms": times["baseline"],
                                        "ratio": ratio}
            print(f"(h) phone, {lang}: every chart drawn after {now / 1000:.2f} s (median of "
                  f"{repeat}), {BASELINE}'s report {base / 1000:.2f} s: ratio {ratio:.2f} "
                  f"(target <= {TARGETS['phone_ratio']})  "
                  f"{'ok' if ratio <= TARGETS['phone_ratio'] else 'MISSED'}", flush=True)
        for lang in LANGUAGES:
            for name, folder in built.items():
                runs = [lighthouse(folder, f"report.{lang}.html",
                                   Path(work) / f"lh-{name}-{lang}-{i}.json")
                        for i in range(repeat)]
                results[f"lighthouse_{name}_{lang}"] = runs
                lh = {key: median_low([run[key] for run in runs]) for key in runs[0]}
                ok = lh["performance"] >= TARGETS["performance"] and \
                    lh["tbt_ms"] <= TARGETS["tbt_ms"]
                label = "this report" if name == "now" else f"{BASELINE}'s"
                print(f"(i) Lighthouse mobile, {lang}, {label} (medians of {repeat}): "
                      f"performance {lh['performance']}"
                      f", Total Blocking Time {lh['tbt_ms']:.0f} ms, Largest Contentful Paint "
                      f"{lh['lcp_ms'] / 1000:.1f} s, {lh['bytes'] / 1000:.0f} kB sent "
                      f"(targets: >= {TARGETS['performance']}, <= {TARGETS['tbt_ms']:.0f} ms)"
                      + (f"  {'ok' if ok else 'MISSED'}" if name == "now" else ""), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="loads per page (median)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = measure(args.repeat)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
