"""The regulation's two functional-interaction diagrams, as data.

Diagram 1 is the service "through the portal" (the applicant drives it), Diagram 2 the service
"through the provider's employee" (paper documents brought in). Each is a graph of steps: actions
(numbered, with the regulation's norm), conditions (C1..C4 / C1..C3, with ok/fail branches),
refusals (with the regulation's message in Kazakh, Russian and English) and the result. The
Kazakh texts are quoted from the regulation (``seeds/education-licensing-regulations.kk.txt``,
paragraphs 6 and 7 and appendix 3); the English follows ``REGULATION.md``.

Nothing here runs anything: :mod:`procedure.machine` walks these graphs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from adapters.core.errors import ConfigurationError
from procedure.models import Text


class Actor(enum.StrEnum):
    """Structural-functional units (ҚФБ) taking part in the procedure."""

    APPLICANT = "applicant"                    # қызмет алушы
    EGP = "egp"                                # ЭҮП, e-Government portal
    EGPG = "egpg"                              # ЭҮТШ, e-Government payment gateway
    ELICENSING = "e-licensing"                 # «Е-лицензиялау» МДҚ АЖ
    PROVIDER = "provider"                      # қызмет беруші (the licensor deciding)
    PROVIDER_EMPLOYEE = "provider-employee"    # қызмет берушінің қызметкері
    LE_SDB_VIA_EGG = "le-sdb-via-egg"          # provider → ЭҮШ → ЗТ МДҚ
    LE_SDB = "le-sdb"                          # ЗТ МДҚ, Legal Entities state database


class StepKind(enum.StrEnum):
    ACTION = "action"
    CONDITION = "condition"
    REFUSAL = "refusal"
    RESULT = "result"

    @property
    def final(self) -> bool:
        return self in (StepKind.REFUSAL, StepKind.RESULT)


@dataclass(frozen=True)
class Norm:
    """The regulation's execution time for a step ("Орындалу мерзімі"), in seconds.

    A step is within its norm when its duration is at most ``max_seconds``; finishing faster than
    ``min_seconds`` is not a violation (the minimum is the regulation's expectation, kept for
    reports).
    """

    min_seconds: float
    max_seconds: float
    label: str

    def __post_init__(self) -> None:
        if not 0 <= self.min_seconds <= self.max_seconds:
            raise ConfigurationError(f"norm {self.label!r}: need 0 <= min <= max",
                                     min=self.min_seconds, max=self.max_seconds)

    def allows(self, seconds: float) -> bool:
        return seconds <= self.max_seconds


NORM_10_15S = Norm(10, 15, "10–15 s")
NORM_10S = Norm(10, 10, "10 s")
NORM_20S = Norm(20, 20, "20 s")
NORM_1_5MIN = Norm(90, 90, "1.5 min")


@dataclass(frozen=True)
class Step:
    """One node of a diagram.

    ``next`` is the following step of an action; ``on_ok`` / ``on_fail`` the branches of a
    condition; ``message`` the regulation's text of a refusal. Final steps have no successor.
    """

    id: str
    kind: StepKind
    actor: Actor
    description: Text
    norm: Norm | None = None
    next: str | None = None
    on_ok: str | None = None
    on_fail: str | None = None
    message: Text | None = None

    @property
    def number(self) -> int | None:
        """The regulation's process number ("N-үдеріс"); conditions have none."""
        return int(self.id) if self.id.isdigit() else None

    def successors(self) -> tuple[str, ...]:
        return tuple(s for s in (self.next, self.on_ok, self.on_fail) if s is not None)


@dataclass(frozen=True)
class Diagram:
    """A whole diagram: its steps and where it starts. Validated when built."""

    id: str
    number: int
    title: Text
    start: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ConfigurationError(f"diagram {self.id}: duplicate step ids", diagram=self.id)
        known = set(ids)
        if self.start not in known:
            raise ConfigurationError(f"diagram {self.id}: start step {self.start} unknown", diagram=self.id)
        for step in self.steps:
            self._check_shape(step, known)
        self._check_acyclic()

    def _check_shape(self, step: Step, known: set[str]) -> None:
        where = f"diagram {self.id}, step {step.id}"
        if step.kind is StepKind.ACTION and (step.next is None or step.on_ok or step.on_fail):
            raise ConfigurationError(f"{where}: an action needs exactly one next step", diagram=self.id)
        if step.kind is StepKind.CONDITION and (step.on_ok is None or step.on_fail is None or step.next):
            raise ConfigurationError(f"{where}: a condition needs ok and fail branches", diagram=self.id)
        if step.kind.final and step.successors():
            raise ConfigurationError(f"{where}: a final step has no successor", diagram=self.id)
        if step.kind is StepKind.REFUSAL and step.message is None:
            raise ConfigurationError(f"{where}: a refusal needs its message", diagram=self.id)
        for target in step.successors():
            if target not in known:
                raise ConfigurationError(f"{where}: unknown successor {target}", diagram=self.id)

    def _check_acyclic(self) -> None:
        # Idempotency keys are "flow id + step id": a step must be visited at most once per flow.
        state: dict[str, int] = {}

        def visit(step_id: str) -> None:
            if state.get(step_id) == 1:
                raise ConfigurationError(f"diagram {self.id}: cycle through step {step_id}",
                                         diagram=self.id)
            if state.get(step_id) == 2:
                return
            state[step_id] = 1
            for nxt in self.step(step_id).successors():
                visit(nxt)
            state[step_id] = 2

        visit(self.start)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise ConfigurationError(f"diagram {self.id}: no step {step_id!r}", diagram=self.id, step=step_id)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def of_kind(self, kind: StepKind) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind is kind)

    def paths(self) -> list[tuple[str, ...]]:
        """Every path from the start to a final step (the branches a test must walk)."""
        out: list[tuple[str, ...]] = []

        def walk(step_id: str, path: tuple[str, ...]) -> None:
            step = self.step(step_id)
            path = (*path, step_id)
            if step.kind.final:
                out.append(path)
            for nxt in step.successors():
                walk(nxt, path)

        walk(self.start, ())
        return out


# --------------------------------------------------------------------------- refusal messages

REFUSAL_AUTH_APPLICANT = Text(
    kk="Қызмет алушының деректерінде орын алған кемшіліктердің болуына байланысты авторизациядан бас тарту",
    ru="Отказ в авторизации в связи с имеющимися нарушениями в данных получателя услуги",
    en="Authorisation denied because of faults in the applicant's data",
)
REFUSAL_NOT_PAID = Text(
    kk="«Е-лицензиялау» МДҚ АЖде көрсетілінген қызмет үшін төлемнің жоқтығына байланысты, "
       "сұраныс түскен қызметтен бас тарту",
    ru="Отказ в запрашиваемой услуге в связи с отсутствием оплаты за оказание услуги "
       "в ИС ГБД «Е-лицензирование»",
    en="Refusal: no payment for the service",
)
REFUSAL_EDS_NOT_CONFIRMED = Text(
    kk="ЭЦҚ-сының нақтылығын қызмет алушының дәлелдемеуіне байланысты сұраған қызметтен бас тарту",
    ru="Отказ в запрашиваемой услуге в связи с неподтверждением подлинности ЭЦП получателя услуги",
    en="Refusal: the applicant's EDS is not confirmed",
)
REFUSAL_DATA_FAULTS = Text(
    kk="Қызмет алушының «Е-лицензиялау» МДҚ АЖ-дегі деректеріндегі кемшіліктерге байланысты "
       "сұраныс түскен қызметтен бас тарту",
    ru="Отказ в запрашиваемой услуге в связи с имеющимися нарушениями в данных получателя услуги "
       "в ИС ГБД «Е-лицензирование»",
    en="Refusal because of faults in the applicant's data",
)
REFUSAL_AUTH_EMPLOYEE = Text(
    kk="Тіркелген қызмет берушінің қызметкері жайлы деректеріндегі кемшіліктерге байланысты "
       "авторизациядан бас тарту",
    ru="Отказ в авторизации в связи с имеющимися нарушениями в данных о зарегистрированном "
       "сотруднике услугодателя",
    en="Authorisation denied",
)
REFUSAL_NO_LE_DATA = Text(
    kk="ЗТ МДҚ-да қызмет алушы деректерінің болмауына байланысты деректерді алу мүмкін еместігі",
    ru="Невозможно получить данные в связи с отсутствием данных получателя услуги в ГБД ЮЛ",
    en="The data cannot be obtained: the applicant is absent from the Legal Entities database",
)


def _t(en: str, kk: str, ru: str) -> Text:
    return Text(en=en, kk=kk, ru=ru)


# --------------------------------------------------------------------------- Diagram 1: through the portal

DIAGRAM_PORTAL = Diagram(
    id="portal",
    number=1,
    title=_t("Diagram 1: service through the e-Government portal",
             "№ 1 диаграмма: ЭҮП арқылы электрондық қызмет көрсету",
             "Диаграмма № 1: оказание электронной услуги через ПЭП"),
    start="1",
    steps=(
        Step("1", StepKind.ACTION, Actor.APPLICANT, _t(
            "Registers on the portal with the EDS certificate (first time only); authorises with "
            "certificate and password",
            "Мемлекеттік қызметті алу үшін ЭЦҚ тіркеу куәлігін, тұтынушының паролін ЭҮП-ке енгізу "
            "үдерісін интернет-браузерде бекіту (авторизация үдерісі)",
            "Авторизация на ПЭП с регистрационным свидетельством ЭЦП и паролем"),
            norm=NORM_10_15S, next="C1"),
        Step("C1", StepKind.CONDITION, Actor.EGP, _t(
            "Checks the applicant is registered (login/password)",
            "Логин және пароль арқылы қызмет алушының тіркелгені туралы ЭҮП-тегі мәліметтердің "
            "нақтылығын тексеру",
            "Проверка подлинности данных о зарегистрированном получателе через логин и пароль"),
            on_fail="2", on_ok="3"),
        Step("2", StepKind.REFUSAL, Actor.EGP, _t(
            "Refusal of authorisation", "ЭҮП-мен авторизациядан бас тарту туралы хабарлауды қалыптастыру",
            "Формирование сообщения об отказе в авторизации"),
            norm=NORM_20S, message=REFUSAL_AUTH_APPLICANT),
        Step("3", StepKind.ACTION, Actor.APPLICANT, _t(
            "Selects the service, fills the application form, attaches the required documents",
            "Қызмет алушының қызметті таңдауы, өтініш нысанына электрондық түрдегі қажетті "
            "құжаттарды тіркеп нысанды толтыру",
            "Выбор услуги, заполнение формы запроса с прикреплением необходимых документов"),
            norm=NORM_1_5MIN, next="4"),
        Step("4", StepKind.ACTION, Actor.EGPG, _t(
            "Payment for the service through the payment gateway; the payment reaches E-licensing",
            "ЭҮТШ-қа қызметтік төлеу, бұл ақпарат содан кейін «Е-лицензиялау» МДҚ АЖға түседі",
            "Оплата услуги через ПШЭП, информация поступает в ИС ГБД «Е-лицензирование»"),
            norm=NORM_1_5MIN, next="C2"),
        Step("C2", StepKind.CONDITION, Actor.ELICENSING, _t(
            "Checks the service has been paid",
            "«Е-лицензиялау» МДҚ АЖде қызмет көрсету үшін төленгенін тексеру",
            "Проверка факта оплаты за оказание услуги в ИС ГБД «Е-лицензирование»"),
            on_fail="5", on_ok="6"),
        Step("5", StepKind.REFUSAL, Actor.EGP, _t(
            "Refusal: no payment", "Төлемнің жоқ болуына байланысты бас тарту жөнінде хабарламаны қалыптастыру",
            "Формирование сообщения об отказе в связи с отсутствием оплаты"),
            norm=NORM_10_15S, message=REFUSAL_NOT_PAID),
        Step("6", StepKind.ACTION, Actor.APPLICANT, _t(
            "Selects the EDS certificate to sign the request",
            "Сұранысты растау (қол қою) үшін қызмет алушының ЭЦҚ тіркеу куәлігін таңдауы",
            "Выбор регистрационного свидетельства ЭЦП для удостоверения (подписания) запроса"),
            norm=NORM_10_15S, next="C3"),
        Step("C3", StepKind.CONDITION, Actor.EGP, _t(
            "Checks the certificate's validity period, that it is not revoked, and that its BIN "
            "matches the BIN of the request",
            "ЭЦҚ тіркеу куәлігінің жұмыс мерзімін және қайтарылған (күші жойылған) тіркеу "
            "куәліктерінің тізімде жоқтығын, сондай-ақ БСН-нің сәйкестігін тексеру",
            "Проверка срока действия свидетельства ЭЦП, отсутствия в списке отозванных и "
            "соответствия БИН в свидетельстве и в запросе"),
            on_fail="7", on_ok="8"),
        Step("7", StepKind.REFUSAL, Actor.EGP, _t(
            "Refusal: EDS not confirmed",
            "ЭЦҚ-сының нақтылығын дәлелдемеуіне байланысты бас тарту туралы хабарламаны қалыптастыру",
            "Формирование сообщения об отказе в связи с неподтверждением подлинности ЭЦП"),
            message=REFUSAL_EDS_NOT_CONFIRMED),
        Step("8", StepKind.ACTION, Actor.APPLICANT, _t(
            "Confirms (signs) the filled request with the EDS",
            "Толтырылған нысанда қызмет көрсету сұранысын қызмет алушының ЭЦҚ-ы (қол қою) арқылы растауы",
            "Удостоверение (подписание) заполненного запроса посредством ЭЦП получателя"),
            next="9"),
        Step("9", StepKind.ACTION, Actor.ELICENSING, _t(
            "Registers the electronic document (the request) and processes it",
            "«Е-лицензиялау» МДҚ АЖ-де электрондық құжатты (қызмет алушының сұранысы) тіркеуі және "
            "сұранысты өңдеуі",
            "Регистрация электронного документа (запроса) и обработка в ИС ГБД «Е-лицензирование»"),
            next="C4"),
        Step("C4", StepKind.CONDITION, Actor.PROVIDER, _t(
            "Checks the applicant meets the qualification requirements and the grounds for issuing",
            "Қызмет алушының біліктілік талаптарына және лицензия беру негіздеріне сәйкестігін "
            "қызмет көрсетушінің тексеруі",
            "Проверка услугодателем соответствия получателя квалификационным требованиям и "
            "основаниям для выдачи лицензии"),
            on_fail="10", on_ok="11"),
        Step("10", StepKind.REFUSAL, Actor.ELICENSING, _t(
            "Refusal because of faults in the applicant's data",
            "Сұраныс түскен қызметтен бас тарту туралы хабарламаны қалыптастыру",
            "Формирование сообщения об отказе в запрашиваемой услуге"),
            message=REFUSAL_DATA_FAULTS),
        Step("11", StepKind.RESULT, Actor.EGP, _t(
            "The applicant receives the electronic licence formed with the EDS of the provider's "
            "authorised person",
            "Қызмет алушының ЭҮП қалыптастырған қызмет нәтижесін (электрондық лицензия) алуы",
            "Получение результата услуги (электронной лицензии), сформированного с ЭЦП "
            "уполномоченного лица услугодателя"),
        ),
    ),
)


# --------------------------------------------------------------------------- Diagram 2: through the provider

DIAGRAM_PROVIDER = Diagram(
    id="provider",
    number=2,
    title=_t("Diagram 2: service through the provider's employee",
             "№ 2 диаграмма: қызмет беруші арқылы электрондық қызмет көрсету",
             "Диаграмма № 2: оказание электронной услуги через услугодателя"),
    start="1",
    steps=(
        Step("1", StepKind.ACTION, Actor.PROVIDER_EMPLOYEE, _t(
            "Logs in to E-licensing with login and password",
            "Мемлекеттік қызмет көрсету үшін «Е-лицензиялау» МДҚ АЖ-ге логин және парольді қызмет "
            "көрсетуші қызметкердің енгізуі (авторизациялау үдерісі)",
            "Ввод сотрудником услугодателя логина и пароля в ИС ГБД «Е-лицензирование»"),
            norm=NORM_10_15S, next="C1"),
        Step("C1", StepKind.CONDITION, Actor.ELICENSING, _t(
            "Checks the employee's login/password",
            "Логин және пароль арқылы қызмет көрсетушінің тіркелген қызметкері туралы деректердің "
            "дұрыстығын «Е-лицензиялау» МДҚ АЖ-да тексеру",
            "Проверка подлинности данных о зарегистрированном сотруднике услугодателя"),
            on_fail="2", on_ok="3"),
        Step("2", StepKind.REFUSAL, Actor.ELICENSING, _t(
            "Refusal of authorisation",
            "Авторизациядан бас тарту жөнінде «Е-лицензиялау» МДҚ АЖ хабарламасын қалыптастыру",
            "Формирование сообщения об отказе в авторизации"),
            norm=NORM_10S, message=REFUSAL_AUTH_EMPLOYEE),
        Step("3", StepKind.ACTION, Actor.PROVIDER_EMPLOYEE, _t(
            "Selects the service, opens the request form, enters the applicant's data",
            "Қызмет көрсетуші қызметкердің қызметті таңдауы, сұраныс нысанын экранға шығаруы және "
            "қызмет алушының деректерін енгізуі",
            "Выбор услуги, вывод формы запроса и ввод данных получателя"),
            norm=NORM_1_5MIN, next="4"),
        Step("4", StepKind.ACTION, Actor.LE_SDB_VIA_EGG, _t(
            "Request for the applicant's data sent through the gateway to the Legal Entities database",
            "Сұранысты ЭҮШ арқылы қызмет алушы туралы деректерді ЗТ МДҚ-ға жіберу",
            "Направление запроса о данных получателя через ШЭП в ГБД ЮЛ"),
            norm=NORM_1_5MIN, next="C2"),
        Step("C2", StepKind.CONDITION, Actor.LE_SDB, _t(
            "Checks the applicant's data exist",
            "ЗТ МДҚ-да қызмет алушы жайлы деректердің болуын тексеру",
            "Проверка наличия данных получателя в ГБД ЮЛ"),
            on_fail="5", on_ok="6"),
        Step("5", StepKind.REFUSAL, Actor.ELICENSING, _t(
            "Message: the data cannot be obtained",
            "Деректерді алу мүмкін еместігі туралы хабарламаны қалыптастыру",
            "Формирование сообщения о невозможности получения данных"),
            norm=NORM_1_5MIN, message=REFUSAL_NO_LE_DATA),
        Step("6", StepKind.ACTION, Actor.PROVIDER_EMPLOYEE, _t(
            "Fills the form where paper documents are noted, scans and attaches the documents",
            "Құжаттардың қағаз түрінде болуы туралы белгіленген бөлігінде сұраныс нысанын толтыру "
            "және қызмет алушы тапсырған керекті құжаттарды сканирлеп, сұраныс нысанына бекітуі",
            "Заполнение формы запроса в части отметки о наличии документов на бумаге, "
            "сканирование и прикрепление документов"),
            norm=NORM_10_15S, next="7"),
        Step("7", StepKind.ACTION, Actor.ELICENSING, _t(
            "Registers the request and processes the service",
            "«Е-лицензиялау» МДҚ АЖ-да сұранысты тіркеу және қызметті өңдеу",
            "Регистрация запроса и обработка услуги в ИС ГБД «Е-лицензирование»"),
            next="C3"),
        Step("C3", StepKind.CONDITION, Actor.PROVIDER, _t(
            "Checks qualification requirements and grounds for issuing",
            "Қызмет алушының біліктілік талаптарына және лицензия беру талаптарына сәйкестігін "
            "қызмет көрсетушінің тексеруі",
            "Проверка услугодателем соответствия получателя квалификационным требованиям"),
            on_fail="8", on_ok="9"),
        Step("8", StepKind.REFUSAL, Actor.ELICENSING, _t(
            "Refusal because of faults in the applicant's data",
            "Сұраныс түскен қызметтен бас тарту туралы хабарламаны қалыптастыру",
            "Формирование сообщения об отказе в запрашиваемой услуге"),
            message=REFUSAL_DATA_FAULTS),
        Step("9", StepKind.RESULT, Actor.ELICENSING, _t(
            "The applicant receives the electronic licence formed with the EDS of the provider's "
            "authorised person",
            "Қызмет алушының «Е-лицензиялау» МДҚ АЖ-мен қалыптастырылған қызмет нәтижесін "
            "(электрондық лицензия) алуы",
            "Получение результата услуги (электронной лицензии)"),
        ),
    ),
)

DIAGRAMS: dict[str, Diagram] = {d.id: d for d in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER)}


def get_diagram(diagram_id: str) -> Diagram:
    try:
        return DIAGRAMS[diagram_id]
    except KeyError:
        raise ConfigurationError(f"unknown diagram {diagram_id!r}; known: {sorted(DIAGRAMS)}",
                                 diagram=diagram_id) from None
