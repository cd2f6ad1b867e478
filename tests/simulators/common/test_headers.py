"""Request headers: looked up in any case, kept under the client's spelling, a lower-case dict's
behaviour (against a model), and built from a request's pairs with or without repeated names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.common.headers import Headers


def test_from_pairs_keeps_the_last_of_a_repeated_name_whatever_its_case() -> None:
    distinct = Headers.from_pairs([("Host", "a"), ("X-Id", "1")])
    assert distinct == {"Host": "a", "X-Id": "1"} and distinct["x-id"] == "1" and "HOST" in distinct
    repeated = Headers.from_pairs([("X-Id", "1"), ("Host", "a"), ("x-id", "2"), ("x-id", "3")])
    assert repeated == {"Host": "a", "x-id": "3"} and repeated["X-ID"] == "3" and len(repeated) == 2


def test_headers_look_up_in_any_case_and_keep_the_clients_spelling() -> None:
    h = Headers([("Content-Type", "text/xml"), ("SOAPAction", "a")])
    assert h["content-type"] == h.get("CONTENT-TYPE") == "text/xml" and "soapaction" in h
    assert list(h) == ["Content-Type", "SOAPAction"] and dict(h) == {"Content-Type": "text/xml", "SOAPAction": "a"}
    assert h.get("missing") is None and h.get("missing", "d") == "d" and object() not in h
    with pytest.raises(KeyError):
        h["missing"]
    h["soapaction"] = "b"
    assert list(h.items()) == [("Content-Type", "text/xml"), ("soapaction", "b")]
    assert h.pop("SOAPACTION") == "b" and "SOAPAction" not in h and h.pop("x", "d") == "d"
    with pytest.raises(KeyError):
        h.pop("x")
    assert h.setdefault("content-type", "other") == "text/xml" and h.setdefault("X-New", "n") == "n"
    h.update({"x-new": "m"}, Accept="*/*")
    assert dict(h) == {"Content-Type": "text/xml", "x-new": "m", "Accept": "*/*"}
    del h["ACCEPT"]
    assert h.popitem() == ("x-new", "m") and "X-NEW" not in h
    copy = h.copy()
    assert type(copy) is dict and copy == {"Content-Type": "text/xml"}
    h.clear()
    assert not h and "content-type" not in h
    assert Headers({"A": "1"})["a"] == "1"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "del", "pop"]), st.sampled_from(["Ab", "aB", "AB", "cd", "CD"]),
                          st.text(max_size=3))))
def test_headers_behave_like_a_lower_case_dict(ops: list[tuple[str, str, str]]) -> None:
    h = Headers()
    model: dict[str, str] = {}
    for op, name, value in ops:
        if op == "set":
            h[name] = value
            model[name.lower()] = value
        elif op == "del" and name.lower() in model:
            del h[name]
            del model[name.lower()]
        elif op == "pop":
            assert h.pop(name, None) == model.pop(name.lower(), None)
        assert {k.lower(): v for k, v in h.items()} == model and len(h) == len(model)
        for probe in ("ab", "AB", "cd", "Cd", "zz"):
            assert h.get(probe) == model.get(probe.lower()) and (probe in h) == (probe.lower() in model)
