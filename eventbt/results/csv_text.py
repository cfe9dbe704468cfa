"""The text of a result frame as CSV: what ``DataFrame.to_csv`` writes, made without pandas' formatter.

pandas turns a float column into text with numpy's ``astype(str)`` (the shortest digits that read back as the
same float; NaN as an empty field), a date at midnight into ``YYYY-MM-DD``, and hands the rows to the ``csv``
module. A run's frames hold nothing else than floats, whole numbers, short texts and dates at midnight, and
for them that formatter was most of the time ``Result.write`` takes: 0.3 s of a 1.8 s ``eventbt run`` at 500
symbols x 5,040 bars (the weights and signals alone 0.2 s). :func:`frame_csv` makes the same text with
Python's ``repr`` of each float, which writes the same digits as numpy's (``tests/eventbt/test_csv_text.py``
compares them on random bit patterns and on frames against ``to_csv``), and joins the fields itself when no
field can need quoting (numbers and dates), else through the ``csv`` module as pandas does. A frame with any
other column (a time of day, a missing date, objects) is written by pandas.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["frame_csv"]


def _dates(values: np.ndarray) -> list[str] | None:
    """``YYYY-MM-DD`` of each datetime64 value, as pandas writes a column or index of dates at midnight;
    ``None`` when one is missing (NaT) or has a time of day (pandas then writes the time as well)."""
    days = values.astype("datetime64[D]")
    if np.isnat(days).any() or (days != values).any():
        return None
    texts: list[str] = np.datetime_as_string(days, unit="D").tolist()
    return texts


def _floats(values: np.ndarray) -> list[str]:
    """Each float as ``astype(str)`` writes it (``repr``'s digits), NaN as an empty field."""
    texts = list(map(repr, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        texts[i] = ""
    return texts


def _float_rows(values: np.ndarray) -> list[str]:
    """Each row of a 2-D float array as its fields joined by commas (:func:`_floats`'s text), at once for the
    whole array: a wide frame (weights, signals: a column per symbol) would cost more by the column."""
    rows, width = values.shape
    texts = _floats(values.ravel())
    return [",".join(texts[start:start + width]) for start in range(0, rows * width, width)]


def _texts(column: pd.Series) -> list[str] | None:
    """A column's fields as text when it is floats, whole numbers, texts (a missing one empty) or dates at
    midnight; ``None`` for any other (pandas writes it)."""
    dtype = column.dtype
    if dtype == np.float64:
        return _floats(column.to_numpy())
    if dtype == np.int64:
        return list(map(str, column.to_numpy().tolist()))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":  # numpy dates (not pyarrow's, nor pandas' with a zone)
        return _dates(column.to_numpy())
    if dtype.kind == "O":  # pandas' text columns, and objects
        values, missing = column.tolist(), column.isna().tolist()
        if all(gap or value.__class__ is str for value, gap in zip(values, missing, strict=True)):
            return ["" if gap else value for value, gap in zip(values, missing, strict=True)]
    return None


def frame_csv(frame: pd.DataFrame, *, index_label: str | None = None) -> str:
    """``frame.to_csv(index_label=index_label)``, or ``frame.to_csv(index=False)`` when ``index_label`` is
    ``None``: the same text, lines ending in ``os.linesep`` as pandas ends them."""
    with_index = index_label is not None

    def by_pandas() -> str:
        return frame.to_csv(index_label=index_label) if with_index else frame.to_csv(index=False)

    labels = frame.columns.tolist()
    if isinstance(frame.columns, pd.MultiIndex) or not frame.columns.is_unique or not (labels or with_index) \
            or any(label.__class__ is not str for label in labels):  # pandas writes other labels its own way
        return by_pandas()
    columns: list[list[str]] = []
    if with_index:
        index = frame.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is not None:
            return by_pandas()
        dates = _dates(index.to_numpy())
        if dates is None:
            return by_pandas()
        columns.append(dates)
    out = io.StringIO()
    newline = os.linesep
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow([index_label, *labels] if with_index else labels)
    if with_index and len(frame.columns) and all(dtype == np.float64 for dtype in frame.dtypes):
        floats = _float_rows(frame.to_numpy(dtype=np.float64))
        out.write("".join(f"{day},{row}{newline}" for day, row in zip(columns[0], floats, strict=True)))
        return out.getvalue()
    # Every field a number or a date, and more than one to a row: none can need quoting (the csv module quotes a
    # row whose only field is empty).
    plain = len(columns) + len(frame.columns) > 1
    for name in frame.columns:
        column = frame[name]
        texts = _texts(column)
        if texts is None:
            return by_pandas()
        plain = plain and (column.dtype.kind in "fiM")
        columns.append(texts)
    rows: Sequence[Sequence[str]] = list(zip(*columns, strict=True))
    if plain:
        out.write("".join(",".join(row) + newline for row in rows))
    else:
        writer.writerows(rows)
    return out.getvalue()
