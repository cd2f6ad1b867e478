"""CPU per licence PDF and per refusal-letter PDF (part of bench b, target ≤ 10 ms each).

The documents are the demo's kind: a re-issued licence with two appendices, and the refusal letter
of the regulation's sample (eight rows, Kazakh and Russian). CPU time of this process
(``time.process_time``), so that other load on the machine weighs less than on wall time; the
median over repeats, after a warm-up that registers the fonts (once per process, not per document).

``python -m bench.documents`` prints the two rows alone.
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import time
from collections.abc import Callable

from bench import Row, print_rows

TARGET_MS = 10.0


def sample_licence() -> object:
    from procedure.models import AppendixView, LicenceView, SubType

    subtypes = [SubType(code="ED010100", name_kk="Жоғары білім (бакалавриат)",
                        name_ru="Высшее образование (бакалавриат)"),
                SubType(code="ED010200", name_kk="Магистратура", name_ru="Магистратура"),
                SubType(code="ED010300", name_kk="Докторантура", name_ru="Докторантура")]
    return LicenceView(
        number="KZ00LAA00000123", licensee_name="«Мәшһүр Жүсіп атындағы университет» ЖШС",
        licensee_bin="120240012345", special_conditions_kk="Шектеусіз", special_conditions_ru="Без ограничений",
        issuing_body_kk="ҚР БҒМ Білім және ғылым саласындағы бақылау комитеті",
        issuing_body_ru="Комитет по контролю в сфере образования и науки МОН РК",
        head_name="ЖАКУПОВ АСЕТ", issue_date=dt.date(2026, 11, 9), issue_place_kk="Астана қаласы",
        issue_place_ru="город Астана", kind="REISSUED", previous_number="KZ00LAA00000042",
        appendices=[AppendixView(number=str(n), issue_date=dt.date(2026, 11, 9), subtypes=subtypes[:n + 1])
                    for n in (1, 2)])


def sample_letter() -> object:
    from procedure.models import ApplicationDocuments, ProvidedDocument, RefusalLetterView, Service
    from procedure.qualification import evaluate

    missing = evaluate(ApplicationDocuments(
        service=Service.HIGHER_POSTGRADUATE,
        documents=[ProvidedDocument(code="application", attributes={"form": "restore-licence-data"}),
                   ProvidedDocument(code="charter_copy", attributes={"notarised": False})],
        facts={"teaching_staff_degree_share": 0.6})).missing
    name = "ДАУКЕЕВ ГУМАРБЕК ЖУСУПБЕКОВИЧ"
    return RefusalLetterView(
        letter_date=dt.date(2026, 2, 17), state_body_kk="ҚР БҒМ Білім және ғылым саласындағы бақылау комитеті",
        state_body_ru="Комитет по контролю в сфере образования и науки МОН РК",
        state_body_address_kk="Астана қ., Мәңгілік Ел даңғылы, 8",
        state_body_address_ru="г. Астана, пр. Мангилик Ел, 8",
        recipient_name=name, recipient_organisation="«Мәшһүр Жүсіп атындағы университет» ЖШС",
        application_number="128", sent_date=dt.date(2026, 1, 27), missing=missing,
        salutation_kk=f"Құрметті {name}!", salutation_ru=f"Уважаемый(-ая) {name}!",
        text_kk="Сіздің 27.01.2026 күні жіберілген № 128 «Білім беру саласындағы қызмет (М65)» қызмет түріне "
                "лицензия алу жөніндегі өтінішіңізді қанағаттандыруға БАС ТАРТЫЛДЫ.",
        text_ru="В удовлетворении Вашего заявления № 128, направленного 27.01.2026, на получение лицензии на вид "
                "деятельности «Образовательная деятельность (М65)» ОТКАЗАНО.",
        signer_name="ЖАКУПОВ АСЕТ")


def cpu_per_call(fn: Callable[[], object], *, iterations: int, repeats: int = 5, warmup: int = 3) -> float:
    """Median over ``repeats`` of the mean process CPU time of one call (seconds)."""
    for _ in range(warmup):
        fn()
    means: list[float] = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        for _ in range(iterations):
            fn()
        means.append((time.process_time() - start) / iterations)
    return statistics.median(means)


def run(quick: bool = False) -> list[Row]:
    from procedure import documents
    from procedure.models import LicenceView, RefusalLetterView

    licence, letter = sample_licence(), sample_letter()
    assert isinstance(licence, LicenceView) and isinstance(letter, RefusalLetterView)
    iterations = 3 if quick else 40
    rows = []
    for figure, fn, size in (
            ("CPU per licence PDF (re-issue, two appendices)", lambda: documents.render_licence_pdf(licence),
             len(documents.render_licence_pdf(licence))),
            ("CPU per refusal-letter PDF (the sample's eight rows)",
             lambda: documents.render_refusal_letter_pdf(letter), len(documents.render_refusal_letter_pdf(letter)))):
        ms = cpu_per_call(fn, iterations=iterations, repeats=3 if quick else 5) * 1000
        rows.append(Row(bench="b", figure=figure, value=ms, unit="ms", target=f"≤ {TARGET_MS:g} ms",
                        met=ms <= TARGET_MS,
                        note=f"reportlab canvas, cut DejaVu fonts, first subset built once; {size // 1024} KiB"))
    return rows


if __name__ == "__main__":
    print_rows(run())
