"""Where a command gets a key's password: a file, a variable, a hidden prompt, or (visibly) the line.

Every command that opens or writes a PKCS#12 keystore (``egov pki issue``, ``egov pki revoke``,
``egov sign``) takes the same four ways, at most one at a time:

- ``--password-file FILE``: the file's content (one trailing line break is not part of it); a file
  other users may read is refused;
- ``--password-env NAME``: the content of the environment variable ``NAME``;
- nothing: an interactive prompt that does not echo (asked twice for a new keystore);
- ``--password P``: the value itself, which every user of the machine can read in ``ps`` (and the
  shell keeps in its history): for throw-away test keys only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["key_password", "password_options"]

F = TypeVar("F", bound=Callable[..., Any])


def password_options(what: str) -> Callable[[F], F]:
    """The ``--password``, ``--password-file`` and ``--password-env`` options of ``what``'s password
    (parameters ``password``, ``password_file``, ``password_env``)."""
    def decorate(fn: F) -> F:
        fn = click.option("--password-env", "password_env", metavar="NAME", default=None,
                          help=f"environment variable holding the {what} password")(fn)
        fn = click.option("--password-file", "password_file", default=None,
                          type=click.Path(dir_okay=False, path_type=Path),
                          help=f"file holding the {what} password (readable by its owner only)")(fn)
        return click.option("--password", "password", default=None,
                            help=f"the {what} password itself: VISIBLE to other users in `ps` and kept in "
                                 "shell history; prefer --password-file, --password-env or the prompt")(fn)
    return decorate


def key_password(password: str | None, password_file: Path | None, password_env: str | None, *,
                 prompt: str | None, confirm: bool = False) -> str | None:
    """The password from the one source given; without one, asked at a prompt that does not echo
    (``prompt``; twice when ``confirm``), or None when ``prompt`` is None. A usage error when
    several sources are given; a :class:`~adapters.core.errors.ConfigurationError` naming the file or
    variable when it cannot be read."""
    from procedure.credentials import SecretRef

    given = [name for name, value in (("--password", password), ("--password-file", password_file),
                                      ("--password-env", password_env)) if value is not None]
    if len(given) > 1:
        raise click.UsageError(f"give the password one way, not {' and '.join(given)}")
    if password is not None:
        return password
    if password_file is not None:
        return SecretRef(file=str(password_file)).resolve()
    if password_env is not None:
        return SecretRef(env=password_env).resolve()
    if prompt is None:
        return None
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return value
