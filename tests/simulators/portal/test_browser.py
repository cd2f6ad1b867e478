"""The portal walked in a real browser (Debian's headless Chromium through Selenium), signing through
the NCALayer simulator with the landscape's test keys, as an applicant and a licensor do by hand.

The walks also take the screenshots of docs/portal.md (into docs/portal/ with
``EGOV_PORTAL_SCREENSHOTS=1``).
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from selenium.webdriver.support.ui import Select

from adapters.core.identifiers import make_bin
from harness.actors import ApplicantActor, OfficerActor
from harness.landscape import Landscape
from procedure.clients import ProcedureClients
from simulators.elicense import catalogue as cat
from simulators.ncalayer import KeyChoice, NcaLayerSimulator, StoredKey
from simulators.portal import PortalBackends, PortalServer
from tests.simulators.portal.browser import Browser, chromium, screenshots_dir

pytestmark = pytest.mark.slow

SERVICE = "S1"  # higher education: decided by the Committee (KKSON) whatever the applicant's region
PASSWORD = "portal-pass-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Layer:
    """The NCALayer simulator on one port for the whole module; up with the keys of the user at the
    browser, or down (not running, as on a computer without NCALayer)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}"
        self.sim: NcaLayerSimulator | None = None
        self.origins: list[str] = []
        """The pages allowed to connect: the portal under test."""

    def up(self, keys: KeyChoice) -> None:
        if self.sim is None:
            self.sim = NcaLayerSimulator(keys, port=self.port, origins=self.origins).start()
        else:
            self.sim.use(keys)

    def down(self) -> None:
        if self.sim is not None:
            self.sim.stop()
            self.sim = None


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("portal-land")) as started:
        yield started


@pytest.fixture(scope="module")
def layer() -> Iterator[Layer]:
    made = Layer(_free_port())
    yield made
    made.down()


@pytest.fixture(scope="module")
def portal(land: Landscape, layer: Layer) -> Iterator[PortalServer]:
    clients = ProcedureClients(land.endpoints)
    with PortalServer(PortalBackends(clients, land.bank), ncalayer_url=layer.url) as server:
        layer.origins = [server.url]
        yield server
    clients.close()


@pytest.fixture()
def browser(portal: PortalServer, tmp_path: Path) -> Iterator[Browser]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with chromium(downloads) as driver:
        yield Browser(driver, portal.url, downloads, screenshots_dir(tmp_path / "screenshots"))


def applicant_keys(applicant: ApplicantActor) -> KeyChoice:
    return KeyChoice.from_files([(Path(ref.path), ref.password.resolve())
                                 for ref in (applicant.auth_key, applicant.sign_key)])


def head_keys(land: Landscape, licensor: cat.Licensor) -> KeyChoice:
    """A key of the licensor's first head, from the landscape's PKI (what the head's NCALayer holds)."""
    issued = land.pki.issue(iin=licensor.head_iin, bin=licensor.bin, org=licensor.name_ru,
                            surname=licensor.head_name.partition(" ")[0], common_name=licensor.head_name,
                            roles=["legal-entity", "first-head"])
    return KeyChoice([StoredKey("head.p12", issued.key_material)])


def contacts(applicant: ApplicantActor) -> tuple[str, str]:
    """The email and phone the applicant types at registration."""
    return f"office-{applicant.bin}@example.kz", f"+7 701 {applicant.bin[-7:-4]} {applicant.bin[-4:]}"


def registered_applicant(b: Browser, land: Landscape, layer: Layer, *, shots: bool) -> tuple[ApplicantActor, KeyChoice]:
    """A new organisation whose keys the NCALayer holds, registered on the portal and logged in;
    the applicant and its keys."""
    applicant = land.new_applicant()
    keys = applicant_keys(applicant)
    layer.up(keys)
    register_and_login(b, applicant, shots=shots)
    return applicant, keys


def register_and_login(b: Browser, applicant: ApplicantActor, *, shots: bool) -> None:
    b.open("/register")
    b.click("#choose-key")
    b.wait(lambda d: b.el("#iin_bin").get_attribute("value") == applicant.bin)
    assert b.el("#holder").get_attribute("value") == applicant.leader_name.upper()
    email, phone = contacts(applicant)
    b.type("#email", email)
    b.type("#phone", phone)
    b.type("#password", PASSWORD)
    b.type("#password2", PASSWORD)
    if shots:
        b.shot("01-register")
    b.click("#register-submit")
    b.wait_path("/login")
    assert "Регистрация завершена" in b.text("#flash")
    login(b, applicant)


def login(b: Browser, applicant: ApplicantActor) -> None:
    b.open("/login")
    b.click("#choose-key")
    b.wait(lambda d: b.el("#iin_bin").get_attribute("value") == applicant.bin)
    b.type("#password", PASSWORD)
    b.click("#login-submit")
    b.wait_path("/services")


def walk_wizard(b: Browser, applicant: ApplicantActor, layer: Layer, scan: Path, *, shots: bool,
                keys_at_signing: KeyChoice | None = None, too_large: Path | None = None) -> str:
    """Sphere → activity → the five steps of the wizard → "Sign and send"; the application's number.

    With ``keys_at_signing``, NCALayer is down until the signing step: "Sign and send" says NCALayer
    is not reachable, and once NCALayer is up with those keys the same button signs and sends."""
    b.click("#sphere-education")
    if shots:
        b.shot("02-services")
    b.click(f"#order-{SERVICE}")
    return fill_sign_and_send(b, applicant, layer, scan, shots=shots, keys_at_signing=keys_at_signing,
                              too_large=too_large)


def fill_sign_and_send(b: Browser, applicant: ApplicantActor, layer: Layer, scan: Path | None, *, shots: bool,
                       sub_type: str = "ED010100", fee: str = "16180.00", keys_at_signing: KeyChoice | None = None,
                       too_large: Path | None = None) -> str:
    """The wizard's five steps from the territory on; the application's number."""
    b.wait_path("/wizard/territory")
    Select(b.el("#territory")).select_by_value(cat.region_of(applicant.city_kato).code)  # type: ignore[union-attr]
    b.click(f"#st-{sub_type}")
    if shots:
        b.shot("03-wizard-territory")
    b.click("#next")
    b.wait_path("/wizard/personal")
    assert b.el("#city_kato").get_attribute("value") == applicant.city_kato  # pre-filled from the profile
    email, phone = contacts(applicant)  # typed at registration, kept in the profile
    assert (b.el("#email").get_attribute("value"), b.el("#phone").get_attribute("value")) == (email, phone)
    if shots:
        b.shot("04-wizard-personal")
    b.click("#next")
    b.wait_path("/wizard/attachments")
    if too_large is not None:
        attachments_over_30_mb_are_refused(b, too_large)
    assert "Заявление установленной формы" in b.text("#required")  # the service's qualification rules
    if scan is not None:
        b.type("input[name=document]", "Жарғы")
        b.el("input[type=file]").send_keys(str(scan))
        b.click("#upload")
        b.wait_text("#attached", "Жарғы.pdf")
    if shots:
        b.shot("05-wizard-attachments")
    b.click("#next")
    b.wait_path("/wizard/payment")
    b.click("#pay-gateway")
    assert fee in b.text("#payment-info")
    if shots:
        b.shot("06-wizard-payment")
    b.click("#next")
    b.wait_path("/wizard/sign")
    b.click("#lang-kk")
    b.wait_text("#sign-and-send", "Қол қою және жөнелту")
    if shots:
        b.shot("07-wizard-sign-kk")
    b.click("#lang-ru")
    b.wait_text("#sign-and-send", "Подписать и отправить")
    if keys_at_signing is not None:
        assert layer.sim is None
        b.click("#sign-and-send")
        b.wait_text("#ncalayer-status", "NCALayer недоступен")
        if shots:
            b.shot("08-ncalayer-unreachable")
        assert b.driver.current_url.endswith("/wizard/sign")
        layer.up(keys_at_signing)
    b.click("#sign-and-send")
    path = b.wait_path("/applications/")
    assert "Заявление отправлено" in b.text("#flash")
    assert b.el("#status").get_attribute("data-status") == "SENT"
    return path.rsplit("/", 1)[-1]


def attachments_over_30_mb_are_refused(b: Browser, big: Path) -> None:
    """The page refuses files over 30 MB in total before uploading; the portal refuses them too."""
    b.type("input[name=document]", "Үлкен файл")
    b.el("input[type=file]").send_keys(str(big))
    b.click("#upload")
    b.wait_text("#ncalayer-status", "Общий размер файлов превышает 30 Мб")
    assert not b.driver.find_elements("css selector", "#attached")
    sid = b.driver.get_cookie("portal_sid")
    assert sid is not None
    token = b.driver.execute_script("return window.PORTAL.csrf")
    answer = requests.post(f"{b.base}/wizard/upload", params={"document": "Үлкен файл", "file": big.name},
                           data=big.read_bytes(), cookies={"portal_sid": sid["value"]},
                           headers={"X-CSRF-Token": token}, timeout=60)
    assert answer.status_code == 413
    assert "30 MB" in answer.json()["error"]
    b.open("/wizard/attachments")


def logout(b: Browser) -> None:
    """"Log out" in the header (a form posting the session's CSRF token), when someone is logged in."""
    if b.driver.find_elements("css selector", "#logout"):
        b.click("#logout")
        b.wait(lambda d: b.driver.find_elements("css selector", "#nav-login"))


def desk_login(b: Browser, land: Landscape) -> OfficerActor:
    officer = land.officer(cat.COMMITTEE_CODE)
    logout(b)
    b.open("/desk/login")
    b.type("#login", officer.login)
    b.type("#password", officer.password)
    b.click("#desk-login")
    b.wait_path("/desk")
    return officer


def desk_decides(b: Browser, land: Landscape, layer: Layer, number: str, *, refuse: list[tuple[str, str]] | None,
                 shots: bool, attached: tuple[str, bytes] | None = None) -> bytes:
    """The Committee's officer takes the application into work (opening and saving the ``attached``
    file: its name and the bytes the applicant uploaded); the head signs the decision (to issue: the
    licence itself). The head's certificate (DER), as their NCALayer holds it."""
    desk_login(b, land)
    b.el(f"tr[data-number='{number}']")
    if shots:
        b.shot("10-desk-list")
    b.click(f"a[href='/desk/applications/{number}']")
    assert "ЗАРЕГИСТРИРОВАН" in b.text("#legal-entities").upper()  # the register's record of the BIN
    if attached is not None:
        attachment_opens_and_saves(b, *attached)
    b.click("#take")
    b.wait(lambda d: b.el("#status").get_attribute("data-status") == "IN_PROGRESS")
    if shots:
        b.shot("11-desk-application")
    lic = cat.licensor(cat.COMMITTEE_CODE)
    assert lic is not None
    head = head_keys(land, lic)
    layer.up(head)
    if refuse is None:
        b.type("#special_conditions", "Оқу корпусы: Абай даңғылы, 10")
        b.click("#issue")
        b.wait(lambda d: b.el("#status").get_attribute("data-status") == "ISSUED")
    else:
        for i, (document, comment) in enumerate(refuse):
            if i:
                b.click("#add-missing")
            rows = b.driver.find_elements("css selector", "#missing-table tr.missing-row")
            rows[i].find_element("css selector", "input[name=document]").send_keys(document)
            rows[i].find_element("css selector", "input[name=comment]").send_keys(comment)
        if shots:
            b.shot("12-desk-refusal")
        b.click("#refuse")
        b.wait(lambda d: b.el("#status").get_attribute("data-status") == "REFUSED")
    assert "Решение принято" in b.text("#flash")
    logout(b)
    return head.keys[0].material.certificate.public_bytes(Encoding.DER)


def signing_certificate(signed: bytes) -> bytes:
    """The DER of the certificate a signed document's ds:Signature carries."""
    found = etree.fromstring(signed).findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    assert found is not None
    return base64.b64decode(found)


def attachment_opens_and_saves(b: Browser, name: str, content: bytes) -> None:
    """On the desk, and on the applicant's own application page, an attachment opens in the browser
    (its content type, inline) and saves under its name, with the bytes the applicant uploaded,
    fetched from E-licensing."""
    saved = b.download(f".save-attachment[data-file='{name}']", name)
    assert saved.read_bytes() == content
    href = b.el(f".open-attachment[data-file='{name}']").get_attribute("href")
    sid = b.driver.get_cookie("portal_sid")
    assert href is not None and sid is not None
    opened = requests.get(href, cookies={"portal_sid": sid["value"]}, timeout=30)
    assert opened.status_code == 200 and opened.content == content
    assert opened.headers["Content-Type"] == "application/pdf"
    assert opened.headers["Content-Disposition"].startswith("inline;")
    assert opened.headers["X-Content-Type-Options"] == "nosniff"
    stranger = requests.get(href, timeout=30)  # no session: the login page's refusal, no file
    assert stranger.status_code == 422 and stranger.content != content


def test_applicant_applies_pays_signs_employee_issues_applicant_saves_the_licence(
        land: Landscape, layer: Layer, browser: Browser, tmp_path: Path) -> None:
    b = browser
    applicant, keys = registered_applicant(b, land, layer, shots=True)
    scan = tmp_path / "charter.pdf"
    scan.write_bytes(b"%PDF-1.4\n% charter of the organisation\n" + bytes(range(256)) * 64)

    # up to the signing step the pages need no NCALayer; there they say it is not reachable
    layer.down()
    number = walk_wizard(b, applicant, layer, scan, shots=True, keys_at_signing=keys)

    head = desk_decides(b, land, layer, number, refuse=None, shots=True, attached=("Жарғы.pdf", scan.read_bytes()))

    layer.up(keys)
    login(b, applicant)
    b.click("#nav-applications")
    b.wait(lambda d: b.el("#applications td.status").get_attribute("data-status") == "ISSUED")
    assert "Принято решение о выдаче" in b.text("#applications")
    b.shot("13-my-applications")
    b.open(f"/applications/{number}")
    attachment_opens_and_saves(b, "Жарғы.pdf", scan.read_bytes())
    b.click("#licence-link")
    b.wait_path("/licences/")
    licence_number = b.text("#licence-number")
    b.shot("14-licence")
    pdf = b.download("#save-pdf", f"licence-{licence_number}.pdf")
    xml = b.download("#save-xml", f"licence-{licence_number}.xml")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert b.shot("14-licence").stat().st_size > 0
    egov = Path(sys.executable).with_name("egov")
    verified = subprocess.run([str(egov), "verify", str(xml), "--ca", land.endpoints.trust_anchors[0],
                               "--expect-bin", cat.licensor(cat.COMMITTEE_CODE).bin],  # type: ignore[union-attr]
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert cat.licensor(cat.COMMITTEE_CODE).head_name in verified.stdout  # type: ignore[union-attr]
    # the licence carries the signature the head made in the browser (their NCALayer's key), not a key
    # E-licensing holds
    assert signing_certificate(xml.read_bytes()) == head

    # the survey after the decision
    b.open(f"/applications/{number}")
    b.click("#survey-send")
    assert "Спасибо за ответы" in b.text("#flash")
    # My permit documents, and the search with "View"
    b.click("#nav-permits")
    b.wait_text("#licences", licence_number)
    assert "Высшее образование (бакалавриат)" in b.text(f"table.appendices[data-number='{licence_number}']")
    b.shot("15-my-permits")
    b.open("/search")
    b.type("#number", licence_number)
    b.click("#find")
    b.click(f"#view-{licence_number}")
    b.wait_text("#licence-number", licence_number)

    # the appendix request from the permit document page: the wizard again, for one more sub-type
    b.click("#request-appendix")
    appendix = fill_sign_and_send(b, applicant, layer, None, shots=False, sub_type="ED010200", fee="1618.00")
    b.click("#nav-applications")
    b.wait_text("#applications", appendix)
    assert "Заявление на получение приложения к лицензии" in b.text("#applications")


def test_a_refusal_walked_the_same_way(land: Landscape, layer: Layer, browser: Browser, portal: PortalServer,
                                      tmp_path: Path) -> None:
    b = browser
    applicant, keys = registered_applicant(b, land, layer, shots=False)
    scan = tmp_path / "staff.pdf"
    scan.write_bytes(b"%PDF-1.4\n% staff list\n")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (30 * 1024 * 1024 + 1))
    number = walk_wizard(b, applicant, layer, scan, shots=False, too_large=big)
    rows = [("Оқу корпусына құқық белгілейтін құжаттар", "Оқу корпусының құжаттары жоқ"),
            ("Педагогтардың штат кестесі", "Біліктілік расталмаған")]
    head = desk_decides(b, land, layer, number, refuse=rows, shots=True)
    # the refusal letter E-licensing keeps is the one the head signed in the browser
    el = portal.backends.clients.elicense
    officer = land.officer(cat.COMMITTEE_CODE)
    refusal = el.get_application(el.authorize_employee(officer.login, officer.password), number).refusal
    assert refusal is not None
    assert signing_certificate(refusal.xml) == head

    layer.up(keys)
    login(b, applicant)
    b.click("#nav-applications")
    b.wait(lambda d: b.el("#applications td.status").get_attribute("data-status") == "REFUSED")
    b.open(f"/applications/{number}")
    assert b.el("#status").get_attribute("data-status") == "REFUSED"
    table = b.text("#refusal-missing")
    for document, comment in rows:
        assert document in table and comment in table
    b.shot("16-refused-application")


def test_registration_with_a_key_the_applicant_does_not_hold_is_refused(land: Landscape, layer: Layer,
                                                                        browser: Browser) -> None:
    """The NCALayer holds the keys of one organisation; registering another BIN with them is refused
    on the page (E-licensing: the AUTH certificate does not carry that BIN), and no account is made."""
    b = browser
    holder, other = land.new_applicant(), land.new_applicant()
    layer.up(applicant_keys(holder))
    b.open("/register")
    b.click("#choose-key")
    b.wait(lambda d: b.el("#iin_bin").get_attribute("value") == holder.bin)
    b.type("#iin_bin", other.bin)
    b.type("#password", PASSWORD)
    b.type("#password2", PASSWORD)
    b.click("#register-submit")
    error = b.wait_text("#error", "В регистрации отказано")
    assert other.bin in error or "BIN" in error
    assert b.driver.current_url.endswith("/register")
    b.shot("09-register-refused")
    b.open("/login")
    b.type("#iin_bin", other.bin)
    b.type("#password", PASSWORD)
    b.click("#login-submit")
    b.wait_text("#error", "Во входе отказано")


def test_pages_work_without_ncalayer_until_the_signing_step(layer: Layer, browser: Browser) -> None:
    b = browser
    layer.down()
    for path, css, text in (("/", "h1", "Портал"), ("/services/education", "#order-S1", "Получить услугу"),
                            ("/search", "#find", "Найти"), ("/desk/login", "#desk-login", "Вход")):
        b.open(path)
        b.wait_text(css, text)
    b.open("/register")
    b.click("#choose-key")
    b.wait_text("#ncalayer-status", "NCALayer недоступен")
    b.click("#lang-kk")
    b.wait_text("#choose-key", "ЭЦҚ таңдау")
    b.click("#choose-key")
    b.wait_text("#ncalayer-status", "NCALayer қолжетімсіз")


def test_diagram_2_the_employee_enters_an_application_with_paper_documents(land: Landscape, layer: Layer,
                                                                            browser: Browser, tmp_path: Path) -> None:
    """The desk asks the Legal Entities register through the gateway (absent: the data cannot be
    obtained), fills the form from it, notes the paper documents, attaches the scans, and the employee
    signs with a key of the licensor's BIN."""
    b = browser
    applicant = land.new_applicant()
    officer = desk_login(b, land)
    absent = make_bin(2019, 5, 4, 0, 54321)
    assert land.organisation(absent) is None
    b.click("#new-paper-application")
    b.type("#iin_bin", absent)
    b.click("#desk-new")
    b.wait_text("#error", "Данные не могут быть получены")
    Select(b.el("#service")).select_by_value(SERVICE)
    b.type("#iin_bin", applicant.bin)
    b.click("#desk-new")
    b.wait_path("/wizard/territory")
    Select(b.el("#territory")).select_by_value(cat.region_of(applicant.city_kato).code)  # type: ignore[union-attr]
    b.click("#st-ED010300")
    b.click("#next")
    b.wait_path("/wizard/personal")
    assert b.el("#city_kato").get_attribute("value") == applicant.city_kato  # from the register
    b.click("#next")
    b.wait_path("/wizard/attachments")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n% scanned charter\n")
    b.type("input[name=document]", "Жарғы (скан)")
    b.el("input[type=file]").send_keys(str(scan))
    b.click("#upload")
    b.wait_text("#attached", "Жарғы (скан).pdf")
    b.click("#next")
    b.wait_path("/wizard/payment")
    b.type("#paper_documents", "Жарғы, тіркеу туралы куәлік, штат кестесі (түпнұсқалар)")
    b.click("#payment-save")
    b.wait_path("/wizard/sign")
    b.shot("17-desk-paper-application")
    layer.up(KeyChoice.from_files([(Path(officer.key.path), officer.key.password.resolve())]))
    b.click("#sign-and-send")
    path = b.wait_path("/desk/applications/")
    assert b.el("#status").get_attribute("data-status") == "SENT"
    assert applicant.bin in b.text("main")
    assert path.rsplit("/", 1)[-1]
