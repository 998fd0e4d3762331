"""Outcome reports (POST register/event): wrong PINs counted once, sessions opened and closed."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from registrations.models import EventKind, HotDeskSession, Lockout, RegistrationLogEntry
from tests.factories import PbxUserFactory, TrustedRangeFactory

from .helpers import TRUSTED_IP, UNTRUSTED_IP, event_params, post_form, report

pytestmark = pytest.mark.django_db

DESK_PHONE = "<sip:1001@203.0.113.7:5060;transport=udp>"
OTHER_PHONE = "<sip:1001@203.0.113.9:5060;transport=udp>"


def failures_of(pbx_user) -> int:
    return Lockout.objects.get(pbx_user=pbx_user).consecutive_failures


def test_auth_failed_report_counts_a_wrong_pin(edge_client, hot_desk_user):
    response = report(edge_client, "auth_failed")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert lockout.consecutive_failures == 1
    assert lockout.last_failure_ip == TRUSTED_IP


def test_retransmitted_report_is_counted_once(edge_client, hot_desk_user):
    params = event_params("auth_failed", callid="retx@203.0.113.7", cseq="2")

    first = post_form(edge_client, params)
    second = post_form(edge_client, params)

    assert first.json() == {"ok": True, "duplicate": False}
    assert second.status_code == 200
    assert second.json() == {"ok": True, "duplicate": True}
    assert failures_of(hot_desk_user) == 1
    assert RegistrationLogEntry.objects.filter(kind=EventKind.AUTH_FAILED).count() == 1


def test_reports_with_distinct_cseqs_all_count(edge_client, hot_desk_user):
    for cseq in ("2", "3", "4"):
        report(edge_client, "auth_failed", callid="same-call@203.0.113.7", cseq=cseq)

    assert failures_of(hot_desk_user) == 3


def test_same_call_and_cseq_for_a_different_event_is_not_a_duplicate(edge_client, hot_desk_user):
    report(edge_client, "auth_failed", callid="c@203.0.113.7", cseq="5")
    registered = report(edge_client, "registered", callid="c@203.0.113.7", cseq="5")

    assert registered.json()["duplicate"] is False
    assert HotDeskSession.objects.filter(pbx_user=hot_desk_user).exists()


def test_wrong_pin_from_an_untrusted_source_never_creates_lock_state(edge_client, hot_desk_user):
    for _ in range(12):
        assert report(edge_client, "auth_failed", ip=UNTRUSTED_IP).status_code == 200

    assert not Lockout.objects.filter(pbx_user=hot_desk_user).exists()
    assert RegistrationLogEntry.objects.filter(kind=EventKind.AUTH_FAILED).count() == 12


def test_wrong_pin_from_an_untrusted_source_leaves_existing_lock_state_alone(
    edge_client, hot_desk_user
):
    for _ in range(3):
        report(edge_client, "auth_failed")
    before = model_to_dict(Lockout.objects.get(pbx_user=hot_desk_user))

    for ip in (UNTRUSTED_IP, "::ffff:192.0.2.7", "2001:db8::66", "not-an-address"):
        report(edge_client, "auth_failed", ip=ip)

    assert model_to_dict(Lockout.objects.get(pbx_user=hot_desk_user)) == before


def test_report_for_an_unknown_user_is_logged_and_changes_nothing(edge_client, hot_desk_user):
    response = report(edge_client, "auth_failed", user="1999")

    assert response.status_code == 200
    assert not Lockout.objects.exists()
    assert RegistrationLogEntry.objects.get().extension == "1999"


def test_registered_report_opens_a_hot_desk_session(edge_client, install, hot_desk_user):
    before = timezone.now()

    report(
        edge_client,
        "registered",
        contact=DESK_PHONE,
        callid="login@203.0.113.7",
        port="5062",
        proto="tcp",
        ua="Handset/7",
        expires="300",
    )

    session = HotDeskSession.objects.get(pbx_user=hot_desk_user)
    assert session.install == install
    assert session.ended_at is None
    assert session.contact == DESK_PHONE
    assert (session.call_id, session.source_ip, session.source_port) == (
        "login@203.0.113.7",
        TRUSTED_IP,
        5062,
    )
    assert (session.proto, session.user_agent) == ("tcp", "Handset/7")
    assert before <= session.logged_in_at <= timezone.now()
    assert session.expires_at == session.logged_in_at + timedelta(seconds=300)


def test_refresh_from_the_same_contact_keeps_one_session(edge_client, hot_desk_user):
    report(edge_client, "registered", contact=DESK_PHONE, expires="300")
    first = HotDeskSession.objects.get(pbx_user=hot_desk_user)

    report(edge_client, "registered", contact=DESK_PHONE, expires="300")

    refreshed = HotDeskSession.objects.get(pbx_user=hot_desk_user)
    assert refreshed.pk == first.pk
    assert refreshed.ended_at is None
    assert refreshed.logged_in_at == first.logged_in_at
    assert refreshed.refreshed_at >= first.refreshed_at
    assert refreshed.expires_at >= first.expires_at


def test_login_from_another_contact_ends_the_old_session_as_moved(edge_client, hot_desk_user):
    report(edge_client, "registered", contact=DESK_PHONE)
    old = HotDeskSession.objects.get(pbx_user=hot_desk_user)

    report(edge_client, "registered", contact=OTHER_PHONE, ip="203.0.113.9")

    old.refresh_from_db()
    assert old.ended_at is not None
    assert old.end_reason == "moved"
    current = HotDeskSession.objects.get(pbx_user=hot_desk_user, ended_at__isnull=True)
    assert current.contact == OTHER_PHONE
    assert current.source_ip == "203.0.113.9"


def test_unregistered_report_closes_the_session_as_logged_out(edge_client, hot_desk_user):
    report(edge_client, "registered", contact=DESK_PHONE)

    report(edge_client, "unregistered", contact=DESK_PHONE, expires="0")

    session = HotDeskSession.objects.get(pbx_user=hot_desk_user)
    assert session.ended_at is not None
    assert session.end_reason == "logged_out"
    assert not HotDeskSession.objects.filter(ended_at__isnull=True).exists()


def test_sessions_of_two_users_are_independent(edge_client, install, hot_desk_user):
    PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")

    report(edge_client, "registered", contact=DESK_PHONE)
    report(edge_client, "registered", user="1002", contact="<sip:1002@203.0.113.8>")
    report(edge_client, "unregistered", user="1002", contact="<sip:1002@203.0.113.8>")

    assert HotDeskSession.objects.get(pbx_user=hot_desk_user).ended_at is None
    assert HotDeskSession.objects.get(pbx_user__extension="1002").end_reason == "logged_out"


def test_a_login_stamps_last_used_on_the_range_it_came_from_only(
    edge_client, hot_desk_user, trusted_range
):
    elsewhere = TrustedRangeFactory(install=hot_desk_user.install, network="198.51.100.0/24")

    report(edge_client, "registered", callid="stamp@203.0.113.7", cseq="2")

    trusted_range.refresh_from_db()
    elsewhere.refresh_from_db()
    assert trusted_range.last_used_at is not None
    assert elsewhere.last_used_at is None


def test_last_used_is_restamped_at_most_once_a_minute(edge_client, hot_desk_user, trusted_range):
    report(edge_client, "registered", callid="first@203.0.113.7", cseq="2")
    trusted_range.refresh_from_db()
    first = trusted_range.last_used_at

    report(edge_client, "registered", callid="second@203.0.113.7", cseq="2")
    trusted_range.refresh_from_db()
    assert trusted_range.last_used_at == first

    type(trusted_range).objects.filter(pk=trusted_range.pk).update(
        last_used_at=first - timedelta(minutes=2)
    )
    report(edge_client, "registered", callid="third@203.0.113.7", cseq="2")
    trusted_range.refresh_from_db()
    assert trusted_range.last_used_at > first


def test_a_report_with_too_many_fields_is_refused_in_json(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    crowded = {**event_params("auth_failed"), **{f"extra{n}": "1" for n in range(20)}}

    response = post_form(edge_client, crowded)

    assert response.status_code == 400
    assert response.json()["detail"] == "form: too many parameters"
    assert not Lockout.objects.exists()


def test_a_report_over_the_upload_limit_is_refused_in_json(edge_client, hot_desk_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = post_form(edge_client, event_params("auth_failed", ua="x" * 200))

    assert response.status_code == 400
    assert response.json()["detail"] == "body: too large"
    assert not Lockout.objects.exists()
