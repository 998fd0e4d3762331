"""Reading and writing the CSV files: headers, malformed rows, encodings, formula cells."""

import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bulk.csvfiles import FileProblem, escape_cell, read_rows, unescape_cell, write_rows

COLUMNS = ("extension", "name", "hot_desk_access", "pin")
REQUIRED = ("extension", "name", "hot_desk_access")


def read(text: str):
    return read_rows(text.encode(), columns=COLUMNS, required=REQUIRED)


def test_rows_carry_their_line_numbers_and_blank_lines_are_skipped():
    rows = read("extension,name,hot_desk_access,pin\n1001,Ann,yes,\n\n1002,Bob,no,\n")
    assert [(row.line, row.values["extension"]) for row in rows] == [(2, "1001"), (4, "1002")]


def test_pin_column_is_optional_and_reads_as_empty():
    (row,) = read("Extension, Name ,Hot Desk Access\n1001,Ann,yes\n")
    assert row.values == {"extension": "1001", "name": "Ann", "hot_desk_access": "yes", "pin": ""}


def test_a_row_with_the_wrong_number_of_fields_has_a_problem_and_no_values():
    (row,) = read("extension,name,hot_desk_access,pin\n1001,Ann,yes,2468,extra\n")
    assert row.values is None
    assert row.problem == "Expected 4 fields (extension,name,hot_desk_access,pin), found 5."
    assert "2468" not in row.problem


def test_spreadsheet_bom_is_accepted():
    (row,) = read_rows(
        "\ufeffextension,name,hot_desk_access\n1001,Ann,yes\n".encode(),
        columns=COLUMNS,
        required=REQUIRED,
    )
    assert row.values["extension"] == "1001"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"ext,name\n1001,Ann\n", "missing: extension, hot_desk_access"),
        (b"extension,name,hot_desk_access,colour\n", "unknown: colour"),
        ("extension,name,hot_desk_access\n1001,Zoë,yes\n".encode("latin-1"), "not UTF-8"),
        (b'extension,name,hot_desk_access\n1001,"Ann,yes\n', "not valid CSV"),
    ],
)
def test_unreadable_files_are_one_problem(data, message):
    with pytest.raises(FileProblem, match=message):
        read_rows(data, columns=COLUMNS, required=REQUIRED)


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(1)", "+44", "-x", "@sum", "plain", "'quoted", "", "'", "'=1", "''=1", "'\t"],
)
def test_formula_cells_are_escaped_and_read_back_unchanged(value):
    escaped = escape_cell(value)
    assert not escaped.startswith(("=", "+", "-", "@"))
    assert unescape_cell(escaped) == value


def test_written_file_reads_back_the_same_values():
    out = io.StringIO()
    write_rows(out, columns=COLUMNS, rows=[("1001", '=Ann, "the" boss', "yes", "")])
    (row,) = read(out.getvalue())
    assert row.values["name"] == '=Ann, "the" boss'
    assert out.getvalue().splitlines()[1].startswith("1001,\"'=Ann")


@given(value=st.text())
@example(value="'=1")
@example(value="''")
def test_any_cell_escapes_to_something_inert_that_reads_back_exactly(value):
    escaped = escape_cell(value)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(escaped) == value
