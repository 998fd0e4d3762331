import contextlib
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kamailio import edge_config, process


class Command(BaseCommand):
    help = (
        "Run Kamailio in the foreground with deploy/kamailio/kamailio.cfg on UDP and TCP at "
        "--listen, asking the portal at --portal-url; stops it on Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", required=True, help="SIP address, e.g. 127.0.0.1:5070")
        parser.add_argument("--portal-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument(
            "--rpc-port", type=int, help="JSON-RPC over HTTP on 127.0.0.1 (default: SIP port + 1)"
        )
        parser.add_argument(
            "--rundir", type=Path, help="Run directory (default: a new temporary one)"
        )
        parser.add_argument(
            "--flood-density",
            type=int,
            help="Requests per 2 s from one address before pike blocks it; at most 65535 "
            "(load tests from one address)",
        )
        parser.add_argument("--children", type=int, help="SIP worker processes")
        parser.add_argument(
            "--shm-mb",
            type=int,
            default=256,
            help="Kamailio shared memory in MB (-m); each REGISTER holds ~14 KB for 5 s",
        )
        parser.add_argument(
            "--refresh-cache-seconds",
            type=int,
            help="HOTDESK_REFRESH_CACHE_SECONDS: how long Kamailio authenticates refreshes of a "
            "portal-validated binding by itself (0: every REGISTER asks the portal)",
        )
        parser.add_argument(
            "--natping-interval",
            type=int,
            help="HOTDESK_NATPING_INTERVAL: seconds between the OPTIONS that keep a NATed "
            "handset reachable (0: none)",
        )
        parser.add_argument(
            "--tables-interval",
            type=int,
            help="HOTDESK_TABLES_INTERVAL: seconds between fetches of the PBX table and the "
            "locked list (a changed PBX address is fetched at once anyway)",
        )

    def handle(
        self,
        *args: Any,
        listen: str,
        portal_url: str,
        rpc_port: int | None,
        rundir: Path | None,
        **options: Any,
    ) -> None:
        with contextlib.ExitStack() as cleanup:
            if rundir is None:
                rundir = Path(
                    cleanup.enter_context(tempfile.TemporaryDirectory(prefix="hotdesk-runsip-"))
                )
            try:
                config = edge_config.make_config(
                    listen=listen,
                    portal_url=portal_url,
                    rpc_port=rpc_port,
                    rundir=rundir,
                    flood_density=options["flood_density"],
                    children=options["children"],
                    refresh_cache_seconds=options["refresh_cache_seconds"],
                    natping_interval=options["natping_interval"],
                    tables_interval=options["tables_interval"],
                    shm_mb=options["shm_mb"],
                )
                edge_config.find_kamailio()
                status = process.run_foreground(config)
            except edge_config.EdgeError as error:
                raise CommandError(str(error)) from None
        if status:
            raise CommandError(f"kamailio exited with status {status}.", returncode=status)
