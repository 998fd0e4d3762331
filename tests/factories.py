"""factory-boy factories for the whole suite."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Account, Membership
from installs.models import Install
from kamailio.credentials import hash_secret
from kamailio.models import SipCredential
from trustedips.models import TrustedRange
from users.digest import pin_ha1
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


# --- Hot-desk sessions (issue 4, Real Time Dashboard) -----------------------------------------


class HotDeskSessionFactory(factory.django.DjangoModelFactory):
    """A live session that logged in a minute ago and expires in 500 s; pass `pbx_user=`."""

    class Meta:
        model = "registrations.HotDeskSession"

    pbx_user = factory.SubFactory(PbxUserFactory, hot_desk_access=True, pin="2468")
    install = factory.LazyAttribute(lambda o: o.pbx_user.install)
    contact = factory.LazyAttribute(lambda o: f"sip:{o.pbx_user.extension}@203.0.113.7:5060")
    call_id = factory.Sequence(lambda n: f"call-{n}@203.0.113.7")
    source_ip = "203.0.113.7"
    source_port = 5060
    proto = "udp"
    user_agent = "Yealink SIP-T46S 66.86.0.15"
    logged_in_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    refreshed_at = factory.LazyAttribute(lambda o: o.logged_in_at)
    expires_at = factory.LazyAttribute(lambda o: o.refreshed_at + timedelta(seconds=500))
