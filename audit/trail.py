"""Writing the audit trail: one call per change, from views, commands and services alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Action, AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who made a change: a portal login, or a command run by a platform operator."""

    user: Any = None
    label: str = ""

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(user=user, label=user.get_username())

    @classmethod
    def for_command(cls, name: str) -> Actor:
        return cls(user=None, label=f"manage.py {name}")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(user=None, label=what)


def record(
    *,
    actor: Actor,
    action: Action,
    install,
    obj: object,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> AuditEvent:
    """Record one change. `changes` maps a field name to its (before, after) values."""
    return AuditEvent.objects.create(
        install=install,
        actor=actor.user,
        actor_label=actor.label[:150],
        action=action,
        object_repr=str(obj)[:200],
        changes={k: [_plain(b), _plain(a)] for k, (b, a) in (changes or {}).items()},
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between two snapshots."""
    return {k: (before.get(k), after[k]) for k in after if before.get(k) != after[k]}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
