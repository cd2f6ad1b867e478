"""The E-licensing contract files (``wsdl/elicense``, ``schemas/elicense``): paths, namespaces, validation.

Shared by the adapter and the simulator so that both speak exactly the contract in the files.
"""

from __future__ import annotations

from lxml import etree

from adapters.contracts import schema_errors
from adapters.core.errors import SchemaValidationError

EL_NS = "http://elicense.kz/Elicense/v10/Types"
UL_NS = "http://elicense.kz/UniversalLicense/v10/Types"
IFACE_NS = "http://elicense.kz/Elicense/v10/Interfaces"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"

ATTACHMENTS_MAX_TOTAL_BYTES = 30 * 1024 * 1024
"""The memo's limit on the total size of an application's attachments: 30 MB = 31,457,280 bytes."""

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "SENT": ("мемлекеттік органға жөнелтілді", "отправлено в государственный орган"),
    "IN_PROGRESS": ("жұмыс барысында", "в работе"),
    "ISSUED": ("беру шешімі қабылданды", "принято решение о выдаче"),
    "REFUSED": ("беруден бас тарту шешімі қабылданды", "принято решение об отказе в выдаче"),
}
"""The memo's statuses (step 3), (kk, ru) by the code on the wire; the Russian names are ours."""
APPLICATION_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "ISSUE": ("Лицензия және қосымшаларды беруге өтініш", "Заявление на выдачу лицензии и приложений"),
    "REISSUE": ("Лицензияны қайта ресімдеуге өтініш", "Заявление на переоформление лицензии"),
    "DUPLICATE": ("Лицензияның телнұсқасын беруге өтініш", "Заявление на выдачу дубликата лицензии"),
    "APPENDIX": ("Лицензияға қосымша беруге өтініш", "Заявление на выдачу приложения к лицензии"),
}
"""Application types (the seed's application information: "Лицензия және қосымшаларды беруге өтініш")."""
CATEGORY_NAME = ("Қызмет түріне лицензия", "Лицензия на вид деятельности")
"""The application's category (the seed: "Санаты: Қызмет түріне лицензия")."""
SERVICE_NAMES: dict[str, tuple[str, str]] = {
    "S1": ("Жоғары және жоғары оқу орнынан кейінгі білім беру", "Высшее и послевузовское образование"),
    "S2": ("Діни білім беретін ұйымдар", "Организации, дающие религиозное образование"),
    "S3": ("Техникалық және кәсіптік білім берудің білім беретін оқу бағдарламалары",
           "Образовательные программы технического и профессионального образования"),
    "S4": ("Бастауыш, негізгі орта және жалпы орта білім берудің білім беретін оқу бағдарламалары",
           "Образовательные программы начального, основного среднего и общего среднего образования"),
    "S5": ("Республикалық бюджеттен қаржыландырылатын білім беру ұйымдары",
           "Организации образования, финансируемые из республиканского бюджета"),
}
"""The five services of Order No. 467, (kk, ru) by their catalogue code (``GetCatalogue`` answers
them; the simulator's catalogue is built from this table)."""

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
"""The schema's ``Email`` pattern (the profile's, an applicant's), for pages that check before a request is built."""
PHONE_PATTERN = r"\+?[0-9][0-9 ()\-]{4,30}"
"""The schema's ``Phone`` pattern (the profile's)."""

SEARCH_SERVICE_ID = "ElicenseUniversalLicense"
STATUS_NOTIFICATION_SERVICE_ID = "ElicenseStatusNotification"


def el(name: str) -> str:
    """Clark name in the E-licensing types namespace."""
    return f"{{{EL_NS}}}{name}"


def ul(name: str) -> str:
    """Clark name in the UniversalLicense namespace."""
    return f"{{{UL_NS}}}{name}"


def soap_action(operation: str) -> str:
    port = "IUniversalLicense" if operation == "GetUniversalLicenses" else "IElicense"
    return f"{IFACE_NS}/{port}/{operation}"


ELICENSE_WSDL = "wsdl/elicense/elicense.wsdl"
"""Relative to the contracts root: ``adapters.contracts.contract_path(ELICENSE_WSDL)``."""
ELICENSE_XSD = "schemas/elicense/elicense.xsd"
UNIVERSAL_LICENSE_XSD = "schemas/elicense/universal-license.xsd"


def validate(element: etree._Element, *, what: str) -> None:
    """Validate against the schema of the element's namespace.

    Raises :class:`SchemaValidationError` naming the first problem.
    """
    relative = UNIVERSAL_LICENSE_XSD if etree.QName(element).namespace == UL_NS else ELICENSE_XSD
    errors = schema_errors(relative, element)
    if errors:
        raise SchemaValidationError(f"{what} does not match the E-licensing schema: {errors[0]}", what=what)
