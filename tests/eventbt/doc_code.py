"""The Python blocks of a doc page, for the tests that run them as written (a block after
``<!-- file: NAME -->`` is a file the page asks the reader to save)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"(<!-- file: (?P<file>[\w.]+) -->\n)?```python\n(?P<code>.*?)```", re.DOTALL)


def python_blocks(doc: Path) -> list[re.Match[str]]:
    """Every Python block of ``doc``, in order (``block["file"]``: the file it is, or ``None``)."""
    return list(BLOCK.finditer(doc.read_text(encoding="utf-8")))


def doc_module(doc: Path, file: str) -> dict[str, object]:
    """The names the block saved as ``file`` defines, run as a module of that name."""
    [code] = [block["code"] for block in python_blocks(doc) if block["file"] == file]
    namespace: dict[str, object] = {"__name__": file.removesuffix(".py")}
    exec(compile(code, f"{doc}: {file}", "exec"), namespace)
    return namespace
