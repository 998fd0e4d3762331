"""Plain-language explanations of each reason, for administrators."""

from .policy import Reason

EXPLANATIONS: dict[Reason, str] = {
    Reason.OK: "The login would be allowed; the handset must still send the right PIN.",
    Reason.UNKNOWN_DOMAIN: "No Phone System Install has this SIP domain.",
    Reason.UNKNOWN_EXTENSION: "There is no user with this extension on the install.",
    Reason.NO_HOT_DESK_ACCESS: (
        "The user does not have Hot Desk Access. Tick it on the user's settings."
    ),
    Reason.NO_PIN_SET: "The user has no Hot Desk PIN. Set one on the user's settings.",
    Reason.MALFORMED_SOURCE: "The source is not a valid IP address.",
    Reason.UNTRUSTED_SOURCE: (
        "The address is outside every trusted range. Add the office's range on the Trusted IPs tab."
    ),
    Reason.LOCKED: (
        "Too many wrong PINs: the user is locked. Unlock them on the Users tab or set a new PIN."
    ),
    Reason.WRONG_PIN: "The handset sent a wrong PIN.",
    Reason.TOO_LATE: (
        "The portal answered after the SIP edge had stopped waiting, and the handset was told "
        "to try again later (503). Nothing was allowed; if this is frequent, the portal or its "
        "database is too slow."
    ),
    Reason.NO_OUTCOME: (
        "The SIP edge was given the PIN's hash and never said whether the handset sent the right "
        "PIN, so the attempt counts as a wrong PIN."
    ),
    Reason.LOGGED_OUT: (
        "This handset's login was ended (Log out on the dashboard, a new PIN, or the install's "
        "logout time), so its automatic refresh is refused. The operator logs in again at the "
        "desk with the Hot Desking key."
    ),
}
