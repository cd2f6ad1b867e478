"""State of the Legal Entities simulator: the register, loaded from a fixtures file.

In memory on purpose: the register is read-only for the licensing flow, a few dozen records,
and QA changes it by editing or replacing the fixtures file (or calling :meth:`put`/:meth:`remove`
from a test). :meth:`reset` goes back to what the file says.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from adapters.core.errors import ConfigurationError
from simulators.legal_entities.records import FixturesFile, OrganisationRecord

DEFAULT_FIXTURES = Path(__file__).parent / "fixtures" / "organisations.json"


def load_fixtures(path: str | Path) -> FixturesFile:
    """Read and validate a fixtures file; a broken file names the file and the problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Legal Entities fixtures {p}: cannot read ({exc})", path=str(p)) from exc
    try:
        return FixturesFile.model_validate_json(text)
    except ValueError as exc:
        raise ConfigurationError(f"Legal Entities fixtures {p}: invalid ({exc})", path=str(p)) from exc


class LegalEntitiesState:
    """The register: organisations by BIN (or by IIN for sole proprietors registered under it)."""

    def __init__(self, fixtures: str | Path = DEFAULT_FIXTURES) -> None:
        self.fixtures_path = Path(fixtures)
        self._lock = threading.Lock()
        self._by_bin: dict[str, OrganisationRecord] = {}
        self.reset()

    def reset(self) -> None:
        """Reload the fixtures file, dropping every change made since."""
        data = load_fixtures(self.fixtures_path)
        with self._lock:
            self._by_bin = {o.bin: o for o in data.organisations}

    def get(self, bin_value: str) -> OrganisationRecord | None:
        with self._lock:
            return self._by_bin.get(bin_value)

    def find_by_iin(self, iin: str) -> OrganisationRecord | None:
        """The sole proprietor of this individual: registered under the IIN itself, or (older
        registrations) under a type-6 BIN with the individual as its leader."""
        with self._lock:
            direct = self._by_bin.get(iin)
            if direct is not None and direct.org_form.code == "IP":
                return direct
            for org in self._by_bin.values():
                if org.org_form.code == "IP" and org.leader.iin == iin:
                    return org
        return None

    def put(self, record: OrganisationRecord) -> None:
        with self._lock:
            self._by_bin[record.bin] = record

    def remove(self, bin_value: str) -> None:
        with self._lock:
            self._by_bin.pop(bin_value, None)

    def __iter__(self) -> Iterator[OrganisationRecord]:
        with self._lock:
            return iter(list(self._by_bin.values()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_bin)
