"""Portal pages of the registration decision: Users tab locks, Unlock, Explain, Registration log."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from registrations.models import EventKind, Lockout, RegistrationLogEntry
from tests.conftest import GOOD_PIN
from tests.factories import PbxUserFactory

from .helpers import expected_ha1, users_tab

pytestmark = pytest.mark.django_db


def unlock_url(install, pbx_user) -> str:
    return reverse("registrations:unlock", kwargs={"install_pk": install.pk, "pk": pbx_user.pk})


def explain_url(install) -> str:
    return reverse("registrations:explain", kwargs={"install_pk": install.pk})


def log_url(install) -> str:
    return reverse("registrations:log", kwargs={"install_pk": install.pk})


def row_of(page: str, extension: str) -> str:
    found = re.search(rf'<tr data-extension="{extension}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {extension}"
    return found.group(1)


# --- Users tab: who is locked, since when and why; Unlock --------------------------------------


def test_users_tab_shows_an_indefinitely_locked_user_with_when_and_why(
    portal_client, install, hot_desk_user
):
    locked_at = timezone.now() - timedelta(hours=2)
    Lockout.objects.create(
        pbx_user=hot_desk_user,
        consecutive_failures=10,
        locked_indefinitely=True,
        locked_at=locked_at,
        last_failure_ip="203.0.113.45",
    )
    PbxUserFactory(install=install, extension="1002", hot_desk_access=True, pin="1357")

    page = portal_client.get(users_tab(install)).content.decode()

    locked_row = row_of(page, "1001")
    assert "Locked" in locked_row
    assert timezone.localtime(locked_at).strftime("%Y-%m-%d %H:%M") in locked_row
    assert "after 10 wrong PINs" in locked_row
    assert "203.0.113.45" in locked_row
    assert "until unlocked or given a new PIN" in locked_row
    assert unlock_url(install, hot_desk_user) in locked_row
    assert "Locked" not in row_of(page, "1002")


def test_users_tab_shows_when_a_timed_lock_ends(portal_client, install, hot_desk_user):
    until = timezone.now() + timedelta(minutes=12)
    Lockout.objects.create(
        pbx_user=hot_desk_user,
        consecutive_failures=5,
        locked_until=until,
        locked_at=until - timedelta(minutes=15),
    )

    row = row_of(portal_client.get(users_tab(install)).content.decode(), "1001")

    assert "after 5 wrong PINs" in row
    assert f"until {timezone.localtime(until).strftime('%H:%M')}" in row


def test_users_tab_no_longer_shows_a_lapsed_timed_lock(portal_client, install, hot_desk_user):
    Lockout.objects.create(
        pbx_user=hot_desk_user,
        consecutive_failures=5,
        locked_until=timezone.now() - timedelta(seconds=1),
        locked_at=timezone.now() - timedelta(minutes=16),
    )

    row = row_of(portal_client.get(users_tab(install)).content.decode(), "1001")

    assert "Locked" not in row


def test_unlock_lifts_the_lock_and_is_audited(portal_client, install, hot_desk_user):
    Lockout.objects.create(
        pbx_user=hot_desk_user, consecutive_failures=10, locked_indefinitely=True
    )

    response = portal_client.post(unlock_url(install, hot_desk_user), follow=True)

    assert response.redirect_chain[-1][0] == users_tab(install)
    assert "Unlocked 1001" in response.content.decode()
    assert "Locked" not in row_of(response.content.decode(), "1001")
    lockout = Lockout.objects.get(pbx_user=hot_desk_user)
    assert not lockout.is_active(timezone.now())
    assert lockout.consecutive_failures == 0
    event = AuditEvent.objects.get(action=Action.USER_UNLOCKED)
    assert (event.actor_label, event.install) == ("alice", install)
    audit_page = portal_client.get(reverse("installs:audit", kwargs={"install_pk": install.pk}))
    assert "User unlocked" in audit_page.content.decode()


def test_unlock_of_another_customers_user_is_404(portal_client, other_install):
    stranger = PbxUserFactory(install=other_install, extension="1001", hot_desk_access=True)
    Lockout.objects.create(pbx_user=stranger, consecutive_failures=10, locked_indefinitely=True)

    response = portal_client.post(unlock_url(other_install, stranger))

    assert response.status_code == 404
    assert Lockout.objects.get(pbx_user=stranger).locked_indefinitely
    assert not AuditEvent.objects.filter(action=Action.USER_UNLOCKED).exists()


def test_unlock_of_a_user_through_another_install_url_is_404(portal_client, install, other_install):
    stranger = PbxUserFactory(install=other_install, extension="1001")
    Lockout.objects.create(pbx_user=stranger, locked_indefinitely=True)

    response = portal_client.post(unlock_url(install, stranger))

    assert response.status_code == 404
    assert Lockout.objects.get(pbx_user=stranger).locked_indefinitely


def test_unlock_needs_a_post(portal_client, install, hot_desk_user):
    Lockout.objects.create(pbx_user=hot_desk_user, locked_indefinitely=True)

    response = portal_client.get(unlock_url(install, hot_desk_user))

    assert response.status_code == 405
    assert Lockout.objects.get(pbx_user=hot_desk_user).locked_indefinitely


def test_unlock_needs_a_login(client, install, hot_desk_user):
    Lockout.objects.create(pbx_user=hot_desk_user, locked_indefinitely=True)

    response = client.post(unlock_url(install, hot_desk_user))

    assert response.status_code == 302
    assert Lockout.objects.get(pbx_user=hot_desk_user).locked_indefinitely


# --- Explain ----------------------------------------------------------------------------------


def test_explain_form_asks_for_no_pin(portal_client, install):
    page = portal_client.get(explain_url(install)).content.decode()

    assert 'name="extension"' in page
    assert 'name="source_ip"' in page
    assert 'type="password"' not in page
    assert 'name="pin"' not in page


def test_explain_shows_an_allow_without_revealing_the_ha1(portal_client, install, hot_desk_user):
    response = portal_client.post(
        explain_url(install), {"extension": "1001", "source_ip": "203.0.113.7"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "ALLOW" in page
    assert "<code>ok</code>" in page
    assert expected_ha1("1001", "acme.pbx.test", GOOD_PIN) not in page
    assert hot_desk_user.pin_ha1 not in page


@pytest.mark.parametrize(
    ("extension", "source_ip", "reason", "hint"),
    [
        ("1001", "192.0.2.7", "untrusted_source", "Trusted IPs tab"),
        ("1001", "203.0.113.7:5060", "malformed_source", "not a valid IP address"),
        ("1999", "203.0.113.7", "unknown_extension", "no user with this extension"),
    ],
)
def test_explain_shows_the_reason_of_a_denial_and_what_to_do(
    portal_client, install, hot_desk_user, extension, source_ip, reason, hint
):
    response = portal_client.post(
        explain_url(install), {"extension": extension, "source_ip": source_ip}
    )

    page = response.content.decode()
    assert "DENY" in page
    assert f"<code>{reason}</code>" in page
    assert hint in page
    assert hot_desk_user.pin_ha1 not in page


def test_explain_shows_a_lock(portal_client, install, hot_desk_user):
    Lockout.objects.create(pbx_user=hot_desk_user, locked_indefinitely=True)

    page = portal_client.post(
        explain_url(install), {"extension": "1001", "source_ip": "203.0.113.7"}
    ).content.decode()

    assert "<code>locked</code>" in page


def test_explain_records_nothing_and_counts_nothing(portal_client, install, hot_desk_user):
    portal_client.post(explain_url(install), {"extension": "1001", "source_ip": "192.0.2.7"})

    assert not RegistrationLogEntry.objects.exists()
    assert not Lockout.objects.exists()


def test_explain_of_another_customers_install_is_404(portal_client, other_install):
    response = portal_client.post(
        explain_url(other_install), {"extension": "1001", "source_ip": "203.0.113.7"}
    )

    assert response.status_code == 404


# --- Registration log tab ----------------------------------------------------------------------


def log_entry(install, *, extension="1001", allowed=True, reason="ok", age=timedelta(0), **kw):
    entry = RegistrationLogEntry.objects.create(
        install=install,
        kind=kw.pop("kind", EventKind.CHECK),
        allowed=allowed,
        reason=reason,
        domain=install.sip_domain,
        extension=extension,
        source_ip=kw.pop("source_ip", "203.0.113.7"),
        **kw,
    )
    RegistrationLogEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - age)
    return entry


def listed_user_agents(response) -> list[str]:
    return [entry.user_agent for entry in response.context["entries"]]


def test_registration_log_lists_newest_first(portal_client, install):
    log_entry(install, user_agent="Handset-B", age=timedelta(minutes=5))
    log_entry(install, user_agent="Handset-C", age=timedelta(hours=1))
    log_entry(install, user_agent="Handset-A", age=timedelta(seconds=1))

    response = portal_client.get(log_url(install))

    assert listed_user_agents(response) == ["Handset-A", "Handset-B", "Handset-C"]
    page = response.content.decode()
    assert page.index("Handset-A") < page.index("Handset-B") < page.index("Handset-C")


def test_registration_log_filters_by_extension_outcome_and_reason(portal_client, install):
    log_entry(install, extension="1001", user_agent="a")
    log_entry(install, extension="1002", user_agent="b")
    log_entry(install, extension="1001", allowed=False, reason="untrusted_source", user_agent="c")
    log_entry(install, extension="1002", allowed=False, reason="locked", user_agent="d")

    def shown(**query) -> set[str]:
        return set(listed_user_agents(portal_client.get(log_url(install), query)))

    assert shown(extension="1001") == {"a", "c"}
    assert shown(outcome="denied") == {"c", "d"}
    assert shown(reason="locked") == {"d"}
    assert shown(extension="1002", outcome="denied") == {"d"}
    assert shown(extension="1002", reason="untrusted_source") == set()


def test_registration_log_paginates(portal_client, install):
    for n in range(53):
        log_entry(install, user_agent=f"ua-{n:02d}", age=timedelta(seconds=n))

    first = portal_client.get(log_url(install))
    second = portal_client.get(log_url(install), {"page": 2})

    assert len(first.context["entries"]) == 50
    assert listed_user_agents(first)[0] == "ua-00"
    assert listed_user_agents(second) == ["ua-50", "ua-51", "ua-52"]
    assert "Page 2 of 2" in second.content.decode()


def test_registration_log_page_links_keep_the_filters(portal_client, install):
    for n in range(51):
        log_entry(install, allowed=False, reason="locked", age=timedelta(seconds=n))

    page = portal_client.get(log_url(install), {"reason": "locked"}).content.decode()

    assert "reason=locked&amp;page=2" in page


def test_registration_log_shows_only_the_installs_own_entries(
    portal_client, install, other_install
):
    log_entry(install, user_agent="ours")
    log_entry(other_install, user_agent="theirs")
    RegistrationLogEntry.objects.create(
        install=None, kind=EventKind.CHECK, allowed=False, reason="unknown_domain", user_agent="x"
    )

    response = portal_client.get(log_url(install))

    assert listed_user_agents(response) == ["ours"]
    assert "theirs" not in response.content.decode()


def test_registration_log_of_another_customers_install_is_404(portal_client, other_install):
    log_entry(other_install, user_agent="theirs")

    assert portal_client.get(log_url(other_install)).status_code == 404


def test_registration_log_shows_source_user_agent_and_the_outcome_in_words(portal_client, install):
    log_entry(
        install,
        allowed=False,
        reason="untrusted_source",
        source_ip="192.0.2.7",
        source_port=5062,
        proto="tls",
        user_agent="Handset/9",
        expires=300,
    )

    page = portal_client.get(log_url(install)).content.decode()

    assert "192.0.2.7:5062 tls" in page
    assert "Handset/9" in page
    assert "Not from a trusted network: 192.0.2.7</span>" in page
    assert ">untrusted_source</code>" in page
