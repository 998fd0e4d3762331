from django.db import models
from django.utils import timezone

from .policy import LockFacts, Reason, lock_is_active


class ReasonCode(models.TextChoices):
    OK = Reason.OK.value, "Allowed"
    UNKNOWN_DOMAIN = Reason.UNKNOWN_DOMAIN.value, "Unknown domain"
    UNKNOWN_EXTENSION = Reason.UNKNOWN_EXTENSION.value, "Unknown extension"
    NO_HOT_DESK_ACCESS = Reason.NO_HOT_DESK_ACCESS.value, "No Hot Desk Access"
    NO_PIN_SET = Reason.NO_PIN_SET.value, "No PIN set"
    MALFORMED_SOURCE = Reason.MALFORMED_SOURCE.value, "Malformed source address"
    UNTRUSTED_SOURCE = Reason.UNTRUSTED_SOURCE.value, "Untrusted source address"
    LOCKED = Reason.LOCKED.value, "Locked after wrong PINs"
    WRONG_PIN = Reason.WRONG_PIN.value, "Wrong PIN"
    NO_OUTCOME = Reason.NO_OUTCOME.value, "No outcome reported: counted as a wrong PIN"
    TOO_LATE = Reason.TOO_LATE.value, "Too late: the edge had answered 503 already"
    LOGGED_OUT = Reason.LOGGED_OUT.value, "Logged out: log in again at a desk"


class Lockout(models.Model):
    """Wrong-PIN state of one PBX user, shared by every portal process through the database."""

    pbx_user = models.OneToOneField(
        "users.PbxUser", on_delete=models.CASCADE, related_name="lockout"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    window_failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_indefinitely = models.BooleanField(default=False)
    locked_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_ip = models.CharField(max_length=64, blank=True)
    # How many of the user's guess permits are open: kept in step with the `GuessPermit` rows,
    # so that taking one is a single statement (`permits.take`); re-counted from the rows
    # whenever a check goes the long way.
    in_flight = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"lockout of {self.pbx_user}"

    def is_active(self, now) -> bool:
        return lock_is_active(
            LockFacts(locked_until=self.locked_until, indefinite=self.locked_indefinitely), now=now
        )

    def describe(self) -> str:
        """What an administrator needs to know: since when, why, and until when."""
        since = (
            timezone.localtime(self.locked_at).strftime("%Y-%m-%d %H:%M") if self.locked_at else "?"
        )
        why = f"after {self.consecutive_failures} wrong PINs"
        if self.last_failure_ip:
            why += f" (last from {self.last_failure_ip})"
        if self.locked_indefinitely:
            return f"since {since} {why}, until unlocked or given a new PIN"
        until = timezone.localtime(self.locked_until).strftime("%H:%M")
        return f"since {since} {why}, until {until}"


class GuessPermit(models.Model):
    """One digest check the portal has allowed and whose outcome the edge has not reported yet.

    The check that hands an edge a user's HA1 takes a permit, under the lock of the user's
    `Lockout` row, only while the user has guesses left counting the permits still open; the
    outcome report settles it. So parallel attempts can never have more digests checked than
    the lockout thresholds allow. A permit left open longer than
    `HOTDESK_GUESS_PERMIT_SECONDS` counts as a wrong PIN (fail closed: a lost report must not
    be a free guess).

    A row without a user is a marker: the edge settled the attempt before its check reached
    the portal (it gave up waiting for a slow portal), so a check arriving later takes no
    guess. Markers are dropped after the same time.
    """

    pbx_user = models.ForeignKey(
        "users.PbxUser", on_delete=models.CASCADE, null=True, related_name="guess_permits"
    )
    edge = models.CharField(max_length=64)
    attempt = models.CharField(max_length=64)
    source_ip = models.CharField(max_length=64, blank=True)
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edge", "attempt"], name="guess_permit_once"),
        ]

    def __str__(self) -> str:
        return f"permit {self.attempt} of {self.edge}"


class EventKind(models.TextChoices):
    CHECK = "check", "Check"
    REGISTERED = "registered", "Registered"
    UNREGISTERED = "unregistered", "Unregistered"
    AUTH_FAILED = "auth_failed", "Wrong PIN"


# Reports of a batch that open, refresh or close sessions.
SESSION_EVENTS = frozenset({EventKind.REGISTERED, EventKind.UNREGISTERED})
# Batch lines that are not logged. `settled`: an allowed attempt's digest was right with no
# news (a refresh the portal validated), or none was compared (a stale nonce, a check the edge
# gave up on): its guess permit goes back. `started`: the first line an edge reports after it
# starts; the bindings it held before are gone.
SETTLED = "settled"
STARTED = "started"


class RegistrationLogEntry(models.Model):
    """One check or outcome report from the SIP edge: every "no" can be explained from here.

    Outcome reports are unique by (edge, attempt, kind). `attempt` is the id the edge gives one
    REGISTER transaction (Kamailio's `$sruid`), never anything the handset chose: a report sent
    twice is a no-op, while two guesses are two attempts whatever their Call-ID and CSeq.
    """

    # Set when the entry is made, not when a batch of check entries reaches the database.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, null=True, related_name="registration_log"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=32, choices=ReasonCode.choices)
    domain = models.CharField(max_length=253, blank=True)
    extension = models.CharField(max_length=64, blank=True)
    source_ip = models.CharField(max_length=64, blank=True)
    source_port = models.PositiveIntegerField(null=True, blank=True)
    proto = models.CharField(max_length=8, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    expires = models.PositiveIntegerField(null=True, blank=True)
    call_id = models.CharField(max_length=255, blank=True)
    # Kamailio accepts any CSeq number that fits 32 bits unsigned.
    cseq = models.PositiveBigIntegerField(null=True, blank=True)
    contact = models.CharField(max_length=512, blank=True)
    edge = models.CharField(max_length=64, blank=True)
    attempt = models.CharField(max_length=64, blank=True)
    # A wrong PIN: how many the user had in the lockout's short window after this one (the
    # log says "2 of 5 before a lock"); None for other entries and for unknown users.
    wrong_pins = models.PositiveSmallIntegerField(null=True, blank=True)
    # The lock this wrong PIN set off, if it did.
    locked = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "registration log"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["install", "-created_at"], name="reglog_install_recent"),
            models.Index(fields=["install", "extension", "-created_at"], name="reglog_install_ext"),
            models.Index(fields=["created_at"], name="reglog_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["edge", "attempt", "kind"],
                condition=~models.Q(kind="check") & ~models.Q(attempt=""),
                name="reglog_report_once_per_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.extension}@{self.domain} {self.reason}"


class SessionEnd(models.TextChoices):
    LOGGED_OUT = "logged_out", "Logged out"
    EXPIRED = "expired", "Expired"
    MOVED = "moved", "Moved to another handset"
    FORCED = "forced", "Forced logout"
    EDGE_RESTARTED = "edge_restarted", "SIP edge restarted (binding lost)"
    NO_BINDING = "no_binding", "No binding on any SIP edge"
    MAX_LOGIN = "max_login", "Maximum login time reached"
    DAILY_LOGOUT = "daily_logout", "Daily logout"


class HotDeskSession(models.Model):
    """An operator logged in on a handset, from the first registration to its end.

    The history outlives the user: removing a user keeps their ended sessions, with the
    extension and name they had (`removed_extension`, `removed_name`, set by `receivers`).
    """

    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, related_name="sessions"
    )
    pbx_user = models.ForeignKey(
        "users.PbxUser", on_delete=models.SET_NULL, null=True, related_name="sessions"
    )
    removed_extension = models.CharField(max_length=4, blank=True)
    removed_name = models.CharField(max_length=120, blank=True)
    contact = models.CharField(max_length=512)
    call_id = models.CharField(max_length=255)
    # The CSeq of the last report applied (the log-out's for a logged-out session): a report
    # of the same Call-ID with a lower one is older news (`sessions.apply_reports`).
    cseq = models.PositiveBigIntegerField(default=0)
    source_ip = models.CharField(max_length=64)
    source_port = models.PositiveIntegerField(null=True, blank=True)
    proto = models.CharField(max_length=8, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # The SIP edge that reported the binding last: a restart of that edge loses it.
    edge = models.CharField(max_length=64, blank=True)
    logged_in_at = models.DateTimeField()
    refreshed_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=SessionEnd.choices, blank=True)
    ended_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-logged_in_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pbx_user"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_session",
            ),
        ]

    def __str__(self) -> str:
        who = self.pbx_user if self.pbx_user_id else f"{self.extension} {self.user_name}".strip()
        return f"{who} on {self.contact}"

    @property
    def extension(self) -> str:
        return self.pbx_user.extension if self.pbx_user is not None else self.removed_extension

    @property
    def user_name(self) -> str:
        if self.pbx_user is not None:
            return self.pbx_user.name
        return f"{self.removed_name} (removed)".lstrip()
