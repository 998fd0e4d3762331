"""Importing users: the dry run per row, the same rules as User Settings, all or nothing."""

import io
import logging

import pytest

from audit.models import Action, AuditEvent
from bulk.imports import RowAction
from bulk.users import export_users
from tests.bulk.conftest import csv_bytes
from tests.factories import PbxUserFactory
from users.models import PbxUser
from users.pins import pin_ha1

pytestmark = pytest.mark.django_db

HEADER = "extension,name,hot_desk_access,pin"
NEW_PIN = "8264"  # acceptable, and appears nowhere else in these files


def actions(plan):
    return [(row.line, row.key, row.action.value) for row in plan.rows]


def test_dry_run_says_create_update_or_unchanged_per_row_and_writes_nothing(importer, install):
    PbxUserFactory(install=install, extension="1001", name="Ann Smith", hot_desk_access=False)
    PbxUserFactory(install=install, extension="1002", name="Bob Jones", hot_desk_access=False)
    before = AuditEvent.objects.count()

    plan = importer(
        "users",
        csv_bytes(
            HEADER, "1001,Ann Smith,no,", "1002,Bob Jones,yes," + NEW_PIN, "1003,Cy Young,no,"
        ),
    )

    assert actions(plan) == [(2, "1001", "unchanged"), (3, "1002", "update"), (4, "1003", "create")]
    assert plan.rows[1].details == "hot desk access: no → yes; new PIN"
    assert plan.rows[2].details == "name: Cy Young; hot desk access: no"
    assert not plan.applied
    assert PbxUser.objects.count() == 2
    assert not PbxUser.objects.get(extension="1002").hot_desk_access
    assert AuditEvent.objects.count() == before


def test_each_bad_row_is_reported_by_line_and_nothing_is_written(importer, install):
    PbxUserFactory(install=install, extension="1001", name="Ann Smith")
    data = csv_bytes(
        HEADER,
        "1001,Ann Renamed,no,",  # valid on its own
        "1002,Weak Pin,yes,1234",
        "1003,First,no,",
        "1003,Second,no,",
        "1004,Malformed,yes",
        "10x5,Bad Extension,no,",
        "1006,No Pin,yes,",
        "1007,Maybe,perhaps,",
        "1008,Own Extension,yes,1008",
    )

    plan = importer("users", data, apply=True)

    errors = {row.line: " ".join(row.errors) for row in plan.rows if row.action is RowAction.ERROR}
    assert sorted(errors) == [3, 5, 6, 7, 8, 9, 10]
    assert "straight run of digits" in errors[3]
    assert "1003 is already on line 4" in errors[5]
    assert "Expected 4 fields" in errors[6]
    assert "exactly 4 digits" in errors[7]
    assert "Set a PIN" in errors[8]
    assert "yes or no" in errors[9]
    assert "own extension" in errors[10]
    assert not plan.applied
    assert list(PbxUser.objects.values_list("extension", "name")) == [("1001", "Ann Smith")]
    assert not AuditEvent.objects.exists()


def test_clean_file_applies_every_row_and_audits_pins_without_their_value(importer, install):
    PbxUserFactory(install=install, extension="1001", name="Ann Smith")

    plan = importer(
        "users",
        csv_bytes(
            HEADER, "1001,Ann Smith,yes," + NEW_PIN, "1002,Bob Jones,no,", "1003,Cy Young,yes,3917"
        ),
        apply=True,
    )

    assert plan.applied and not plan.has_errors
    ann = PbxUser.objects.get(extension="1001")
    assert ann.hot_desk_access
    assert ann.pin_ha1 == pin_ha1(extension="1001", domain="acme.pbx.test", pin=NEW_PIN)
    assert PbxUser.objects.get(extension="1003").pin_ha1 == pin_ha1(
        extension="1003", domain="acme.pbx.test", pin="3917"
    )
    pin_events = AuditEvent.objects.filter(action=Action.PIN_CHANGED)
    assert sorted(e.object_repr.split()[0] for e in pin_events) == ["1001", "1003"]
    assert {e.actor_label for e in AuditEvent.objects.all()} == {"manage.py test"}
    trail = str(list(AuditEvent.objects.values("changes", "object_repr")))
    assert NEW_PIN not in trail and "3917" not in trail


def test_a_failure_part_way_through_rolls_back_every_row(importer, install, monkeypatch):
    from users import services

    real_save = services.save_user
    calls = []

    def failing_save(**kwargs):
        calls.append(kwargs["user"].extension)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_save(**kwargs)

    monkeypatch.setattr(services, "save_user", failing_save)
    with pytest.raises(RuntimeError):
        importer("users", csv_bytes(HEADER, "1001,Ann,no,", "1002,Bob,no,"), apply=True)

    assert calls == ["1001", "1002"]
    assert not PbxUser.objects.exists()
    assert not AuditEvent.objects.exists()


def test_export_then_import_is_a_no_op(importer, install):
    PbxUserFactory(
        install=install, extension="1001", name="Ann Smith", hot_desk_access=True, pin="2468"
    )
    PbxUserFactory(
        install=install, extension="1002", name="=cmd|' /C calc'!A0", hot_desk_access=False
    )
    PbxUserFactory(install=install, extension="1003", name="", hot_desk_access=False)
    PbxUserFactory(install=install, extension="1004", name='O\'Neil, "Pat"', hot_desk_access=False)
    PbxUserFactory(extension="1005")  # another install's user is not exported
    out = io.StringIO()
    assert export_users(install=install, out=out) == 4
    before = list(PbxUser.objects.order_by("pk").values())

    plan = importer("users", out.getvalue().encode(), apply=True)

    assert [row.action.value for row in plan.rows] == ["unchanged"] * 4
    assert list(PbxUser.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.exists()


def test_export_has_an_empty_pin_column(install):
    PbxUserFactory(install=install, extension="1001", name="Ann", hot_desk_access=True, pin="2468")
    out = io.StringIO()
    export_users(install=install, out=out)
    assert out.getvalue().splitlines() == [HEADER, "1001,Ann,yes,"]


def test_a_row_with_a_pin_is_an_update_even_if_the_pin_is_the_same(importer, install):
    # Saying "unchanged" would tell the importer that it guessed the current PIN.
    PbxUserFactory(install=install, extension="1001", name="Ann", hot_desk_access=True, pin="2468")
    plan = importer("users", csv_bytes(HEADER, "1001,Ann,yes,2468"))
    assert plan.rows[0].action is RowAction.UPDATE
    assert plan.rows[0].details == "new PIN"


def test_pins_never_appear_in_the_plan_or_the_logs(importer, install, caplog):
    with caplog.at_level(logging.DEBUG):
        plan = importer(
            "users",
            csv_bytes(HEADER, f"1001,Ann,yes,{NEW_PIN}", "1002,Bob,yes,5555", "1003,Cy,yes,97531"),
            apply=False,
        )
        importer("users", csv_bytes(HEADER, f"1001,Ann,yes,{NEW_PIN}"), apply=True)

    shown = repr(plan.rows)
    for pin in (NEW_PIN, "5555", "97531"):
        assert pin not in shown
        assert pin not in caplog.text
    assert "Bulk import of users into acme.pbx.test" in caplog.text
