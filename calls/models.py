"""One record per call through a SIP edge, kept with the operator hot-desked when it started."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class Direction(models.TextChoices):
    INTERNAL = "internal", "Internal"
    OUT = "out", "Out (to the PBX)"
    IN = "in", "In (from the PBX)"


class Result(models.TextChoices):
    IN_PROGRESS = "", "In progress"
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"
    BUSY = "busy", "Busy"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class ClosedBy(models.TextChoices):
    """Who said the call was over: the edge (as it happened), or the portal after the fact."""

    EDGE = "", "The SIP edge"
    EDGE_RESTART = "edge_restart", "Closed by the portal: the SIP edge restarted during the call"
    TIMEOUT = "timeout", "Closed by the portal: no end reported within the longest call"


class CallRecord(models.Model):
    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, related_name="call_records"
    )
    # The edge that carried the call (its API credential's name) and its id for the call:
    # together they make a re-sent event land on the same record.
    edge = models.CharField(max_length=64)
    ref = models.CharField(max_length=64)
    sip_call_id = models.CharField(max_length=255, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    # The operator hot-desked on the handset when the call started (the caller of an internal
    # call). Extension and name are kept: the user may be removed or renamed later.
    pbx_user = models.ForeignKey(
        "users.PbxUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    extension = models.CharField(max_length=16)
    user_name = models.CharField(max_length=150, blank=True)
    other_party = models.CharField(max_length=64, blank=True)
    handset_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True, default="")
    sip_code = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_by = models.CharField(max_length=16, choices=ClosedBy.choices, blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["edge", "ref"], name="call_record_once_per_edge_ref"),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="call_record_direction_known"
            ),
            models.CheckConstraint(
                condition=Q(result__in=Result.values), name="call_record_result_known"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="call_record_ends_after_it_starts",
            ),
            # In progress exactly while no end is known.
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, result="")
                | Q(ended_at__isnull=False) & ~Q(result=""),
                name="call_record_result_once_ended",
            ),
        ]
        indexes = [
            models.Index(fields=["install", "-started_at"], name="call_install_started"),
            models.Index(
                fields=["install", "extension", "-started_at"], name="call_install_ext_started"
            ),
            models.Index(
                fields=["started_at"],
                condition=Q(ended_at__isnull=True),
                name="call_in_progress",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} call of {self.extension} with {self.other_party}"

    @property
    def in_progress(self) -> bool:
        return self.ended_at is None
