"""An attached file opened or saved from the portal (the applicant's own application page and the
licensor's desk): fetched from E-licensing (``GetAttachment``) with the viewer's session, and given
to the browser only when its content is the one the signed application references (name, SHA-256,
size): a file swapped after signing is refused, never shown."""

from __future__ import annotations

from adapters.core.errors import ValidationError
from adapters.elicense import ElicenseClient, Session
from simulators.common.messages import Request, Response
from simulators.portal.web import attached_file


def attachment_answer(elicense: ElicenseClient, session: Session, req: Request, number: str,
                      file_name: str) -> Response:
    """The file ``file_name`` of application ``number`` (``?download=1`` saves it), 404 when the
    application names no such file; E-licensing refuses a viewer who is neither the applicant nor
    an employee of the licensor."""
    info = elicense.get_application(session, number).application
    ref = next((a for a in info.attachments if a.file_name == file_name), None)
    if ref is None:
        return Response.text(f"application {number} has no attachment {file_name!r}", 404)
    got = elicense.get_attachment(session, number, file_name)
    if (got.sha256, got.size) != (ref.sha256, ref.size):
        raise ValidationError("attachment", f"{file_name!r}: E-licensing gave SHA-256 {got.sha256} ({got.size} "
                                            f"bytes), the signed application names {ref.sha256} ({ref.size})")
    return attached_file(got.content, file_name, download=req.param("download") == "1")
