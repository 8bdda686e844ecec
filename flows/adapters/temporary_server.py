"""Prefect's temporary server as a child that dies with the command (see ``lifeline``)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import get_current_settings

from flows.adapters.lifeline import die_with_parent


class TemporaryServer(SubprocessASGIServer):
    """Prefect's temporary server, started so that it dies with the command that started it.

    Prefect keeps one instance per port and hands it to every client; this one is created first
    (by ``start_temporary_server``), so Prefect's own ``SubprocessASGIServer()`` finds it running.
    The command is Prefect's own (``prefect/server/api/server.py``, 3.9), plus ``preexec_fn``.
    """

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        server_env = {
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        return subprocess.Popen(
            args=[
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(prefect.__module_path__.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                **server_env,
                **get_current_settings().to_environment_variables(exclude_unset=True),
            },
            preexec_fn=die_with_parent,  # started from the main thread, before Prefect runs a flow
        )
