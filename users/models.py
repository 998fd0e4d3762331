from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone

from .validators import validate_extension


class PbxUser(models.Model):
    """An operator on a Phone System Install who may log in on shared handsets.

    The Hot Desk PIN is kept only as its digest HA1 = md5("extension:domain:pin"), set through
    `users.services.set_pin`, and never read back.
    """

    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, related_name="pbx_users"
    )
    extension = models.CharField(max_length=4, validators=[validate_extension])
    name = models.CharField("display name", max_length=120, blank=True)
    hot_desk_access = models.BooleanField("Hot Desk Access", default=False)
    pin_ha1 = models.CharField(max_length=32, blank=True, default="", editable=False)
    pin_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The Call-ID of the login an administrator (or a logout time) ended: that handset's
    # automatic refreshes are refused from then on, so the logout sticks; a new login at a
    # desk (a new Call-ID) is decided as usual. Only ever compared for equality, to deny.
    logged_out_call_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "PBX user"
        ordering = ["extension"]
        constraints = [
            models.UniqueConstraint(
                fields=["install", "extension"], name="pbxuser_extension_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(extension__regex=r"^[0-9]{4}$"),
                name="pbxuser_extension_4_digits",
            ),
            # SQLite's REGEXP lets "$" match before a trailing newline and does not enforce
            # max_length, so the length is checked on its own.
            models.CheckConstraint(
                condition=Exact(Length("extension"), 4), name="pbxuser_extension_length_4"
            ),
            models.CheckConstraint(
                condition=models.Q(pin_ha1="") | models.Q(pin_ha1__regex=r"^[0-9a-f]{32}$"),
                name="pbxuser_pin_ha1_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.extension} {self.name}".strip()

    def get_absolute_url(self) -> str:
        return reverse("users:edit", kwargs={"install_pk": self.install_id, "pk": self.pk})

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_ha1)

    @property
    def lock_state(self) -> models.Model | None:
        """The user's active wrong-PIN lock, or None."""
        # A registrations.Lockout: typed as a Model, since users/ may not import registrations/.
        try:
            lockout = self.lockout
        except ObjectDoesNotExist:
            return None
        return lockout if lockout.is_active(timezone.now()) else None
