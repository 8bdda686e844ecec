"""A loopback TCP proxy that can cut a connection after N bytes from server to client.

Toxiproxy's ``limit_data`` in ~60 lines (intake-reliability.md §5.2): the test points the
client at ``proxy.port``; ``cut_after(n)`` makes the next connection die once n bytes of server
output have been passed on, which lands the cut inside a FETCH literal.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class FaultProxy:
    """Forwards 127.0.0.1:<port> to ``target``; one thread pair per connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.limit: int | None = None
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cut_after(self, server_bytes: int | None) -> None:
        """Connections opened from now on are cut after this many server→client bytes (None: never)."""
        self.limit = server_bytes

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for sock in self._sockets:
            _close(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            limit = self.limit
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, limit), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        passed = 0
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if limit is not None and passed + len(chunk) >= limit:
                    sink.sendall(chunk[: max(0, limit - passed)])
                    self.cuts += 1
                    break
                sink.sendall(chunk)
                passed += len(chunk)
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
