from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.commands import fail_with
from kamailio.credentials import hash_secret, new_secret, rpc_authorization_sha256
from kamailio.models import SipCredential
from trustedips.validators import parse_network


class Command(BaseCommand):
    help = "Create the API credential of one SIP edge node; prints the secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Node name, e.g. edge-1")
        parser.add_argument(
            "--allow-from",
            nargs="*",
            default=[],
            metavar="CIDR",
            help="Only accept this credential from these networks",
        )
        parser.add_argument(
            "--rpc-url",
            default="",
            metavar="URL",
            help="The edge's JSON-RPC URL (e.g. http://127.0.0.1:5098/RPC), for logging handsets "
            "out; also prints the digest its hotdesk-local.cfg needs",
        )

    def handle(
        self, *args: Any, name: str, allow_from: list[str], rpc_url: str, **options: Any
    ) -> None:
        if SipCredential.objects.filter(name=name).exists():
            raise CommandError(f"A SIP edge credential named {name} exists already.")
        try:
            networks = " ".join(parse_network(text).with_prefixlen for text in allow_from)
            secret = new_secret()
            credential = SipCredential(
                name=name,
                secret_sha256=hash_secret(secret),
                allowed_networks=networks,
                rpc_url=rpc_url,
            )
            credential.full_clean()
        except ValidationError as error:
            raise fail_with(error) from None
        credential.save()
        self.stdout.write(f"Created SIP edge credential {name}. Its secret, shown only now:")
        self.stdout.write(secret)
        if rpc_url:
            # Not a secret: only the edge's check of what the portal sends to its JSON-RPC.
            self.stdout.write("The edge's hotdesk-local.cfg also needs, for its JSON-RPC:")
            self.stdout.write(
                f'#!substdef "!HOTDESK_RPC_AUTH_SHA256!{rpc_authorization_sha256(credential)}!"'
            )
