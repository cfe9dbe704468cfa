"""The HTML report opened in a real browser (headless Chromium): it renders without console errors, its charts
are drawn and its tables are filled; a screenshot is saved in the test's temporary folder.

``make pytest`` installs Debian's ``chromium`` package first (``make browser``); these tests are skipped only
when no chromium can be found on the PATH.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from eventbt.report import write_report
from eventbt.report.assets import GUARD_JS
from eventbt.simulation import run

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_rotation.toml"
BENCHMARK = ROOT / "scenarios" / "data" / "skfolio" / "sp500_index.csv.gz"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed and could not be (run `make browser`, needs apt-get)")


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with no network features and console messages logged to stderr."""
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled scenario's report, against the S&P 500, written into a temporary folder."""
    out = tmp_path_factory.mktemp("run")
    run(SCENARIO, out=out)
    return write_report(out, out / "report.html", benchmark=f"{BENCHMARK}:SP500")


def test_report_renders_in_chromium(report: Path, tmp_path: Path) -> None:
    """The page's script ran without errors, the charts have paths and the tables have their rows."""
    result = _chromium(report, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert _console_lines(result.stderr) == []
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None
    assert 'data-report-ready="1"' in root.group(0), root.group(0)
    assert "data-report-errors" not in root.group(0)
    charts = re.findall(r'<svg class="chart" data-chart="([a-z-]+)"(.*?)</svg>', dom, flags=re.S)
    kinds = {kind for kind, _ in charts}
    assert kinds == {"equity-linear", "equity-log", "drawdown", "weights", "turnover", "costs"}
    for kind, body in charts:
        paths = re.findall(r'<path[^>]* d="M[0-9.]+,[0-9.]+[LVh]', body)
        assert paths, f"chart {kind} has no drawn path"
    trades = len((report.parent / "trades.csv").read_text().splitlines()) - 1
    trade_table = re.search(r'data-table="trades">.*?</table>', dom, flags=re.S)
    assert trade_table is not None and trade_table.group(0).count("<tr>") - 1 == trades
    assert f'data-trade-rows="{trades}"' in root.group(0)
    assert dom.count('<tr id="rebalance-') > 300  # the timeline, one row per rebalance
    monthly = re.search(r'data-table="monthly">.*?</table>', dom, flags=re.S)
    assert monthly is not None and monthly.group(0).count("<td") > 12 * 30


def test_report_screenshot(report: Path, tmp_path: Path) -> None:
    """A full-page screenshot is taken and saved under the test's temporary folder as a PNG."""
    shot = tmp_path / "report.png"
    result = _chromium(report, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000",
                       "--hide-scrollbars")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_lines(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 100_000  # a blank 1280 x 4000 page compresses to a few kB


def test_a_failing_script_is_caught(tmp_path: Path) -> None:
    """The checks above can fail: a page with the report's error guard and a broken script is flagged."""
    page = tmp_path / "broken.html"
    page.write_text(f"<html><head><script>{GUARD_JS}</script></head><body>"
                    "<script>notDefinedAnywhere();</script></body></html>")
    result = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert "notDefinedAnywhere" in result.stdout.split("<head>")[0] or "data-report-errors" in result.stdout
    assert any("notDefinedAnywhere" in line for line in _console_lines(result.stderr))
