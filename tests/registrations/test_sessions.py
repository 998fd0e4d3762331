"""Hot-desk sessions run out by themselves: Kamailio 5.6 reports no event when a binding expires."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from registrations import sessions
from registrations.models import HotDeskSession

pytestmark = pytest.mark.django_db

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
DESK_PHONE = "<sip:1001@203.0.113.7:5060>"


def login(pbx_user, *, contact=DESK_PHONE, at=START, expires=300) -> HotDeskSession:
    report = sessions.EdgeReport(
        pbx_user_id=pbx_user.pk,
        install_id=pbx_user.install_id,
        registered=True,
        contact=contact,
        call_id="login@203.0.113.7",
        source_ip="203.0.113.7",
        source_port=5060,
        proto="udp",
        user_agent="Handset/1",
        expires=expires,
    )
    session = sessions.apply_reports([report], now=at)[pbx_user.pk]
    assert session is not None
    return session


def test_session_past_its_expiry_is_closed_as_expired_at_that_moment(hot_desk_user):
    session = login(hot_desk_user, expires=300)

    assert sessions.expire_stale(now=START + timedelta(seconds=299)) == 0
    assert sessions.expire_stale(now=START + timedelta(hours=1)) == 1

    session.refresh_from_db()
    assert session.end_reason == "expired"
    assert session.ended_at == START + timedelta(seconds=300)


def test_refresh_before_expiry_keeps_the_session_open(hot_desk_user):
    first = login(hot_desk_user, expires=300)
    refreshed = login(hot_desk_user, at=START + timedelta(seconds=250), expires=300)

    assert refreshed.pk == first.pk
    assert sessions.expire_stale(now=START + timedelta(seconds=400)) == 0
    assert refreshed.expires_at == START + timedelta(seconds=550)


def test_login_after_the_old_binding_ran_out_ends_it_as_expired_not_moved(hot_desk_user):
    old = login(hot_desk_user, expires=300)

    new = login(hot_desk_user, at=START + timedelta(minutes=30))

    old.refresh_from_db()
    assert (old.end_reason, old.ended_at) == ("expired", START + timedelta(seconds=300))
    assert new.pk != old.pk
    assert new.ended_at is None


def test_one_open_session_per_user_is_enforced_by_the_database(hot_desk_user):
    login(hot_desk_user)

    with pytest.raises(IntegrityError), transaction.atomic():
        HotDeskSession.objects.create(
            install=hot_desk_user.install,
            pbx_user=hot_desk_user,
            contact="<sip:1001@203.0.113.9>",
            call_id="x",
            source_ip="203.0.113.9",
            logged_in_at=START,
            refreshed_at=START,
            expires_at=START + timedelta(seconds=300),
        )
