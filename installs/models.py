from datetime import tzinfo
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .validators import validate_pbx_address, validate_sip_domain, validate_time_zone, zone_of

MAX_LOGIN_MINUTES = 7 * 24 * 60
MIN_EXPIRY_SECONDS = 60
MAX_EXPIRY_SECONDS = 3600
DEFAULT_EXPIRY_SECONDS = 500


class Install(models.Model):
    """A Phone System Install: one SIP domain, which is also the digest realm of its phones.

    The domain cannot change after creation: every stored PIN digest (HA1) includes it, so a
    new domain would silently invalidate all of them.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="installs"
    )
    name = models.CharField(max_length=120)
    sip_domain = models.CharField(
        "SIP domain",
        max_length=253,
        unique=True,
        validators=[validate_sip_domain],
        help_text="The domain phones register to (also the digest realm). Fixed after creation.",
    )
    registration_expiry = models.PositiveIntegerField(
        "registration expiry (seconds)",
        default=DEFAULT_EXPIRY_SECONDS,
        validators=[MinValueValidator(MIN_EXPIRY_SECONDS), MaxValueValidator(MAX_EXPIRY_SECONDS)],
        help_text="How often handsets re-register. 500 s is the Infinity default.",
    )
    pbx_address = models.CharField(
        "PBX address",
        max_length=300,
        blank=True,
        validators=[validate_pbx_address],
        help_text="The SIP URI of the customer's PBX or trunk, e.g. sip:10.0.0.5:5060. Calls to "
        "numbers that are not a hot desk go there, and calls from it reach the hot desks. "
        "Empty: calls between hot desks only.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="Where the install's offices are, e.g. Europe/London: the daily logout time "
        "is in this zone.",
    )
    max_login_minutes = models.PositiveIntegerField(
        "maximum login time (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LOGIN_MINUTES)],
        help_text="Log hot-desked operators out this long after they logged in. Empty: no limit.",
    )
    daily_logout_at = models.TimeField(
        "daily logout time",
        null=True,
        blank=True,
        help_text="Log every hot-desked operator out at this time each day, in the install's "
        "time zone (e.g. 19:00). An operator on a call is logged out when the call ends.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped whenever a trusted range of the install is added or removed, so every portal
    # process can keep the parsed ranges in memory and still see a change on the next check.
    trusted_ranges_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(registration_expiry__gte=MIN_EXPIRY_SECONDS)
                & models.Q(registration_expiry__lte=MAX_EXPIRY_SECONDS),
                name="install_expiry_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(sip_domain=models.functions.Lower("sip_domain")),
                name="install_domain_lower_case",
            ),
            models.CheckConstraint(
                condition=models.Q(pbx_address="") | models.Q(pbx_address__startswith="sip:"),
                name="install_pbx_address_is_a_sip_uri",
            ),
            models.CheckConstraint(
                condition=models.Q(max_login_minutes__isnull=True)
                | models.Q(max_login_minutes__gte=1, max_login_minutes__lte=MAX_LOGIN_MINUTES),
                name="install_max_login_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sip_domain})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sip_domain = self.sip_domain.strip().lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("users:list", kwargs={"install_pk": self.pk})

    @property
    def zone(self) -> tzinfo:
        """The install's time zone (a ZoneInfo); the portal's own if the name is not known."""
        try:
            return zone_of(self.time_zone)
        except ValueError:
            return timezone.get_default_timezone()
