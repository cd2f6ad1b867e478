"""The whole simulator landscape, started in-process on free ports, as one object for scenarios.

- the test PKI (root + issuing CA) and its CRL/OCSP server;
- the e-Government gateway simulator, with the Legal Entities register behind it
  (``GbdulInfoByBin_v2`` / ``GbdulInfoByIin_v2``) and our sender registered;
- the payment gateway simulator (orders are paid or declined by the applicants' bank:
  :class:`~harness.bank.ApplicantsBank` over :class:`HttpBank`);
- the E-licensing simulator, publishing its status notices through the gateway.

The simulators are built by :mod:`simulators.registry`, the same factories ``egov sim up`` runs
(which keys, validators, backends and sender accounts: written once, there). This module adds what
a scenario needs on top: the seeded actors, applicants and officers with their keys
(:meth:`Landscape.new_applicant`, :meth:`Landscape.officer`), portal accounts
(:meth:`Landscape.register_on_portal`), the world changed for a fault (:meth:`Landscape.apply_fault`),
and the simulators' control APIs over HTTP. The actors' passwords and key passwords are written as
secret files (0600) under ``<workdir>/secrets``.

``Landscape.start(workdir)`` runs it; ``write_manifest(path)`` writes the
:class:`~procedure.clients.Endpoints` JSON (URLs, PKI directory, the ministry key's keystore, sender
id, references to the secret files holding their passwords, the control APIs' token; 0600) so that another process can
``Landscape.attach(path)`` and build clients, prepare applicants and query the simulators' control
APIs. ``egov sim up`` writes the same manifest. Keystores are written 0600 too.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import random
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, IdentifierError
from adapters.core.http import NetworkTransport
from adapters.core.identifiers import make_bin
from harness.actors import ApplicantActor, OfficerActor
from harness.bank import ApplicantsBank
from harness.manifest import manifest
from harness.scenario import Fault
from procedure.application import ApplicantIdentity
from procedure.clients import Endpoints
from procedure.credentials import KeyRef, reveal, write_secret
from simulators.common.control_guard import control_headers
from simulators.common.httpserver import SimServer
from simulators.elicense import catalogue as cat
from simulators.elicense.head_keys import HeadKeys
from simulators.pki import IssuedKey, TestPKI
from simulators.registry import (
    ALL_SIMULATORS,
    ELICENSE_BIN,
    EMPLOYEE_PASSWORD,
    GATEWAY_BIN,
    GATEWAY_IIN,
    KEYSTORE_PASSWORD,
    MANIFEST_NAME,
    MINISTRY_BIN,
    MINISTRY_IIN,
    PAYMENT_GATEWAY_BIN,
    REGISTER_BIN,
    SENDER_ID,
    SYSTEM_IIN,
    Ministry,
    SimContext,
    default_registry,
    stop_all,
)

__all__ = ["ELICENSE_BIN", "EMPLOYEE_PASSWORD", "GATEWAY_BIN", "GATEWAY_IIN", "KEYSTORE_PASSWORD", "MANIFEST_NAME",
           "MINISTRY_BIN", "MINISTRY_IIN", "PAYMENT_GATEWAY_BIN", "REGISTER_BIN", "SENDER_ID", "SYSTEM_IIN",
           "HeadKeys", "HttpBank", "Landscape", "LandscapePorts"]

# Names of applicants, in Kazakh; they carry every letter proper to Kazakh (ә ғ қ ң ө ұ ү һ і)
# so the licences and letters show that Kazakh text renders and can be extracted.
_NAMES = ("«Қаһарман» өнер колледжі", "«Шаһар» білім ордасы", "«Жиһан» ғылым үйі",
          "«Баһадүр» оқу орталығы", "«Мұраһат» мектебі", "«Әлһам» жоғары мектебі")


@dataclass(frozen=True)
class LandscapePorts:
    """Fixed ports, when wanted (0 = a free port)."""

    pki: int = 0
    gateway: int = 0
    payment_gateway: int = 0
    elicense: int = 0


class HttpBank:
    """The applicant's bank: pays or declines an order through the payment simulator's control API,
    with the landscape's control ``token``."""

    def __init__(self, control_url: str, *, token: str | None, timeout: float = 10.0) -> None:
        self.control_url = control_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Content-Type": "application/json", **(control_headers(token) if token else {})}
        # one pooled transport for every payment (not a new connection per call), safe for concurrent calls
        self._http = NetworkTransport()

    def _post(self, order_id: str, action: str, body: dict[str, Any]) -> None:
        answer = self._http.request("POST", f"{self.control_url}/payments/{order_id}/{action}",
                                    body=json.dumps(body).encode(), headers=self._headers, timeout=self.timeout)
        if answer.status >= 400:
            raise ConfigurationError(f"bank: {action} order {order_id}: HTTP {answer.status} "
                                     f"{answer.body.decode(errors='replace')}",
                                     setting="payment_control_url")

    def pay(self, order_id: str) -> None:
        self._post(order_id, "pay", {})

    def decline(self, order_id: str, reason: str) -> None:
        self._post(order_id, "reject", {"reason": reason})


class Landscape:
    """A running (or attached) simulator landscape. Build with :meth:`start` or :meth:`attach`."""

    def __init__(self, endpoints: Endpoints, pki: TestPKI, workdir: Path, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.endpoints = endpoints
        self.pki = pki
        self.workdir = workdir
        self.clock = clock
        self._http = NetworkTransport()
        """Calls the simulators' control APIs."""
        self.bank = ApplicantsBank(HttpBank(endpoints.payment_control_url or "", token=endpoints.control_token),
                                   self.state_dir / "bank")
        """The applicants' bank (:class:`procedure.ports.ApplicantBank`)."""
        self._stops: list[Any] = []
        self._serial = itertools.count(1)
        self._officers: dict[str, OfficerActor] = {}
        self._portal_accounts: set[str] = set()
        self._lock = threading.Lock()
        # simulator objects, when started in this process
        self.pki_server: SimServer | None = None
        self.gateway: Any = None
        self.register: Any = None
        self.payment_gateway: Any = None
        self.elicense: Any = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def start(cls, workdir: str | Path, *, clock: Clock = SYSTEM_CLOCK, ports: LandscapePorts | None = None,
              config: dict[str, Any] | None = None, config_dir: Path | None = None) -> Landscape:
        """Start every simulator on 127.0.0.1 (free ports unless ``ports``); state (PKI, keys) goes to
        ``workdir``. The simulators are built by :mod:`simulators.registry`, as ``egov sim up`` builds
        them; ``config`` is that config file's content (``docs/simulators.md``; relative paths in it
        are resolved against ``config_dir``), ``ports`` win over its ports."""
        root = Path(workdir)
        merged: dict[str, Any] = {name: dict(section or {}) for name, section in (config or {}).items()}
        for name, port in vars(ports or LandscapePorts()).items():
            if port:
                merged.setdefault(name, {})["port"] = port
        disabled = [name for name in ALL_SIMULATORS if (merged.get(name) or {}).get("enabled") is False]
        if disabled:
            raise ConfigurationError(f"a landscape runs every simulator; config disables {', '.join(disabled)}",
                                     setting=f"{disabled[0]}.enabled")
        ctx = SimContext(workdir=root, config=merged, clock=clock, base_dir=config_dir,
                         ministry=Ministry(sender_password=secrets.token_urlsafe(12),
                                          keystore_password=secrets.token_urlsafe(12)))
        running = default_registry().start_all(ctx)
        endpoints = manifest(ctx)
        if endpoints is None:  # pragma: no cover - start_all ran all five or raised
            stop_all(running)
            raise ConfigurationError("the landscape did not start every simulator", setting="config")
        land = cls(endpoints, ctx.running["pki"].obj, root, clock=clock)
        land._stops = [sim.stop for sim in running]
        land.pki_server = ctx.running["pki"].server
        land.gateway = ctx.running["gateway"].obj
        land.register = ctx.running["legal_entities"].obj
        land.payment_gateway = ctx.running["payment_gateway"].obj
        land.elicense = ctx.running["elicense"].obj
        return land

    @classmethod
    def attach(cls, manifest_path: str | Path, *, clock: Clock = SYSTEM_CLOCK) -> Landscape:
        """A landscape running in another process, from its manifest (nothing is started)."""
        endpoints = Endpoints.read(manifest_path)
        if not endpoints.pki_dir:
            raise ConfigurationError(f"manifest {manifest_path} names no PKI directory", setting="pki_dir")
        pki = TestPKI.load(Path(endpoints.pki_dir), clock=clock)
        return cls(endpoints, pki, Path(manifest_path).resolve().parent, clock=clock)

    def write_manifest(self, path: str | Path | None = None) -> Path:
        return self.endpoints.write(Path(path) if path is not None else self.workdir / MANIFEST_NAME)

    @property
    def state_dir(self) -> Path:
        """The directory of the simulated world's shared state (the PKI's parent: the same for the
        process that started the landscape and every process attached to it)."""
        return Path(self.endpoints.pki_dir).resolve().parent if self.endpoints.pki_dir else self.workdir

    @property
    def secrets_dir(self) -> Path:
        """Where this process writes its actors' secret files."""
        return self.workdir / "secrets"

    @property
    def urls(self) -> dict[str, str]:
        e = self.endpoints
        return {"pki": e.pki_url or "", "gateway": e.gateway_url, "gateway-async": e.gateway_async_url or "",
                "payment-gateway": e.payment_gateway_url, "elicense": e.elicense_url}

    @property
    def running(self) -> bool:
        return bool(self._stops)

    def stop(self) -> None:
        stops, self._stops = self._stops, []
        for stop in reversed(stops):
            stop()

    def __enter__(self) -> Landscape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the world of a scenario

    def _p12(self, key: IssuedKey, folder: str, name: str) -> KeyRef:
        directory = self.workdir / folder
        directory.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(9)
        path = key.write_pkcs12(directory / f"{name}.p12", password)
        return KeyRef(path=str(path.resolve()),
                      password=write_secret(self.secrets_dir / f"{folder}-{name}.p12.password", password))

    def _fresh_bin(self) -> str:
        rng = random.SystemRandom()
        while True:
            try:
                candidate = make_bin(rng.randint(2000, 2023), rng.randint(1, 12), 4, 0, rng.randint(10000, 99999))
            except IdentifierError:
                continue
            if self.organisation(candidate) is None:
                return candidate

    def licensor_for(self, service_code: str, kato: str) -> cat.Licensor:
        svc = cat.service(service_code)
        found = cat.licensor_for(svc, kato) if svc is not None else None
        if found is None:
            raise ConfigurationError(f"no licensor for service {service_code} and KATO {kato}", setting="service")
        return found

    def officer(self, licensor_code: str) -> OfficerActor:
        """The licensor's officer in E-licensing (seeded login) with an EDS carrying the licensor's BIN."""
        with self._lock:
            known = self._officers.get(licensor_code)
            if known is not None:
                return known
        lic = cat.licensor(licensor_code)
        if lic is None:
            raise ConfigurationError(f"unknown licensor {licensor_code}", setting="licensor")
        if self.endpoints.employee_password is None:
            raise ConfigurationError("the landscape's manifest names no employee password", setting="employee_password")
        key = self.pki.issue(iin=_officer_iin(lic), bin=lic.bin, org=lic.name_ru, surname="OFFICER",
                             roles=["legal-entity", "employee"])
        made = OfficerActor(login=f"{lic.code.lower()}.officer", password=reveal(self.endpoints.employee_password),
                            licensor_code=lic.code, key=self._p12(key, "officers", lic.code.lower()),
                            secrets_dir=str(self.secrets_dir))
        with self._lock:
            return self._officers.setdefault(licensor_code, made)

    def new_applicant(self, *, fault: Fault = Fault.NONE, template_index: int | None = None) -> ApplicantActor:
        """A new legal entity: fresh BIN, a record in the Legal Entities register copied from one of its
        fixtures, its director's two NCA keys; then the world changed for ``fault`` (:meth:`apply_fault`)."""
        from simulators.legal_entities import LegalEntitiesState

        n = next(self._serial)
        templates = [o for o in LegalEntitiesState() if o.reg_status.code == "REGISTERED"
                     and o.org_form.code in ("TOO", "AO", "CHU") and cat.region_of(o.address.kato) is not None
                     and o.parent_bin is None]
        if not templates:
            raise ConfigurationError("the Legal Entities fixtures hold no registered organisation to copy")
        template = templates[(template_index if template_index is not None else n) % len(templates)]
        bin_ = self._fresh_bin()
        name = _NAMES[n % len(_NAMES)] + " ЖШС"
        record = template.model_copy(update={"bin": bin_, "full_name_kz": name, "short_name_kz": name,
                                             "full_name_ru": f"{template.full_name_ru} № {n}",
                                             "short_name_ru": f"{template.short_name_ru} № {n}"})
        self.put_organisation(record.model_dump(mode="json"))
        leader = record.leader
        auth = self.pki.issue(iin=leader.iin, bin=bin_, org=record.short_name_ru, surname=leader.surname.upper(),
                              common_name=f"{leader.surname} {leader.name}".upper(), usage="auth")
        sign = self._signing_key(record.short_name_ru, leader.iin, leader.surname, leader.name, bin_)
        a = record.address
        identity = ApplicantIdentity(bin=bin_, name=name, name_ru=record.full_name_ru, postal_index=a.zip_code,
                                     city_kato=a.kato, city_name=a.city_ru, street_ru=a.street_ru,
                                     street_kz=a.street_kz, house=a.building,
                                     head_name=" ".join(p for p in (leader.surname, leader.name, leader.middle_name)
                                                        if p).upper())
        applicant = ApplicantActor(identity=identity, leader_iin=leader.iin,
                                   leader_name=f"{leader.surname} {leader.name}",
                                   portal_password=secrets.token_urlsafe(9),
                                   auth_key=self._p12(auth, "applicants", f"{bin_}-auth"),
                                   sign_key=self._p12(sign, "applicants", f"{bin_}-sign"),
                                   secrets_dir=str(self.secrets_dir))
        return self.apply_fault(applicant, fault)

    def _signing_key(self, org: str, iin: str, surname: str, name: str, bin_: str, *,
                     expired: bool = False) -> IssuedKey:
        return self.pki.issue(iin=iin, bin=bin_, org=org, surname=surname.upper(),
                              common_name=f"{surname} {name}".upper(), expired=expired)

    def apply_fault(self, applicant: ApplicantActor, fault: Fault) -> ApplicantActor:
        """Change the world of ``applicant`` for ``fault``: a new signing key that has expired, is
        revoked, or carries another BIN; the register record removed (``absent-from-le``) or
        liquidated. Other faults are played by the actors and the bank when the application is
        made (:mod:`harness.play`) and change nothing here."""
        from simulators.legal_entities.records import LiquidationRecord, OrganisationRecord, RefName

        surname, _, name = applicant.leader_name.partition(" ")
        org = applicant.name_ru
        if fault in (Fault.CERT_EXPIRED, Fault.CERT_REVOKED, Fault.CERT_OTHER_BIN):
            bin_ = self._fresh_bin() if fault is Fault.CERT_OTHER_BIN else applicant.bin
            key = self._signing_key(org, applicant.leader_iin, surname, name, bin_,
                                    expired=fault is Fault.CERT_EXPIRED)
            if fault is Fault.CERT_REVOKED:
                self.pki.revoke(key, reason="keyCompromise")
            ref = self._p12(key, "applicants", f"{applicant.bin}-sign-{fault.value}")
            return applicant.model_copy(update={"sign_key": ref})
        if fault is Fault.ABSENT_FROM_LE:
            self._control(self.endpoints.gateway_control_url, "DELETE", f"legal-entities/{applicant.bin}")
        elif fault is Fault.LIQUIDATED:
            found = self.organisation(applicant.bin)
            if found is None:
                raise ConfigurationError(f"BIN {applicant.bin} is not in the register", setting="applicant")
            today = self.clock.now().date()
            record = OrganisationRecord.model_validate(found).model_copy(update={
                "reg_status": RefName(code="LIQUIDATED", name_ru="Ликвидирован", name_kz="Таратылған"),
                "liquidation_date": today,
                "liquidation": LiquidationRecord(decision_date=today, reason_ru="Решение учредителей",
                                                 reason_kz="Құрылтайшылардың шешімі")})
            self.put_organisation(record.model_dump(mode="json"))
        return applicant

    def register_on_portal(self, applicant: ApplicantActor) -> None:
        """Give ``applicant`` a portal account with its password (E-licensing's seed), as if it had
        registered before."""
        cert = applicant.auth_key.load().certificate.public_bytes(Encoding.DER)
        self._control(self.endpoints.elicense_control_url, "POST", "seed", {"applicants": [
            {"certificate": base64.b64encode(cert).decode(), "password": applicant.portal_password}]})
        with self._lock:
            self._portal_accounts.add(applicant.bin)

    def first_time_on_portal(self, applicant: ApplicantActor) -> bool:
        """True the first time ``applicant`` applies through the portal in this process (its flow
        registers it at step 1); False from then on."""
        with self._lock:
            first = applicant.bin not in self._portal_accounts
            self._portal_accounts.add(applicant.bin)
        return first

    # ------------------------------------------------------------------ control APIs (over HTTP)

    def _control(self, base: str | None, method: str, path: str, body: Any = None) -> Any:
        if not base:
            raise ConfigurationError("this landscape has no control URL for that simulator", setting="manifest")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   **(control_headers(self.endpoints.control_token) if self.endpoints.control_token else {})}
        answer = self._http.request(method, base.rstrip("/") + "/" + path.lstrip("/"), body=data, timeout=10,
                                    headers=headers)
        if answer.status == 404:
            return None
        if answer.status >= 400:
            raise ConfigurationError(f"{method} {path}: HTTP {answer.status}: "
                                     f"{answer.body.decode(errors='replace')}", setting="control")
        return json.loads(answer.body) if answer.body else None

    def organisation(self, bin_value: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._control(self.endpoints.gateway_control_url, "GET",
                                                     f"legal-entities/{bin_value}")
        return found

    def put_organisation(self, record: dict[str, Any]) -> None:
        self._control(self.endpoints.gateway_control_url, "PUT", f"legal-entities/{record['bin']}", record)

    def payments(self, client_reference: str | None = None) -> list[dict[str, Any]]:
        query = f"?client_reference={client_reference}" if client_reference else ""
        answer = self._control(self.endpoints.payment_control_url, "GET", f"payments{query}")
        return list(answer["payments"]) if answer else []

    def applications(self) -> list[dict[str, Any]]:
        answer = self._control(self.endpoints.elicense_control_url, "GET", "applications")
        return list(answer["applications"]) if answer else []

    def licences(self) -> list[dict[str, Any]]:
        answer = self._control(self.endpoints.elicense_control_url, "GET", "licences")
        return list(answer["licences"]) if answer else []

    def notifications(self) -> list[dict[str, Any]]:
        answer = self._control(self.endpoints.elicense_control_url, "GET", "notifications")
        return list(answer["notifications"]) if answer else []


def _officer_iin(lic: cat.Licensor) -> str:
    """A stable, valid IIN for the officer of ``lic`` (the head's birth date, another serial)."""
    from adapters.core.identifiers import make_iin, parse_iin

    born = parse_iin(lic.head_iin).birth_date
    for serial in range(7000, 7100):
        try:
            return make_iin(born + dt.timedelta(days=1), "female", serial)
        except IdentifierError:
            continue
    raise ConfigurationError(f"no valid IIN for the officer of {lic.code}")
