"""Tests for how replay and diff say where two logs' headers differ when their events agree: every header value
compared as JSON writes it (5 is not 5.0), and the digests shown being those the lines hash to now."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import eventbt
from eventbt.audit import digest_of_lines, read_audit
from eventbt.cli import main
from eventbt.replays.replayer import compare_logs, replay

SMALL = """\
[scenario]
name = "small"

[data]
path = "prices.csv"
format = "wide"

[portfolio]
initial_cash = 10_000.0

[strategy]
name = "equal_weight"

[schedule]
every_n_bars = 5

[execution.slippage]
model = "fixed_bps"
bps = 5.0
"""


def _run(tmp_path: Path, name: str, overrides: tuple[str, ...] = ()) -> Path:
    """A 2-symbol, 10-bar run of SMALL written to tmp_path/name; its audit log."""
    scenario = tmp_path / "small.toml"
    if not scenario.exists():
        rows = ["date,AAA,BBB", *(f"2021-01-{day + 4:02d},{10 + day},{20 - day * 0.5}" for day in range(10))]
        (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
        scenario.write_text(SMALL)
    eventbt.run(scenario, overrides=overrides, out=tmp_path / name)
    return tmp_path / name / "audit.jsonl"


def _log(header: dict[str, object]) -> list[dict[str, object]]:
    return [{"record": "header", **header}, {"record": "footer", "status": "completed", "digest": "x"}]


def test_a_number_written_as_an_integer_is_a_named_scenario_change(tmp_path: Path) -> None:
    """`replay --set execution.slippage.bps=5` of a run written with 5.0: the same events, and the change is
    listed (the header holds 5 against 5.0, equal in Python but not the same JSON, so not the same digest)."""
    log = _run(tmp_path, "run")
    report = replay(log, overrides=["execution.slippage.bps=5"])
    assert report.identical
    assert report.changes == ("execution.slippage.bps: 5.0 -> 5 (the same number, written as a float and as an "
                              "integer: the header records the scenario as written)",)
    new = report.new_outcome["digest"]
    assert new != read_audit(log)[-1]["digest"]
    assert report.format().splitlines()[-1].endswith(
        f"the headers differ, so the digests do: recorded {read_audit(log)[-1]['digest']}, new {new}")


def test_diff_of_50_and_50_point_0_names_the_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eventbt diff` of runs with bps = 50 and bps = 50.0: exit 0 (the events agree), the value named."""
    a = _run(tmp_path, "a", ("execution.slippage.bps=50",))
    b = _run(tmp_path, "b", ("execution.slippage.bps=50.0",))
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["scenario changes:", "  execution.slippage.bps: 50 -> 50.0 (the same number, written as an "
                                            "integer and as a float: the header records the scenario as written)"]


def test_every_header_field_is_compared_with_its_type() -> None:
    """Header fields outside the scenario are compared as JSON too (bars 10 against 10.0), and a field only one
    header has (audit_format) is named with (absent)."""
    report = compare_logs(_log({"scenario": {}, "bars": 10}), _log({"scenario": {}, "bars": 10.0, "audit_format": 2}))
    assert report.notes == (
        "header field 'bars' differs: 10 -> 10.0 (the same number, written as an integer and as a float)",
        "header field 'audit_format' differs: (absent) -> 2",
    )
    assert report.identical and report.headers_differ


def test_digests_that_differ_outside_the_headers_are_not_blamed_on_them() -> None:
    """Two logs with the same header and no events whose note records differ: the digests differ, and the line
    says the lines outside the compared fields do, not the headers."""
    a = _log({"scenario": {}})
    b = [a[0], {"record": "note", "code": "data_warning", "message": "x"}, dict(a[1])]
    a[1]["digest"], b[2]["digest"] = digest_of_lines(a), digest_of_lines(b)  # each footer true to its lines
    report = compare_logs(a, b)
    assert not report.headers_differ
    assert report.format() == (
        "identical: 0 event records agree; lines outside the compared fields differ (a note record, or an event's "
        f"seq, id or by), so the digests do: recorded {digest_of_lines(a)}, new {digest_of_lines(b)}")


def test_diff_of_a_log_edited_after_it_was_written_shows_the_digest_its_lines_hash_to(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """B's header edited after the run (initial_cash 10000.0 -> 20000.0): the warning stays, the change is
    listed, and the last line shows B's digest as its lines hash now, not the footer's (which is A's)."""
    a = _run(tmp_path, "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    b = tmp_path / "b" / "audit.jsonl"
    lines = b.read_text().splitlines(keepends=True)
    assert '"initial_cash":10000.0' in lines[0]
    b.write_text(lines[0].replace('"initial_cash":10000.0', '"initial_cash":20000.0') + "".join(lines[1:]))
    assert main(["diff", str(a), str(b)]) == 0
    captured = capsys.readouterr()
    digest_a, now_b = read_audit(a)[-1]["digest"], digest_of_lines(read_audit(b))
    assert now_b != digest_a == read_audit(b)[-1]["digest"]
    out = captured.out.splitlines()
    assert out[:2] == ["scenario changes:", "  portfolio.initial_cash: 10000.0 -> 20000.0"]
    assert out[-1].endswith(f"the headers differ, so the digests do: A {digest_a}, B {now_b}")
    assert f"eventbt: warning: B {b}: digest mismatch" in captured.err
