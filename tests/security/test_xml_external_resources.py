"""No inbound document makes a parser open a file or a URL, wherever its DOCTYPE stands (issue 11, item 9).

The attack: a DOCTYPE whose SYSTEM id names a local file, placed after a long comment so that a scan
of the document's head misses it, or written in UTF-16 so that no byte scan sees it. A named pipe as
the SYSTEM id shows whether the parser opened it: opening a pipe with no writer blocks, so a parser
that tries holds its thread (on the gateway simulator, the CPU gate every other call waits for).
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from adapters.core.errors import EgovError, UnsafeXmlError
from adapters.core.xmlparse import parse_xml
from adapters.egov_gateway import GatewayClient
from simulators.common.httpserver import Response, Router, SimServer
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_ID, SENDER_PASSWORD, GatewayEnv

ENVELOPE = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<x/></soap:Body></soap:Envelope>')


class PipeWatch:
    """A named pipe, and a thread noticing whether anyone ever opened it for reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:  # succeeds only while a reader holds the pipe open
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
            else:
                self.opened = True
                os.close(fd)  # the reader sees end of file and goes on
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        # whoever blocked opening the pipe for reading is released by one open for writing
        with contextlib.suppress(OSError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def pipe(tmp_path: Path) -> Iterator[PipeWatch]:
    watch = PipeWatch(tmp_path / "probe.fifo")
    try:
        yield watch
    finally:
        watch.stop()


def padded(system_id: str, pad: int) -> bytes:
    return b"<!--" + b"x" * pad + b"-->" + f'<!DOCTYPE r SYSTEM "{system_id}">'.encode() + ENVELOPE


def utf16(system_id: str) -> bytes:
    text = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r SYSTEM "{system_id}">{ENVELOPE.decode()}'
    return text.encode("utf-16")


@pytest.mark.parametrize("shape", ["head", "after-70KB-comment", "after-5MB-comment", "utf-16"])
def test_parse_xml_refuses_every_doctype_without_opening_it(pipe: PipeWatch, shape: str) -> None:
    system_id = str(pipe.path)
    document = {"head": padded(system_id, 0), "after-70KB-comment": padded(system_id, 70_000),
                "after-5MB-comment": padded(system_id, 5_000_000), "utf-16": utf16(system_id)}[shape]
    with pytest.raises(UnsafeXmlError) as refused:
        parse_xml(document, allow_huge=True)
    assert refused.value.context["reason"] == "dtd"
    assert system_id not in str(refused.value) and "fifo" not in str(refused.value)
    assert not pipe.opened


def test_the_gateway_simulator_refuses_a_padded_doctype_and_keeps_serving(gateway_env: GatewayEnv,
                                                                          pipe: PipeWatch) -> None:
    answers: list[requests.Response] = []

    def attack() -> None:
        answers.append(requests.post(gateway_env.url, data=padded(str(pipe.path), 70_000), timeout=10,
                                     headers={"Content-Type": "text/xml; charset=utf-8"}))

    attacker = threading.Thread(target=attack)
    attacker.start()
    with gateway_env.client() as client:  # an honest call meanwhile is served
        reply = client.send_message(ECHO_SERVICE, etree.fromstring("<ping/>"))
    attacker.join(10)
    assert reply.status.code == "SCSS001"
    assert len(answers) == 1, "the attack's request was not answered"
    answer = answers[0]
    assert answer.status_code == 500
    assert b"Fault" in answer.content and b"DTD" in answer.content
    assert str(pipe.path).encode() not in answer.content and b"fifo" not in answer.content
    assert not pipe.opened


def test_an_adapter_refuses_a_hostile_answer_without_opening_the_file(gateway_env: GatewayEnv,
                                                                      pipe: PipeWatch) -> None:
    router = Router()
    router.add("POST", "/", lambda _request: Response.xml(padded(str(pipe.path), 5_000)))
    with SimServer(router, name="hostile") as hostile, \
            GatewayClient(hostile.url + "/", signing=gateway_env.signing(), sender_id=SENDER_ID,
                          verification=gateway_env.verification(), sender_password=SENDER_PASSWORD) as client:
        started = time.monotonic()
        with pytest.raises(EgovError) as refused:
            client.send_message(ECHO_SERVICE, etree.fromstring("<ping/>"))
        assert time.monotonic() - started < 5
    assert "DTD" in str(refused.value)
    assert str(pipe.path) not in str(refused.value)
    assert not pipe.opened
