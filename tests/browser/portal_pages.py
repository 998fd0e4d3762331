"""Every page of the portal, on an install full of data, for the layout and accessibility tests.

`seed_install` fills an install the way a busy one looks: users (one locked), trusted ranges,
handsets and their fetches, live and ended hot-desk sessions, registration log entries, call
records and audit events, with values as long as real ones (user agents, SIP contacts), since
those are what push a table past a phone's width. `install_tabs` and `other_pages` name every
page an administrator can reach by GET; `watch_page` records what Chromium refuses under the
Content-Security-Policy, and uncaught script errors, while pages load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.trail import Actor, record
from calls.models import CallRecord, Direction, Result
from handsets.models import ProvisioningFetch
from registrations.models import (
    EventKind,
    Lockout,
    ReasonCode,
    RegistrationLogEntry,
    SessionEnd,
)
from tests.factories import (
    HandsetFactory,
    HotDeskSessionFactory,
    PbxUserFactory,
    ProvisioningProfileFactory,
    TrustedRangeFactory,
)

PASSWORD = "correct horse battery"  # tests.factories.PortalUserFactory's
USER_AGENT = "Yealink SIP-T46S 66.86.0.15 (firmware build 2026-11-30, language pack en-GB)"


@dataclass(frozen=True)
class PortalPage:
    """A page to visit: its name (for test ids and messages) and its path."""

    name: str
    path: str


@dataclass(frozen=True)
class SeededInstall:
    """What `seed_install` made, for the pages that need one object's id."""

    install: Any
    user: Any
    trusted_range: Any
    handset: Any


def seed_install(install, *, admin) -> SeededInstall:
    """Fill `install` with one of everything its tabs show, as a busy install has."""
    now = timezone.now()
    ann = PbxUserFactory.create(
        install=install, extension="1001", name="Ann Smith", hot_desk_access=True, pin="2468"
    )
    bob = PbxUserFactory.create(
        install=install,
        extension="1002",
        name="Bartholomew Featherstonehaugh-Wright",
        hot_desk_access=True,
        pin="1357",
    )
    PbxUserFactory.create(install=install, extension="1003", name="Carol White")
    Lockout.objects.create(
        pbx_user=bob,
        consecutive_failures=10,
        locked_indefinitely=True,
        locked_at=now,
        last_failure_at=now,
        last_failure_ip="198.51.100.23",
    )
    office = TrustedRangeFactory.create(install=install, network="203.0.113.0/24")
    TrustedRangeFactory.create(
        install=install, network="198.51.100.0/24", description="Leeds office, second floor"
    )
    ProvisioningProfileFactory.create(install=install)
    handset = HandsetFactory.create(install=install, desk="Reception desk by the main entrance")
    ProvisioningFetch.objects.create(
        install=install, handset=handset, filename=handset.filename, source_ip="203.0.113.7"
    )
    contact = "sip:1001@203.0.113.7:5060;transport=udp;line=k4b7x9q2;reg-id=1"
    HotDeskSessionFactory.create(pbx_user=ann, contact=contact, user_agent=USER_AGENT)
    HotDeskSessionFactory.create(
        pbx_user=bob,
        contact=contact.replace("1001", "1002"),
        user_agent=USER_AGENT,
        logged_in_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=2),
        end_reason=SessionEnd.FORCED,
        ended_by=admin.get_username(),
    )
    _seed_log_and_calls(install, ann=ann, contact=contact, now=now)
    actor = Actor.for_user(admin)
    record(actor=actor, action=Action.USER_ADDED, install=install, obj=ann)
    record(
        actor=actor,
        action=Action.USER_CHANGED,
        install=install,
        obj=bob,
        changes={"name": ("Bob Wright", bob.name), "hot_desk_access": (False, True)},
    )
    return SeededInstall(install=install, user=ann, trusted_range=office, handset=handset)


def _seed_log_and_calls(install, *, ann, contact: str, now) -> None:
    for kind, allowed, reason in [
        (EventKind.CHECK, True, ReasonCode.OK),
        (EventKind.REGISTERED, True, ReasonCode.OK),
        (EventKind.AUTH_FAILED, False, ReasonCode.WRONG_PIN),
        (EventKind.CHECK, False, ReasonCode.UNTRUSTED_SOURCE),
    ]:
        RegistrationLogEntry.objects.create(
            install=install,
            kind=kind,
            allowed=allowed,
            reason=reason,
            domain=install.sip_domain,
            extension="1001",
            source_ip="203.0.113.7",
            source_port=5060,
            proto="udp",
            user_agent=USER_AGENT,
            expires=500,
            contact=contact,
            edge="edge-1",
            attempt=f"{kind}-{reason}",
        )
    calls = [
        (Direction.INTERNAL, "1002", Result.ANSWERED, 200),
        (Direction.OUT, "+442079460000", Result.MISSED, 487),
        (Direction.IN, "+441134960000", Result.IN_PROGRESS, None),
    ]
    for n, (direction, other, result, code) in enumerate(calls):
        started = now - timedelta(minutes=10 - n)
        ended = None if result == Result.IN_PROGRESS else started + timedelta(seconds=95)
        CallRecord.objects.create(
            install=install,
            edge="edge-1",
            ref=f"call-{n}",
            direction=direction,
            pbx_user=ann,
            extension="1001",
            user_name=ann.name,
            other_party=other,
            handset_ip="203.0.113.7",
            user_agent=USER_AGENT,
            started_at=started,
            answered_at=started + timedelta(seconds=5) if result == Result.ANSWERED else None,
            ended_at=ended,
            duration_seconds=90 if result == Result.ANSWERED else 0,
            result=result,
            sip_code=code,
        )


def install_tabs(install) -> list[PortalPage]:
    """The install's tabs, in the order the tab row shows them."""
    pk = install.pk
    return [
        PortalPage("users", reverse("users:list", args=[pk])),
        PortalPage("trusted IPs", reverse("trustedips:list", args=[pk])),
        PortalPage("handset setup", reverse("handsets:setup", args=[pk])),
        PortalPage("import/export", reverse("bulk:index", args=[pk])),
        PortalPage("dashboard", reverse("registrations:dashboard", args=[pk])),
        PortalPage("registration log", reverse("registrations:log", args=[pk])),
        PortalPage("call log", reverse("calls:log", args=[pk])),
        PortalPage("explain", reverse("registrations:explain", args=[pk])),
        PortalPage("audit log", reverse("installs:audit", args=[pk])),
        PortalPage("settings", reverse("installs:settings", args=[pk])),
    ]


def other_pages(seeded: SeededInstall, *, other_install) -> list[PortalPage]:
    """Every other page reached by GET: lists, forms, confirmations and the 404 page."""
    pk = seeded.install.pk
    return [
        PortalPage("install list", reverse("installs:list")),
        PortalPage("handset provisioning", reverse("handsets:provisioning", args=[pk])),
        PortalPage("handset rotate confirm", reverse("handsets:rotate", args=[pk])),
        PortalPage(
            "handset delete confirm", reverse("handsets:delete", args=[pk, seeded.handset.pk])
        ),
        PortalPage("user add", reverse("users:add", args=[pk])),
        PortalPage("user edit", reverse("users:edit", args=[pk, seeded.user.pk])),
        PortalPage("user delete confirm", reverse("users:delete", args=[pk, seeded.user.pk])),
        PortalPage(
            "trusted IP delete confirm",
            reverse("trustedips:delete", args=[pk, seeded.trusted_range.pk]),
        ),
        PortalPage("call log filtered", reverse("calls:log", args=[pk]) + "?extension=1001"),
        # Another customer's install: the portal's 404 page, as the administrator sees it.
        PortalPage("404 page", reverse("users:list", args=[other_install.pk])),
    ]


def log_in(page, username: str) -> None:
    """Log in through the login page, as an administrator does."""
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(reverse("installs:list") + "$"))


# Runs in every document before the page's own scripts: remembers each CSP violation event.
_LISTEN_FOR_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || "?"}:${event.lineNumber}`);
});
"""


class PageWatch:
    """What Chromium refused under the Content-Security-Policy, and uncaught script errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.messages: list[str] = []
        page.add_init_script(_LISTEN_FOR_CSP)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self._note(f"script error: {error}"))

    def _note(self, what: str) -> None:
        self.messages.append(f"{self.page.url}: {what}")

    def _console(self, message) -> None:
        # Chromium reports each refusal on the console too, also one the page's listener may
        # miss (a refusal before the listener was added).
        if "Content Security Policy" in message.text:
            self._note(f"console: {message.text}")

    def take(self) -> list[str]:
        """What went wrong since the last call, with the current document's CSP events."""
        events = self.page.evaluate("window.__cspViolations || []")
        seen, self.messages = self.messages, []
        return seen + [f"{self.page.url}: CSP event: {event}" for event in events]


def watch_page(page) -> PageWatch:
    """Start recording CSP refusals (events and console) and uncaught script errors on `page`."""
    return PageWatch(page)
