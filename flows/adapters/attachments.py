"""Attachments: which reader gets which file; every file ends as a ``ParsedAttachment``.

``inspect_attachment`` never raises. When a file could not (or should not) be read, ``problem``
holds a Danish reason for the review list. This module only dispatches
(shared/notes/intake-reliability.md §4):

* the type is decided by sniffing the bytes, never by the (attacker-chosen) name alone;
* a ZIP-based file passes the guard's central-directory checks (``file_guard.inspect_zip``)
  before a reader opens it: workbooks go to ``response_template`` (which knows our template),
  Word documents, PDFs, text and HTML files to ``document_text``;
* OLE files (.msg, .xls, encrypted Office) and the formats calamine parses without our
  pre-checks (.xlsb, .ods) go to ``file_sandbox``, a child process with limits.
"""

from __future__ import annotations

import hashlib

from flows.adapters import document_text, response_template
from flows.adapters.file_guard import (
    OLE_MAGIC,
    PROBLEM_MACROS,
    Refused,
    ZipFacts,
    cap,
    corrupt,
    describe,
    extension,
    inspect_zip,
    sanitise_name,
)
from flows.adapters.file_sandbox import run_sandboxed
from flows.core.message import ParsedAttachment

_KNOWN_DOCUMENT_EXTENSIONS = {
    "xlsx": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "xlsm": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "docx": corrupt("filen er ikke et gyldigt Word-dokument"),
    "pdf": corrupt("filen er ikke en gyldig PDF"),
    "msg": corrupt("filen er ikke en gyldig Outlook-meddelelse"),
    "xls": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "rtf": "Filformatet (RTF) kan ikke læses automatisk",
    "odt": "Filformatet (OpenDocument-tekst) kan ikke læses automatisk",
    "doc": "Filformatet (gammelt Word-format .doc) kan ikke læses automatisk",
    "pages": "Filformatet (Apple Pages) kan ikke læses automatisk",
    "numbers": "Filformatet (Apple Numbers) kan ikke læses automatisk",
}


def inspect_attachment(name: str | None, content_type: str, data: bytes) -> ParsedAttachment:
    """A ParsedAttachment with a display-safe name, text and template facts; never raises."""
    attachment = ParsedAttachment(
        display_name=sanitise_name(name),
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    try:
        _fill(attachment)
    except Refused as exc:
        attachment.problem = exc.reason
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        attachment.problem = corrupt("filen er for stor")
    except BaseException as exc:  # a parser failure is a property of the file; pyo3 panics included
        attachment.problem = corrupt(describe(exc))
    return attachment


def _fill(att: ParsedAttachment) -> None:
    data, ext = att.data, extension(att.display_name)
    ctype = att.content_type.lower().split(";")[0].strip()
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        _fill_zip(att, inspect_zip(data))
    elif data.startswith(OLE_MAGIC):
        _fill_sandboxed(att, "ole")
    elif data.startswith(b"%PDF") or (ext == "pdf" and b"%PDF" in data[:1024]):
        att.text = document_text.pdf_text(data)
    elif ext == "eml" or ctype == "message/rfc822":
        att.text = ""  # the mail parser opens forwarded messages itself
    elif ext in ("txt", "csv", "text") or ctype in ("text/plain", "text/csv"):
        att.text = document_text.plain_text(data)
    elif ext in ("htm", "html") or ctype == "text/html":
        att.text = document_text.html_file_text(data)
    elif ext in _KNOWN_DOCUMENT_EXTENSIONS:
        # a document we cannot read (or one whose bytes do not match its name): a person must look
        raise Refused(_KNOWN_DOCUMENT_EXTENSIONS[ext])


def _fill_zip(att: ParsedAttachment, facts: ZipFacts) -> None:
    if facts.kind in ("xlsx", "xlsm"):
        _fill_workbook(att, facts)
    elif facts.kind in ("docx", "docm"):
        att.text = document_text.docx_text(att.data)
        if facts.macros:
            att.problem = "Makroer i dokumentet er ignoreret"
    elif facts.kind in ("xlsb", "ods"):
        _fill_sandboxed(att, "calamine", macros=facts.macros)
    elif facts.kind == "zip":
        raise Refused("Filen er et zip-arkiv; arkiver pakkes ikke ud automatisk")
    else:
        raise Refused("Filformatet kan ikke læses automatisk")


def _fill_workbook(att: ParsedAttachment, facts: ZipFacts) -> None:
    outcome = response_template.read_checked(att.data, facts)
    att.text = outcome.text
    problems: list[str] = []
    if outcome.template is not None:
        att.remarks = outcome.template.remarks
        att.template_ref = outcome.template.ref
        att.is_template = True
        problems += [outcome.template.problem] if outcome.template.problem else []
    if facts.macros and not problems:
        # still read: the values are what the party wrote; the macros are never run or kept
        problems.append(PROBLEM_MACROS)
    if outcome.notice:
        problems.append(outcome.notice)  # read, but a person must check what the file says
    att.problem = "; ".join(problems) or None


def _fill_sandboxed(att: ParsedAttachment, mode: str, *, macros: bool = False) -> None:
    result = run_sandboxed(mode, att.data)
    att.text = cap(str(result.get("text") or ""))
    problem, notice = result.get("problem"), result.get("notice")
    # as for .xlsx: a reason it was not read, else the macros; then what a person must check
    problems = [str(problem)] if problem else [PROBLEM_MACROS] if macros else []
    problems += [str(notice)] if notice else []
    att.problem = "; ".join(problems) or None
