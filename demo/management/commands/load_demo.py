from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.crypto import get_random_string

from accounts.models import Account, Membership
from audit.trail import Actor
from installs.models import Install
from trustedips import services as ranges
from trustedips.models import TrustedRange
from trustedips.validators import parse_network
from users import services as users
from users.models import PbxUser
from users.pins import generate_pin

DEMO_USERS = [
    ("1001", "Ann Smith", True),
    ("1002", "Bob Jones", True),
    ("1003", "Carol White", False),
]
DEMO_RANGES = [
    ("127.0.0.0/8", "This machine (demo softphones)"),
    ("203.0.113.0/24", "London office"),
]


class Command(BaseCommand):
    help = "Load demo data: Acme Ltd, its Head Office install, users, trusted ranges and a login."

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.for_command("load_demo")
        password = get_random_string(16)
        pins = {}
        with transaction.atomic():
            account, _ = Account.objects.get_or_create(name="Acme Ltd")
            install, _ = Install.objects.get_or_create(
                sip_domain="acme.pbx.test", defaults={"account": account, "name": "Head Office"}
            )
            for extension, name, access in DEMO_USERS:
                if PbxUser.objects.filter(install=install, extension=extension).exists():
                    continue
                pin = generate_pin(extension=extension) if access else None
                users.save_user(
                    user=PbxUser(
                        install=install, extension=extension, name=name, hot_desk_access=access
                    ),
                    pin=pin,
                    actor=actor,
                )
                if pin:
                    pins[extension] = pin
            for cidr, description in DEMO_RANGES:
                if not TrustedRange.objects.filter(install=install, network=cidr).exists():
                    ranges.add_range(
                        install=install,
                        network=parse_network(cidr),
                        description=description,
                        actor=actor,
                    )
            admin, _ = get_user_model().objects.get_or_create(username="admin")
            admin.set_password(password)
            admin.save()
            Membership.objects.get_or_create(account=account, user=admin)
        self.stdout.write(f"Demo install {install} is ready.")
        self.stdout.write(f"Portal login: admin / {password}  (new password each run)")
        for extension, pin in pins.items():
            self.stdout.write(
                f"Hot Desk PIN of {extension}: {pin}  (shown once; set a new one in the portal)"
            )
