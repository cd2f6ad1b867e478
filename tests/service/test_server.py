"""The listening socket: a taken port is a clear error; the socket is TCP by protocol."""

from __future__ import annotations

import socket

import pytest

from adapters.core.errors import ConfigurationError
from service.server import bind


def test_the_socket_names_tcp_so_asyncio_turns_nagle_off() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP; with protocol 0 every
    # answer waited ~40 ms for the client's delayed ACK (measured: /healthz 45 ms -> 10 ms)
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        with socket.create_connection(sock.getsockname(), timeout=5):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP


def test_a_taken_port_is_a_configuration_error_naming_the_setting() -> None:
    with bind("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match="the port is taken") as caught:
            bind("127.0.0.1", port)
        assert caught.value.context["setting"] == "service_port"
