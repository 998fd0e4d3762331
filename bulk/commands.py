"""The bulk commands' shared body: `export_*` writes a CSV, `import_*` dry-runs or applies one."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.trail import Actor
from installs.models import Install

from .imports import Kind, report_lines, run_import


def _install(domain: str) -> Install:
    install = Install.objects.filter(sip_domain=domain.strip().lower()).first()
    if install is None:
        raise CommandError(f"No install has the SIP domain {domain}.")
    return install


class ExportCommand(BaseCommand):
    kind: Kind

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("file", nargs="?", default="-", help="Where to write (default: stdout)")

    def handle(self, *args: Any, domain: str, file: str, **options: Any) -> None:
        install = _install(domain)
        if file == "-":
            count = self.kind.export(install=install, out=self.stdout)
        else:
            try:
                with open(file, "w", encoding="utf-8", newline="") as out:
                    count = self.kind.export(install=install, out=out)
            except OSError as error:
                raise CommandError(f"Cannot write {file}: {error.strerror}.") from None
        self.stderr.write(f"Exported {count} {self.kind.title.lower()} of {install.sip_domain}.")


class ImportCommand(BaseCommand):
    """Dry run by default; `--apply` imports every row in one transaction, or none."""

    kind: Kind
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True)
        parser.add_argument("file", nargs="?", default="-", help="CSV to read (default: stdin)")
        parser.add_argument("--apply", action="store_true", help="Import (default: dry run)")

    def handle(self, *args: Any, domain: str, file: str, apply: bool, **options: Any) -> None:
        install = _install(domain)
        data = self._read(file, options.get("stdin") or sys.stdin)
        plan = run_import(
            self.kind,
            install=install,
            data=data,
            actor=Actor.for_command(self.__module__.rsplit(".", 1)[-1]),
            apply=apply,
        )
        if plan.problem:
            raise CommandError(f"Nothing imported: {plan.problem}")
        for line in report_lines(plan):
            self.stdout.write(line)
        if plan.has_errors:
            failed = [row for row in plan.rows if row.errors]
            more = (
                f" (and {len(failed) - 1} more rows with errors, listed above)"
                if len(failed) > 1
                else ""
            )
            raise CommandError(
                f"Nothing imported: line {failed[0].line}: {'; '.join(failed[0].errors)}{more}"
            )
        if plan.applied:
            self.stdout.write(
                self.style.SUCCESS(f"Imported into {install.sip_domain}: {plan.summary()}.")
            )
        else:
            self.stdout.write(f"Dry run, nothing changed: {plan.summary()}. Add --apply to import.")

    @staticmethod
    def _read(file: str, stdin) -> bytes:
        if file == "-":
            stream = getattr(stdin, "buffer", None)
            return stream.read() if stream is not None else stdin.read().encode()
        try:
            with open(file, "rb") as handle:
                return handle.read()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
