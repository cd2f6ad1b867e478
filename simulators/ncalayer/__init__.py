"""A local NCALayer: the NCA's signing application, as web pages reach it over its WebSocket protocol.

``protocol`` answers the JSON requests (``{module, method, args}``) as NCALayer does, with the keys
of ``keys`` (PKCS#12 files the user chose); ``server`` serves it on ``ws://127.0.0.1:13579``
(``egov ncalayer``).
"""

from simulators.ncalayer.keys import KeyChoice, StoredKey
from simulators.ncalayer.protocol import NcaLayerProtocol
from simulators.ncalayer.server import NcaLayerSimulator

__all__ = ["KeyChoice", "NcaLayerProtocol", "NcaLayerSimulator", "StoredKey"]
