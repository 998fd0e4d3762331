"""Trusted ranges as CSV: `range,description`.

Each range goes through `trustedips.validators.parse_network`, the Trusted IPs tab's own rule
(canonical, not too broad, host bits refused with the range meant), and is added through
`trustedips.services.add_range`, audited. A range already trusted with another description
is an update of the description. Ranges missing from the file are left alone: an import adds
and corrects, it never removes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Action
from audit.trail import Actor, record
from installs.models import Install
from trustedips import services
from trustedips.models import TrustedRange
from trustedips.validators import parse_network

from .csvfiles import Row, write_rows
from .imports import Kind, RowAction, RowPlan

COLUMNS = ("range", "description")
_DESCRIPTION_MAX: int = getattr(TrustedRange._meta.get_field("description"), "max_length", 0)


def export_ranges(*, install: Install, out: TextIO) -> int:
    ranges = TrustedRange.objects.filter(install=install).order_by("network")
    return write_rows(out, columns=COLUMNS, rows=((r.network, r.description) for r in ranges))


def _update_description(*, trusted: TrustedRange, description: str, actor: Actor) -> None:
    """Correct a range's description, audited (the trail has no range-edit action of its own)."""
    with transaction.atomic():
        before = trusted.description
        trusted.description = description
        trusted.save(update_fields=["description"])
        record(
            actor=actor,
            action=Action.INSTALL_CHANGED,
            install=trusted.install,
            obj=trusted,
            changes={"description": (before, description)},
        )


def plan_rows(*, install: Install, rows: Sequence[Row]) -> list[RowPlan]:
    existing = {r.network: r for r in TrustedRange.objects.filter(install=install)}
    first_line: dict[str, int] = {}  # key -> the line it was first seen on
    return [
        _plan_row(row, install=install, existing=existing, first_line=first_line) for row in rows
    ]


def _plan_row(
    row: Row, *, install: Install, existing: dict[str, TrustedRange], first_line: dict[str, int]
) -> RowPlan:
    if row.values is None:
        return RowPlan.error(row, "", row.problem or "Malformed row.")
    text, description = row.values["range"], row.values["description"]
    try:
        network = parse_network(text)
    except ValidationError as error:
        return RowPlan.error(row, text, *(f"range: {m}" for m in error.messages))
    key = network.with_prefixlen
    if key in first_line:
        return RowPlan.error(row, key, f"range: {key} is already on line {first_line[key]}.")
    first_line[key] = row.line
    if not description:
        return RowPlan.error(row, key, "description: Say where this range is.")
    if len(description) > _DESCRIPTION_MAX:
        return RowPlan.error(row, key, f"description: Keep it to {_DESCRIPTION_MAX} characters.")
    trusted = existing.get(key)
    if trusted is None:
        covering = services.covering_range(install=install, network=network)
        note = f" (inside {covering.network}, already trusted)" if covering else ""

        def create(actor: Actor) -> None:
            services.add_range(
                install=install, network=network, description=description, actor=actor
            )

        return RowPlan(
            row.line, key, RowAction.CREATE, f"description: {description}{note}", [], create
        )
    if trusted.description != description:

        def update(actor: Actor) -> None:
            _update_description(trusted=trusted, description=description, actor=actor)

        return RowPlan(
            row.line,
            key,
            RowAction.UPDATE,
            f"description: {trusted.description} → {description}",
            [],
            update,
        )
    return RowPlan(row.line, key, RowAction.UNCHANGED)


RANGES = Kind(
    name="trusted-ips",
    title="Trusted IP ranges",
    columns=COLUMNS,
    required=COLUMNS,
    export=export_ranges,
    plan_rows=plan_rows,
)
