"""The NCALayer simulator on a WebSocket: ``ws://127.0.0.1:13579`` by default (NCALayer's port).

Real NCALayer listens with TLS (``wss://``) under a certificate its installer adds to the browser's
trust; the simulator speaks plain ``ws://`` on the loopback, which a page served over ``http://``
may open, and the page is told the URL (the portal's ``ncalayer_url``). Each connection gets the
version greeting first, then one answer per request, in order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from simulators.ncalayer.keys import KeyChoice
from simulators.ncalayer.protocol import NcaLayerProtocol, hello

DEFAULT_PORT = 13579
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest request (an XML to sign): as large as E-licensing's largest request."""

log = logging.getLogger(__name__)


class NcaLayerSimulator:
    """A local NCALayer answering with ``keys``; ``port`` 0 takes a free one."""

    def __init__(self, keys: KeyChoice, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 origins: Sequence[str] | None = None) -> None:
        self.protocol = NcaLayerProtocol(keys)
        self._origins = list(origins) if origins else None
        """Pages (``Origin`` headers) that may connect; None: any page, as NCALayer itself, which asks
        the user for each signature. The simulator signs without asking: name the portal here when
        the browser visits other sites too."""
        self._host = host
        self._port = port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def use(self, keys: KeyChoice) -> None:
        """From now on answer with ``keys`` (the user picks other files in NCALayer's dialog)."""
        self.protocol.keys = keys

    def _serve(self, connection: ServerConnection) -> None:
        try:
            connection.send(hello())
            for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                connection.send(self.protocol.answer(text))
        except ConnectionClosed:
            return

    @property
    def port(self) -> int:
        if self._server is None:
            return 0
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        """``ws://host:port`` (empty before :meth:`start`)."""
        return f"ws://{self._host}:{self.port}" if self._server is not None else ""

    def start(self) -> NcaLayerSimulator:
        self._server = serve(self._serve, self._host, self._port, max_size=MAX_MESSAGE_BYTES,
                             compression=None, origins=self._origins)  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._server.serve_forever, name="ncalayer", daemon=True)
        self._thread.start()
        log.info("NCALayer simulator on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> NcaLayerSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
