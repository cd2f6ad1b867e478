"""Request headers as a simulator's handler sees them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, overload

_T = TypeVar("_T")


class Headers(dict[str, str]):
    """Request headers under the names the client spelled, looked up case-insensitively.

    Otherwise a plain ``dict`` (iteration, ``len``, JSON); ``dict(headers)`` or ``copy()`` gives a
    plain one. One header per name whatever its case: a repeated header keeps its last value.
    """

    __slots__ = ("_names",)

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._names: dict[str, str] = {}
        if pairs is not None:
            for name, value in (pairs.items() if isinstance(pairs, Mapping) else pairs):
                self[name] = value

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> Headers:
        """The headers of a request, in arrival order (a repeated name keeps its last value).

        Built without a lookup per header when no name repeats in any case, the usual request.
        """
        headers = cls()
        dict.update(headers, pairs)
        names = {name.lower(): name for name in dict.keys(headers)}
        if len(names) != len(pairs):
            return cls(pairs)
        headers._names = names
        return headers

    def _stored(self, name: str) -> str:
        return self._names.get(name.lower(), name)

    def __setitem__(self, name: str, value: str) -> None:
        lower = name.lower()
        old = self._names.get(lower)
        if old is not None and old != name:
            super().__delitem__(old)
        self._names[lower] = name
        super().__setitem__(name, value)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._names.get(name.lower(), name))

    def __delitem__(self, name: str) -> None:
        super().__delitem__(self._stored(name))
        del self._names[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._names

    @overload
    def get(self, name: str, default: None = None, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...
    def get(self, name: str, default: object = None, /) -> object:
        stored = self._names.get(name.lower())
        return default if stored is None else super().__getitem__(stored)

    @overload
    def pop(self, name: str, /) -> str: ...
    @overload
    def pop(self, name: str, default: str, /) -> str: ...
    @overload
    def pop(self, name: str, default: _T, /) -> str | _T: ...
    def pop(self, name: str, *default: object) -> object:
        stored = self._names.pop(name.lower(), None)
        if stored is None:
            if default:
                return default[0]
            raise KeyError(name)
        return super().pop(stored)

    def setdefault(self, name: str, default: str, /) -> str:
        if name not in self:
            self[name] = default
        return self[name]

    def update(self, *args: Any, **kwargs: str) -> None:
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def clear(self) -> None:
        super().clear()
        self._names.clear()

    def popitem(self) -> tuple[str, str]:
        name, value = super().popitem()
        del self._names[name.lower()]
        return name, value

    def copy(self) -> dict[str, str]:
        return dict(self)
