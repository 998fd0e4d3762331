from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.log import calls_of, write_csv
from installs.commands import install_by_domain


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Write an install's call records as CSV to stdout, oldest first: "
        "started_at,answered_at,ended_at,duration_seconds,direction,extension,other_party,"
        "result,handset_ip (times ISO 8601 with their offset)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True, help="The install's SIP domain")
        parser.add_argument("--since", help="First day to include, YYYY-MM-DD")
        parser.add_argument("--until", help="Last day to include, YYYY-MM-DD")

    def handle(
        self, *args: Any, domain: str, since: str | None, until: str | None, **options: Any
    ) -> None:
        first = _day(since) if since else None
        last = _day(until) if until else None
        if first and last and last < first:
            raise CommandError("--until must be on or after --since.")
        install = install_by_domain(domain)
        calls = calls_of(install, since=first, until=last).order_by("started_at", "pk")
        count = write_csv(self.stdout, calls.iterator(chunk_size=2000))
        self.stderr.write(f"Exported {count} call records of {install.sip_domain}.")
