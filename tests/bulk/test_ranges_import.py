"""Importing trusted ranges: the Trusted IPs tab's rules per row, all or nothing."""

import io

import pytest

from audit.models import Action, AuditEvent
from bulk.imports import RowAction
from bulk.ranges import export_ranges
from tests.bulk.conftest import csv_bytes
from tests.factories import TrustedRangeFactory
from trustedips.models import TrustedRange

pytestmark = pytest.mark.django_db

HEADER = "range,description"


def test_dry_run_per_row(importer, install, trusted_range):
    TrustedRangeFactory(install=install, network="198.51.100.0/24", description="Leeds")

    plan = importer(
        "trusted-ips",
        csv_bytes(
            HEADER, "203.0.113.0/24,London office", "198.51.100.0/24,Leeds office", "192.0.2.7,VPN"
        ),
    )

    assert [(r.key, r.action.value) for r in plan.rows] == [
        ("203.0.113.0/24", "unchanged"),
        ("198.51.100.0/24", "update"),
        ("192.0.2.7/32", "create"),
    ]
    assert plan.rows[1].details == "description: Leeds → Leeds office"
    assert TrustedRange.objects.get(network="198.51.100.0/24").description == "Leeds"
    assert TrustedRange.objects.count() == 2


def test_each_bad_row_is_reported_by_line_and_nothing_is_written(importer, install):
    plan = importer(
        "trusted-ips",
        csv_bytes(
            HEADER,
            "192.0.2.0/24,Fine on its own",
            "203.0.113.7/24,Host bits",
            "10.0.0.0/4,Too broad",
            "999.1.1.1/24,Not an address",
            "192.0.2.0/24,Again",
            "198.51.100.0/24,",
            "198.51.100.9,too,many",
        ),
        apply=True,
    )

    errors = {row.line: " ".join(row.errors) for row in plan.rows if row.action is RowAction.ERROR}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "Did you mean 203.0.113.0/24?" in errors[3]
    assert "too broad" in errors[4]
    assert "is not an IP range" in errors[5]
    assert "already on line 2" in errors[6]
    assert "Say where this range is" in errors[7]
    assert "Expected 2 fields" in errors[8]
    assert not plan.applied
    assert not TrustedRange.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_same_range_written_two_ways_is_a_duplicate(importer, install):
    plan = importer("trusted-ips", csv_bytes(HEADER, "192.0.2.7,One", "192.0.2.7/32,Two"))
    assert plan.rows[1].action is RowAction.ERROR


def test_clean_file_applies_atomically_and_audits(importer, install, trusted_range):
    plan = importer(
        "trusted-ips",
        csv_bytes(
            HEADER, "203.0.113.0/24,London HQ", "198.51.100.0/24,Leeds", "2001:db8::/48,IPv6 office"
        ),
        apply=True,
    )

    assert plan.applied
    assert dict(TrustedRange.objects.values_list("network", "description")) == {
        "203.0.113.0/24": "London HQ",
        "198.51.100.0/24": "Leeds",
        "2001:db8::/48": "IPv6 office",
    }
    assert TrustedRange.objects.get(network="198.51.100.0/24").added_by_label == "manage.py test"
    assert AuditEvent.objects.filter(action=Action.RANGE_ADDED).count() == 2
    change = AuditEvent.objects.get(action=Action.INSTALL_CHANGED)
    assert change.changes == {"description": ["London office", "London HQ"]}


def test_a_range_inside_a_trusted_one_is_created_with_a_note(importer, install):
    TrustedRangeFactory(install=install, network="198.51.0.0/16", description="Campus")
    plan = importer("trusted-ips", csv_bytes(HEADER, "198.51.100.0/24,Library"))
    assert plan.rows[0].action is RowAction.CREATE
    assert "inside 198.51.0.0/16" in plan.rows[0].details


def test_export_then_import_is_a_no_op(importer, install, trusted_range):
    TrustedRangeFactory(install=install, network="2001:db8::/48", description='-IPv6, "lab"')
    TrustedRangeFactory(network="192.0.2.0/24")  # another install's
    out = io.StringIO()
    assert export_ranges(install=install, out=out) == 2

    plan = importer("trusted-ips", out.getvalue().encode(), apply=True)

    assert [row.action.value for row in plan.rows] == ["unchanged", "unchanged"]
    assert not AuditEvent.objects.exists()
    assert TrustedRange.objects.filter(install=install).count() == 2
