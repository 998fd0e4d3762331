"""A TCP stand-in for a network path that fails: between the portal and PostgreSQL or Redis.

Every connection to `port` is passed on to `upstream`, byte for byte, until a test makes the
path fail for a while:

- `delaying(seconds)`: every chunk waits that long before it is passed on (a slow database);
- `blackholed()`: nothing is passed on and new connections are accepted but go nowhere (a
  server that stopped answering: the client waits for its own timeout); afterwards what was
  held flows on;
- `cut()`: every open connection is closed and new ones are closed at once (a server that
  is gone: the client gets an error at once).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class TcpProxy:
    def __init__(self, *, port: int, upstream: tuple[str | None, int]) -> None:
        self.port = port
        self.upstream = upstream
        self._delay = 0.0
        self._flowing = threading.Event()
        self._flowing.set()
        self._cut = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._flowing.set()
        self._close_all()

    @contextlib.contextmanager
    def delaying(self, seconds: float) -> Iterator[None]:
        self._delay = seconds
        try:
            yield
        finally:
            self._delay = 0.0

    @contextlib.contextmanager
    def blackholed(self) -> Iterator[None]:
        self._flowing.clear()
        try:
            yield
        finally:
            self._flowing.set()

    @contextlib.contextmanager
    def cut(self) -> Iterator[None]:
        self._cut = True
        self._close_all()
        try:
            yield
        finally:
            self._cut = False

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            if self._cut:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        self._flowing.wait()  # a blackholed path: the connection is accepted, then nothing
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            self._close(client)
            return
        server.settimeout(None)
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._track(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                self._flowing.wait()
                if self._delay:
                    time.sleep(self._delay)
                if self._cut:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _close_all(self) -> None:
        with self._lock:
            open_now = list(self._sockets)
        for sock in open_now:
            self._close(sock)
