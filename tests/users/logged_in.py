"""A stand-in for registrations' answer to `users.signals.logged_in_now`, for the tests.

`open_sessions` is the receiver proposed for registrations/receivers.py, word for word; until
it is there, the tests that need "logged in now" connect this copy for their own duration
(`answering_logged_in_now`). Once the real one is connected both answer, with the same
extensions, and the merged answer is unchanged.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from registrations.models import HotDeskSession
from users.signals import logged_in_now

DISPATCH_UID = "tests.users.logged_in_now"


def open_sessions(sender, install, **kwargs) -> dict[str, str]:
    """Who is logged in at a hot desk of `install` now (extension -> handset), for the Users tab.

    The open sessions whose binding has not run out, in one query: the list must not wait for
    the SIP edges (the Real Time Dashboard reconciles the sessions with them).
    """
    live = HotDeskSession.objects.filter(
        install=install,
        ended_at__isnull=True,
        expires_at__gt=timezone.now(),
        pbx_user__isnull=False,
    ).values_list("pbx_user__extension", "source_ip", "user_agent")
    return {extension: f"{ip} {agent}".strip() for extension, ip, agent in live}


@contextmanager
def answering_logged_in_now() -> Iterator[None]:
    logged_in_now.connect(open_sessions, dispatch_uid=DISPATCH_UID)
    try:
        yield
    finally:
        logged_in_now.disconnect(dispatch_uid=DISPATCH_UID)
