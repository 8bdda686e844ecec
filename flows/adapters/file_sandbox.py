"""A child process for the files our pre-checks cannot make safe: OLE files, .xlsb, .ods, .xls.

It exists because olefile can hang and calamine can abort the whole process (a Rust OOM or
panic, not an exception) on formats we do not pre-check (shared/notes/intake-reliability.md §4).
Such a file is opened only in a child with a wall-clock timeout and an address-space limit; the
child answers with one JSON object, and a child that dies answers nothing, which is a reason too.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from flows.adapters.charset import decode_text
from flows.adapters.file_guard import PROBLEM_ENCRYPTED, PROBLEM_TIMEOUT, Refused, cap, corrupt, describe
from flows.adapters.html_text import html_to_text

SANDBOX_TIMEOUT_S = 20.0
SANDBOX_MEMORY_BYTES = 512 * 1024 * 1024
SANDBOX_MAX_OUTPUT = 8 * 1024 * 1024


def run_sandboxed(mode: str, data: bytes) -> dict[str, Any]:
    """Run ``mode`` on ``data`` in a child process with a timeout and a memory limit."""
    root = str(Path(__file__).resolve().parents[2])
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _SANDBOX_BOOT, root, mode],
            input=data,
            capture_output=True,
            timeout=SANDBOX_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"problem": PROBLEM_TIMEOUT}
    except OSError as exc:
        return {"problem": corrupt(f"læseprocessen kunne ikke startes ({exc.__class__.__name__})")}
    try:
        result: dict[str, Any] = json.loads(done.stdout[:SANDBOX_MAX_OUTPUT])
    except ValueError:
        # no JSON: the child was killed (memory limit, Rust abort) or crashed
        return {"problem": corrupt("filen er beskadiget eller for stor til at blive læst")}
    return result


# -I ignores PYTHONPATH, so the project root is put on sys.path explicitly.
_SANDBOX_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from flows.adapters.file_sandbox import sandbox_main; sandbox_main(sys.argv[2])"
)


def sandbox_main(mode: str) -> None:
    """Child-process entry: limit memory, read stdin, write one JSON object to stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (SANDBOX_MEMORY_BYTES, SANDBOX_MEMORY_BYTES))
    data = sys.stdin.buffer.read()
    try:
        result = _sandbox_dispatch(mode, data)
    except Refused as exc:
        result = {"problem": exc.reason}
    except BaseException as exc:  # includes pyo3 PanicException, which is not an Exception
        result = {"problem": corrupt(describe(exc))}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


def _sandbox_dispatch(mode: str, data: bytes) -> dict[str, Any]:
    if mode == "ole":
        return _ole_in_child(data)
    if mode == "calamine":
        return _workbook_in_child(data)
    return {"problem": corrupt("ukendt læsemåde")}


def _workbook_in_child(data: bytes) -> dict[str, Any]:
    from flows.adapters.workbook_text import calamine_text

    text, notice = calamine_text(data)
    return {"text": text, "notice": notice} if notice else {"text": text}


def _ole_in_child(data: bytes) -> dict[str, Any]:
    import olefile

    with olefile.OleFileIO(data) as ole:
        streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    tops = {s.split("/", 1)[0] for s in streams}
    upper = {t.upper() for t in tops}  # stream names are case-insensitive in CFB
    if "ENCRYPTEDPACKAGE" in upper:
        return {"kind": "encrypted", "problem": PROBLEM_ENCRYPTED}
    if any(s.startswith("__substg1.0_") for s in tops):
        return {"kind": "msg", "text": _msg_text(data)}
    if upper & {"WORKBOOK", "BOOK"}:
        return {"kind": "xls", **_workbook_in_child(data)}
    if "WORDDOCUMENT" in upper:
        return {"kind": "doc", "problem": "Filformatet (gammelt Word-format .doc) kan ikke læses automatisk"}
    return {"kind": "ole", "problem": "Filformatet (OLE-fil) kan ikke læses automatisk"}


def _msg_text(data: bytes) -> str:
    import extract_msg

    msg = extract_msg.openMsg(data)
    try:
        subject = getattr(msg, "subject", None) or ""
        sender = getattr(msg, "sender", None) or ""
        body = getattr(msg, "body", None) or ""
        html_body = getattr(msg, "htmlBody", None)
        if not body and html_body:
            body = html_to_text(decode_text(html_body) if isinstance(html_body, bytes) else str(html_body))
    finally:
        msg.close()
    return cap(f"Emne: {subject}\nFra: {sender}\n\n{body}".strip())
