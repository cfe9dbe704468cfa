"""The report's event explorer in a real browser (headless Chromium, driven over the DevTools protocol by
``tests/eventbt/browser.py``): it loads with no console message and no request but the file, selecting a
rebalance by click or by keyboard shows its events, the numbers shown are the audit log's, the links from a
trade, a weight and a cost figure open the fill and its causal chain, a notice shows its arithmetic, and markup
in a symbol or handler name stays text.

With ``EVENTBT_UPDATE_SCREENSHOTS=1`` (``make screenshots``) the walkthrough's pictures are written to
``docs/images/``; otherwise to the test's temporary folder. Each prints the time the page took to have its
events ready (``data-explorer-ms``), which is reported, never checked.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from eventbt.audit import event_records, read_audit
from eventbt.debug.render import explain
from eventbt.events import NoticeEvent
from eventbt.replays.divergence import flatten
from eventbt.report import write_report
from eventbt.simulation import run
from tests.eventbt.browser import CHROMIUM, Browser
from tests.eventbt.explorer_fixtures import HOSTILE_HANDLER, HOSTILE_SYMBOL, write_hostile

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "ema_rotation.toml"
BENCHMARK = ROOT / "scenarios" / "data" / "skfolio" / "sp500_index.csv.gz"
DATE = "1990-09-28"  # the rebalance docs/debugging.md walks through

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed and could not be (run `make browser`, needs apt-get)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled scenario's report, with its explorer, written into a temporary folder."""
    out = tmp_path_factory.mktemp("explorer-run")
    run(SCENARIO, out=out)
    return write_report(out, out / "report.html", benchmark=f"{BENCHMARK}:SP500")


@pytest.fixture(scope="module")
def log(report: Path) -> list[dict[str, Any]]:
    """The run's publish records, read from its audit.jsonl (the reference the page is checked against)."""
    return [dict(r) for r in event_records(read_audit(report.parent / "audit.jsonl"))]


@pytest.fixture
def page(report: Path, tmp_path: Path) -> Any:
    """The report open in a fresh headless Chromium, its events unpacked."""
    with Browser(tmp_path / "profile", width=1100, height=900) as browser:
        browser.open(report.as_uri())
        browser.wait_until("document.documentElement.getAttribute('data-explorer-ready') === '1'")
        yield browser


def _rebalance(log: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    """The events of the same-close rebalance of ``day``, in delivery order: everything at that day's close."""
    return sorted((r for r in log if r["time"] == f"{day}T16:00:00"), key=lambda r: r["seq"])


def _open_all(browser: Browser) -> None:
    browser.evaluate("document.querySelectorAll('#explorer-tree ol.events details').forEach(function (d) {"
                     " d.open = true; d.dispatchEvent(new Event('toggle')); })")


def _shown_fields(browser: Browser) -> list[tuple[int, dict[str, str]]]:
    """Each listed event's id and its fields table (field -> the value as shown, in ``data-raw``), in order."""
    shown = browser.evaluate(
        "Array.from(document.querySelectorAll('#explorer-tree ol.events > li')).map(function (li) {"
        " var f = {}; li.querySelectorAll('table.fields tr[data-field]').forEach(function (tr) {"
        " f[tr.getAttribute('data-field')] = tr.querySelector('td').getAttribute('data-raw'); });"
        " return [Number(li.getAttribute('data-id')), f]; })")
    return [(int(event_id), fields) for event_id, fields in shown]


def _check_fields(shown: list[tuple[int, dict[str, str]]], events: list[dict[str, Any]]) -> None:
    assert [event_id for event_id, _ in shown] == [r["id"] for r in events]
    for (_, got), record in zip(shown, events, strict=True):
        flat = {key.removeprefix("data."): value for key, value in flatten(record["data"], "data").items()}
        assert set(got) == set(flat), record["id"]
        for key, value in flat.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                assert got[key] == (value if isinstance(value, str) else json.dumps(value)), key
            else:
                assert float(got[key]) == value, (record["id"], key)


def test_explorer_loads_cleanly(page: Browser, report: Path) -> None:
    """No console message, no exception, no dialog, and the only request is the report file itself."""
    assert page.console == [] and page.exceptions == [] and page.dialogs == []
    assert page.requests == [report.as_uri()]
    assert page.evaluate("document.documentElement.getAttribute('data-report-errors')") is None
    print(f"\nexplorer ready {page.evaluate('document.documentElement.dataset.explorerMs')} ms after navigation")


def test_click_shows_the_rebalance_with_the_logs_numbers(page: Browser, log: list[dict[str, Any]]) -> None:
    """Clicking a rebalance's date lists its events in delivery order with every field the audit log holds,
    and its row's cash before and after are the snapshots' cash either side of it."""
    page.click(f'tr[id="rebalance-{DATE}"] button.pick')
    assert page.evaluate("document.documentElement.getAttribute('data-selected')") == f"rebalance-{DATE}"
    assert page.evaluate("document.activeElement.textContent") == DATE
    events = _rebalance(log, DATE)
    _open_all(page)
    _check_fields(_shown_fields(page), events)
    snapshots = [r for r in log if r["type"] == "SnapshotEvent" and r["time"] <= f"{DATE}T16:00:00"]
    row = page.evaluate(f"Array.from(document.querySelectorAll('tr[id=\"rebalance-{DATE}\"] td'))"
                        ".map(function (td) { return td.textContent; })")
    assert row[3] == f"{snapshots[-2]['data']['cash']:,.2f}" and row[4] == f"{snapshots[-1]['data']['cash']:,.2f}"
    market = next(r for r in events if r["type"] == "MarketEvent")
    handlers = page.evaluate(f"Array.from(document.querySelectorAll('#event-{market['id']} table.handlers "
                             "tr[data-handler]')).map(function (tr) { return tr.getAttribute('data-handler'); })")
    assert handlers == market["to"]


def test_keyboard_selects_a_rebalance(page: Browser, log: list[dict[str, Any]]) -> None:
    """Tab reaches the timeline, arrow keys move between rows, Enter selects: the third row's events show."""
    page.evaluate("document.querySelector('button.pick').focus()")
    page.press("ArrowDown")
    page.press("ArrowDown")
    assert page.evaluate("document.documentElement.getAttribute('data-selected')") is None  # moving only
    page.press("Enter")
    dates = sorted({r["time"][:10] for r in log if r["type"] == "SignalEvent"})
    assert page.evaluate("document.documentElement.getAttribute('data-selected')") == f"rebalance-{dates[2]}"
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    shown = page.evaluate("document.querySelectorAll('#explorer-tree ol.events > li').length")
    assert shown == len(_rebalance(log, dates[2]))
    page.press("End")
    page.press(" ")
    assert page.evaluate("document.documentElement.getAttribute('data-selected')") == f"rebalance-{dates[-1]}"


def test_a_trade_opens_its_fill_and_causal_chain(page: Browser, log: list[dict[str, Any]]) -> None:
    """The fill number of the XOM trade of 1990-09-28 opens that fill, marks its order, signal and bar, and its
    cash line shows what the fill did to the cash (price x quantity + commission, worked from the log)."""
    fill = next(r for r in log if r["type"] == "FillEvent" and r["time"].startswith(DATE)
                and r["data"]["symbol"] == "XOM")
    page.click(f'table[data-table="trades"] a[href="#event-{fill["id"]}"]')
    page.wait_until(f"document.querySelector('#event-{fill['id']}.target') !== null")
    chain = page.evaluate("Array.from(document.querySelectorAll('#explorer-tree li.chain'))"
                          ".map(function (li) { return Number(li.getAttribute('data-id')); })")
    order = next(r for r in log if r["id"] == fill["data"]["order_id"])
    signal = next(r for r in log if r["id"] == order["cause"])
    assert sorted(chain) == sorted([order["id"], signal["id"], signal["cause"]])  # order, signal, the bar
    assert page.evaluate("document.activeElement.closest('li').id") == f"event-{fill['id']}"
    cash = page.evaluate(f"Array.from(document.querySelectorAll('#event-{fill['id']} tr[data-book=\"cash\"] td'))"
                         ".map(function (td) { return td.textContent; })")
    before, after = (float(text.replace(",", "")) for text in cash)
    spent = fill["data"]["quantity"] * fill["data"]["price"] + fill["data"]["commission"]  # 9,715 x 4.138068 + 48.575
    assert after == pytest.approx(before - spent, abs=0.01)


def test_a_weight_opens_its_order(page: Browser, log: list[dict[str, Any]]) -> None:
    """A target weight of the signal links to the order the rebalance sent for that symbol."""
    page.click(f'tr[id="rebalance-{DATE}"] button.pick')
    signal = next(r for r in _rebalance(log, DATE) if r["type"] == "SignalEvent")
    order = next(r for r in log if r["type"] == "OrderEvent" and r["cause"] == signal["id"]
                 and r["data"]["symbol"] == "XOM")
    page.click(f"#event-{signal['id']} > details > summary")
    page.click(f'#event-{signal["id"]} tr[data-field="weights.XOM"] a')
    page.wait_until(f"document.querySelector('#event-{order['id']}.target') !== null")


def test_a_cost_figure_opens_its_fills(page: Browser, log: list[dict[str, Any]]) -> None:
    """The costs figure of a row opens the breakdown: each fill's commission and slippage, summing to it."""
    signal = next(r for r in _rebalance(log, DATE) if r["type"] == "SignalEvent")
    page.click(f'tr[id="rebalance-{DATE}"] td[data-figure="costs"] a')
    page.wait_until(f"document.activeElement.id === 'costs-{signal['id']}'")
    fills = [r for r in _rebalance(log, DATE) if r["type"] == "FillEvent"]
    total = sum(f["data"]["commission"] + f["data"]["slippage"] for f in fills)
    shown = page.evaluate(f"document.querySelector('tr[id=\"rebalance-{DATE}\"] td[data-figure=\"costs\"]')"
                          ".textContent")
    assert shown == f"{total:,.2f}"
    rows = page.evaluate(f"document.querySelectorAll('#costs-{signal['id']} tbody tr').length")
    assert rows == len(fills) + 1


def test_a_notice_shows_its_arithmetic(page: Browser, log: list[dict[str, Any]]) -> None:
    """The scaled_for_cash notice of XOM shows the debugger's explanation and the arithmetic from its details:
    available / cost = the factor, wanted x factor rounded down = the quantity."""
    notice = next(r for r in log if r["type"] == "NoticeEvent" and r["time"].startswith(DATE)
                  and r["data"]["symbol"] == "XOM")
    page.evaluate(f"location.hash = '#event-{notice['id']}'")
    page.wait_until(f"document.querySelector('#event-{notice['id']} .notice') !== null")
    text = page.evaluate(f"document.querySelector('#event-{notice['id']} .notice').textContent")
    d = notice["data"]["details"]
    event = NoticeEvent(id=notice["id"], time_ns=0, cause_id=None, bar=notice["data"]["bar"],
                        handler=notice["data"]["handler"], code=notice["data"]["code"],
                        symbol=notice["data"]["symbol"], details=d)
    assert explain(event) in text
    # 165,644.70 / 166,674.87 = 0.993819; 9,776 x 0.993819 = 9,715.58 -> 9,715 (docs/debugging.md).
    assert (d["wanted"], d["quantity"]) == (9_776, 9_715)
    assert d["quantity"] == math.floor(d["wanted"] * d["available"] / d["cost"])
    assert f"= {d['available'] / d['cost']:.6f}" in text
    assert f"{d['wanted']:,} x {d['factor']:.6f} = {d['wanted'] * d['factor']:.2f}, rounded down: {d['quantity']:,}" \
        in text


def test_markup_in_names_stays_text(tmp_path: Path) -> None:
    """A symbol and a handler name made of markup show as text in the explorer; no script of theirs runs."""
    out = tmp_path / "out"
    run(write_hostile(tmp_path), out=out)
    page = write_report(out, trust=True)
    with Browser(tmp_path / "profile") as browser:
        browser.open(page.as_uri())
        browser.wait_until("document.documentElement.getAttribute('data-explorer-ready') === '1'")
        # Selected by the button's own click handler (the mouse's path is the other tests'): a mouse click at the
        # button's middle could land elsewhere while a busy machine still laid the page out, selecting nothing.
        browser.evaluate("document.querySelector('tr[data-group] button.pick').click()")
        browser.wait_until("document.querySelector('#explorer-tree ol.events') !== null")
        _open_all(browser)
        text = browser.evaluate("document.getElementById('explorer-tree').textContent")
        assert HOSTILE_SYMBOL in text and HOSTILE_HANDLER in text
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        assert browser.dialogs == [] and browser.exceptions == [] and browser.console == []
        assert browser.requests == [page.as_uri()]


def test_walkthrough_screenshots(page: Browser, report: Path, log: list[dict[str, Any]], tmp_path: Path) -> None:
    """The pictures of docs/report.md's walkthrough: the timeline with a rebalance selected, a fill opened from
    the trades table with its causal chain, and a notice's arithmetic (written to docs/images/ by
    `make screenshots`)."""
    folder = ROOT / "docs" / "images" if os.environ.get("EVENTBT_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    page.click(f'tr[id="rebalance-{DATE}"] button.pick')
    page.evaluate("document.querySelector('.timeline-wrap').scrollTop = "
                  f"document.querySelector('tr[id=\"rebalance-{DATE}\"]').offsetTop - 60")
    page.evaluate("document.activeElement.blur()")
    shots = {"explorer-timeline.png": "#rebalances"}
    page.screenshot(folder / "explorer-timeline.png", "#rebalances")
    fill, notice = (next(r for r in log if r["type"] == kind and r["time"].startswith(DATE)
                         and r["data"]["symbol"] == "XOM")["id"] for kind in ("FillEvent", "NoticeEvent"))
    page.evaluate(f"location.hash = '#event-{fill}'")
    page.wait_until(f"document.querySelector('#event-{fill}.target') !== null")
    page.evaluate("document.activeElement.blur()")
    shots["explorer-fill.png"] = "#explorer-tree ol.events"
    page.screenshot(folder / "explorer-fill.png", "#explorer-tree ol.events")
    page.evaluate(f"location.hash = '#event-{notice}'")
    page.wait_until(f"document.querySelector('#event-{notice} .notice') !== null")
    page.evaluate("document.activeElement.blur()")
    shots["explorer-notice.png"] = f"#event-{notice}"
    page.screenshot(folder / "explorer-notice.png", f"#event-{notice}")
    for name in shots:
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, name
