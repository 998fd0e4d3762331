"""Whether an install is ready for hot desking, said in the administrator's words."""

from installs.models import Install
from trustedips.models import TrustedRange
from users.models import PbxUser

from . import yealink


def readiness_problems(install: Install) -> list[str]:
    """What stops hot desking working on this install today (empty when nothing does).

    A login needs both a trusted range to come from and a user with Hot Desk Access and a PIN;
    an expiry above 600 s can let a logged-in operator's registration lapse.
    """
    problems = []
    if not TrustedRange.objects.filter(install=install).exists():
        problems.append(
            "This install has no trusted IP range yet: no hot-desk login can succeed until "
            "you add the office's range on the Trusted IPs tab."
        )
    if (
        not PbxUser.objects.filter(install=install, hot_desk_access=True)
        .exclude(pin_ha1="")
        .exists()
    ):
        problems.append(
            "No user has Hot Desk Access and a PIN yet: give at least one user both on the "
            "Users tab, or nobody can log in."
        )
    if install.registration_expiry > yealink.MAX_SAFE_EXPIRY:
        problems.append(
            f"The registration expiry is {install.registration_expiry} s. Keep it at or under "
            f"{yealink.MAX_SAFE_EXPIRY} s (Settings tab) so a logged-in operator never times out."
        )
    return problems
