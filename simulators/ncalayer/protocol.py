"""NCALayer's WebSocket protocol, answered with the chosen keys (no socket here: text in, JSON out).

The facts of the protocol, as NCALayer and its public clients (the ``ncalayer-js-client`` package)
speak it:

- on connect NCALayer sends ``{"result": {"version": "1.3"}}`` unasked;
- a request is ``{"module": ..., "method": ..., "args": [...]}``; the commonUtils module
  (``kz.gov.pki.knca.commonUtils``) answers ``{"code": "200", "responseObject": ...}`` (or
  ``{"code": "200"}`` when there is nothing to return), a failure ``{"code": "500", "message": ...}``
  (a wrong argument type: ``java.lang.IllegalArgumentException: argument type mismatch. Method:
  <name>``; a cancelled dialog: ``action.canceled``);
- ``getActiveTokens`` lists the hardware storages plugged in (none here: the keys are files);
  ``getKeyInfo(storage)``, ``signXml(storage, keyType, xml, tbsElementXPath, signatureParentXPath)``
  and ``signXmls`` (the same with a list) work on a storage such as ``PKCS12``; ``changeLocale``;
- an unknown module (the client probes ``kz.digiflow.mobile.extensions`` to tell KAZTOKEN apart)
  is a ``500`` answer.

``signXml`` signs with the project's one signing service (enveloped XML-DSig over the whole
document, the certificate in ``ds:X509Data``), so that the signature verifies with ``egov verify``
and xmlsec1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes

from adapters.core.errors import EgovError
from adapters.core.xmlsig import SigningService
from simulators.ncalayer.keys import KeyChoice, StoredKey

VERSION = "1.3"
COMMON_UTILS = "kz.gov.pki.knca.commonUtils"
STORAGES = ("PKCS12", "AKKaztokenStore", "AKKZIDCardStore", "AKEToken72KStore", "AKEToken5110Store", "AKAKEYStore")
"""Storage types NCALayer knows; only the file storage holds keys here."""
FILE_STORAGE = "PKCS12"
CANCELED = "action.canceled"


def hello() -> str:
    """What NCALayer sends as soon as a client connects."""
    return json.dumps({"result": {"version": VERSION}})


class _Refused(Exception):
    """A ``500`` answer with this message."""


def _mismatch(method: str) -> _Refused:
    return _Refused(f"java.lang.IllegalArgumentException: argument type mismatch. Method: {method}")


class NcaLayerProtocol:
    """Answers requests with the keys of ``keys``. Thread-safe; ``log`` keeps each request's method."""

    def __init__(self, keys: KeyChoice) -> None:
        self.keys = keys
        self._signers: dict[bytes, SigningService] = {}
        """By the certificate's SHA-256 (not the alias: keys chosen later may reuse a file name)."""
        self._lock = threading.Lock()
        self.log: list[str] = []
        """``module.method`` of every request answered, in order (what a test may look at)."""
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "getActiveTokens": self._active_tokens,
            "getKeyInfo": self._key_info,
            "signXml": self._sign_xml,
            "signXmls": self._sign_xmls,
            "changeLocale": self._change_locale,
        }

    def answer(self, text: str) -> str:
        """The JSON answer to one request's text."""
        try:
            request = json.loads(text)
        except ValueError:
            return json.dumps({"code": "500", "message": "org.json.JSONException: the request is not JSON"})
        if not isinstance(request, dict):
            return json.dumps({"code": "500", "message": "org.json.JSONException: the request is not an object"})
        module, method = request.get("module"), request.get("method")
        with self._lock:
            self.log.append(f"{module}.{method}")
        if module != COMMON_UTILS:
            return json.dumps({"code": "500", "message": f"module {module} not found"})
        handler = self._methods.get(str(method))
        if handler is None:
            return json.dumps({"code": "500", "message": f"java.lang.NoSuchMethodException: {method}"})
        args = request.get("args", [])
        if not isinstance(args, list):
            return json.dumps({"code": "500", "message": str(_mismatch(str(method)))})
        try:
            result = handler(args)
        except _Refused as exc:
            return json.dumps({"code": "500", "message": str(exc)})
        except EgovError as exc:
            return json.dumps({"code": "500", "message": f"{type(exc).__name__}: {exc}"})
        if result is None:
            return json.dumps({"code": "200"})
        return json.dumps({"code": "200", "responseObject": result}, ensure_ascii=False)

    # ------------------------------------------------------------------ methods

    def _active_tokens(self, args: list[Any]) -> list[str]:
        return []  # no hardware storage plugged in: the keys are PKCS#12 files

    def _storage(self, value: Any, method: str) -> None:
        if not isinstance(value, str):
            raise _mismatch(method)
        if value not in STORAGES:
            raise _Refused(f"storage {value} is not supported")
        if value != FILE_STORAGE:
            raise _Refused(f"storage {value}: no such device is connected")

    def _key(self, key_type: Any, method: str) -> StoredKey:
        if not isinstance(key_type, str):
            raise _mismatch(method)
        try:
            return self.keys.pick(key_type)
        except LookupError:
            raise _Refused(CANCELED) from None  # the user finds no such key in the dialog and cancels

    def _key_info(self, args: list[Any]) -> dict[str, Any]:
        if len(args) != 1:
            raise _mismatch("getKeyInfo")
        self._storage(args[0], "getKeyInfo")
        return self.keys.keys[0].info()

    def _signer(self, key: StoredKey) -> SigningService:
        with self._lock:
            fingerprint = key.material.certificate.fingerprint(hashes.SHA256())
            signer = self._signers.get(fingerprint)
            if signer is None:
                signer = self._signers[fingerprint] = SigningService(key.material)
            return signer

    def _sign_one(self, key: StoredKey, xml: str) -> str:
        return self._signer(key).sign_document(xml.encode("utf-8")).decode("utf-8")

    def _sign_args(self, args: list[Any], method: str) -> tuple[StoredKey, Any]:
        if len(args) not in (3, 5):
            raise _mismatch(method)
        self._storage(args[0], method)
        key = self._key(args[1], method)
        for path in args[3:]:
            if not isinstance(path, str):
                raise _mismatch(method)
            if path:
                raise _Refused(f"{method}: signing an element by XPath ({path}) is not simulated; sign the "
                               "whole document")
        return key, args[2]

    def _sign_xml(self, args: list[Any]) -> str:
        key, xml = self._sign_args(args, "signXml")
        if not isinstance(xml, str):
            raise _mismatch("signXml")
        return self._sign_one(key, xml)

    def _sign_xmls(self, args: list[Any]) -> list[str]:
        key, xmls = self._sign_args(args, "signXmls")
        if not isinstance(xmls, list) or not all(isinstance(x, str) for x in xmls):
            raise _mismatch("signXmls")
        return [self._sign_one(key, x) for x in xmls]

    def _change_locale(self, args: list[Any]) -> None:
        if len(args) != 1 or not isinstance(args[0], str):
            raise _mismatch("changeLocale")
        return None
