"""The report's event explorer and run comparison, without a browser: the step records it embeds are the step
debugger's (``eventbt debug --dump --json``) and the audit log's, every run-supplied string is escaped, the page
stays small, and ``report --compare`` / ``diff --html`` mark what differs."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import orjson
import pandas as pd
import pytest

from eventbt.audit import event_records, read_audit
from eventbt.cli import main
from eventbt.report import build_report, collect_steps
from eventbt.report.compare import compare_runs
from eventbt.report.explorer import decode, unpack
from eventbt.simulation import run
from tests.eventbt.explorer_fixtures import HOSTILE_HANDLER, HOSTILE_NAME, HOSTILE_SYMBOL, write_hostile

ROOT = Path(__file__).resolve().parents[2]
ROTATION = ROOT / "scenarios" / "ema_rotation.toml"
NEXT_OPEN = ROOT / "scenarios" / "ema_next_open.toml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The rotation and next-open scenarios run into temporary folders, and the rotation run again with a 0.2%
    commission (a what-if that changes every fill)."""
    base = tmp_path_factory.mktemp("explorer")
    run(ROTATION, out=base / "rotation")
    run(NEXT_OPEN, out=base / "next_open")
    run(ROTATION, out=base / "percentage",
        overrides=["execution.commission.model=percentage", "execution.commission.rate=0.002"])
    return {"rotation": base / "rotation", "next_open": base / "next_open", "percentage": base / "percentage"}


def _document(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/octet-stream" id="explorer-data">([A-Za-z0-9+/=]+)</script>', page)
    assert found is not None, "no explorer data in the page"
    return unpack(found.group(1))


def _dump(scenario: Path, date: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["debug", str(scenario), "--at", date, "--dump", "--json"]) == 0
    steps: list[dict[str, object]] = json.loads(capsys.readouterr().out)["steps"]
    return steps


@pytest.mark.parametrize("name, scenario, date", [
    ("rotation", ROTATION, "1990-09-28"),  # the debugging tutorial's rebalance: scaled_for_cash on four buys
    ("rotation", ROTATION, "2008-10-31"),
    ("next_open", NEXT_OPEN, "2012-03-16"),  # fills at the next bar's open: the rebalance spans two bars
])
def test_explorer_steps_are_the_debuggers_dump(runs: dict[str, Path], name: str, scenario: Path, date: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The steps the page embeds for a rebalance equal, field for field, what `eventbt debug --at DATE --dump
    --json` prints for it (a separate run of the scenario, stopped at that date)."""
    page, unavailable = build_report(runs[name])
    assert unavailable is None
    groups = decode(_document(page))
    dumped = _dump(scenario, date, capsys)
    shown = next(g for g in groups if g[0]["time"].startswith(date))
    assert orjson.loads(orjson.dumps(shown)) == dumped


def test_explorer_steps_carry_the_audit_logs_records(runs: dict[str, Path]) -> None:
    """Every embedded step's seq, id, type, time, cause, by, data and to are its publish record's in audit.jsonl,
    and the steps of a rebalance come in the log's delivery order, (time, seq)."""
    folder = runs["rotation"]
    published = {r["id"]: r for r in event_records(read_audit(folder / "audit.jsonl"))}
    groups = decode(_document(build_report(folder)[0]))
    assert len(groups) == len(pd.read_csv(folder / "signals.csv"))  # one per rebalance
    for group in groups:
        assert [(s["time"], s["seq"]) for s in group] == sorted((s["time"], s["seq"]) for s in group)
        for step in group:
            record = published[step["id"]]
            assert {key: step[key] for key in ("seq", "id", "type", "time", "cause", "by", "data", "to")} == \
                {key: record[key] for key in ("seq", "id", "type", "time", "cause", "by", "data", "to")}


def test_timeline_cash_is_the_snapshots(runs: dict[str, Path]) -> None:
    """Each timeline row's cash after is the cash of the rebalance's SnapshotEvent in the audit log."""
    folder = runs["rotation"]
    page = build_report(folder)[0]
    snapshots = {r["time"][:10]: r["data"]["cash"] for r in event_records(read_audit(folder / "audit.jsonl"))
                 if r["type"] == "SnapshotEvent"}
    rows = re.findall(r'<tr id="rebalance-([0-9-]+)".*?data-figure="cash-after">([^<]*)</td>', page)
    assert len(rows) == len(pd.read_csv(folder / "signals.csv"))
    for day, text in rows:
        assert text == f"{snapshots[day]:,.2f}", day


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    """A symbol, scenario name and handler name made of markup appear only escaped in the page (or inside the
    packed data), and the packed data is plain base64 that cannot end its script element."""
    out = tmp_path / "out"
    run(write_hostile(tmp_path), out=out)
    page, unavailable = build_report(out, trust=True)  # the handler is the test's own
    assert unavailable is None
    for text in (HOSTILE_SYMBOL, HOSTILE_NAME, HOSTILE_HANDLER):
        assert text not in page
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script") == page.count("</script>") == 4  # guard, report, data, explorer
    document = _document(page)
    assert HOSTILE_SYMBOL in document["strings"] and HOSTILE_HANDLER in document["strings"]


def test_report_size_stays_small(runs: dict[str, Path]) -> None:
    """The bundled scenario's report, with 392 rebalances' events embedded, stays under 4 MB (about 3.1 MB when
    this was written) and its packed events under 1 MB (about 0.56 MB)."""
    page = build_report(runs["rotation"])[0]
    packed = re.search(r'id="explorer-data">([^<]*)<', page)
    assert packed is not None
    assert len(packed.group(1)) < 1_000_000
    assert len(page.encode()) < 4_000_000


def test_no_explorer_without_the_data(runs: dict[str, Path], tmp_path: Path) -> None:
    """A run whose scenario data is gone still gets a report, with the static rebalance list and a note."""
    scenario_dir = tmp_path / "scenario"
    scenario_dir.mkdir()
    scenario = write_hostile(scenario_dir)
    out = tmp_path / "out"
    run(scenario, out=out)
    shutil.rmtree(scenario_dir)
    page, unavailable = build_report(out)
    assert unavailable is not None and "not found" in unavailable
    assert 'data-explorer="unavailable"' in page and "explorer-data" not in page


def test_untrusted_code_is_not_imported(tmp_path: Path) -> None:
    """A run naming a handler that is not eventbt's own is not stepped again without trust; with it, it is."""
    out = tmp_path / "out"
    run(write_hostile(tmp_path), out=out)
    with pytest.raises(Exception, match="pass --trust"):
        collect_steps(out)
    assert len(collect_steps(out, trust=True).groups) == 2


def test_report_command_notes_a_missing_explorer(runs: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt report` says on stderr why the explorer is left out (code not trusted), and --trust puts it in."""
    out = tmp_path / "out"
    run(write_hostile(tmp_path), out=out)
    assert main(["report", str(out), "--out", str(tmp_path / "a.html")]) == 0
    assert "no event explorer in the report" in capsys.readouterr().err
    assert main(["report", str(out), "--out", str(tmp_path / "b.html"), "--trust"]) == 0
    assert "no event explorer" not in capsys.readouterr().err
    assert 'id="explorer-data"' in (tmp_path / "b.html").read_text()


def _fills_by_date(folder: Path) -> dict[str, list[tuple[object, ...]]]:
    trades = pd.read_csv(folder / "trades.csv")
    out: dict[str, list[tuple[object, ...]]] = {}
    for row in trades.itertuples():
        out.setdefault(str(row.date)[:10], []).append((row.symbol, row.side, row.quantity, row.price))
    return out


def test_compare_marks_the_divergence_and_the_rebalances_that_differ(runs: dict[str, Path], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`eventbt report A --compare B` names the first divergence that `eventbt diff` finds and marks every
    rebalance whose fills differ (a 0.2% commission instead of the per-share one: every one from the first); the
    dates are worked out from the two trades.csv files."""
    a, b = runs["rotation"], runs["percentage"]
    comparison = compare_runs(a, b)
    left, right = _fills_by_date(a), _fills_by_date(b)
    expected = sorted(day for day in {*left, *right} if left.get(day) != right.get(day))
    assert list(comparison.differing) == expected and expected
    # The first rebalance already differs: its scaled_for_cash notices count the new commission in the buys' cost.
    divergence = comparison.divergence
    assert divergence is not None and divergence.record["type"] == "NoticeEvent"
    assert divergence.record["time"] == f"{expected[0]}T16:00:00" and "data.details.cost" in divergence.fields
    out = tmp_path / "compare.html"
    import eventbt.report.data

    real, read = eventbt.report.data._published, []
    monkeypatch.setattr(eventbt.report.data, "_published",
                        lambda path, *types: read.append(path) or real(path, *types))
    assert main(["report", str(a), "--compare", str(b), "--out", str(out)]) == 0
    # A's log scanned once, by load_run; the comparison takes both runs' orders from the logs it reads whole
    # (digest checked), as the explorer does A's, and scans neither.
    assert [path.parent.name for path in read] == [a.name]
    page = out.read_text()
    assert f'data-divergence="{comparison.divergence.record["id"]}"' in page
    assert f'<a href="#event-{divergence.record["id"]}">open it in the explorer</a>' in page
    marked = re.findall(r'<tr id="rebalance-([0-9-]+)"[^>]*data-differs="1"', page)
    assert marked == expected


def test_diff_html_writes_the_comparison(runs: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt diff A B --html FILE` exits 1 for different runs and writes the divergence as a page."""
    out = tmp_path / "diff.html"
    assert main(["diff", str(runs["rotation"]), str(runs["percentage"]), "--html", str(out)]) == 1
    page = out.read_text()
    printed = capsys.readouterr().out
    assert "first divergence" in printed
    assert 'data-field="data.details.cost" data-changed="1"' in page and "<script" not in page
    assert "open it in the explorer" not in page and 'href="#' not in page  # the page has no explorer or timeline
    # The table's cells are the text `eventbt diff` printed for the same field: its line "* data.details.cost A B".
    [line] = [line for line in printed.splitlines() if line.strip().startswith("* data.details.cost ")]
    text_a, text_b = line.split()[2:]
    assert (f'<td class="changed">{html.escape(text_a)}</td><td class="changed">{html.escape(text_b)}</td>'
            in page)


def test_a_report_without_the_explorer_does_not_link_the_divergence_to_it(runs: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    """`report A --compare B --no-explorer`: the divergence is named, with no link to an explorer the page lacks."""
    out = tmp_path / "compare.html"
    assert main(["report", str(runs["rotation"]), "--compare", str(runs["percentage"]), "--no-explorer",
                 "--out", str(out)]) == 0
    page = out.read_text()
    assert "data-divergence=" in page and "open it in the explorer" not in page and 'href="#event-' not in page
