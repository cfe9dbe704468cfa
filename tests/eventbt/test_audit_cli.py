"""Tests for the audit-log commands (audit trace/show/export/verify, replay, diff) and the run records."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pandas as pd
import pytest

import eventbt
from eventbt.audit import read_audit
from eventbt.cli import main

ROOT = Path(__file__).resolve().parents[2]
NEXT_OPEN = ROOT / "scenarios" / "ema_next_open.toml"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ema_next_open run once into a temporary folder."""
    out = tmp_path_factory.mktemp("run")
    eventbt.run(NEXT_OPEN, out=out)
    return out


def test_header_and_footer_are_complete(run_folder: Path) -> None:
    """The header has version, resolved scenario, data hashes, versions, start time; the footer status and digest."""
    records = read_audit(run_folder / "audit.jsonl")
    header, footer = records[0], records[-1]
    assert header["record"] == "header" and footer["record"] == "footer"
    assert header["eventbt_version"] == eventbt.__version__
    assert header["scenario"]["execution"]["slippage"] == {"bps": 5.0, "model": "fixed_bps"}
    assert header["scenario"]["rebalance"] == {"cash_buffer": 0.0, "min_trade_value": 0.0}  # defaults filled
    folder = "data/zipline/csvdir_daily"
    assert sorted(header["data_files"]) == [f"{folder}/{s}.csv.gz" for s in ("AAPL", "IBM", "KO", "MSFT")]
    assert all(re.fullmatch("[0-9a-f]{64}", digest) for digest in header["data_files"].values())
    assert {"python", "pandas", "numpy", "base_dir"} <= set(header["environment"])
    assert "started" in header["wall_clock"]
    assert footer["status"] == "completed" and re.fullmatch("[0-9a-f]{64}", footer["digest"])


def test_audit_trace_prints_the_chain(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`audit trace` of a fill prints the fill, its order, its signal and its market bar, in that order."""
    records = read_audit(run_folder / "audit.jsonl")
    fill = next(r for r in records if r.get("type") == "FillEvent")
    assert main(["audit", "trace", str(run_folder), str(fill["id"])]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[2] for row in rows] == ["FillEvent", "OrderEvent", "SignalEvent", "MarketEvent"]


def test_audit_show_filters_by_type_symbol_and_dates(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`audit show --type FillEvent --symbol AAPL --from --to` lists exactly the matching fills."""
    args = ["audit", "show", str(run_folder / "audit.jsonl"), "--type", "FillEvent", "--symbol", "AAPL",
            "--from", "2013-01-01", "--to", "2013-12-31"]
    assert main(args) == 0
    rows = capsys.readouterr().out.splitlines()
    expected = [r for r in read_audit(run_folder / "audit.jsonl") if r.get("type") == "FillEvent"
                and r["data"]["symbol"] == "AAPL" and "2013-01-01" <= r["time"][:10] <= "2013-12-31"]
    assert expected and len(rows) == len(expected) + 1
    assert rows[0].split()[:3] == ["seq", "time", "type"]
    assert all(" AAPL" in row and "FillEvent" in row for row in rows[1:])


def test_audit_show_prints_numbers_as_the_log_holds_them(run_folder: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The snapshots' cash and total value print as the log's floats read back (the shortest text of each, as
    trades.csv writes them), where they printed to six figures (4.47325e+07 for 44,732,549.66)."""
    assert main(["audit", "show", str(run_folder / "audit.jsonl"), "--type", "SnapshotEvent"]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = rows[0].split()
    snapshots = [r["data"] for r in read_audit(run_folder / "audit.jsonl") if r.get("type") == "SnapshotEvent"]
    assert len(rows) == len(snapshots) + 1
    for row, data in zip(rows[1:], snapshots, strict=True):
        cells = row.split()
        for name in ("cash", "total_value"):  # the table's columns after 'bar' are the data's, in the log's order
            printed = cells[len(cells) - len(header) + header.index(name)]
            assert float(printed) == data[name] and "e+" not in printed


@pytest.mark.parametrize("option, value, message", [
    ("--type", "FillEvnt", "--type 'FillEvnt' is not an event type (did you mean 'FillEvent'?); the log's events "
     "are {types}"),
    ("--symbol", "ko", "--symbol 'ko': no event of the log is about this symbol (did you mean 'KO'?)"),
])
def test_audit_show_refuses_a_filter_that_can_match_nothing(run_folder: Path, capsys: pytest.CaptureFixture[str],
                                                            option: str, value: str, message: str) -> None:
    """A misspelt type or symbol is an error naming it (exit 2), not a log that seems to lack such events."""
    log = run_folder / "audit.jsonl"
    types = ", ".join(sorted({r["type"] for r in read_audit(log) if r.get("record") == "publish"}))
    assert main(["audit", "show", str(log), option, value]) == 2
    assert capsys.readouterr().err == f"eventbt: error: {log}: {message.format(types=types)}\n"


@pytest.mark.parametrize("name", ["fill", "FILL", "Fill", "fillevent"])
def test_audit_show_takes_the_debuggers_short_type_names(run_folder: Path, capsys: pytest.CaptureFixture[str],
                                                         name: str) -> None:
    """`--type fill` (any case, with or without 'event') shows what `--type FillEvent` shows: every fill."""
    assert main(["audit", "show", str(run_folder), "--type", "FillEvent"]) == 0
    full = capsys.readouterr().out
    assert main(["audit", "show", str(run_folder), "--type", name]) == 0
    assert capsys.readouterr().out == full
    fills = [r for r in read_audit(run_folder / "audit.jsonl") if r.get("type") == "FillEvent"]
    assert len(full.splitlines()) == len(fills) + 1  # the column names, then one row a fill


def test_audit_show_suggests_a_short_type_name(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt short name ('ordr') is refused with the short name it was likely meant to be."""
    assert main(["audit", "show", str(run_folder), "--type", "ordr"]) == 2
    assert "--type 'ordr' is not an event type (did you mean 'order'?)" in capsys.readouterr().err


def test_audit_show_of_a_known_type_the_log_lacks_matches_nothing(run_folder: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An event type eventbt has but this run did not publish (no split) is a valid filter."""
    assert main(["audit", "show", str(run_folder), "--type", "SplitEvent"]) == 0
    assert capsys.readouterr().out == "no events match\n"


@pytest.mark.parametrize(("action", "done"), [("show", "shown"), ("trace", "traced"), ("export", "exported")])
def test_audit_show_trace_and_export_warn_of_a_log_edited_after_it_was_written(
        run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str, done: str) -> None:
    """The first fill's commission edited (3.58 -> 9.58): one warning line on stderr naming the digest mismatch and
    where (no line out of order, so a changed value), and the output as the edited log has it; none when intact."""
    from eventbt.audit import digest_of_lines
    from eventbt.replays.replayer import EDIT_NOT_LOCATED

    lines = (run_folder / "audit.jsonl").read_text().splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if '"type":"FillEvent"' in line)
    assert '"commission":3.58,' in lines[at]
    lines[at] = lines[at].replace('"commission":3.58,', '"commission":9.58,')
    log = tmp_path / "audit.jsonl"
    log.write_text("".join(lines))
    fill = orjson.loads(lines[at])
    arguments = {"show": ["--type", "fill", "--limit", "1"], "trace": [str(fill["id"])],
                 "export": ["--to", str(tmp_path / "events.csv")]}[action]
    for folder, edited in ((run_folder, False), (tmp_path, True)):
        assert main(["audit", action, str(folder), *arguments]) == 0
        captured = capsys.readouterr()
        if not edited:
            assert captured.err == ""
            continue
        records = read_audit(log)
        assert captured.err == (f"eventbt: warning: {log}: digest mismatch: the footer says {records[-1]['digest']} "
                                f"but the records hash to {digest_of_lines(records)}; the log was modified after it "
                                f"was written: {EDIT_NOT_LOCATED}; {done} as it is\n")
    if action == "export":
        frame = pd.read_csv(tmp_path / "events.csv")
        assert frame.loc[frame["id"] == fill["id"], "commission"].tolist() == [9.58]
    else:  # the fill is the first row (of the fills shown, of its causal chain)
        row = captured.out.splitlines()[1].split()
        assert row[3] == str(fill["id"]) and "9.58" in row


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_audit_export(run_folder: Path, tmp_path: Path, suffix: str) -> None:
    """`audit export` writes one row per published event with its data fields as columns."""
    target = tmp_path / f"events{suffix}"
    assert main(["audit", "export", str(run_folder), "--to", str(target)]) == 0
    frame = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    published = [r for r in read_audit(run_folder / "audit.jsonl") if r.get("record") == "publish"]
    assert len(frame) == len(published)
    assert {"seq", "time", "type", "id", "cause", "by", "commission", "symbol"} <= set(frame.columns)


def test_audit_verify_and_replay_report_a_tampered_log(run_folder: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """One edited line makes `audit verify` exit 1 and `replay` exit 2 with the digest mismatch."""
    assert main(["audit", "verify", str(run_folder)]) == 0
    lines = (run_folder / "audit.jsonl").read_bytes().splitlines()
    index = next(i for i, line in enumerate(lines) if b'"SnapshotEvent"' in line)
    record = orjson.loads(lines[index])
    record["data"]["cash"] += 0.01
    lines[index] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    tampered = tmp_path / "audit.jsonl"
    tampered.write_bytes(b"\n".join(lines) + b"\n")
    capsys.readouterr()
    assert main(["audit", "verify", str(tampered)]) == 1
    assert "digest mismatch" in capsys.readouterr().err
    assert main(["replay", str(tampered)]) == 2
    assert "the log was modified after it was written" in capsys.readouterr().err


def test_replay_and_diff_exit_codes(run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """replay exits 0 for the same run and 1 for a what-if; diff exits 0 for a run against itself."""
    assert main(["replay", str(run_folder / "audit.jsonl")]) == 0
    digest = read_audit(run_folder / "audit.jsonl")[-1]["digest"]
    assert capsys.readouterr().out.strip().endswith(f"digest {digest}")
    assert main(["replay", str(run_folder), "--set", "rebalance.cash_buffer=0.1"]) == 1
    assert "first divergence" in capsys.readouterr().out
    assert main(["diff", str(run_folder), str(run_folder)]) == 0


def test_docs_worked_example_output_is_what_replay_prints(run_folder: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The what-if output shown in docs/replay.md is exactly what `eventbt replay` prints."""
    text = (ROOT / "docs" / "replay.md").read_text()
    documented = text.split("<!-- worked-example -->\n", 1)[1].split("\n<!-- /worked-example -->", 1)[0]
    args = ["replay", str(run_folder / "audit.jsonl"), "--set", "execution.commission.model=percentage",
            "--set", "execution.commission.rate=0.002"]
    capsys.readouterr()
    assert main(args) == 1
    assert capsys.readouterr().out.rstrip("\n") == documented


@pytest.mark.parametrize("options, message", [
    (["--from", "2012-3-19"], "--from: not a date: '2012-3-19' (expected YYYY-MM-DD)"),
    (["--from", "03/19/2012"], "--from: not a date: '03/19/2012' (expected YYYY-MM-DD)"),
    (["--from", "abc"], "--from: not a date: 'abc' (expected YYYY-MM-DD)"),
    (["--to", "2013-02-30"], "--to: not a date: '2013-02-30' (expected YYYY-MM-DD)"),
    (["--from", "2013-01-01", "--to", "2012-12-31"],
     "--from 2013-01-01 is after --to 2012-12-31; expected --from on or before --to"),
    (["--limit", "-1"], "--limit: expected a whole number of rows of 1 or more, got -1"),
    (["--limit", "0"], "--limit: expected a whole number of rows of 1 or more, got 0"),
])
def test_audit_show_refuses_a_bad_date_or_limit(run_folder: Path, capsys: pytest.CaptureFixture[str],
                                               options: list[str], message: str) -> None:
    """A date that is not YYYY-MM-DD was compared as text (2012-3-19 sorts after every day of 2012, 03/19/2012
    before all of them) and a limit below 1 cut rows off the end: each is now an error naming the option."""
    assert main(["audit", "show", str(run_folder), "--type", "FillEvent", *options]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"eventbt: error: {message}\n")


def test_audit_show_from_a_day_starts_on_that_day(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--from 2012-03-19 --limit 1 shows the first fill of that day: the first fill of the whole run, found in the
    log by reading the FillEvent records in order (the run's first signal, on 2012-03-16, fills at the next open)."""
    first = next(r for r in read_audit(run_folder / "audit.jsonl") if r.get("type") == "FillEvent")
    assert first["time"] == "2012-03-19T09:30:00"
    assert main(["audit", "show", str(run_folder), "--type", "FillEvent", "--from", "2012-03-19", "--limit", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 and rows[1].split()[:4] == [str(first["seq"]), first["time"], "FillEvent", str(first["id"])]


@pytest.mark.parametrize("action", [["show"], ["trace", "@", "213"], ["export", "--to", "EXPORT"]])
@pytest.mark.parametrize("content", ["empty", "headerless"])
def test_audit_show_trace_export_refuse_a_file_without_a_header(run_folder: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                action: list[str], content: str) -> None:
    """An empty file, or a log whose header line was removed, is not an eventbt audit log: show and trace said
    'no events match' (exit 0) and 'no event #213', as if it were an empty log; now the message of verify."""
    lines = (run_folder / "audit.jsonl").read_bytes().splitlines(keepends=True)
    log = tmp_path / "audit.jsonl"
    log.write_bytes(b"" if content == "empty" else b"".join(lines[1:]))
    args = ["audit", action[0], str(log)] + [str(tmp_path / "e.csv") if a == "EXPORT" else a for a in action[1:]
                                              if a != "@"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "", f"eventbt: error: {log}: does not start with a header record; not an eventbt audit log\n")
    assert not (tmp_path / "e.csv").exists()


def test_a_gzip_compressed_log_is_named_as_such(run_folder: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A gzip'd log was 'line 1: not a JSON object (str is not valid UTF-8 ...)'; it is refused by its gzip magic
    bytes, and a run folder holding only audit.jsonl.gz names the .gz it found (the file is compressed here
    with the standard library's gzip, so its first bytes are the RFC 1952 magic by construction)."""
    import gzip
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    packed = folder / "audit.jsonl.gz"
    packed.write_bytes(gzip.compress((folder / "audit.jsonl").read_bytes()))
    (folder / "audit.jsonl").unlink()
    for command in (["audit", "verify", str(packed)], ["audit", "show", str(packed)], ["replay", str(packed)]):
        assert main(command) in (1, 2)
        assert capsys.readouterr().err.endswith(
            f"{packed}: is gzip-compressed; expected plain JSON lines (gunzip it first)\n")
    found = ("found audit.jsonl.gz, which is gzip-compressed: gunzip it first (logs are read as plain JSON lines)")
    assert main(["verify", str(folder)]) == 2
    assert capsys.readouterr().err == (f"eventbt: error: {folder}: no audit.jsonl in the run folder; {found}; "
                                       "expected the files `eventbt run --out` writes\n")
    for command in (["replay", str(folder)], ["audit", "trace", str(folder), "3"], ["diff", str(folder), str(folder)]):
        assert main(command) == 2
        assert capsys.readouterr().err == f"eventbt: error: {folder / 'audit.jsonl'}: no such audit log; {found}\n"


def _edited(run_folder: Path, tmp_path: Path, edit: str) -> tuple[Path, int, dict[str, object]]:
    """A copy of the run folder whose log is edited by hand at the first fill's line (line ``n``): ``number``
    changes its commission, ``swap`` swaps it with the next line, ``dup`` repeats it, ``delete`` removes it.
    Returns the folder, ``n`` and the fill's record."""
    import shutil

    folder = tmp_path / edit
    shutil.copytree(run_folder, folder)
    lines = (folder / "audit.jsonl").read_bytes().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if b'"FillEvent"' in line)
    fill = orjson.loads(lines[index])
    if edit == "number":
        changed = {**fill, "data": {**fill["data"], "commission": fill["data"]["commission"] + 0.01}}
        lines[index] = orjson.dumps(changed, option=orjson.OPT_SORT_KEYS) + b"\n"
    elif edit == "swap":
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    elif edit == "dup":
        lines.insert(index, lines[index])
    else:
        del lines[index]
    (folder / "audit.jsonl").write_bytes(b"".join(lines))
    return folder, index + 1, fill


def test_an_edited_log_names_the_first_line_out_of_order(run_folder: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A swapped, repeated or removed line was reported as two digests only; now the first line that breaks the
    log's order is named. Expected by hand from the edit: the first fill is line n with seq s (every publish line's
    seq is one more than the line before's in this log, so line n + 1 holds s + 1): swapped, line n + 1 holds s
    after s + 1; repeated, line n + 1 holds s again; removed, the footer counts one event more than the log."""
    n_lines = len((run_folder / "audit.jsonl").read_bytes().splitlines())
    events = read_audit(run_folder / "audit.jsonl")[-1]["events"]
    for edit, expected in [
        ("swap", "line {n1} has seq {s}, not after seq {s1} on line {n} (seq increases line by line): a line was "
                 "moved or repeated here"),
        ("dup", "line {n1} has seq {s}, not after seq {s} on line {n} (seq increases line by line): a line was "
                "moved or repeated here"),
        ("delete", "the footer (line {last}) counts {events:,} events delivered but the log has {fewer:,}: a line "
                   "was removed"),
    ]:
        folder, n, fill = _edited(run_folder, tmp_path, edit)
        seq = int(fill["seq"])  # type: ignore[call-overload]
        told = expected.format(n=n, n1=n + 1, s=seq, s1=seq + 1, last=n_lines - 1, events=events, fewer=events - 1)
        assert main(["audit", "verify", str(folder)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"eventbt: {folder / 'audit.jsonl'}: digest mismatch: ") and err.endswith(
            f"; the log was modified after it was written: {told}\n"), (edit, err)
        assert main(["verify", str(folder)]) == 1
        out = capsys.readouterr().out
        assert f"DISAGREES at audit: audit.jsonl digest (the log was modified after it was written: {told}): " in out


def test_an_edited_value_is_said_plainly_and_diff_compares_it_anyway(run_folder: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A changed number keeps every line in order: the message says the change cannot be placed that way and how
    to find it, and `diff` (which refused the log) compares it with a warning, marking the field the edit changed
    (the first fill's commission, raised by 0.01 in _edited)."""
    folder, _n, fill = _edited(run_folder, tmp_path, "number")
    assert main(["audit", "verify", str(folder)]) == 1
    assert capsys.readouterr().err.endswith(
        "; the log was modified after it was written: its lines are in order (seq and event ids increase, each cause "
        "is published on an earlier line, the footer counts no more events than the log holds), so the change is in "
        "a value that the order does not show; to find the first event that differs, compare the log with a fresh "
        "run of its scenario: eventbt run SCENARIO --out NEW, then eventbt diff NEW LOG\n")
    assert main(["diff", str(run_folder), str(folder)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"eventbt: warning: B {folder / 'audit.jsonl'}: digest mismatch: ")
    assert captured.err.endswith("; compared as it is\n")
    assert f"FillEvent #{fill['id']}" in captured.out
    marked = [line.split() for line in captured.out.splitlines() if line.startswith("  * ")]
    assert marked == [["*", "data.commission", f"{fill['data']['commission']}",  # type: ignore[index]
                       f"{fill['data']['commission'] + 0.01}"]]  # type: ignore[index,operator]
