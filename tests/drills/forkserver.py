"""A fork server for the crash drill: ``egov`` commands in fresh processes without the import cost.

Starting a Python interpreter and importing the CLI with the procedure's modules costs about a
second, two thirds of a killed-and-resumed flow. This script imports them once, stays
single-threaded (it never runs a command itself), and for each request forks a child that runs
``egov <args>`` with exactly the given environment, working directory and output files (and,
for the drill's self-test only, a named sabotage planted in the child). The child
is an ordinary process: the crash hook SIGKILLs it, and the server reports its wait status the way
:mod:`subprocess` does (``-9`` for SIGKILL).

Protocol (one JSON object per line): the client writes ``{"args", "env", "cwd", "stdout",
"stderr", "sabotage"?}`` to stdin; the server answers ``{"returncode": int}`` on stdout. EOF ends the server.

Run as a script (``python tests/drills/forkserver.py``): see :class:`tests.drills.crash.ForkServer`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _preload() -> None:
    """Import what ``egov flow run/resume`` imports lazily, so that children start warm."""
    import holidays

    import harness.crash
    import harness.env  # noqa: F401  (the landscape, the clients, the steps)

    holidays.country_holidays("KZ")  # loads the country module (the review deadline's calendar)


def _fresh_payment_reference() -> None:
    """Sabotage for the drill's own test: Diagram 1 step 4 pays under a new clientReference at each
    attempt, as a step that ignored ``ctx.idempotency_key`` would (a resumed flow pays twice)."""
    import dataclasses

    from procedure.portal import PortalSteps

    honest = PortalSteps.pay

    def pay(self: PortalSteps, ctx: Any) -> Any:
        return honest(self, dataclasses.replace(ctx, idempotency_key=f"{ctx.idempotency_key}.{ctx.attempt}"))

    PortalSteps.pay = pay  # type: ignore[method-assign]


SABOTAGE = {"fresh-payment-reference": _fresh_payment_reference}
"""Named faults a request may plant in its child (``"sabotage"``): proof that the drill catches them."""


def _child(req: dict[str, Any]) -> int:
    """In the forked child: become the requested process and run the command."""
    if req.get("sabotage"):
        SABOTAGE[req["sabotage"]]()
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
        os.close(out)
    from cli.main import main

    code: Any = 0
    try:
        main(list(req["args"]))
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # pragma: no cover - reported like an interpreter would
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _returncode(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def serve() -> None:
    _preload()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends in os._exit
            code = 1
            try:
                code = _child(req)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(json.dumps({"returncode": _returncode(status)}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
