"""The import flow shared by users and trusted ranges: plan every row, then apply all or none.

A plan says, per row, "create", "update", "unchanged" or what is wrong, and holds (in memory
only, for this request or command run) what applying the row would do. Nothing is written
unless the caller asks to apply, every row is valid, and (in the portal) the plan is the one
the administrator saw; then all rows are applied in one transaction.

PINs never leave the row that carries them: the plan's visible parts (`key`, `details`,
`errors`) never contain one, and neither does the fingerprint (an HMAC, see `fingerprint`).
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac

from audit.trail import Actor
from installs.models import Install

from .csvfiles import FileProblem, Row, read_rows

logger = logging.getLogger("bulk.imports")


class RowAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowPlan:
    """What one row of the file would do. `apply` is kept out of repr and comparisons."""

    line: int
    key: str
    action: RowAction
    details: str = ""
    errors: list[str] = field(default_factory=list)
    apply: Callable[[Actor], None] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def error(cls, row: Row, key: str, *messages: str) -> RowPlan:
        return cls(line=row.line, key=key or "—", action=RowAction.ERROR, errors=list(messages))


@dataclass
class ImportPlan:
    kind: str
    rows: list[RowPlan] = field(default_factory=list)
    problem: str | None = None
    applied: bool = False

    @property
    def has_errors(self) -> bool:
        return self.problem is not None or any(row.action is RowAction.ERROR for row in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(row.action.value for row in self.rows)
        return {action.value: counted[action.value] for action in RowAction}

    @property
    def changes(self) -> int:
        return self.counts[RowAction.CREATE] + self.counts[RowAction.UPDATE]

    def summary(self) -> str:
        counts = self.counts
        text = (
            f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged"
        )
        if counts["error"]:
            text += f", {counts['error']} with errors"
        return text


@dataclass(frozen=True)
class Kind:
    """One kind of CSV (users, trusted ranges): its columns and how to export and plan it."""

    name: str
    title: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    export: Callable[..., int]
    plan_rows: Callable[..., list[RowPlan]]

    def filename(self, install: Install) -> str:
        return f"{install.sip_domain}-{self.name}.csv"


def plan_import(kind: Kind, *, install: Install, data: bytes) -> ImportPlan:
    """The dry run: what each row of `data` would do to `install` now. Writes nothing."""
    try:
        rows = read_rows(data, columns=kind.columns, required=kind.required)
    except FileProblem as problem:
        return ImportPlan(kind=kind.name, problem=str(problem))
    if not rows:
        return ImportPlan(kind=kind.name, problem="The file has a header but no rows.")
    return ImportPlan(kind=kind.name, rows=kind.plan_rows(install=install, rows=rows))


def fingerprint(plan: ImportPlan, *, install: Install, data: bytes) -> str:
    """What the administrator confirmed: this file's bytes and this plan's actions, per install.

    Carried in the confirm form, so the confirm step applies only the preview it came from.
    An HMAC under the project's secret key, so it cannot be used to test guesses at a PIN.
    """
    actions = ";".join(f"{row.line}:{row.key}:{row.action}" for row in plan.rows)
    digest = hashlib.sha256(data).hexdigest()
    return salted_hmac(
        "bulk.imports.fingerprint", f"{plan.kind}|{install.pk}|{digest}|{actions}"
    ).hexdigest()


def run_import(
    kind: Kind,
    *,
    install: Install,
    data: bytes,
    actor: Actor,
    apply: bool,
    confirmed: Callable[[ImportPlan], bool] = lambda plan: True,
) -> ImportPlan:
    """Plan `data` and, if asked, every row is valid and `confirmed(plan)`, apply it atomically.

    Planning happens inside the same transaction as applying, so the rows applied are the
    rows just checked. A clash with a concurrent change rolls everything back.
    """
    try:
        with transaction.atomic():
            plan = plan_import(kind, install=install, data=data)
            if apply and not plan.has_errors and confirmed(plan):
                for row in plan.rows:
                    if row.apply is not None:
                        row.apply(actor)
                plan.applied = True
    except IntegrityError:
        return ImportPlan(
            kind=kind.name,
            problem="Someone changed this install while the file was being imported; "
            "nothing was imported. Preview the file again.",
        )
    if plan.applied:
        logger.info(
            "Bulk import of %s into %s by %s: %s",
            kind.name,
            install.sip_domain,
            actor.label,
            plan.summary(),
        )
    return plan


def report_lines(plan: ImportPlan) -> list[str]:
    """The dry run as plain text, one line per row (for the commands)."""
    lines = []
    for row in plan.rows:
        text = "; ".join(row.errors) if row.errors else row.details
        lines.append(f"line {row.line:>5}  {row.key:<20}  {row.action.value:<9}  {text}".rstrip())
    return lines
