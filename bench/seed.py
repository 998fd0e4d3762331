"""Seed a benchmark database: one install, N hot-desk users, a trusted range, an edge login.

Run as `python -m bench.seed N SECRET` with DJANGO_SETTINGS_MODULE and DATABASE_URL set.
"""

import sys

import django


def main(user_count: int, secret: str) -> None:
    django.setup()
    from accounts.models import Account
    from installs.models import Install
    from kamailio.credentials import hash_secret
    from kamailio.models import SipCredential
    from registrations.models import Lockout
    from trustedips.models import TrustedRange
    from users.digest import pin_ha1
    from users.models import PbxUser

    install = Install.objects.create(
        account=Account.objects.create(name="Bench Ltd"), name="Bench", sip_domain="bench.pbx.test"
    )
    PbxUser.objects.bulk_create(
        PbxUser(
            install=install,
            extension=f"{n:04d}",
            hot_desk_access=True,
            pin_ha1=pin_ha1(extension=f"{n:04d}", domain=install.sip_domain, pin="2468"),
        )
        for n in range(user_count)
    )
    # The steady state: every user has logged in before, so each has a lockout row (a user's
    # very first attempt creates it, the long way: registrations/permits.py).
    Lockout.objects.bulk_create(Lockout(pbx_user=user) for user in PbxUser.objects.all())
    TrustedRange.objects.create(install=install, network="127.0.0.0/8", description="loopback")
    TrustedRange.objects.create(install=install, network="203.0.113.0/24", description="office")
    SipCredential.objects.create(name="bench", secret_sha256=hash_secret(secret))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
