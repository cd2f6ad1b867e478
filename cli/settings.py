"""The one settings object of a run of ``egov``.

The ``egov`` group loads the settings once (environment, then ``egov.env``, then the defaults:
:func:`adapters.core.settings.load_settings`) before any command runs, so that a bad ``EGOV_*``
value ends every command with one line naming it; each command and every client it builds reads
that same object through :func:`current_settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from adapters.core.settings import Settings

__all__ = ["current_settings"]

_KEY = "settings"


def current_settings() -> Settings:
    """The settings of this run: the ones the ``egov`` group loaded, or (a command run on its own, as
    in a test) loaded now and kept on the root context for the rest of the run."""
    from adapters.core.settings import load_settings

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, dict) and _KEY in root.obj:
        held: Settings = root.obj[_KEY]
        return held
    loaded = load_settings()
    if root is not None:
        root.ensure_object(dict)[_KEY] = loaded
    return loaded
