"""Secrets from Prefect Secret blocks, on the real prefect server the test command starts.

The SMTP password is ``block:NAME`` in HOERING_SMTP_URL (aiosmtpd with AUTH PLAIN checks it);
the OAuth client secret for the XOAUTH2 inbox comes from HOERING_SECRET_BLOCK (the loopback
Entra ID checks it, Dovecot checks the token). A round runs through the command line against
that server; then every output file, the data dir, the captured stdout/stderr, and the flow
runs' logs, artifacts and states read back from the server API are searched for both secrets.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ImapMailbox
from tests.integration.test_mail_round import ROUND, cph, mail
from tests.integration.test_microsoft365 import CLIENT_ID, MAILBOX, OAUTH_PORT, imap_url, require_xoauth2
from tests.support.authsmtp import AuthSmtpServer
from tests.support.identity import TENANT, IdentityProvider

API_URL = os.environ.get("HOERING_TEST_PREFECT_API_URL", "")
HOERING = str(Path(sys.executable).with_name("hoering"))

pytestmark = [
    pytest.mark.imap,
    pytest.mark.prefect_server,
    pytest.mark.skipif(
        not API_URL,
        reason="HOERING_TEST_PREFECT_API_URL is unset: run `make test`, which starts a prefect server",
    ),
]


@pytest.fixture
def blocks() -> Iterator[dict[str, str]]:
    """Two Secret blocks with fresh random values on the test server; deleted afterwards."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    tag = secrets.token_hex(4)
    values = {
        f"hoering-smtp-{tag}": "smtp-" + secrets.token_urlsafe(18),
        f"hoering-oauth-{tag}": "oauth-" + secrets.token_urlsafe(18),
    }
    with temporary_settings({PREFECT_API_URL: API_URL}):
        for name, value in values.items():
            Secret(value=value).save(name, overwrite=True)
        try:
            yield values
        finally:
            with get_client(sync_client=True) as client:
                for name in values:
                    client.delete_block_document(client.read_block_document_by_name(name, "secret").id)


def _server_record(round_id: str) -> tuple[str, int]:
    """Logs, artifacts, states and parameters of the round's flow and task runs, as one text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterTags,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.settings import PREFECT_API_URL, temporary_settings

    parts: list[str] = []
    with temporary_settings({PREFECT_API_URL: API_URL}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"round:{round_id}"]))
        )
        ids = [run.id for run in runs]
        parts += [run.model_dump_json() for run in runs]
        for run_id in ids:
            parts += [state.model_dump_json() for state in client.read_flow_run_states(run_id)]
        flow_filter = FlowRunFilter(id=FlowRunFilterId(any_=ids))
        parts += [task.model_dump_json() for task in client.read_task_runs(flow_run_filter=flow_filter)]
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
        parts += [log.model_dump_json() for log in logs]
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
        parts += [artifact.model_dump_json() for artifact in artifacts]
    return "\n".join(parts), len(logs)


def test_secrets_from_blocks_work_and_are_written_nowhere(
    tmp_path: Path, dovecot: tuple[str, int], imap_server: ImapMailbox, blocks: dict[str, str]
) -> None:
    """Invite over SMTP (password from block:NAME) and collect over XOAUTH2 (client secret from
    HOERING_SECRET_BLOCK); neither value appears in any output, file, log, artifact or state."""
    require_xoauth2(*dovecot)
    smtp_block, oauth_block = list(blocks)
    password, client_secret = blocks[smtp_block], blocks[oauth_block]
    round_id = f"blok-{secrets.token_hex(3)}"
    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    (base / "runde.toml").write_text(
        ROUND.replace('id = "test-runde"', f'id = "{round_id}"'), encoding="utf-8"
    )
    (tmp_path / "idp").mkdir()
    with IdentityProvider(tmp_path / "idp", OAUTH_PORT) as idp:
        idp.register(CLIENT_ID, client_secret, mailboxes={MAILBOX})
        smtp = AuthSmtpServer(password=password).start()
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("HOERING_", "PREFECT_"))}
            env |= {
                "PREFECT_API_URL": API_URL,
                "PREFECT_HOME": str(tmp_path / "prefect-home"),
                "DO_NOT_TRACK": "1",
                "HOERING_VERBOSE": "1",
                "HOERING_DATA_DIR": str(tmp_path / "var"),
                "HOERING_SMTP_URL": f"smtp://hoering%40kk.example:block:{smtp_block}@127.0.0.1:{smtp.port}",
                "HOERING_SEND_RATE_PER_MINUTE": "0",
                "HOERING_INBOX_URL": imap_url(imap_server),
                "HOERING_IMAP_PROCESSED_FOLDER": imap_server.processed,
                "HOERING_OAUTH_TENANT": TENANT,
                "HOERING_OAUTH_CLIENT_ID": CLIENT_ID,
                "HOERING_OAUTH_AUTHORITY": idp.authority,
                "HOERING_SECRET_BLOCK": oauth_block,
                "REQUESTS_CA_BUNDLE": str(idp.ca_file),
            }
            outputs: list[str] = []

            def hoering(now: str, *args: str) -> None:
                result = subprocess.run(
                    [HOERING, "--now", now, *args],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=tmp_path,
                    timeout=600,
                    check=False,
                )
                outputs.extend([result.stdout, result.stderr])
                assert result.returncode == 0, result.stderr[-3000:]

            hoering("2025-10-15T14:00:00+02:00", "open", str(base / "runde.toml"))
            hoering("2025-10-16T09:00:00+02:00", "invite", round_id)
            imap_server.append(
                mail(
                    "a",
                    "aeldre@raad.example",
                    "Vi støtter strategien.",
                    subject=f"SV: [Høring {round_id}] Svar",
                ),
                when=cph("2025-10-20T10:00:00+02:00"),
            )
            hoering("2025-10-20T16:00:00+02:00", "collect", round_id)
            hoering("2025-10-25T09:00:00+02:00", "assemble", round_id, "--out", str(tmp_path / "out"))
        finally:
            smtp.stop()

    # the secrets were used: the server took the password, Entra ID the client secret
    assert {login for _mechanism, login in smtp.logins} == {"hoering@kk.example"}
    assert len([r for r in smtp.received if "Kvittering" not in str(r.message["Subject"])]) == 5
    assert idp.token_requests >= 1 and idp.introspections
    assert "Hentet 1, nye 1" in "".join(outputs)

    needles = {
        secret: {secret, json.dumps(secret)[1:-1], secret.replace("-", "%2D")}
        for secret in (password, client_secret)
    }
    record, log_count = _server_record(round_id)
    assert log_count > 0 and round_id in record  # the search below reads the real record
    texts = {"stdout/stderr": "\n".join(outputs), "prefect server": record}
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith("idp-"):
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any(str(tmp_path / "out") in name for name in texts)  # the outputs are among them
    found = [
        (where, secret[:6])
        for where, text in texts.items()
        for secret, forms in needles.items()
        if any(f in text for f in forms)
    ]
    assert found == []
