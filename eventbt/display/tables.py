"""One place that prints a table: with rich on a terminal, as plain aligned text everywhere else.

A command describes its table once as a :class:`TableSpec` (cells already formatted as text) and passes its
plain-text rendering along; :func:`print_table` picks one. The plain text is what pipes, files, tests, CI and
the tutorials' transcripts see, so it stays byte-for-byte stable. rich is imported only when a rich table is
drawn, so ``eventbt --help`` does not pay for it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

import attrs

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["Row", "TableSpec", "wants_rich", "print_table", "draw", "render_rich"]


@attrs.frozen(kw_only=True)
class Row:
    """One row of cells. ``section`` starts a new group (a rule above it); ``style`` is a rich style for the
    whole row, e.g. ``"bold"`` for a group heading or ``"dim"`` for the audit digest."""

    cells: tuple[str, ...]
    style: str = ""
    section: bool = False


@attrs.frozen(kw_only=True)
class TableSpec:
    """A table to draw: the first column holds labels (left-aligned), the others values (right-aligned).

    ``incomplete`` is the status of a run that did not complete; the title then carries an INCOMPLETE note.
    ``note`` is a sentence printed under the title (e.g. that the returns are time-weighted). ``footer`` is a
    line printed dimmed under the table (the audit digest, too wide for a value cell).
    """

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    title: str = ""
    incomplete: str | None = None
    show_header: bool = True
    footer: str = ""
    note: str = ""


def wants_rich(stream: TextIO, *, plain: bool = False, environ: dict[str, str] | None = None) -> bool:
    """Whether to draw with rich: only on a terminal, and not with ``--plain``, ``NO_COLOR`` (set and not
    empty, see https://no-color.org) or ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    if plain or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_rich(spec: TableSpec) -> list[RenderableType]:
    """``spec`` as rich renderables: its title in bold (INCOMPLETE in red), a :class:`rich.table.Table`, its
    footer dimmed. The title sits above the table rather than in it, so a long title never widens the value
    columns. Cells are :class:`rich.text.Text`, so a ``[`` in a name is shown as written, not read as markup."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = []
    heading = Text(spec.title, style="bold")
    if spec.incomplete is not None:
        heading.append(f"{'  ' if spec.title else ''}INCOMPLETE: {spec.incomplete}", style="bold red")
    if heading.plain:
        parts.append(heading)
    if spec.note:
        parts.append(Text(spec.note, style="italic"))
    table = Table(show_header=spec.show_header, box=box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    for i, name in enumerate(spec.columns):
        table.add_column(Text(name), justify="left" if i == 0 else "right", no_wrap=True)
    for row in spec.rows:
        if row.section and table.row_count:
            table.add_section()
        table.add_row(*(Text(cell) for cell in row.cells), style=row.style or None)
    parts.append(table)
    if spec.footer:
        parts.append(Text(spec.footer, style="dim"))
    return parts


def draw(spec: TableSpec, console: Console) -> None:
    """Print ``spec`` on a rich ``console`` (see :func:`render_rich`)."""
    for part in render_rich(spec):
        console.print(part)


def print_table(spec: TableSpec, plain_text: str, *, plain: bool = False, file: TextIO | None = None) -> None:
    """Print ``spec`` with rich when :func:`wants_rich` says so, else print ``plain_text`` unchanged."""
    stream = sys.stdout if file is None else file
    if not wants_rich(stream, plain=plain):
        print(plain_text, file=stream)
        return
    from rich.console import Console

    draw(spec, Console(file=stream))
