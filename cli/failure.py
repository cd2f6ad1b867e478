"""How an error of the project reaches the command line: one line, a hint, an exit status.

Every ``egov`` command lets an :class:`~adapters.core.errors.EgovError` it does not handle itself
rise to its command group (a :class:`ReportingGroup`: ``egov`` itself, ``egov flow``, ``egov journal``,
``egov pki``), which shows it as::

    egov: <the error's message>
    hint: <what to do> (<code>, retryable|final)

on stderr, never as a traceback, and exits with :data:`EXIT_RETRYABLE` (75, ``EX_TEMPFAIL``: the
same command may succeed later, e.g. once the disk has space again) or :data:`EXIT_FINAL` (1).

A file the command cannot read or write (an :class:`OSError` naming it: a missing folder, no
permission, a full disk) is shown the same way, as the :class:`~adapters.core.errors.ConfigurationError`
"<file>: <reason>" (retryable when the disk is full or the system is out of resources).
"""

from __future__ import annotations

import errno
from typing import IO, Any

import click

from adapters.core.errors import (
    ConfigurationError,
    EgovError,
    KeystoreError,
    RetriesExhaustedError,
    TransportError,
)

__all__ = ["EXIT_FINAL", "EXIT_RETRYABLE", "CommandFailed", "ReportingGroup", "RetryableCommandFailed", "file_error",
           "hint"]

EXIT_FINAL = 1
EXIT_RETRYABLE = 75
"""``EX_TEMPFAIL`` of sysexits.h: a temporary failure, the command may be run again."""


def _database_error(error: EgovError) -> bool:
    from adapters.core.journal import JournalError
    from procedure.store import FlowStoreError

    return isinstance(error, JournalError | FlowStoreError)


def hint(error: EgovError) -> str:
    """What the person at the terminal can do about ``error``."""
    flow_id = error.context.get("flow_id")
    if _database_error(error):
        again = f"`egov flow resume {flow_id} --manifest ...`" if flow_id else "the command"
        return ("the database could not be written or read (disk full? damaged or locked file?): free space "
                f"or repair it, then run {again} again; nothing was recorded half-way")
    if isinstance(error, KeystoreError):
        return "check the PKCS#12 file, its permissions (owner only) and its password"
    if isinstance(error, ConfigurationError):
        return "check the setting or file named above (README: configuration)"
    last = error.last if isinstance(error, RetriesExhaustedError) else error
    if isinstance(last, TransportError) and last.context.get("kind") == "refused":
        return ("nothing listens at that address: start the server there (for simulators: `egov sim up`, and use "
                "the manifest and URLs it prints), or correct the URL")
    if error.retryable:
        return "a temporary failure: the same command may succeed later"
    return "the request was refused as it is; running it again will not change that"


class CommandFailed(click.ClickException):
    """An :class:`EgovError` shown as one line and a hint; exit status :data:`EXIT_FINAL`
    (:class:`RetryableCommandFailed`: :data:`EXIT_RETRYABLE`). Build with :meth:`of`."""

    exit_code = EXIT_FINAL

    def __init__(self, error: EgovError) -> None:
        super().__init__(error.message)
        self.error = error

    @staticmethod
    def of(error: EgovError) -> CommandFailed:
        return RetryableCommandFailed(error) if error.retryable else CommandFailed(error)

    def show(self, file: IO[Any] | None = None) -> None:
        kind = "retryable" if self.error.retryable else "final"
        click.echo(f"egov: {self.error.message}", file=file, err=True)
        click.echo(f"hint: {hint(self.error)} ({self.error.code}, {kind})", file=file, err=True)


class RetryableCommandFailed(CommandFailed):
    """A retryable :class:`EgovError`: the same command may succeed later."""

    exit_code = EXIT_RETRYABLE


_TEMPORARY = {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EINTR}


def file_error(exc: OSError) -> ConfigurationError:
    """``exc`` as the error of the project naming the file and the reason."""
    where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    reason = exc.strerror or exc.__class__.__name__
    return ConfigurationError(f"{where}: {reason}" if where else reason, setting=str(exc.filename or ""),
                              retryable=exc.errno in _TEMPORARY)


class ReportingGroup(click.Group):
    """A command group showing an :class:`EgovError` of its commands (and an :class:`OSError` naming
    a file) as :class:`CommandFailed`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EgovError as exc:
            raise CommandFailed.of(exc) from exc
        except OSError as exc:
            raise CommandFailed.of(file_error(exc)) from exc
