"""A stand-in for a portal that is slow or stopped, in front of the real one.

Kamailio's portal URL points here; every request is passed on to the real portal (gunicorn)
unchanged, so the answers are the portal's own. A test can make check requests or batches of
reports wait before they are passed on (`delaying_checks`, `delaying_report_batches`), fail
batches (`failing_report_batches`, `failing_call_batches`), or stop the portal altogether
(`stop`: the listening socket closes and open keep-alive connections are cut, as when
gunicorn stops), and it can count the check requests that arrived for one Call-ID and the
requests that arrived for each path.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHECK_PATH = "/api/sip/v1/register/check"
REPORT_BATCH_PATH = "/api/sip/v1/register/events"
CALL_BATCH_PATH = "/api/sip/v1/calls/events"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class PortalProxy:
    def __init__(self, *, port: int, upstream_port: int) -> None:
        self.port = port
        self.upstream_port = upstream_port
        self.check_delay = 0.0
        self.batch_delay = 0.0
        self.batch_failures = 0
        self.call_batch_failures = 0
        self.checks_by_call_id: Counter[str] = Counter()
        self.requests_by_path: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without this every keep-alive answer waits ~40 ms for Nagle (see the notes).
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_GET(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                with proxy._lock:
                    proxy.requests_by_path[url.path] += 1
                if url.path == CHECK_PATH:
                    call_id = parse_qs(url.query).get("callid", [""])[0]
                    with proxy._lock:
                        proxy.checks_by_call_id[call_id] += 1
                        delay = proxy.check_delay
                    time.sleep(delay)
                elif url.path == REPORT_BATCH_PATH:
                    with proxy._lock:
                        fail = proxy.batch_failures > 0
                        proxy.batch_failures -= fail
                    if fail:
                        self.send_error(503, "failing on purpose")
                        return
                    time.sleep(proxy.batch_delay)
                elif url.path == CALL_BATCH_PATH:
                    with proxy._lock:
                        fail = proxy.call_batch_failures > 0
                        proxy.call_batch_failures -= fail
                    if fail:
                        self.send_error(503, "failing on purpose")
                        return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Stop answering: refuse new connections and cut the open ones."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        with self._lock:
            open_connections, self._connections = list(self._connections), set()
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def stopped(self):
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextlib.contextmanager
    def delaying_checks(self, seconds: float):
        self.check_delay = seconds
        try:
            yield
        finally:
            self.check_delay = 0.0

    @contextlib.contextmanager
    def delaying_report_batches(self, seconds: float):
        self.batch_delay = seconds
        try:
            yield
        finally:
            self.batch_delay = 0.0

    @contextlib.contextmanager
    def failing_report_batches(self, count: int):
        """Answer the next `count` batches of reports with 503 instead of passing them on."""
        self.batch_failures = count
        try:
            yield
        finally:
            self.batch_failures = 0

    @contextlib.contextmanager
    def failing_call_batches(self, count: int):
        """Answer the next `count` batches of call events with 503 instead of passing them on."""
        self.call_batch_failures = count
        try:
            yield
        finally:
            self.call_batch_failures = 0

    def requests_to(self, path: str) -> int:
        with self._lock:
            return self.requests_by_path[path]

    def checks_for(self, call_id: str) -> int:
        with self._lock:
            return self.checks_by_call_id[call_id]
