"""factory-boy factories for the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Account, Membership
from installs.models import Install
from registrations.edge_auth import hash_secret
from registrations.models import SipCredential
from registrations.policy import pin_ha1
from trustedips.models import TrustedRange
from users.models import PbxUser


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")


class PortalUserFactory(factory.django.DjangoModelFactory):
    """A portal login; pass `account=` to make it a member (administrator) of that account."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"admin{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def account(self, create, extracted, **kwargs):
        self.save()
        if extracted is not None:
            Membership.objects.create(account=extracted, user=self)


class InstallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Install

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Office {n}")
    sip_domain = factory.Sequence(lambda n: f"site{n}.pbx.test")


class PbxUserFactory(factory.django.DjangoModelFactory):
    """A PBX user; `pin="2468"` stores that PIN's HA1 (computed as the portal does)."""

    class Meta:
        model = PbxUser

    class Params:
        pin = None

    install = factory.SubFactory(InstallFactory)
    extension = factory.Sequence(lambda n: f"{1000 + n % 9000:04d}")
    name = factory.Faker("name")
    hot_desk_access = False
    pin_ha1 = factory.LazyAttribute(
        lambda o: (
            pin_ha1(extension=o.extension, domain=o.install.sip_domain, pin=o.pin) if o.pin else ""
        )
    )
    pin_set_at = factory.LazyAttribute(lambda o: timezone.now() if o.pin else None)


class TrustedRangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrustedRange

    install = factory.SubFactory(InstallFactory)
    network = "203.0.113.0/24"
    description = "London office"


class SipCredentialFactory(factory.django.DjangoModelFactory):
    """An edge credential; pass `secret=` to know the clear secret (only its hash is stored)."""

    class Meta:
        model = SipCredential

    class Params:
        secret = "test-edge-secret-0123456789abcdef"

    name = factory.Sequence(lambda n: f"edge-{n}")
    secret_sha256 = factory.LazyAttribute(lambda o: hash_secret(o.secret))


# --- Handsets (issue 5) ----------------------------------------------------------------------


class ProvisioningProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "handsets.ProvisioningProfile"

    install = factory.SubFactory(InstallFactory)


class HandsetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "handsets.Handset"

    install = factory.SubFactory(InstallFactory)
    mac = factory.Sequence(lambda n: f"805ec0{n:06x}")
    desk = factory.Sequence(lambda n: f"Desk {n}")
    model = "SIP-T46S"
