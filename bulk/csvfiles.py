"""Reading and writing the CSV files of bulk administration.

Reading never raises on a bad row: each row comes back with its line number and either its
values or what is wrong with it, so the dry run can show every problem at once. Only a file
that cannot be read at all (not UTF-8, no header, too big) is a `FileProblem`.

Cells that a spreadsheet would run as a formula are written inert and read back as they were
(`common.spreadsheet`), so an export opened in a spreadsheet is harmless and an export
imported again is unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from common.spreadsheet import escape_cell, unescape_cell

MAX_BYTES = 2_000_000
MAX_ROWS = 10_000


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why, for the administrator."""


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file, and its values by column or what is wrong with it."""

    line: int
    values: dict[str, str] | None
    problem: str | None = None


def _column_name(text: str) -> str:
    return text.strip().lower().replace(" ", "_")


def read_rows(data: bytes, *, columns: Sequence[str], required: Sequence[str]) -> list[Row]:
    """The data rows of a CSV file whose header names `required` columns, and maybe the rest.

    Blank lines are skipped. A row with the wrong number of fields is returned with a
    problem, never its values: a malformed row may have its PIN in any column.
    """
    if len(data) > MAX_BYTES:
        raise FileProblem(f"The file is larger than {MAX_BYTES // 1_000_000} MB; split it.")
    try:
        text = data.decode("utf-8-sig")  # what spreadsheets write, with or without the BOM
    except UnicodeDecodeError:
        raise FileProblem("The file is not UTF-8 text: save it as “CSV UTF-8”.") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise FileProblem(f"The file is empty: the first line must be {','.join(columns)}.")
        names = [_column_name(cell) for cell in header]
        unknown = [name for name in names if name not in columns]
        missing = [name for name in required if name not in names]
        if unknown or missing or len(set(names)) != len(names):
            raise FileProblem(
                f"The first line must name the columns {','.join(columns)}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                + "."
            )
        rows: list[Row] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise FileProblem(f"The file has more than {MAX_ROWS} rows; split it.")
            if len(cells) != len(names):
                rows.append(
                    Row(
                        reader.line_num,
                        None,
                        f"Expected {len(names)} fields ({','.join(names)}), found {len(cells)}.",
                    )
                )
                continue
            values = dict.fromkeys(columns, "")
            values.update(
                {name: unescape_cell(cell.strip()) for name, cell in zip(names, cells, strict=True)}
            )
            rows.append(Row(reader.line_num, values))
    except csv.Error as error:
        raise FileProblem(f"Line {reader.line_num} is not valid CSV ({error}).") from None
    return rows


def write_rows(out: TextIO, *, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write the header and `rows`; return how many rows were written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([escape_cell(str(cell)) for cell in row])
        count += 1
    return count
