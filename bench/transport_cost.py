"""Client CPU per SOAP POST of ``SoapTransport`` over one keep-alive connection (not part of ``python -m bench``).

A ``SimServer`` in a child process answers every POST with 2 KB of XML; this process posts a 4 KB
envelope ``--calls`` times per round through one ``SoapTransport`` (after a warm-up) and prints,
per round and as the median of the rounds: client CPU per call (``time.process_time`` of this
process: the SOAP and network transports, the socket calls and the interpreter; the
server's CPU is in the child and not counted) and wall time per call (the round trip, server
included). No figure is asserted: they depend on the machine and its load.

Run it from a tree's root as ``python -m bench.transport_cost``. It measures whatever ``adapters``
package Python imports, so the same file compares two trees:
``cd /other/tree && PYTHONPATH=. python /this/tree/bench/transport_cost.py``. Within one run:
``--before OTHER/adapters/core/http/network.py`` loads another version of the network transport
module (on this tree's helpers: body, deadline, reader, failures…) and takes turns with this one,
round by round, on the same server, so a burst of load from elsewhere hits both alike; the median
after / before is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ENVELOPE = (b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            b'envelope/"><soap:Body><p>' + b"x" * 4000 + b"</p></soap:Body></soap:Envelope>")
ANSWER = b"<r>" + b"y" * 2041 + b"</r>"


def _serve(conn: Connection) -> None:
    """Child process: run the echo server until told to stop."""
    from simulators.common.httpserver import Request, Response, Router, SimServer

    def answer(req: Request) -> Response:
        return Response.xml(ANSWER)

    router = Router()
    router.add("POST", "/", answer)
    with SimServer(router, name="transport-cost") as server:
        conn.send(server.url)
        conn.recv()


def measure(url: str, calls: int, rounds: int, warmup: int) -> list[tuple[float, float]]:
    """(client CPU seconds per call, wall seconds per call) of each round."""
    import adapters
    from adapters.core.transport import SoapTransport

    print(f"adapters from {adapters.__path__[0]}")
    figures = []
    with SoapTransport() as transport:
        for _ in range(warmup):
            transport.post(url + "/ws", ENVELOPE, soap_action="urn:bench")
        for _ in range(rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                result = transport.post(url + "/ws", ENVELOPE, soap_action="urn:bench")
                assert result.status == 200 and result.body == ANSWER
            figures.append(((time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls))
    return figures


def network_module(path: Path) -> Any:
    """The network transport module at ``path``, loaded under its own name beside this tree's."""
    spec = importlib.util.spec_from_file_location("before_network", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def compare(url: str, before: Path, calls: int, rounds: int, warmup: int) -> dict[str, list[tuple[float, float]]]:
    """(client CPU, wall) per call of each round, for this tree's transport and the one at ``before``,
    the rounds taking turns."""
    from adapters.core.http import NetworkTransport
    from adapters.core.transport import SoapTransport

    old = network_module(before).NetworkTransport()
    transports = {"before": SoapTransport(http=old), "after": SoapTransport(http=NetworkTransport())}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in transports}
    for transport in transports.values():
        for _ in range(warmup):
            transport.post(url + "/ws", ENVELOPE, soap_action="urn:bench")
    for _ in range(rounds):
        for name, transport in transports.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                result = transport.post(url + "/ws", ENVELOPE, soap_action="urn:bench")
                assert result.status == 200 and result.body == ANSWER
            figures[name].append(((time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls))
    old.close()
    transports["after"].close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="posts per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=200, help="posts before measuring (default 200)")
    parser.add_argument("--before", type=Path, help="another tree's adapters/core/http/network.py to take turns with")
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        if args.before is not None:
            pairs = compare(url, args.before, args.calls, args.rounds, args.warmup)
        else:
            figures = measure(url, args.calls, args.rounds, args.warmup)
    finally:
        parent.send("stop")
        server.join(10)
    if args.before is not None:
        for i, (old, new) in enumerate(zip(pairs["before"], pairs["after"], strict=True), 1):
            print(f"round {i}: client CPU before {old[0] * 1e6:7.1f}, after {new[0] * 1e6:7.1f} µs/call "
                  f"({new[0] / old[0]:.2f}×)")
        medians = {name: statistics.median(c for c, _ in rounds) for name, rounds in pairs.items()}
        ratios = statistics.median(n[0] / o[0] for o, n in zip(pairs["before"], pairs["after"], strict=True))
        print(f"median of {args.rounds} rounds of {args.calls} keep-alive POSTs each: client CPU before "
              f"{medians['before'] * 1e6:.1f}, after {medians['after'] * 1e6:.1f} µs/call; after / before "
              f"{ratios:.2f}× (median of the rounds' ratios)")
        return
    for i, (cpu, wall) in enumerate(figures, 1):
        print(f"round {i}: client CPU {cpu * 1e6:7.1f} µs/call, wall {wall * 1e6:7.1f} µs/call")
    print(f"median of {len(figures)} rounds of {args.calls} keep-alive POSTs: client CPU "
          f"{statistics.median(c for c, _ in figures) * 1e6:.1f} µs/call, wall "
          f"{statistics.median(w for _, w in figures) * 1e6:.1f} µs/call")


if __name__ == "__main__":
    main()
