"""Cells a spreadsheet would run as a formula, made inert for every CSV the portal writes.

A cell that starts with `=`, `+`, `-`, `@`, tab or CR is written with a leading apostrophe
and read back without it, so an export opened in a spreadsheet is inert and an export
imported again is unchanged. A cell that itself starts with an apostrophe gets one more, so
that it too comes back exactly as it was written.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"


def escape_cell(value: str) -> str:
    """`value` as written to a file: inert in a spreadsheet, and undone by `unescape_cell`.

    A value that starts with the escape itself is escaped too; otherwise `'=1` would be
    written unchanged and read back as `=1`.
    """
    return _ESCAPE + value if value.startswith((*_FORMULA_START, _ESCAPE)) else value


def unescape_cell(value: str) -> str:
    """A cell as read from a file: `escape_cell` undone, `unescape_cell(escape_cell(v)) == v`.

    Only an apostrophe that `escape_cell` would have added is removed, so a hand-written
    `'quoted` cell reads as it stands.
    """
    escaped = value.startswith(_ESCAPE) and value[1:].startswith((*_FORMULA_START, _ESCAPE))
    return value[1:] if escaped else value
