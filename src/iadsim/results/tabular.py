"""Rows of a query as text: the table, CSV and JSON of ``iadsim results``.

Numbers are printed without binary noise: a float is rounded to :data:`SIGNIFICANT_DIGITS`
(15) significant digits, the most that every double holds exactly, and written in Python's
shortest form of that value (``repr``), so ``0.1 + 0.2`` prints ``0.3``, ``1/3`` prints
``0.333333333333333`` and ``2.0`` prints ``2.0`` (a float keeps its decimal point, so a
reader sees the column's type). A value printed this way parses back to within 5e-16 of the
stored one (relative). Integers (SQL INTEGER, BIGINT, HUGEINT) print as integers; a SQL
DECIMAL prints as an integer when it is whole, else as a float by the same rule. NaN and
infinities: ``nan``, ``inf``, ``-inf`` in the table and CSV, ``null`` in JSON (which has no
such numbers).

* Table (:func:`cell_text`): SQL NULL as ``NULL``.
* CSV (:func:`write_csv`, the :mod:`csv` module, RFC 4180 quoting): a header row of the
  column names, SQL NULL as an empty field, booleans ``true`` / ``false``, lists and structs
  as their JSON text, dates and times in ISO 8601.
* JSON (:func:`write_json`): a list of objects, one per row, keys in column order; NULL is
  ``null``; a column name that repeats an earlier one gets ``_2``, ``_3``, ... so that no
  value is lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

#: significant digits of a printed float: every double holds 15 decimal digits exactly, so a
#: value rounded to 15 drops the noise of binary arithmetic (0.30000000000000004 -> 0.3)
SIGNIFICANT_DIGITS = 15


def clean_float(x: float) -> float:
    """``x`` rounded to :data:`SIGNIFICANT_DIGITS` significant digits (NaN and infinities
    unchanged): the float whose ``repr`` is the number to print."""
    if not math.isfinite(x):
        return x
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


def plain_value(v: Any) -> Any:
    """A query value as a JSON-ready Python value (None, bool, int, float, str, list, dict):
    floats rounded by :func:`clean_float` (NaN and infinities: None), whole DECIMALs as int,
    dates and times as ISO 8601 text, bytes as hex, anything else as ``str``."""
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return clean_float(v) if math.isfinite(v) else None
    if isinstance(v, decimal.Decimal):
        if not v.is_finite():
            return None
        return int(v) if v == v.to_integral_value() else clean_float(float(v))
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).hex()
    if isinstance(v, dict):
        return {str(k): plain_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain_value(x) for x in v]
    if isinstance(v, uuid.UUID | dt.timedelta):
        return str(v)
    item = getattr(v, "item", None)  # numpy scalars (a pandas frame's cells)
    if callable(item):
        return plain_value(item())
    return str(v)


def _number_text(v: Any) -> str | None:
    """The text of a number (None when ``v`` is not one): integers as integers, floats by
    :func:`clean_float` and ``repr``; NaN and infinities as ``nan``, ``inf``, ``-inf``."""
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        return repr(clean_float(v)) if math.isfinite(v) else repr(v)
    if isinstance(v, int | decimal.Decimal):
        p = plain_value(v)
        return repr(p) if p is not None else str(v).lower()
    item = getattr(v, "item", None)
    if callable(item) and not isinstance(v, str | bytes):
        return _number_text(item())
    return None


def _text(v: Any, null: str) -> str:
    if v is None:
        return null
    number = _number_text(v)
    if number is not None:
        return number
    if isinstance(v, bool):
        return "true" if v else "false"
    p = plain_value(v)
    if isinstance(p, list | dict):
        return json.dumps(p, ensure_ascii=False)
    return str(p)


def cell_text(v: Any) -> str:
    """A value as the table shows it: SQL NULL as ``NULL``, numbers by the module's rule."""
    return _text(v, "NULL")


def csv_text(v: Any) -> str:
    """A value as a CSV field: SQL NULL as an empty field, numbers by the module's rule."""
    return _text(v, "")


def unique_names(columns: Sequence[str]) -> list[str]:
    """Column names made unique for JSON keys: a repeated name gets ``_2``, ``_3``, ..."""
    seen: set[str] = set()
    out = []
    for c in columns:
        name, k = c, 1
        while name in seen:
            k += 1
            name = f"{c}_{k}"
        seen.add(name)
        out.append(name)
    return out


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], fh: TextIO) -> int:
    """Write a header and the rows as CSV to ``fh``; returns the number of rows written."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(list(columns))
    n = 0
    for row in rows:
        w.writerow([csv_text(v) for v in row])
        n += 1
    return n


def write_json(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], fh: TextIO, ensure_ascii: bool = False
) -> int:
    """Write the rows as a JSON list of objects (one per line) to ``fh``, streaming; returns
    the number of rows written. ``ensure_ascii`` escapes every non-ASCII character (for a
    terminal that cannot show them: the JSON stays exact)."""
    keys = unique_names(columns)
    n = 0
    for row in rows:
        obj = {k: plain_value(v) for k, v in zip(keys, row, strict=True)}
        fh.write(("[" if n == 0 else ",\n ") + json.dumps(obj, ensure_ascii=ensure_ascii,
                                                           allow_nan=False))  # fmt: skip
        n += 1
    fh.write("[]\n" if n == 0 else "\n]\n")
    return n
