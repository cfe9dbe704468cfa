"""The public API: every name in eventbt.__all__ exists and is the object its module defines."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import eventbt


@pytest.mark.parametrize("name", [n for n in eventbt.__all__ if n != "__version__"])
def test_every_exported_name_resolves_to_its_defining_module(name: str) -> None:
    """eventbt.<name> is the same object as <module>.<name> for the module listed in _EXPORTS."""
    module = importlib.import_module(eventbt._EXPORTS[name])
    assert getattr(eventbt, name) is getattr(module, name)


def test_all_is_sorted_and_matches_the_export_table() -> None:
    """__all__ is sorted and lists exactly the lazily exported names plus __version__."""
    assert eventbt.__all__ == sorted(eventbt.__all__)
    assert set(eventbt.__all__) == {*eventbt._EXPORTS, "__version__"}


def test_functions_are_not_shadowed_by_modules_whatever_the_import_order() -> None:
    """Importing the implementing modules first still leaves eventbt.replay/validate/sweep callable."""
    code = ("import eventbt.replays.replayer, eventbt.scenario.validate, eventbt.sweeps, eventbt; "
            "print(all(callable(f) and not hasattr(f, '__path__') and f.__class__.__name__ == 'function' "
            "for f in (eventbt.replay, eventbt.validate, eventbt.sweep, eventbt.run)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_import_eventbt_does_not_import_pandas() -> None:
    """`import eventbt` stays light: pandas loads only when a run or result needs it."""
    code = "import sys, eventbt; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_freezegun_can_walk_the_package_without_importing_everything() -> None:
    """freeze_time after `import eventbt` works: dir(eventbt) does not trigger the lazy imports."""
    code = ("import sys, eventbt; from freezegun import freeze_time\n"
            "with freeze_time('2030-01-01'):\n    import datetime; print(datetime.date.today())\n"
            "print('eventbt.sweeps' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2030-01-01", "False"]


def test_the_type_checking_imports_mirror_the_export_table() -> None:
    """The TYPE_CHECKING block of eventbt/__init__.py imports exactly the names of _EXPORTS, each from its module."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(eventbt.__file__).read_text())
    block = next(node for node in tree.body
                 if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    imported = {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert imported == eventbt._EXPORTS


def test_the_old_module_paths_name_modules_that_exist() -> None:
    """Every moved module's new name imports, and its old name is no longer a file of its own."""
    from pathlib import Path

    root = Path(eventbt.__file__).parents[1]
    for old, new in eventbt.MOVED_MODULES.items():
        importlib.import_module(new)
        old_path = root.joinpath(*old.split("."))
        assert not old_path.with_suffix(".py").exists() and not (old_path / "__init__.py").exists(), old


@pytest.mark.parametrize("old", ["handlers.costs", "handlers.impact", "eventbt.metrics"])
def test_an_old_module_path_imports_in_a_fresh_interpreter(old: str) -> None:
    """The moved modules' old names work as the first import of a process (docs/architecture.md), not only
    after ``import eventbt``: ``handlers`` installs the aliases itself. A fresh process, so nothing is loaded."""
    new = eventbt.MOVED_MODULES[old]
    name = sorted(name for name in dir(importlib.import_module(new)) if not name.startswith("_"))[0]
    code = f"import warnings; warnings.simplefilter('error'); from {old} import {name}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and f"DeprecationWarning: {old} is deprecated" in done.stderr, done.stderr
