"""`ThrottledRelay`: a real TCP relay in front of the real Swift proxy, slowing uploads.

Not a fake: every byte goes to the local Swift and back unchanged. It only caps the
client-to-server rate, so that a transfer lasts at least a known time whatever the
machine's speed (e.g. longer than a Keystone token lives). Registered in the catalog as
the object-store endpoint of a region of its own, radswift reaches it by OS_REGION_NAME.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

_CHUNK = 8192


class ThrottledRelay:
    """Relays 127.0.0.1:port -> upstream; client->server bytes capped at `rate` bytes/s
    in total, however many connections share it."""

    def __init__(self, upstream_host: str, upstream_port: int, rate: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._rate = rate
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._free_at = time.monotonic()  # when the bytes sent so far are "paid for"
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> ThrottledRelay:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pay(self, sent: int) -> None:
        with self._lock:
            self._free_at = max(self._free_at, time.monotonic()) + sent / self._rate
            wait = self._free_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _pump(self, source: socket.socket, sink: socket.socket, throttled: bool) -> None:
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
                if throttled:
                    self._pay(len(data))
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
