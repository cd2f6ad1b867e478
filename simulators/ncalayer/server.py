"""The NCALayer simulator on a WebSocket: ``ws://127.0.0.1:13579`` by default (NCALayer's port).

Real NCALayer listens with TLS (``wss://``) under a certificate its installer adds to the browser's
trust; the simulator speaks plain ``ws://`` on the loopback, which a page served over ``http://``
may open, and the page is told the URL (the portal's ``ncalayer_url``). Each connection gets the
version greeting first, then one answer per request, in order.

The simulator signs without asking (real NCALayer shows a dialog for each signature), so any page the
browser opens could have it sign: it accepts a connection only from the allowed pages (the ``Origin``
header a browser always sends on a WebSocket; 403 otherwise), by default the portal on its default
port. A connection without an ``Origin`` is a local program, not a page, and is served.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Origin

from simulators.ncalayer.keys import KeyChoice
from simulators.ncalayer.protocol import NcaLayerProtocol, hello

DEFAULT_PORT = 13579
DEFAULT_ORIGINS = ("http://127.0.0.1:8783", "http://localhost:8783")
"""The pages allowed unless told otherwise: the portal of ``egov sim up`` on its default port."""
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest request (an XML to sign): as large as E-licensing's largest request."""

log = logging.getLogger(__name__)


class NcaLayerSimulator:
    """A local NCALayer answering with ``keys``; ``port`` 0 takes a free one."""

    def __init__(self, keys: KeyChoice, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 origins: Sequence[str] = DEFAULT_ORIGINS, any_origin: bool = False) -> None:
        self.protocol = NcaLayerProtocol(keys)
        if not origins and not any_origin:
            raise ValueError("name the pages allowed to connect (origins), or allow any page explicitly (any_origin)")
        self._origins: list[Origin | None] | None = None if any_origin else [*map(Origin, origins), None]
        """Pages (``Origin`` headers) that may connect, and None: a client that sends no ``Origin``
        (not a browser page); None for the whole list: any page (``any_origin``), as NCALayer itself,
        which asks the user for each signature."""
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
                             compression=None, origins=self._origins)
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
