"""The one settings model of the project.

Values come from environment variables prefixed ``EGOV_`` (e.g. ``EGOV_GATEWAY_URL``), then from
an optional ``.env``-style file named by ``EGOV_CONFIG_FILE`` (default ``egov.env`` in the working
directory, if present), then from the defaults below. Every field is listed in the README.

Secrets (the fields in :data:`SECRET_FILES`) can also be given as a file: ``EGOV_KEYSTORE_PASSWORD_FILE``
names a file holding ``EGOV_KEYSTORE_PASSWORD`` (one trailing line break is not part of it), and so
on. That is the one way they are resolved: the file is read when the settings are built, and the
secret field holds its content, so every reader of the settings sees one value whatever its
source. A password file that other users may read is refused, as is a secret given both ways
(:class:`~adapters.core.errors.ConfigurationError` naming the setting or the file; never the value).
"""

from __future__ import annotations

import enum
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from adapters.core.errors import ConfigurationError
from adapters.core.private_files import read_secret_text
from adapters.core.trust.revocation_policy import RevocationPolicy

__all__ = ["SECRET_FILES", "LogLevel", "Settings", "get_settings", "load_settings"]

SECRET_FILES: dict[str, str] = {
    "keystore_password": "keystore_password_file",
    "gateway_sender_password": "gateway_sender_password_file",
    "elicense_employee_password": "elicense_employee_password_file",
}
"""Each secret setting and the setting naming a file that holds it."""


class LogLevel(enum.StrEnum):
    """The logging levels a setting or ``egov --log-level`` may name (any case)."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EGOV_", extra="ignore", frozen=True)

    # --- keys and trust
    keystore_path: Path | None = Field(None, description="PKCS#12 file with the system's signing key")
    keystore_password: SecretStr | None = Field(None, description="password of the PKCS#12 keystore")
    keystore_password_file: Path | None = Field(None, description="file holding the keystore password "
                                                "(instead of EGOV_KEYSTORE_PASSWORD; readable by its owner only)")
    trust_anchors: list[Path] = Field(default_factory=list,
                                      description="PEM files of trusted root CAs (the NCA roots)")
    intermediates: list[Path] = Field(default_factory=list, description="PEM files of issuing CAs")
    revocation_policy: RevocationPolicy = Field(RevocationPolicy.OCSP_THEN_CRL,
                                                description="ocsp | crl | ocsp-then-crl | none")
    ocsp_url: str | None = Field(None, description="override of the OCSP URL found in certificates")
    crl_url: str | None = Field(None, description="override of the CRL URL found in certificates")
    crl_path: Path | None = Field(None, description="a local CRL file, for offline checks")
    ocsp_cache_seconds: float = Field(60.0, ge=0, description="reuse a verified OCSP answer for at most this long "
                                      "(never past its nextUpdate); 0 asks the responder every time")
    timestamp_ttl_seconds: int = Field(300, description="lifetime of wsu:Timestamp on outgoing messages")
    clock_skew_seconds: int = Field(60, description="tolerated clock difference on inbound Timestamps")

    # --- endpoints
    gateway_url: str = Field("http://127.0.0.1:8780/bip-sync-wss-gost/",
                             description="e-Government gateway (ShEP) sync/async endpoint")
    gateway_sender_id: str = Field("MINISTRY_EDU", description="our senderId registered at the gateway")
    gateway_sender_password: SecretStr | None = Field(None, description="our sender password at the gateway")
    gateway_sender_password_file: Path | None = Field(None, description="file holding the sender password "
                                                      "(instead of EGOV_GATEWAY_SENDER_PASSWORD)")
    payment_gateway_url: str = Field("http://127.0.0.1:8781/pshep/", description="payment gateway (PShEP)")
    elicense_url: str = Field("http://127.0.0.1:8782/elicense/", description="E-licensing system")
    pki_url: str = Field("http://127.0.0.1:8790", description="test PKI: CRL and OCSP responder")
    sim_control_token_file: Path | None = Field(None, description="file holding the token of the simulators' "
                                                "control APIs (`egov sim up` writes it, 0600, and prints its "
                                                "path); read by `egov sim fault|maintenance|journal`")
    requestor_bin: str = Field("940140000385", description="our BIN, sent as RequestorBIN to the Legal Entities DB")
    gateway_bin: str = Field("950341000052", description="BIN the gateway's certificate carries: an answer whose "
                             "transport signature is by another organisation is refused (default: the simulator's)")
    check_transport_revocation: bool = Field(True, description="check, under revocation_policy, that the "
                                             "certificate behind an answer's transport signature (gateway, payment "
                                             "gateway) is not revoked; false: chain, validity and BIN only (the one "
                                             "exception to revocation checking)")

    # --- timeouts and retries (defaults from the regulation's step norms)
    connect_timeout_seconds: float = Field(5.0, description="TCP connect timeout for every call")
    read_timeout_seconds: float = Field(90.0, description="default read timeout (1.5 min step norm)")
    attempt_timeout_seconds: float = Field(120.0, gt=0, description="wall-clock deadline of one attempt "
                                           "(connect, send, the whole answer), whatever the server does; a call's "
                                           "shorter norm wins")
    retry_max_attempts: int = Field(4, description="attempts per call, first one included")
    retry_max_total_seconds: float = Field(120.0, description="cap on the total time spent retrying one call")
    call_timeout_seconds: float = Field(300.0, gt=0, description="wall-clock deadline of one call, every attempt "
                                        "and back-off included: no attempt runs past it")
    response_max_bytes: int = Field(4 * 1024 * 1024, gt=0, description="largest answer body an adapter reads; "
                                    "a larger one is refused (ResponseTooLargeError) with at most this much read")
    attachment_response_max_bytes: int = Field(48 * 1024 * 1024, gt=0, description="the same limit for "
                                               "operations whose answers may carry attachments (the gateway's "
                                               "channels)")
    circuit_failure_threshold: int = Field(5, description="consecutive failures that open a circuit")
    circuit_reset_seconds: float = Field(30.0, description="time before an open circuit lets a probe through")

    # --- storage and observability
    database_url: str = Field("sqlite:///./egov.db",
                              description="exchange journal and flow state (SQLite file or postgresql:// URL)")
    log_level: LogLevel = Field(LogLevel.INFO, description="logging level of every command and the service: "
                                "DEBUG | INFO | WARNING | ERROR | CRITICAL (`egov --log-level` wins)")
    log_json: bool | None = Field(None, description="JSON logs (true) or readable lines (false); unset: readable "
                                  "on a terminal, JSON otherwise")
    metrics_port: int | None = Field(None, description="serve Prometheus metrics on this port when set")

    # --- licensing business rules
    mci_kzt: Decimal = Field(Decimal("1618"), description="monthly calculation index, KZT (2012: 1,618)")
    licence_fee_mci: int = Field(10, description="licence fee in monthly calculation indices")
    other_fee_mci: int = Field(1, ge=0, description="fee of a re-issue, duplicate or appendix in monthly calculation "
                               "indices (the seeds state none: an assumption)")
    review_working_days: int = Field(30, ge=1, description="review deadline in working days from registration")
    office_hours: str = Field("09:00-18:30", pattern=r"^\d\d:\d\d-\d\d:\d\d$",
                              description="the state body office's working hours (local time): an application "
                              "received after them or on a day off is registered on the next working day")

    # --- documents
    pdf_workers: int = Field(0, ge=0, description="worker processes rendering the licence and refusal PDFs "
                             "(0: in the calling thread)")

    # --- the long-running service (``egov serve``, docs/service.md)
    service_host: str = Field("127.0.0.1", description="address the service listens on")
    service_port: int = Field(8800, ge=0, le=65535, description="TCP port of the service (0: a free port)")
    service_workers: int = Field(1, ge=1, le=64, description="service processes on the one port (`egov serve "
                                 "--workers`): each has its own runtime, /metrics adds up all of them; one process "
                                 "uses at most one core")
    service_callers_file: Path = Field(Path("callers.json"), description="the service's callers: name, SHA-256 "
                                       "of the API key, allowed operations (`egov serve add-caller` writes it, 0600)")
    service_signing_enabled: bool = Field(False, description="offer signing with the organisation's key "
                                          "(POST /api/v1/trust/sign); off by default")
    service_max_request_bytes: int = Field(16 * 1024 * 1024, gt=0,
                                           description="largest request body the service accepts, in bytes")
    service_readiness_timeout_seconds: float = Field(2.0, gt=0, description="timeout of each /readyz check")
    landscape_manifest: Path | None = Field(None, description="landscape manifest of running simulators "
                                            "(`egov sim up` writes it): when set, its endpoints, keys and trust "
                                            "anchors replace the endpoint, key and trust settings")
    elicense_employee_login: str | None = Field(None, description="E-licensing employee login the service uses "
                                                "to read applications and decisions")
    elicense_employee_password: SecretStr | None = Field(None, description="password of that employee")
    elicense_employee_password_file: Path | None = Field(None, description="file holding that password "
                                                         "(instead of EGOV_ELICENSE_EMPLOYEE_PASSWORD)")

    @field_validator("log_level", "revocation_policy", mode="before")
    @classmethod
    def _any_case(cls, value: Any, info: Any) -> Any:
        """``info`` and ``INFO``, ``OCSP`` and ``ocsp`` name the same choice."""
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        """A secret named by its ``*_file`` setting is read into the secret's field, once."""
        if not isinstance(data, dict):
            return data
        resolved = dict(data)
        for secret, file_field in SECRET_FILES.items():
            path = resolved.get(file_field)
            if path in (None, ""):
                continue
            if resolved.get(secret) not in (None, ""):
                raise ConfigurationError(f"EGOV_{secret.upper()} and EGOV_{file_field.upper()} are both set: "
                                         "give the secret one way", setting=file_field)
            resolved[secret] = read_secret_text(Path(str(path)), what=f"EGOV_{file_field.upper()}:")
        return resolved

    # --- licensing flows as tasks (``egov worker``, docs/service.md "Workers and the task queue")
    broker_url: str | None = Field(None, description="task queue broker (redis://host:port/db); unset: "
                                   "`egov serve` runs the flows' tasks in-process on a thread pool")
    worker_threads: int = Field(4, ge=1, le=64, description="task threads per worker process (and of the "
                                "in-process pool of `egov serve` without a broker)")
    worker_lease_seconds: float = Field(30.0, gt=0, description="a flow step's claim lasts this long, renewed "
                                        "while the step runs; a worker that died lets the flow go after it")
    worker_sweep_seconds: float = Field(10.0, gt=0, description="how often a worker re-queues flows that no "
                                        "task is carrying (lost message, dead worker) and pulls status notices")
    worker_retry_seconds: float = Field(30.0, gt=0, description="first delay before a step that failed with a "
                                        "retryable error runs again (doubled at each failure, at most 32x)")
    worker_max_retries: int = Field(8, ge=0, description="retryable failures of one flow step before the flow "
                                    "is left failed for an operator (resume it through the API)")
    flow_files_dir: Path = Field(Path("flow-files"), description="directory under which a flow started through "
                                 "the API may name its secret files, keys and attachments (others are refused)")
    artefacts_dir: Path = Field(Path("artefacts"), description="where the flows run as tasks write licences and "
                                "refusal letters (XML, and the PDF rendered by a task)")
    flow_payment_wait_seconds: float = Field(10.0, gt=0, description="Condition 2 waits this long for the "
                                             "applicant's payment before the step fails (retried as a task)")
    flow_notice_wait_seconds: float = Field(5.0, ge=0, description="the result step waits this long for "
                                            "E-licensing's status notices")
    flow_stuck_seconds: float = Field(900.0, gt=0, description="an open flow without progress for this long "
                                      "counts as stuck (metric egov_flows_stuck)")
    deadline_near_working_days: int = Field(5, ge=0, description="an undecided application this close to its "
                                            "review deadline (working days) counts as near it")


def _config_file() -> Path | None:
    name = os.environ.get("EGOV_CONFIG_FILE", "egov.env")
    path = Path(name)
    return path if path.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment and the optional config file; keyword overrides win.

    A value that is not of its setting's type (``EGOV_METRICS_PORT=abc``, a non-JSON list, a policy
    or level that does not exist) is a :class:`ConfigurationError` naming the variable, what was
    expected and (unless the setting is a secret) the value given."""
    try:
        return Settings(_env_file=_config_file(), **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else "?"
        shown = "" if name in SECRET_FILES else f" (got {first.get('input')!r})"
        raise ConfigurationError(f"setting EGOV_{name.upper()}: {first['msg']}{shown}", setting=name) from None
    except SettingsError as exc:
        # pydantic-settings cannot decode a complex value (a list given as other than JSON)
        cause = exc.__cause__
        name = next((field for field in Settings.model_fields if f'"{field}"' in str(exc)), "?")
        raise ConfigurationError(f"setting EGOV_{name.upper()}: not valid JSON (a list is written "
                                 f"'[\"a\", \"b\"]'){': ' + str(cause) if cause else ''}", setting=name) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
