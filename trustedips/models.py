import ipaddress

from django.conf import settings
from django.db import models

from .validators import validate_cidr


class TrustedRange(models.Model):
    """A network that hot-desk registrations of an install may come from.

    Stored as canonical CIDR text (network address/prefix), so equality is string equality and
    the database can enforce "no duplicate range within an install".
    """

    install = models.ForeignKey(
        "installs.Install", on_delete=models.CASCADE, related_name="trusted_ranges"
    )
    network = models.CharField("IP range", max_length=43, validators=[validate_cidr])
    description = models.CharField(max_length=200)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by_label = models.CharField(max_length=150, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "trusted IP range"
        ordering = ["network"]
        constraints = [
            models.UniqueConstraint(fields=["install", "network"], name="trustedrange_unique"),
            models.CheckConstraint(
                condition=~models.Q(description=""), name="trustedrange_described"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network} ({self.description})"

    @property
    def ip_network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.network)
