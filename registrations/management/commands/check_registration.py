import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.commands import read_secret_from_stdin
from registrations.evaluation import evaluate
from registrations.policy import Reason
from users.digest import ha1_matches_pin


class Command(BaseCommand):
    help = (
        "Would this hot-desk REGISTER be allowed? Prints ALLOW or DENY <reason>; exits 0 allow, "
        "1 deny, 2 bad usage. Never counts toward a lockout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("--extension", required=True)
        parser.add_argument("--ip", required=True, help="Source address of the handset")
        parser.add_argument(
            "--pin-stdin", action="store_true", help="Also check a PIN read from stdin"
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(
        self,
        *args: Any,
        domain: str,
        extension: str,
        ip: str,
        pin_stdin: bool,
        json: bool,
        **options: Any,
    ) -> None:
        try:
            pin = read_secret_from_stdin("PIN") if pin_stdin else None
        except CommandError as error:
            raise CommandError(str(error), returncode=2) from None
        evaluation = evaluate(domain=domain, extension=extension, source_ip=ip)
        allow, reason = evaluation.decision.allow, evaluation.decision.reason
        if (
            allow
            and pin is not None
            and evaluation.decision.ha1 is not None
            and not ha1_matches_pin(
                ha1=evaluation.decision.ha1,
                extension=extension,
                domain=domain.strip().lower(),
                pin=pin,
            )
        ):
            allow, reason = False, Reason.WRONG_PIN
        if json:
            self.stdout.write(
                _json_line(domain=domain, extension=extension, ip=ip, allow=allow, reason=reason)
            )
        else:
            self.stdout.write("ALLOW" if allow else f"DENY {reason.value}")
        if not allow:
            raise SystemExit(1)


def _json_line(*, domain: str, extension: str, ip: str, allow: bool, reason: Reason) -> str:
    return json.dumps(
        {
            "decision": "allow" if allow else "deny",
            "reason": reason.value,
            "domain": domain.strip().lower(),
            "extension": extension,
            "ip": ip,
        }
    )
