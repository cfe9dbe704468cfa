"""Parameter sweeps: grid parsing, combinations, ranking, failures, resume and the files written."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from eventbt.cli import main
from eventbt.errors import DataError, SweepError
from eventbt.scenario import ScenarioConfig
from eventbt.simulation import Simulation
from eventbt.sweeps.executors import OnRow, SerialExecutor, Task
from eventbt.sweeps.grid import combinations, parse_grid, rank_table, sweep

SCENARIO = Path(__file__).parents[2] / "scenarios" / "ema_next_open.toml"
# 2 x 2: top_n = 0 is rejected by the strategy, so two combinations fail and two run.
GRID = ["strategy.params.fast_span=5,10", "strategy.params.top_n=0,2"]


def direct_run(overrides: Sequence[str]) -> dict[str, object]:
    """The summary of one combination run on its own, loading its own prices (not through the sweep)."""
    result = Simulation(ScenarioConfig.from_toml(SCENARIO, overrides), audit=True).run()
    assert result is not None
    return result.summary


class CountingExecutor(SerialExecutor):
    """A serial executor that remembers which combinations it was asked to run."""

    def __init__(self) -> None:
        self.ran: list[int] = []

    def run(self, base: ScenarioConfig, prices: object, tasks: Sequence[Task], on_row: OnRow) -> None:
        self.ran.extend(task.index for task in tasks)
        super().run(base, prices, tasks, on_row)  # type: ignore[arg-type]


def test_combinations_are_numbered_in_grid_order_last_key_fastest() -> None:
    """Combination i of a 2 x 3 grid is (i // 3, i % 3) in value positions, with parsed parameter values."""
    grid = parse_grid(["a.x=1,2", "a.y=0.5, true ,name"])
    found = combinations(grid)
    assert [c.index for c in found] == [0, 1, 2, 3, 4, 5]
    # 4 = 1 * 3 + 1: the second x and the second y.
    assert found[4].overrides == ("a.x=2", "a.y=true")
    assert found[4].params == {"a.x": 2, "a.y": True}
    assert found[5].params == {"a.x": 2, "a.y": "name"}


def test_mapping_grid_gives_the_same_overrides_as_text() -> None:
    """A ``{key: values}`` grid turns its values into override text like the command line does."""
    assert parse_grid({"strategy.params.top_n": [1, 2], "x.y": ["a"]}) == {
        "strategy.params.top_n": ("1", "2"), "x.y": ('"a"',)}


def test_random_sample_is_distinct_seeded_and_in_grid_order() -> None:
    """``random=N`` draws N distinct combinations, the same ones for the same seed, sorted by number."""
    grid = parse_grid(["a.x=1,2,3,4", "a.y=1,2,3"])
    first = [c.index for c in combinations(grid, random=5, seed=7)]
    assert first == [c.index for c in combinations(grid, random=5, seed=7)]
    assert len(set(first)) == 5 and first == sorted(first) and set(first) <= set(range(12))
    assert len(combinations(grid, random=50, seed=1)) == 12


@pytest.mark.parametrize(("grid", "message"), [
    (["strategy.params.top_n"], "--grid strategy.params.top_n: must look like 'table.key=v1,v2,...'"),
    (["top_n=1,2"], "--grid top_n=1,2: must look like"),
    (["a.b=1,,2"], "--grid a.b=1,,2: value 2 of 3 is empty; expected a value between each two commas, e.g. "
                   "'a.b=1,2,3'"),
    (["a.b=1,2,"], "--grid a.b=1,2,: value 3 of 3 is empty"),
    (["a.b="], "--grid a.b=: must look like"),  # no value at all
    (["a.b=1", "a.b=2"], "--grid a.b=2: key 'a.b' is given twice"),
    ([], "--grid: at least one --grid key is needed"),
])
def test_bad_grid_specs_are_named(grid: list[str], message: str) -> None:
    """Each malformed grid spec raises a SweepError that quotes the spec."""
    with pytest.raises(SweepError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        parse_grid(grid)


@pytest.mark.parametrize(("grid", "message"), [
    ({"execution.timing": "next_open"},
     "grid['execution.timing']: expected a list of values, e.g. ['next_open'], got str 'next_open'"),
    ({"strategy.params.top_n": 2}, "grid['strategy.params.top_n']: expected a list of values, e.g. [2], got int 2"),
    ({"strategy.params.top_n": None}, "grid['strategy.params.top_n']: expected a list of values, got None"),
    ({"strategy.params.top_n": [None, 1]},
     "grid['strategy.params.top_n']: value 1 of 2 is None, which a scenario cannot hold; expected a number, a "
     "boolean, a text, a date or a list of them"),
    ({"strategy.params.top_n": []},
     "grid['strategy.params.top_n']: has no values; expected a list of at least one value, e.g. "
     "{'strategy.params.top_n': [1, 2, 3]}"),
    ({"top_n": [1, 2]}, "grid['top_n']: expected a key like 'table.key', e.g. 'strategy.params.top_n'"),
    ({}, "grid: at least one key is needed, e.g. {'strategy.params.top_n': [1, 2, 3]}"),
    ({"strategy.params.top_n": [2, 2, 3]},
     "grid['strategy.params.top_n']: value 2 is given 2 times (values 1 and 2 of 3); the same combinations would "
     "run more than once: give each value once"),
    (["strategy.params.top_n=2,2,3"],
     "--grid strategy.params.top_n=2,2,3: value 2 is given 2 times (values 1 and 2 of 3); the same combinations "
     "would run more than once: give each value once"),
    (["schedule.rebalance=weekly,monthly", "strategy.params.top_n=1,2", "schedule.every_n_bars=5,10"],
     "--grid schedule.every_n_bars=5,10: keys 'schedule.rebalance' and 'schedule.every_n_bars' are both schedule "
     "keys, which replace each other: every combination would run 'schedule.every_n_bars' alone, dropping the "
     "values of 'schedule.rebalance'; sweep one schedule key per grid (a sweep for each)"),
    ({"schedule.dates": [["2020-01-31"]], "schedule.rebalance": ["weekly"]},
     "grid['schedule.rebalance']: keys 'schedule.dates' and 'schedule.rebalance' are both schedule keys, which "
     "replace each other: every combination would run 'schedule.rebalance' alone, dropping the values of "
     "'schedule.dates'; sweep one schedule key per grid (a sweep for each)"),
    (["a.b=1,2", "c.d=5,6,5,5"],
     "--grid c.d=5,6,5,5: value 5 is given 3 times (values 1, 3 and 4 of 4); the same combinations would run more "
     "than once: give each value once"),
])
def test_python_grids_of_the_wrong_shape_and_repeated_values_are_refused(grid: object, message: str) -> None:
    """A text as a grid's values was swept letter by letter, a number or None raised a bare TypeError and an
    empty list got the command line's advice; a repeated value ran the same combination twice. Each is a
    SweepError naming the key (messages written out by hand). So is a grid over two schedule keys: a later
    schedule override replaces an earlier one, so each of its combinations ran the last key's value alone, the
    same run once for each value of the other key."""
    with pytest.raises(SweepError) as caught:
        parse_grid(grid)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_rank_table_puts_best_first_and_failures_last() -> None:
    """Sharpe ranks high to low, volatility low to high; a failed row (no value) is last either way."""
    rows = [
        {"combination": 0, "sharpe": 0.5, "annual_volatility": 0.2, "status": "ok"},
        {"combination": 1, "sharpe": None, "annual_volatility": None, "status": "failed", "error": "boom"},
        {"combination": 2, "sharpe": 0.9, "annual_volatility": 0.3, "status": "ok"},
    ]
    assert list(rank_table(rows, [], "sharpe")["combination"]) == [2, 0, 1]
    assert list(rank_table(rows, [], "annual_volatility")["combination"]) == [0, 2, 1]
    with pytest.raises(SweepError, match="--rank-by: unknown metric 'sharp'"):
        rank_table(rows, [], "sharp")


def test_local_sweep_records_failures_ranks_and_matches_single_runs(tmp_path: Path) -> None:
    """A 2 x 2 grid on two processes: failures recorded, the rest equal to single runs, files written."""
    result = sweep(SCENARIO, GRID, workers=2, out=tmp_path)
    table = result.table
    assert sorted(table["combination"]) == [0, 1, 2, 3]
    failed = table[table["status"] == "failed"]
    assert sorted(failed["combination"]) == [0, 2]  # top_n = 0 is the first value of the last key
    assert failed["error"].str.contains("'top_n' must be >= 1").all()
    ok = table[table["status"] == "ok"]
    for _, row in ok.iterrows():
        summary = direct_run(row["overrides"].split(" "))
        assert row["digest"] == summary["digest"]
        assert row["sharpe"] == pytest.approx(summary["sharpe"], rel=1e-12)
        assert row["trades"] == summary["trades"]
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table["sharpe"].iloc[0] >= table["sharpe"].iloc[1]
    assert set(table["status"].iloc[2:]) == {"failed"}
    assert set(result.files) == {"sweep.json", "results.jsonl", "results.csv", "results.parquet", "heatmap.png"}
    parquet = pd.read_parquet(tmp_path / "results.parquet")
    csv = pd.read_csv(tmp_path / "results.csv")
    assert list(parquet["digest"].fillna("")) == list(csv["digest"].fillna("")) == list(table["digest"].fillna(""))
    assert (tmp_path / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A trade count stays whole beside the failed rows' missing counts: 79, not 79.0, in the table and files.
    assert str(table["trades"].dtype) == "Int64" and str(parquet["trades"].dtype) == "Int64"
    csv_trades = [line.split(",")[list(table.columns).index("trades")]
                  for line in (tmp_path / "results.csv").read_text().splitlines()[1:]]
    assert csv_trades == [str(n) for n in ok["trades"]] + ["", ""]


def test_rank_table_puts_a_failed_row_below_a_successful_one_without_the_metric() -> None:
    """Three groups, each in combination order when the metric ties or is missing: successful rows with a
    Sharpe ratio (best first), successful rows without one (no volatility), failed rows. A failed row with a
    lower number used to rank above a successful row without the metric (both went last, in number order)."""
    rows = [
        {"combination": 0, "sharpe": None, "status": "failed", "error": "boom"},
        {"combination": 1, "sharpe": None, "status": "ok"},
        {"combination": 2, "sharpe": 0.1, "status": "ok"},
        {"combination": 3, "sharpe": None, "status": "ok"},
    ]
    table = rank_table(rows, [], "sharpe")
    assert list(table["combination"]) == [2, 1, 3, 0]
    assert list(table["rank"]) == [1, 2, 3, 4]


def test_resume_runs_only_the_combinations_not_yet_recorded(tmp_path: Path) -> None:
    """After an interruption (journal cut mid-line), --resume runs only what is missing."""
    grid = ["strategy.params.fast_span=5,10"]
    sweep(SCENARIO, grid, executor=SerialExecutor(), out=tmp_path, heatmap=False)
    journal = tmp_path / "results.jsonl"
    lines = journal.read_text().splitlines()
    kept = next(line for line in lines if json.loads(line)["combination"] == 1)
    journal.write_text(kept + "\n" + lines[0][:20])  # combination 0 half written, as a kill leaves it
    counting = CountingExecutor()
    resumed = sweep(SCENARIO, grid, executor=counting, out=tmp_path, resume=True, heatmap=False)
    assert counting.ran == [0]
    assert sorted(resumed.table["combination"]) == [0, 1]
    again = CountingExecutor()
    sweep(SCENARIO, grid, executor=again, out=tmp_path, resume=True, heatmap=False)
    assert again.ran == []


def test_resume_refuses_a_different_sweep_and_a_fresh_run_refuses_a_used_folder(tmp_path: Path) -> None:
    """Resuming with another grid, or starting over in a folder holding a sweep, is an error."""
    sweep(SCENARIO, ["strategy.params.top_n=0"], executor=SerialExecutor(), out=tmp_path)
    with pytest.raises(SweepError, match="--resume: the scenario, grid or sampling differ"):
        sweep(SCENARIO, ["strategy.params.top_n=1"], executor=SerialExecutor(), out=tmp_path, resume=True)
    with pytest.raises(SweepError, match=r"--out: .* already holds a sweep"):
        sweep(SCENARIO, ["strategy.params.top_n=0"], executor=SerialExecutor(), out=tmp_path)
    with pytest.raises(SweepError, match=r"--resume: .* holds no sweep to resume"):
        sweep(SCENARIO, ["strategy.params.top_n=0"], out=tmp_path / "empty", resume=True)


def test_a_combination_cutting_the_dates_matches_a_run_loading_them(tmp_path: Path) -> None:
    """``data.start``/``data.end`` in the grid cut the shared prices exactly as loading them would."""
    overrides = ['data.start="2013-01-02"', 'data.end="2013-12-31"']
    result = sweep(SCENARIO, ['data.end="2013-12-31"'], overrides=overrides[:1], executor=SerialExecutor())
    assert result.table["digest"].iloc[0] == direct_run(overrides)["digest"]


def test_a_combination_cutting_outside_the_data_fails_as_loading_would() -> None:
    """A cut that leaves no date gives the loader's own message (the data named, the range of dates it has), as
    the combination run alone does; it said only "no dates from 2016-01-01 to the end". Also when the base's
    own bounds narrowed the shared prices: the message names the whole data's range, and a combination reaching
    past the base's bounds into dates the file has runs, with the digest of the run alone (it failed before)."""
    def alone(overrides: Sequence[str]) -> str:
        with pytest.raises(DataError) as caught:
            direct_run(overrides)
        return f"DataError: {caught.value}"

    result = sweep(SCENARIO, ["data.start=2016-01-01"], overrides=['data.end=""'], executor=SerialExecutor())
    assert result.table["error"].iloc[0] == alone(['data.start="2016-01-01"'])
    assert "start 2016-01-01 is after the last date (2014-12-31)" in result.table["error"].iloc[0]
    narrowed = sweep(SCENARIO, ["data.start=2013-01-05", "data.end=2013-01-06,2014-01-02"],
                     overrides=['data.end="2013-01-06"'], executor=SerialExecutor())
    rows = narrowed.table.set_index("data.end")
    assert rows.loc["2013-01-06", "error"] == alone(['data.start="2013-01-05"', 'data.end="2013-01-06"'])
    assert "between 2012-01-03 and 2014-12-31" in rows.loc["2013-01-06", "error"]
    assert rows.loc["2014-01-02", "digest"] == direct_run(['data.start="2013-01-05"',
                                                           'data.end="2014-01-02"'])["digest"]


def test_dates_written_bare_in_a_grid_are_swept_as_text(tmp_path: Path) -> None:
    """`--grid data.start=2013-01-02` (unquoted: a TOML date) runs and is recorded as the ISO text: the journal and
    results files hold it, and the digest is the quoted run's (it crashed writing the journal before)."""
    result = sweep(SCENARIO, ["data.start=2013-01-02"], executor=SerialExecutor(), out=tmp_path, heatmap=False)
    assert result.table["data.start"].tolist() == ["2013-01-02"]
    assert result.table["digest"].iloc[0] == direct_run(['data.start="2013-01-02"'])["digest"]
    assert '"data.start": "2013-01-02"' in (tmp_path / "results.jsonl").read_text()


def test_command_line_sweep_writes_the_ranking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``eventbt sweep`` exits 0, prints the ranking and writes the result files; a bad grid exits 2."""
    out = tmp_path / "sweep"
    code = main(["sweep", str(SCENARIO), "--grid", "strategy.params.top_n=0,1", "--executor", "serial",
                 "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 combinations, 1 failed" in printed
    assert (out / "results.csv").exists() and (out / "results.parquet").exists()
    assert main(["sweep", str(SCENARIO), "--grid", "top_n=1", "--out", str(tmp_path / "x")]) == 2
    assert "--grid top_n=1: must look like" in capsys.readouterr().err


def test_the_printed_ranking_shows_a_failed_rows_count_as_n_a(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Ranked by trades, the failed row (top_n = 0) prints ``n/a`` in the trades column, as in every other
    figure's, and the successful row's count is printed whole, as ``result.table`` holds it."""
    code = main(["sweep", str(SCENARIO), "--grid", "strategy.params.top_n=0,1", "--executor", "serial",
                 "--out", str(tmp_path / "sweep"), "--quiet", "--rank-by", "trades"])
    assert code == 0
    header, first, second = capsys.readouterr().out.splitlines()[:3]
    column = header.split().index("trades")
    trades = pd.read_csv(tmp_path / "sweep" / "results.csv")["trades"]
    assert first.split()[column] == str(int(trades.iloc[0])) and second.split()[column] == "n/a"
    assert "<NA>" not in first + second


def test_a_sweep_refuses_a_run_folder_and_points_a_stopped_sweep_to_resume(tmp_path: Path) -> None:
    """A sweep (or walk-forward) into a run's folder (marker eventbt-run.json) mixed its files in, and `eventbt
    run --out` refused the folder from then on; it is refused, and the run folder is left as it was. A sweep
    that stopped before its first row (here an executor that cannot reach its cluster) leaves only sweep.json:
    starting it again says --resume finishes it, and --resume does."""
    from eventbt.sweeps.walkforward import walk_forward

    run_folder = tmp_path / "run"
    assert main(["run", str(SCENARIO), "--out", str(run_folder), "--quiet"]) == 0
    before = sorted(p.name for p in run_folder.iterdir())
    message = f"--out: {run_folder} holds an eventbt run (eventbt-run.json); a sweep writes its files into a folder"
    with pytest.raises(SweepError, match=re.escape(message)):
        sweep(SCENARIO, ["strategy.params.top_n=1,2"], executor=SerialExecutor(), out=run_folder)
    with pytest.raises(SweepError, match=re.escape(message.replace("a sweep", "a walk-forward"))):
        walk_forward(SCENARIO, ["strategy.params.top_n=1,2"], "train=1y,test=1y", executor=SerialExecutor(),
                     out=run_folder)
    assert sorted(p.name for p in run_folder.iterdir()) == before

    class Unreachable(SerialExecutor):
        def run(self, base: ScenarioConfig, prices: object, tasks: Sequence[Task], on_row: OnRow) -> None:
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:1")

    grid = ["strategy.params.top_n=1,2"]
    with pytest.raises(OSError, match="Timed out"):
        sweep(SCENARIO, grid, executor=Unreachable(), out=tmp_path / "sw")
    assert [p.name for p in (tmp_path / "sw").iterdir()] == ["sweep.json"]
    with pytest.raises(SweepError) as caught:
        sweep(SCENARIO, grid, executor=SerialExecutor(), out=tmp_path / "sw")
    assert str(caught.value) == (f"--out: {tmp_path / 'sw'} holds sweep.json, which this sweep would overwrite; add "
                                 "--resume to finish the sweep started there, or pick another --out")
    assert len(sweep(SCENARIO, grid, executor=SerialExecutor(), out=tmp_path / "sw", resume=True).table) == 2


def test_top_below_one_is_refused_before_any_combination_runs(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """--top 0 printed pandas' "Empty DataFrame" and --top -1 dropped the last row silently; both exit 2, before
    the sweep writes anything."""
    for top in ("0", "-1"):
        out = tmp_path / f"top{top}"
        assert main(["sweep", str(SCENARIO), "--grid", "strategy.params.top_n=1,2", "--top", top, "--executor",
                     "serial", "--out", str(out), "--quiet"]) == 2
        assert capsys.readouterr().err.strip() == f"eventbt: error: --top: must be at least 1, got {top}"
        assert not out.exists()


def test_result_files_list_every_file_the_sweep_wrote(tmp_path: Path) -> None:
    """SweepResult.files left out results.jsonl and sweep.json; it names every file in the out folder (listed
    from the folder itself)."""
    result = sweep(SCENARIO, ["strategy.params.top_n=1,2", "strategy.params.fast_span=5,10"],
                   executor=SerialExecutor(), out=tmp_path)
    assert result.files == {p.name: p for p in tmp_path.iterdir()}
    assert {"sweep.json", "results.jsonl", "results.csv", "results.parquet", "heatmap.png"} == set(result.files)


def test_walk_forward_prints_an_undefined_sharpe_the_same_in_both_columns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One-month windows in which nothing trades: Sharpe is undefined on training and test. The printout showed
    NaN in train_sharpe and None in test_sharpe; both print n/a, as show and compare print an undefined figure,
    and the CSV leaves both empty."""
    assert main(["sweep", str(SCENARIO), "--grid", "strategy.params.top_n=1,2", "--walk-forward",
                 "train=1m,test=1m", "--set", "data.start=2012-01-31", "--set", "data.end=2012-09-30", "--executor",
                 "serial", "--out", str(tmp_path), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    rows = [line.split() for line in lines[1:] if line.split() and line.split()[0].isdigit()]
    assert rows and all(row[header.index("train_sharpe")] == row[header.index("test_sharpe")] == "n/a"
                        for row in rows)
    assert not any(word in line for line in lines for word in ("NaN", "None"))
    written = pd.read_csv(tmp_path / "walk_forward.csv")
    assert written["test_sharpe"].isna().any() and written["train_sharpe"].isna().any()
