from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    INSTALL_CREATED = "install_created", "Install created"
    INSTALL_CHANGED = "install_changed", "Install settings changed"
    USER_ADDED = "user_added", "User added"
    USER_CHANGED = "user_changed", "User changed"
    USER_REMOVED = "user_removed", "User removed"
    PIN_CHANGED = "pin_changed", "PIN changed"
    PIN_CLEARED = "pin_cleared", "PIN cleared"
    USER_UNLOCKED = "user_unlocked", "User unlocked"
    RANGE_ADDED = "range_added", "Trusted range added"
    RANGE_REMOVED = "range_removed", "Trusted range removed"
    SESSION_LOGGED_OUT = "session_logged_out", "Session logged out"
    HANDSET_REGISTERED = "handset_registered", "Handset registered"
    HANDSET_REMOVED = "handset_removed", "Handset removed"
    PROVISIONING_URL_REISSUED = "provisioning_url_reissued", "Provisioning URL reissued"


class AuditEvent(models.Model):
    """One change made by an administrator, a command or the system, kept for the install.

    Values are recorded as before/after pairs in `changes`; a PIN is never among them (its
    change is an action of its own, with no value).
    """

    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, related_name="audit_events", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # Kept beside the foreign key so the trail still says who acted after a login is deleted,
    # and names the command when a platform operator acted from the shell.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["install", "-created_at"], name="audit_install_recent")]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.get_action_display()} {self.object_repr}"

    @property
    def change_summary(self) -> str:
        parts = []
        for field, (before, after) in sorted(self.changes.items()):
            parts.append(f"{field}: {before!s} → {after!s}")
        return "; ".join(parts)
