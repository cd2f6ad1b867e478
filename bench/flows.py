"""Bench b: complete Diagram-1 flows per second on two cores against the simulators.

Not measured yet: the procedure runner (``adapters.procedure.FlowRunner``) exists, but the wiring
that gives it one adapter call per step of Diagram 1 (gateway, E-licensing, legal entities,
payments, against the simulators) has not landed. Timing a hand-made imitation of that wiring
would measure something else, so this bench reports a clearly labelled "not measured" row until
the wiring exists (``WIRING_MODULE`` below is where it is expected).
"""

from __future__ import annotations

import importlib.util

from bench import Row

WIRING_MODULE = "adapters.procedure.wiring"
TARGET_FLOWS_PER_SECOND = 50.0


def wiring_available() -> bool:
    try:
        return importlib.util.find_spec(WIRING_MODULE) is not None
    except ModuleNotFoundError:
        return False


def run(quick: bool = False) -> list[Row]:
    why = ("not measured yet: needs the procedure runner wired to the adapters "
           f"({WIRING_MODULE} not present)") if not wiring_available() else (
           f"not measured yet: {WIRING_MODULE} exists but this bench has not been connected to it")
    target = f"≥ {TARGET_FLOWS_PER_SECOND:g}/s"
    return [
        Row(bench="b", figure="Diagram-1 flows per second (2 cores, simulators)", value=None, unit="flows/s",
            target=target, note=why),
        Row(bench="b", figure="share of flow time: signing / verification / XML / HTTP", value=None, unit="%",
            note=why),
    ]


if __name__ == "__main__":
    from bench import print_rows

    print_rows(run())
