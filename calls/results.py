"""What a call came to, from what the SIP edge saw: the one rule every record follows."""

from __future__ import annotations

from .models import Result

# Nobody took the call: it rang out, was cancelled, or nobody was there to ring.
_MISSED = frozenset({408, 480, 487})
_BUSY = frozenset({486, 600})


def result_of(*, answered: bool, sip_code: int | None, cancelled: bool) -> Result:
    """The result of an ended call: answered, missed, busy, refused or failed.

    `sip_code` is the final answer to the INVITE (200 for an answered call), `cancelled`
    whether the caller cancelled it before an answer.
    """
    if answered:
        return Result.ANSWERED
    if cancelled or sip_code in _MISSED:
        return Result.MISSED
    if sip_code in _BUSY:
        return Result.BUSY
    if sip_code is not None and (400 <= sip_code < 500 or sip_code in (603, 604, 606)):
        return Result.REFUSED
    return Result.FAILED
