"""The SIP edges (Kamailio nodes) the portal knows: who may call its API, and where their RPC is."""

from django.db import models


class SipCredential(models.Model):
    """The HTTP Basic credential of one SIP proxy node (Kamailio) calling the portal's API.

    Only a SHA-256 of the secret is kept. The secret is 32 random bytes, so a fast hash is as
    safe as a slow one here, and it keeps the check that runs on every REGISTER cheap.
    """

    name = models.SlugField(max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    allowed_networks = models.TextField(
        blank=True,
        help_text="Space-separated CIDR ranges this node calls from. Empty: any address.",
    )
    is_active = models.BooleanField(default=True)
    rpc_url = models.URLField(
        "RPC URL",
        blank=True,
        help_text="Kamailio's JSON-RPC endpoint on this node (jsonrpcs over HTTP, e.g. "
        "http://127.0.0.1:5071/RPC), used to log a handset out at once. Empty: not reachable.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SIP edge credential"
        # Kept from when this model lived in `registrations`: moving it renamed nothing.
        db_table = "registrations_sipcredential"

    def __str__(self) -> str:
        return self.name
