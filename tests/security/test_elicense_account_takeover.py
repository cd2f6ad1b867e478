"""A stranger cannot take over a company's E-licensing portal account (issue 11, item 1).

The attack, over real HTTP on a whole landscape (``Landscape.start``, as ``egov sim up`` runs it):
a company has a portal account; a stranger registers the company's BIN again with a certificate
from a home-made CA and a password of their own, then logs in and reads the company's
applications. Registration and login now need a proof of possession of an AUTH key (a fresh
challenge of E-licensing, signed with the key) whose certificate chains to the trusted roots, is
valid, unrevoked, an AUTH certificate, and carries the account's BIN; an account is never replaced.

Every test asserts the typed refusal and that nothing changed: the company still logs in with its
own password, the stranger's password opens nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.contracts.elicense import EL_NS, el, soap_action
from adapters.core.errors import ConflictError, RefusalReason, SignatureRefused
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import VerificationService
from adapters.elicense import AuthorisationDenied, ElicenseClient
from harness.actors import ApplicantActor
from harness.landscape import Landscape
from simulators.pki import TestPKI
from tests.security.wire import post

STRANGER_PASSWORD = "stranger-pass"


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("takeover")) as running:
        yield running


@pytest.fixture
def client(land: Landscape) -> Iterator[ElicenseClient]:
    validator = CertificateValidator([land.pki.root_certificate], [land.pki.issuing_certificate])
    with ElicenseClient(land.endpoints.elicense_url, verification=VerificationService(validator)) as made:
        yield made


@pytest.fixture
def company(land: Landscape) -> ApplicantActor:
    """A company with a portal account (registered before, with its own password)."""
    applicant = land.new_applicant()
    land.register_on_portal(applicant)
    return applicant


@pytest.fixture(scope="module")
def home_made_ca(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The stranger's own certification authority: well-formed, not among the trusted roots."""
    return TestPKI.create(tmp_path_factory.mktemp("home-made-ca"))


def _account_unchanged(client: ElicenseClient, company: ApplicantActor) -> None:
    """The company still logs in with its password; the stranger's password opens nothing."""
    key = company.auth_key.load()
    session = client.authorize_applicant(key, company.portal_password, iin_bin=company.bin)
    assert session.subject == company.bin
    with pytest.raises(AuthorisationDenied) as denied:
        client.authorize_applicant(key, STRANGER_PASSWORD, iin_bin=company.bin)
    assert denied.value.code == "ELC101"


def test_registering_with_a_bare_certificate_is_refused(land: Landscape, client: ElicenseClient,
                                                        company: ApplicantActor, home_made_ca: TestPKI) -> None:
    """The attack as reported: RegisterApplicant with a home-made certificate carrying the company's
    BIN and no proof of holding any key. Refused by the contract (a signed challenge is required)."""
    forged = home_made_ca.issue(iin=company.leader_iin, bin=company.bin, org=company.name_ru, usage="auth")
    request = etree.Element(el("RegisterApplicantRequest"), nsmap={None: EL_NS})
    etree.SubElement(request, el("Certificate")).text = base64.b64encode(
        forged.certificate.public_bytes(Encoding.DER)).decode()
    etree.SubElement(request, el("Password")).text = STRANGER_PASSWORD
    answer = post(land.endpoints.elicense_url, request, soap_action("RegisterApplicant"))
    assert answer.status == 500 and answer.fault()[0] == "ELC001"
    _account_unchanged(client, company)


def test_a_home_made_ca_is_refused(client: ElicenseClient, company: ApplicantActor, home_made_ca: TestPKI) -> None:
    """A real proof of possession, of a key certified by the stranger's own CA."""
    forged = home_made_ca.issue(iin=company.leader_iin, bin=company.bin, org=company.name_ru,
                                usage="auth").key_material
    for call in (client.register_applicant, client.authorize_applicant):
        with pytest.raises(SignatureRefused) as refused:
            call(forged, STRANGER_PASSWORD, iin_bin=company.bin)
        assert refused.value.reason is RefusalReason.UNTRUSTED_CHAIN and refused.value.code == "ELC304"
    _account_unchanged(client, company)


def test_the_company_certificate_without_its_key_is_refused(land: Landscape, client: ElicenseClient,
                                                            company: ApplicantActor) -> None:
    """The company's AUTH certificate is public; a challenge signed with another key under it fails."""
    theirs = company.auth_key.load()
    own = land.pki.issue(iin="871008401427", surname="STRANGER", usage="auth").key_material
    impostor = KeyMaterial(private_key=own.private_key, certificate=theirs.certificate, chain=theirs.chain)
    with pytest.raises(SignatureRefused) as refused:
        client.register_applicant(impostor, STRANGER_PASSWORD, iin_bin=company.bin)
    assert refused.value.reason is RefusalReason.SIGNATURE_MISMATCH and refused.value.code == "ELC305"
    _account_unchanged(client, company)


def test_a_captured_signed_challenge_cannot_be_replayed(client: ElicenseClient, company: ApplicantActor) -> None:
    """A challenge answers one request: the signed challenge of the company's login, replayed
    (even with the right password), opens no second session."""
    key = company.auth_key.load()
    signed = client.sign_challenge(client.get_challenge(), key)
    assert client.authorize_applicant_with_proof(company.bin, signed, company.portal_password).subject == company.bin
    for replay in (lambda: client.authorize_applicant_with_proof(company.bin, signed, company.portal_password),
                   lambda: client.register_applicant_with_proof(company.bin, signed, STRANGER_PASSWORD)):
        with pytest.raises(AuthorisationDenied) as denied:
            replay()
        assert denied.value.code == "ELC104" and denied.value.context["challenge_refused"] is True
    _account_unchanged(client, company)


def test_another_holder_of_the_bin_cannot_replace_the_account(land: Landscape, client: ElicenseClient,
                                                              company: ApplicantActor) -> None:
    """An employee with a valid AUTH key of the company's BIN registers again with their own
    password: refused, the account keeps its password; changing it needs the old one (or a proof)."""
    employee = land.pki.issue(iin="760212350620", bin=company.bin, org=company.name_ru, usage="auth").key_material
    with pytest.raises(ConflictError) as conflict:
        client.register_applicant(employee, STRANGER_PASSWORD, iin_bin=company.bin)
    assert conflict.value.code == "ELC502"
    with pytest.raises(AuthorisationDenied) as wrong:
        client.change_applicant_password(STRANGER_PASSWORD, old_password="guessed", iin_bin=company.bin)
    assert wrong.value.code == "ELC101"
    _account_unchanged(client, company)
    # registering again with the account's own password is a harmless repeat
    assert client.register_applicant(company.auth_key.load(), company.portal_password).iin_bin == company.bin


@pytest.mark.parametrize("problem", ["revoked", "expired", "signing-key", "other-bin"])
def test_an_auth_certificate_that_is_not_valid_for_the_account_is_refused(land: Landscape, client: ElicenseClient,
                                                                          company: ApplicantActor,
                                                                          problem: str) -> None:
    if problem == "revoked":
        key = company.auth_key.load()
        land.pki.revoke(key.certificate, reason="keyCompromise")
        expected = (RefusalReason.REVOKED, "ELC302")
    elif problem == "expired":
        key = land.pki.issue(iin=company.leader_iin, bin=company.bin, org=company.name_ru, usage="auth",
                             expired=True).key_material
        expected = (RefusalReason.CERT_EXPIRED, "ELC301")
    elif problem == "signing-key":  # a SIGN certificate is no AUTH certificate
        key = company.sign_key.load()
        expected = (RefusalReason.KEY_USAGE, "ELC300")
    else:
        key = land.pki.issue(iin=company.leader_iin, bin=land.new_applicant().bin, org="OTHER",
                             usage="auth").key_material
        expected = (RefusalReason.BIN_MISMATCH, "ELC303")
    with pytest.raises(SignatureRefused) as refused:
        client.authorize_applicant(key, company.portal_password, iin_bin=company.bin)
    assert (refused.value.reason, refused.value.code) == expected
    if problem != "revoked":
        _account_unchanged(client, company)


def test_the_password_changes_with_the_old_password_or_a_fresh_proof(client: ElicenseClient,
                                                                      company: ApplicantActor) -> None:
    key = company.auth_key.load()
    open_session = client.authorize_applicant(key, company.portal_password)
    client.change_applicant_password("second-pass", old_password=company.portal_password, iin_bin=company.bin)
    with pytest.raises(AuthorisationDenied) as ended:  # the change ends the account's open sessions
        client.list_applications(open_session)
    assert ended.value.code == "ELC102"
    client.change_applicant_password("third-pass", auth_key=key)
    assert client.authorize_applicant(key, "third-pass").subject == company.bin
    with pytest.raises(AuthorisationDenied):
        client.authorize_applicant(key, "second-pass")


def test_an_unregistered_company_is_registered_with_a_proof(land: Landscape, client: ElicenseClient) -> None:
    newcomer = land.new_applicant()
    key = newcomer.auth_key.load()
    registered = client.register_applicant(key, "newcomer-pass")
    assert registered.iin_bin == newcomer.bin
    assert client.authorize_applicant(key, "newcomer-pass").subject == newcomer.bin
