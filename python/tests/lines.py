"""Priced lines as comparable text, whichever way they were written."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import List, Tuple

import pyarrow as pa

Row = Tuple[Tuple[str, str], ...]
MONEY = {"rate", "charge", "aggregator_fee"}


def _decimal(value) -> str:
    return format(Decimal(value).normalize(), "f")


def of_table(table: pa.Table) -> List[Row]:
    """Each line as (column, text): the timestamp as its UTC instant, money exact, nulls empty."""
    columns = table.column_names
    rows = []
    for line in table.to_pylist():
        row = []
        for c in columns:
            v = line[c]
            if v is None:
                text = ""
            elif isinstance(v, dt.datetime):
                text = v.astimezone(dt.timezone.utc).isoformat()
            elif isinstance(v, Decimal):
                text = _decimal(v)
            elif isinstance(v, bool):
                text = "true" if v else "false"
            else:
                text = str(v)
            row.append((c, text))
        rows.append(tuple(row))
    return rows


def of_csv(path: Path) -> List[Row]:
    """The lines of a CSV file of priced lines, as :func:`of_table` gives them."""
    rows = []
    with open(path, newline="") as f:
        for line in csv.DictReader(f):
            row = []
            for c, v in line.items():
                if c == "timestamp":
                    v = dt.datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(dt.timezone.utc).isoformat()
                elif c in MONEY and v != "":
                    v = _decimal(v)
                row.append((c, v))
            rows.append(tuple(row))
    return rows
