"""Where a flow's secrets come from: references to them, resolved only when a step needs one.

A flow's request names its passwords by :class:`SecretRef` (a file, or an environment variable)
and its keys by :class:`KeyRef` (a PKCS#12 file and the reference of its password). The flow
store keeps the references, never the values: a secret is read when a step logs in or loads a
key, and the value lives only in that process's memory. A worker resuming the flow elsewhere
reads the same references, so the files (or variables) must be there for it too.

:func:`write_secret` creates a secret file readable by its owner only (0600); a secret file that
other users may read is refused when it is resolved (:mod:`adapters.core.private_files`).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from adapters.core.errors import ConfigurationError
from adapters.core.private_files import read_secret_text, write_private
from adapters.core.trust.keystore import KeyMaterial

__all__ = ["KeyRef", "Secret", "SecretRef", "reveal", "write_secret"]


class SecretRef(BaseModel):
    """Where one secret is kept: exactly one of ``file`` and ``env``. Holds no secret itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    """Path of a file holding the secret (one trailing line break is not part of it); refused when
    other users may read it."""
    env: str | None = None
    """Name of an environment variable holding the secret."""

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.file is None) == (self.env is None):
            raise ValueError("a secret reference names exactly one of file and env")
        if self.file == "" or self.env == "":
            raise ValueError("a secret reference names a non-empty file or variable")
        return self

    def describe(self) -> str:
        """Where the secret is (for messages): ``file /path`` or ``env NAME``; never the value."""
        return f"file {self.file}" if self.file is not None else f"env {self.env}"

    def resolve(self) -> str:
        """The secret's value, read now. :class:`ConfigurationError` when it is not there, or when
        its file may be read by other users."""
        if self.file is not None:
            return read_secret_text(self.file, what="secret file")
        assert self.env is not None
        value = os.environ.get(self.env)
        if value is None:
            raise ConfigurationError(f"secret {self.describe()}: the variable is not set", setting="secret")
        return value


class KeyRef(BaseModel):
    """A PKCS#12 file and the reference of its password."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    password: SecretRef

    def load(self) -> KeyMaterial:
        """The key and certificate chain, the password resolved for this call only."""
        return KeyMaterial.from_pkcs12(self.path, self.password.resolve())


def write_secret(path: str | Path, value: str) -> SecretRef:
    """Write ``value`` to ``path``, readable and writable by its owner only (0600), and return the
    reference to it. The file is replaced whole: a reader sees the old value or the new one."""
    return SecretRef(file=str(write_private(Path(path).resolve(), value)))


Secret = SecretRef | SecretStr
"""A secret as a process holds it: a :class:`SecretRef` (what files and databases keep), or the value
given to this process directly (a setting), which is never written out (:class:`SecretStr`)."""


def reveal(secret: Secret) -> str:
    """The secret's value: a reference resolved now, or the value held."""
    return secret.resolve() if isinstance(secret, SecretRef) else secret.get_secret_value()
