"""Client CPU per SOAP POST of ``SoapTransport`` over one keep-alive connection (not part of ``python -m bench``).

A ``SimServer`` in a child process answers every POST with 2 KB of XML; this process posts a 4 KB
envelope ``--calls`` times per round through one ``SoapTransport`` (after a warm-up) and prints,
per round and as the median of the rounds: client CPU per call (``time.process_time`` of this
process: the transport, urllib3/requests, http.client, the socket calls and the interpreter; the
server's CPU is in the child and not counted) and wall time per call (the round trip, server
included). No figure is asserted: they depend on the machine and its load.

Run it from a tree's root as ``python -m bench.transport_cost``. It measures whatever ``adapters``
package Python imports, so the same file compares two trees:
``cd /other/tree && PYTHONPATH=. python /this/tree/bench/transport_cost.py``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="posts per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=200, help="posts before measuring (default 200)")
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        url = parent.recv()
        figures = measure(url, args.calls, args.rounds, args.warmup)
    finally:
        parent.send("stop")
        server.join(10)
    for i, (cpu, wall) in enumerate(figures, 1):
        print(f"round {i}: client CPU {cpu * 1e6:7.1f} µs/call, wall {wall * 1e6:7.1f} µs/call")
    print(f"median of {len(figures)} rounds of {args.calls} keep-alive POSTs: client CPU "
          f"{statistics.median(c for c, _ in figures) * 1e6:.1f} µs/call, wall "
          f"{statistics.median(w for _, w in figures) * 1e6:.1f} µs/call")


if __name__ == "__main__":
    main()
