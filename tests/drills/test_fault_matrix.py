"""Drill: every fault kind of the simulators × every adapter operation that crosses the wire.

Each cell injects one fault (once, or persistently until the retries run out) aimed at one
operation, calls it through the adapter under a journalled ``ResilientCaller`` with a fake sleep,
and checks the outcome class, the messageId of every attempt, that no application, payment,
licence or backend call was lost or duplicated, and that the exchange journal has one row per
attempt. Expected outcomes come from the tables of ``tests/drills/fault_matrix.py``, not from the
code under test. Loopback only; module-scoped simulators reset between cells.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.drills.fault_matrix import (
    FAULTS,
    OPERATIONS,
    SYSTEMS,
    Cell,
    Drill,
    cells,
    expected,
    run_cell,
    start_drill,
)

CELLS = cells()


@pytest.fixture(scope="module")
def drill(pki: Any, elicense_keys: Any, backend_keys: Any, backend_verifier: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    with start_drill(pki=pki, elicense_keys=elicense_keys, backend_keys=backend_keys, verifier=backend_verifier,
                     workdir=Path(tmp_path_factory.mktemp("fault-matrix"))) as made:
        yield made


@pytest.mark.parametrize("cell", [pytest.param(c, id=c.id) for c in CELLS])
def test_fault_matrix(drill: Drill, cell: Cell) -> None:
    run_cell(drill, cell)


def test_the_matrix_covers_every_kind_and_operation() -> None:
    """Every FaultSpec kind (plus maintenance, timeout and refused connections) meets every operation."""
    from typing import get_args

    from simulators.common.faults import FaultKind

    kinds = set(get_args(FaultKind)) | {"maintenance", "timeout", "refused"}
    kinds.discard("latency")  # latency is the carrier of "timeout" and has its own cell as well
    for op in OPERATIONS:
        covered = {c.fault.kind for c in CELLS if c.op is op}
        assert kinds - covered == set(), f"{op.id} misses {kinds - covered}"
        assert {"once", "persistent"} <= {c.variant for c in CELLS if c.op is op}
    assert {op.system for op in OPERATIONS} == set(SYSTEMS)
    assert all(FAULTS[s] for s in SYSTEMS)


def test_expected_outcomes_follow_the_table_not_the_code() -> None:
    by_id = {(c.op.id, c.fault.id, c.variant): c for c in CELLS}
    once = expected(by_id[("payment.create_order", "reset-after", "once")])
    assert (once.success, once.attempts, once.landed) == (True, 2, True)
    gone = expected(by_id[("payment.create_order", "reset", "persistent")])
    assert (gone.success, gone.attempts, gone.exhausted, gone.landed) == (False, 3, True, False)
    lost = expected(by_id[("payment.create_order", "reset-after", "persistent")])
    assert (lost.success, lost.landed) == (False, True)
    single = expected(by_id[("gateway.send_message[non-idempotent]", "reset-after", "once")])
    assert (single.success, single.attempts, single.landed) == (False, 1, True)
    refused = expected(by_id[("gateway.send_message[non-idempotent]", "refused", "once")])
    assert (refused.success, refused.attempts) == (True, 2)
    final = expected(by_id[("elicense.register_application", "soap-fault-ELC601", "once")])
    assert (final.success, final.attempts, final.landed) == (False, 1, False)


def test_retried_effects_land_once_by_the_table() -> None:
    """Cancel, survey and upload are retried after a landed attempt whose answer was lost, and succeed."""
    by_id = {(c.op.id, c.fault.id, c.variant): c for c in CELLS}
    for op_id in ("payment.cancel_order", "elicense.submit_survey", "elicense.upload_attachment"):
        assert next(op for op in OPERATIONS if op.id == op_id).idempotent
        retried = expected(by_id[(op_id, "reset-after", "once")])
        assert (retried.success, retried.attempts, retried.landed) == (True, 2, True)


@pytest.mark.parametrize("cell_id", ["elicense.get_catalogue-reset-once", "elicense.search-refused-persistent",
                                     "elicense.upload_attachment-reset-persistent",
                                     "payment.get_status-refused-once"])
def test_attempts_lost_in_transport_are_journalled_with_their_request_digest(drill: Drill, cell_id: str) -> None:
    cell = next(c for c in CELLS if c.id == cell_id)
    run_cell(drill, cell)  # checks each row's digest against the exact bytes posted (or the upload's stand-in)
    rows = drill.journal.tail(5)
    assert rows and rows[0].outcome == "retry"
    assert all(row.request_digest is not None for row in rows)


def test_a_repeated_upload_is_the_same_attachment_until_an_application_takes_it(drill: Drill) -> None:
    """The deduplication that makes upload_attachment safe to retry, rule by rule."""
    from sqlalchemy import update

    from simulators.elicense import tables as ET

    drill.begin_cell()
    session, name = drill.applicant_session(), f"dedup-{uuid.uuid4().hex[:8]}.pdf"
    first = drill.plain_el.upload_attachment(session, name, b"%PDF-1.4 one\n")
    assert drill.plain_el.upload_attachment(session, name, b"%PDF-1.4 one\n").id == first.id
    other_content = drill.plain_el.upload_attachment(session, name, b"%PDF-1.4 two\n")
    other_name = drill.plain_el.upload_attachment(session, "renamed-" + name, b"%PDF-1.4 one\n")
    assert len({first.id, other_content.id, other_name.id}) == 3
    with drill.elicense.backend.engine.begin() as conn:  # an application took the first upload
        conn.execute(update(ET.attachments).where(ET.attachments.c.id == first.id).values(
            application_number="12999999"))
    again = drill.plain_el.upload_attachment(session, name, b"%PDF-1.4 one\n")
    assert again.id not in {first.id, other_content.id, other_name.id}
    assert (again.sha256, again.size) == (first.sha256, first.size)
