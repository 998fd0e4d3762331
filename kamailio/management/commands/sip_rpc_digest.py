from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kamailio.credentials import rpc_authorization_sha256
from kamailio.models import SipCredential


class Command(BaseCommand):
    help = (
        "Print the HOTDESK_RPC_AUTH_SHA256 line of an edge's hotdesk-local.cfg: again after the "
        "portal's SECRET_KEY changed, or for a credential created without --rpc-url."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The edge's credential, e.g. edge-1")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        credential = SipCredential.objects.filter(name=name).first()
        if credential is None:
            raise CommandError(f"There is no SIP edge credential named {name}.")
        # Not a secret: only the edge's check of what the portal sends to its JSON-RPC.
        self.stdout.write(
            f'#!substdef "!HOTDESK_RPC_AUTH_SHA256!{rpc_authorization_sha256(credential)}!"'
        )
