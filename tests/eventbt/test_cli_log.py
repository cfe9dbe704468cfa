"""The command line's messages: text lines by default, JSON lines (structlog) with --log json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "ema_rotation.toml"  # its data has three warnings: AAPL and RRC jumps, RRC stale


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventbt", *args], capture_output=True, text=True, cwd=ROOT)


def test_warnings_are_text_lines_by_default_and_json_objects_with_log_json(tmp_path: Path) -> None:
    """The same three data warnings: `eventbt: warning: ...` lines, or one JSON object each with the message as
    `event`, level `warning`, the command, the data path and a code; and no structlog without --log json."""
    text = _run("run", str(DEMO), "--quiet", "--set", "data.end=2001-01-01")
    as_json = _run("--log", "json", "run", str(DEMO), "--quiet", "--set", "data.end=2001-01-01")
    assert text.returncode == as_json.returncode == 0
    warnings = [line.removeprefix("eventbt: warning: ") for line in text.stderr.splitlines()
                if line.startswith("eventbt: warning: ")]
    records = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert len(warnings) == 3 and [r["event"] for r in records] == warnings
    assert {(r["level"], r["command"], r["code"]) for r in records} == {("warning", "run", "data_warning")}
    assert all(r["path"] == "data/skfolio/sp500_dataset.csv.gz" and "timestamp" in r for r in records)


def test_an_error_is_a_json_object_too() -> None:
    """A bad scenario: exit 2 and one JSON object on stderr naming the error's type; nothing else."""
    done = _run("--log", "json", "run", "no/such.toml")
    assert done.returncode == 2
    [record] = [json.loads(line) for line in done.stderr.splitlines()]
    assert record["level"] == "error" and record["error_type"] == "ScenarioError"
    assert record["event"] == "no/such.toml: file not found"


def test_a_plain_run_does_not_import_structlog() -> None:
    """Text mode keeps structlog (and its imports) out of the process; so does a run keep out package metadata
    (versions are read without it, entry points only looked up for names that are not built in) and the
    modules of the other sub-commands: the start-up cost docs/performance.md measures."""
    code = ("import sys; from eventbt.cli.main import main; "
            f"main(['run', {str(DEMO)!r}, '--quiet', '--set', 'data.end=1991-01-01']); "
            "print(sorted(name for name in ('structlog', 'importlib.metadata') if name in sys.modules), "
            "sorted(name for name in sys.modules if name.startswith('eventbt.cli.commands.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[] ['eventbt.cli.commands.run']"


def test_the_command_line_reads_the_named_sub_command_only() -> None:
    """The sub-command a command line names, past the top-level --log option; anything else builds the whole
    parser (None), so that help, --version and a misspelt command are answered as before."""
    from eventbt.cli.main import build_parser, named_command

    assert named_command(["run", "x.toml"]) == "run"
    assert named_command(["--log", "json", "audit", "show", "a.jsonl"]) == "audit"
    assert named_command(["--log=json", "verify", "a.jsonl"]) == "verify"
    assert [named_command(argv) for argv in ([], ["--help"], ["--version", "run"], ["rnu"], ["--log"])] == [None] * 5
    whole, alone = build_parser(), build_parser(only="run")
    argv = ["--log", "json", "run", "s.toml", "--set", "a=1", "--quiet"]
    parsed = [vars(parser.parse_args(argv)) for parser in (whole, alone)]
    # Each names its own sub-command parser (the one that reports a misspelt option), built the same way.
    assert [values.pop("command_parser").prog for values in parsed] == ["eventbt run"] * 2
    assert parsed[0] == parsed[1]


def test_a_misspelt_command_is_answered_by_the_whole_parser() -> None:
    """`eventbt rnu` exits 2 naming the valid choices, as before the parser was built lazily."""
    done = _run("rnu")
    assert done.returncode == 2 and "invalid choice: 'rnu'" in done.stderr and "run" in done.stderr


def test_the_program_exits_with_the_command_status_after_freezing_the_collector() -> None:
    """`eventbt` (eventbt.cli.main:program) freezes the objects alive before exiting, so that the interpreter's
    shutdown skips its search for reference cycles (docs/performance.md); an atexit function still runs and
    sees them frozen, and the exit status is the command's: 0 for a run, 2 for a bad scenario."""
    code = ("import atexit, gc, sys; atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0)); "
            "sys.argv = ['eventbt', *sys.argv[1:]]; from eventbt.cli.main import program; program()")
    ran = subprocess.run([sys.executable, "-c", code, "run", str(DEMO), "--quiet", "--set", "data.end=1991-01-01"],
                         capture_output=True, text=True, cwd=ROOT)
    failed = subprocess.run([sys.executable, "-c", code, "run", "no/such.toml"], capture_output=True, text=True,
                            cwd=ROOT)
    assert (ran.returncode, ran.stdout.splitlines()[-1]) == (0, "frozen True")
    assert (failed.returncode, failed.stdout.splitlines()[-1]) == (2, "frozen True")


def test_no_progress_bar_among_the_json_lines() -> None:
    """On a terminal `eventbt run` draws a progress bar on stderr; with --log json stderr is JSON lines for a
    program, and the bar's redraws broke them. Run as if on a terminal (the bar told it is one): the bar is drawn
    in text mode and not with --log json, whose every stderr line is a JSON object."""
    child = ("import sys, eventbt.display.progress as p\n"
             "init = p.ProgressBar.__init__\n"
             "def on_a_terminal(self, *args, enabled=None, **kwargs):\n"
             "    init(self, *args, enabled=True if enabled is None else enabled, **kwargs)\n"
             "p.ProgressBar.__init__ = on_a_terminal\n"
             "from eventbt.cli.main import main\n"
             "sys.exit(main(sys.argv[1:]))\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", child, *args, "run", str(DEMO), "--set", "data.end=2001-01-01"],
                              capture_output=True, text=True, cwd=ROOT)

    text, as_json = run(), run("--log", "json")
    assert text.returncode == as_json.returncode == 0
    assert "/2780 bars" in text.stderr  # the bar (2,780 bars to 2001-01-01)
    assert "/2780 bars" not in as_json.stderr
    assert all(json.loads(line)["level"] == "warning" for line in as_json.stderr.splitlines())
