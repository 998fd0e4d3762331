"""Users as CSV: `extension,name,hot_desk_access,pin`.

Each row goes through the portal's own User Settings form (`users.forms.PbxUserForm`: the
extension, PIN and "no access without a PIN" rules) and is saved through
`users.services.save_user`, which audits the change and records a new PIN as "PIN changed".

An empty `pin` keeps the current PIN; exports always leave it empty (only a digest is stored).
A row with a PIN is always an update, never "unchanged": saying whether the PIN matched the
current one would let an import test guesses at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from audit.trail import Actor, diff
from installs.models import Install
from users import services
from users.forms import PbxUserForm
from users.models import PbxUser

from .csvfiles import Row, write_rows
from .imports import Kind, RowAction, RowPlan

COLUMNS = ("extension", "name", "hot_desk_access", "pin")
REQUIRED = ("extension", "name", "hot_desk_access")
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off", ""}


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def export_users(*, install: Install, out: TextIO) -> int:
    """Every user of the install, by extension, with an empty PIN column."""
    users = PbxUser.objects.filter(install=install).order_by("extension")
    rows = ((u.extension, u.name, _yes_no(u.hot_desk_access), "") for u in users.iterator())
    return write_rows(out, columns=COLUMNS, rows=rows)


def _describe(changes: dict, *, new_pin: bool) -> str:
    parts = []
    for name, (before, after) in changes.items():
        label = name.replace("_", " ")
        if isinstance(after, bool):
            before, after = _yes_no(before) if before is not None else None, _yes_no(after)
        parts.append(f"{label}: {before} → {after}" if before is not None else f"{label}: {after}")
    if new_pin:
        parts.append("new PIN")
    return "; ".join(parts)


def _form_errors(form: PbxUserForm) -> list[str]:
    # Messages only, never the submitted values: the PIN rules' messages name no PIN.
    return [
        f"{name}: {message}" if name != "__all__" else message
        for name, errors in form.errors.as_data().items()
        for error in errors
        for message in error.messages
    ]


def plan_rows(*, install: Install, rows: Sequence[Row]) -> list[RowPlan]:
    existing = {user.extension: user for user in PbxUser.objects.filter(install=install)}
    first_line: dict[str, int] = {}  # key -> the line it was first seen on
    return [
        _plan_row(row, install=install, existing=existing, first_line=first_line) for row in rows
    ]


def _plan_row(
    row: Row, *, install: Install, existing: dict[str, PbxUser], first_line: dict[str, int]
) -> RowPlan:
    if row.values is None:
        return RowPlan.error(row, "", row.problem or "Malformed row.")
    extension, pin = row.values["extension"], row.values["pin"]
    if extension in first_line:
        return RowPlan.error(
            row,
            extension,
            f"extension: {extension} is already on line {first_line[extension]} of this file.",
        )
    first_line[extension] = row.line
    access = row.values["hot_desk_access"].lower()
    if access not in _YES | _NO:
        return RowPlan.error(row, extension, "hot_desk_access: write yes or no (empty is no).")
    user = existing.get(extension)
    before = services.snapshot(user) if user else {}
    form = PbxUserForm(
        data={
            "extension": extension,
            "name": row.values["name"],
            "hot_desk_access": access in _YES,
            "pin": pin,
        },
        install=install,
        instance=user,
    )
    if not form.is_valid():
        return RowPlan.error(row, extension, *_form_errors(form))
    changes = diff(before, services.snapshot(form.instance))
    if user is None:
        action = RowAction.CREATE
    elif changes or pin:
        action = RowAction.UPDATE
    else:
        action = RowAction.UNCHANGED

    def apply(
        actor: Actor,
        *,
        user: PbxUser = form.instance,
        pin: str = form.cleaned_data["pin"],
        before: dict = before,
    ) -> None:
        services.save_user(user=user, pin=pin or None, actor=actor, before=before or None)

    return RowPlan(
        line=row.line,
        key=extension,
        action=action,
        details=_describe(changes, new_pin=bool(pin)),
        apply=None if action is RowAction.UNCHANGED else apply,
    )


USERS = Kind(
    name="users",
    title="Users",
    columns=COLUMNS,
    required=REQUIRED,
    export=export_users,
    plan_rows=plan_rows,
)
