from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from infinity.commands import fail_with
from registrations.edge_auth import hash_secret, new_secret
from registrations.models import SipCredential
from trustedips.validators import parse_network


class Command(BaseCommand):
    help = "Create the API credential of one SIP edge node; prints the secret once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Node name, e.g. edge-1")
        parser.add_argument(
            "--allow-from",
            nargs="*",
            default=[],
            metavar="CIDR",
            help="Only accept this credential from these networks",
        )

    def handle(self, *args, name, allow_from, **options):
        if SipCredential.objects.filter(name=name).exists():
            raise CommandError(f"A SIP edge credential named {name} exists already.")
        try:
            networks = " ".join(parse_network(text).with_prefixlen for text in allow_from)
            secret = new_secret()
            credential = SipCredential(
                name=name, secret_sha256=hash_secret(secret), allowed_networks=networks
            )
            credential.full_clean()
        except ValidationError as error:
            raise fail_with(error) from None
        credential.save()
        self.stdout.write(f"Created SIP edge credential {name}. Its secret, shown only now:")
        self.stdout.write(secret)
