"""The data the end-to-end tests register against, and the code that loads it.

`python -m tests.e2e.seed` (with DATABASE_URL set) loads it into a freshly migrated database
through the same services the portal's commands use. The tables below are plain data, so the
tests import them without Django. Every test has its own extensions: the database is shared by
the whole session, and a lockout or session left by one test must not decide another.
"""

from __future__ import annotations

from dataclasses import dataclass

PIN = "2468"
WRONG_PIN = "1357"
ACME = "acme.pbx.test"  # trusts 127.0.0.1/32 only: 127.0.0.2 is an untrusted source
OTHER = "other.pbx.test"  # trusts all of 127.0.0.0/8
OTHER_PIN = "8642"
# The fault-injection suite's own install (test_faults.py): sipp's handsets under steady load,
# and per fault a handset that keeps refreshing, handsets that log in and out, and
# the victims of one wrong PIN each.
FAULTS = "faults.pbx.test"  # trusts all of 127.0.0.0/8
LOAD_EXTENSIONS = [f"{4000 + n}" for n in range(100)]


@dataclass(frozen=True)
class Seat:
    extension: str
    domain: str = ACME
    pin: str | None = PIN
    hot_desk: bool = True


SEATS = {
    "login_udp": Seat("2001"),
    "login_tcp": Seat("2002"),
    "wrong_pin_udp": Seat("2011"),
    "wrong_pin_tcp": Seat("2012"),
    "wrong_pin_slow": Seat("2013"),
    "no_access": Seat("2020", hot_desk=False),
    "untrusted": Seat("2030"),
    "noauth": Seat("2040"),
    "mismatch_owner": Seat("2050"),
    "mismatch_target": Seat("2051"),
    "logout": Seat("2060"),
    "logout_all": Seat("2061"),
    "lockout": Seat("2070"),
    "portal_down": Seat("2080"),
    "portal_slow": Seat("2081"),
    "two_handsets": Seat("2090"),
    "refresh": Seat("2100"),
    "forced_logout": Seat("2110"),
    "cached_refresh": Seat("2120"),
    "revoked_refresh": Seat("2121"),
    "cached_wrong_pin": Seat("2122"),
    "moved_ip_refresh": Seat("2123"),
    "outage_refresh": Seat("2124"),
    "outage_login": Seat("2125"),
    "cache_expiry": Seat("2126"),
    "batch_logout": Seat("2130"),
    "batch_retry_1": Seat("2131"),
    "batch_retry_4": Seat("2132"),
    **{f"storm_{n:02d}": Seat(f"{2140 + n}") for n in range(20)},
    # The attacks on the edge (test_edge_attacks.py) and a real phone's log-out.
    "attack_reused_ids": Seat("2200"),
    "attack_reused_ids_other": Seat("2201"),
    "attack_reused_ids_third": Seat("2207"),
    "attack_large_cseq": Seat("2202"),
    "attack_parallel": Seat("2203", domain=OTHER, pin=OTHER_PIN),
    "attack_contact": Seat("2204", domain=OTHER, pin=OTHER_PIN),
    "attack_enumerate": Seat("2205"),
    "phone_logout": Seat("2206"),
    # A stalled portal (test_portal_stall.py).
    "stall_cached": Seat("2210"),
    "stall_storm": Seat("2211"),
    "stall_recovered": Seat("2212"),
    "wrong_pin_report_refused": Seat("2213"),
    "edge_restart": Seat("2214"),
    "twin_acme": Seat("3001", domain=ACME),
    "twin_other": Seat("3001", domain=OTHER, pin=OTHER_PIN),
    **{f"call_{n}": Seat(f"{2300 + n}") for n in range(30)},
    # Real softphones (test_softphones.py): baresip logged in through the hot-desk flow.
    **{f"softphone_{n}": Seat(f"{2400 + n}") for n in range(6)},
    # Logins that end by themselves (test_logout_times.py).
    "daily_logout": Seat("2500"),
    "expiry_cap": Seat("2501"),
    "pbx_callee": Seat("3101", domain=OTHER, pin=OTHER_PIN),
    "pbx_nobody": Seat("3102", domain=OTHER, pin=OTHER_PIN),
    **{
        f"load_{n:02d}": Seat(extension, domain=FAULTS)
        for n, extension in enumerate(LOAD_EXTENSIONS)
    },
    **{f"fault_refresher_{n}": Seat(f"{4100 + n}", domain=FAULTS) for n in range(10)},
    **{f"fault_login_{n}": Seat(f"{4110 + n}", domain=FAULTS) for n in range(10)},
    **{f"fault_victim_{n:03d}": Seat(f"{4200 + n}", domain=FAULTS) for n in range(200)},
}
TRUSTED = {ACME: "127.0.0.1/32", OTHER: "127.0.0.0/8", FAULTS: "127.0.0.0/8"}


def load() -> None:
    from accounts.models import Account
    from audit.trail import Actor
    from installs.models import Install
    from trustedips import services as ranges
    from trustedips.validators import parse_network
    from users import services as users
    from users.models import PbxUser

    actor = Actor.for_command("e2e-seed")
    installs = {}
    for domain, network in TRUSTED.items():
        account = Account.objects.create(name=f"Customer of {domain}")
        installs[domain] = Install.objects.create(
            account=account, name=domain.split(".")[0].title(), sip_domain=domain
        )
        ranges.add_range(
            install=installs[domain],
            network=parse_network(network),
            description="end-to-end tests",
            actor=actor,
        )
    for name, seat in SEATS.items():
        users.save_user(
            user=PbxUser(
                install=installs[seat.domain],
                extension=seat.extension,
                name=name,
                hot_desk_access=seat.hot_desk,
            ),
            pin=seat.pin,
            actor=actor,
        )


if __name__ == "__main__":
    import django

    django.setup()
    load()
