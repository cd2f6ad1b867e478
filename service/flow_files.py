"""What a flow started through the API may name: files under one directory, variables with one prefix.

A flow's request (:class:`procedure.application.Application`) carries no secret: passwords are
:class:`~procedure.credentials.SecretRef`\\ s (a file or an environment variable), keys are a
PKCS#12 path and the reference of its password, attachments are file paths. The service and its
workers read them when a step needs them. So that a caller cannot make the service read, send or
upload whatever file the service's account can read (its own keystore, say), every reference is
checked before the flow is recorded:

- a file (secret, key, attachment) must exist and lie under ``EGOV_FLOW_FILES_DIR`` once symbolic
  links are resolved;
- an environment variable must be named ``EGOV_FLOW_SECRET_<...>`` (set for the service and the
  workers by whoever deploys them).

A refused reference is a :class:`~adapters.core.errors.ValidationError` naming the field (422).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from adapters.core.errors import ValidationError
from procedure.application import Application
from procedure.credentials import KeyRef, SecretRef

__all__ = ["SECRET_ENV_PREFIX", "check_references"]

SECRET_ENV_PREFIX = "EGOV_FLOW_SECRET_"
_ENV_NAME = re.compile(rf"^{SECRET_ENV_PREFIX}[A-Z0-9_]{{1,100}}$")


def _references(app: Application) -> Iterator[tuple[str, SecretRef | KeyRef | str]]:
    """(field, reference) of every secret, key and attachment of ``app``."""
    if app.portal is not None:
        yield "application.portal.password", app.portal.password
        yield "application.portal.auth_key", app.portal.auth_key
        yield "application.portal.sign_key", app.portal.sign_key
    yield "application.officer.password", app.officer.password
    yield "application.officer.key", app.officer.key
    for i, attachment in enumerate(app.attachments):
        yield f"application.attachments.{i}.path", attachment.path


def _file_under(field: str, path: str, root: Path) -> None:
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root):
        raise ValidationError(field, f"{path} is not under the flows' files directory (EGOV_FLOW_FILES_DIR)")
    if not resolved.is_file():
        raise ValidationError(field, f"{path}: no such file")


def _secret(field: str, ref: SecretRef, root: Path) -> None:
    if ref.file is not None:
        _file_under(f"{field}.file", ref.file, root)
    elif ref.env is not None and not _ENV_NAME.match(ref.env):
        raise ValidationError(f"{field}.env", f"a secret variable is named {SECRET_ENV_PREFIX}<NAME> "
                                              "(upper-case letters, digits, _)")


def check_references(app: Application, files_dir: Path) -> None:
    """Refuse ``app`` when one of its references points elsewhere than the allowed places."""
    root = files_dir.resolve()
    for field, ref in _references(app):
        if isinstance(ref, SecretRef):
            _secret(field, ref, root)
        elif isinstance(ref, KeyRef):
            _file_under(f"{field}.path", ref.path, root)
            _secret(f"{field}.password", ref.password, root)
        else:
            _file_under(field, ref, root)
