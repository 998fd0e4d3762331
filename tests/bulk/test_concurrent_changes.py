"""A row that appears between the plan and the apply: the database refuses it, nothing is imported.

The plan is checked and applied in one transaction, but another administrator can still add
the same extension (or range) after the check and before the write. The database constraint
then raises IntegrityError part-way through the apply; the import must roll back every row it
had already written and say, in one message, that nothing was imported.

The clash is made for real: the conflicting row is inserted after planning, before applying
(through `run_import`'s `confirmed` step, the last thing that runs in between), so the apply's
own INSERT is what the database refuses.
"""

import functools
import io
import logging

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from audit.trail import Actor
from bulk import commands, views
from bulk.imports import run_import
from bulk.ranges import RANGES
from bulk.users import USERS
from tests.bulk.conftest import csv_bytes
from tests.factories import PbxUserFactory, TrustedRangeFactory
from trustedips.models import TrustedRange
from users.models import PbxUser

pytestmark = pytest.mark.django_db

USERS_FILE = csv_bytes(
    "extension,name,hot_desk_access,pin", "1001,Ann,no,", "1002,Bob,no,", "1003,Cy,no,"
)
PROBLEM = (
    "Someone changed this install while the file was being imported; nothing was imported. "
    "Preview the file again."
)


def adding_user_1002(install):
    """A `confirmed` step during which another administrator adds extension 1002."""

    def confirmed(plan) -> bool:
        assert [row.action.value for row in plan.rows] == ["create"] * 3
        PbxUserFactory(install=install, extension="1002", name="Added meanwhile")
        return True

    return confirmed


def test_a_user_added_between_plan_and_apply_rolls_back_every_row(install, caplog):
    with caplog.at_level(logging.INFO, logger="bulk.imports"):
        plan = run_import(
            USERS,
            install=install,
            data=USERS_FILE,
            actor=Actor.for_command("test"),
            apply=True,
            confirmed=adding_user_1002(install),
        )

    assert plan.problem == PROBLEM
    assert not plan.applied and plan.has_errors and plan.rows == []
    # 1001 was written before 1002 clashed: it is gone again, and so is its audit event.
    assert not PbxUser.objects.filter(extension__in=["1001", "1003"]).exists()
    assert not AuditEvent.objects.exists()
    assert "Bulk import" not in caplog.text


def test_a_range_added_between_plan_and_apply_rolls_back_every_row(install):
    def confirmed(plan) -> bool:
        TrustedRangeFactory(install=install, network="198.51.100.0/24", description="Meanwhile")
        return True

    plan = run_import(
        RANGES,
        install=install,
        data=csv_bytes("range,description", "192.0.2.0/24,London", "198.51.100.0/24,Leeds"),
        actor=Actor.for_command("test"),
        apply=True,
        confirmed=confirmed,
    )

    assert plan.problem == PROBLEM and not plan.applied
    assert not TrustedRange.objects.filter(network="192.0.2.0/24").exists()
    assert not AuditEvent.objects.exists()


def test_the_command_says_nothing_was_imported_when_a_row_appeared_meanwhile(install, monkeypatch):
    monkeypatch.setattr(
        commands, "run_import", functools.partial(run_import, confirmed=adding_user_1002(install))
    )
    stdin = io.StringIO()
    stdin.buffer = io.BytesIO(USERS_FILE)

    with pytest.raises(CommandError) as raised:
        call_command(
            "import_users",
            "--domain",
            "acme.pbx.test",
            "--apply",
            stdin=stdin,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    assert str(raised.value) == f"Nothing imported: {PROBLEM}"
    assert not PbxUser.objects.filter(extension__in=["1001", "1003"]).exists()
    assert not AuditEvent.objects.exists()


def test_the_tab_shows_the_problem_when_a_row_appeared_after_the_preview(
    upload, install, monkeypatch
):
    preview = upload("users", USERS_FILE)
    real_fingerprint = views.fingerprint
    added = []

    def fingerprint_while_1002_is_added(plan, **kwargs):
        # The confirmation compares fingerprints after planning, before applying.
        if not added:
            added.append(PbxUserFactory(install=install, extension="1002", name="Meanwhile"))
        return real_fingerprint(plan, **kwargs)

    monkeypatch.setattr(views, "fingerprint", fingerprint_while_1002_is_added)
    response = upload("users", USERS_FILE, fingerprint=preview.context["fingerprint"], apply=True)

    assert response.status_code == 200
    assert response.context["plan"].problem == PROBLEM
    assert PROBLEM in response.content.decode()
    assert not PbxUser.objects.filter(extension__in=["1001", "1003"]).exists()
    assert not AuditEvent.objects.exists()
