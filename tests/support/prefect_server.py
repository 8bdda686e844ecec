"""A `prefect server` of one test module's own: tests/services/prefect.sh on a free port.

Its state (SQLite database, home, log, pid) lives in the directory given, so two modules running
at once (pytest-xdist) never share a server, a port or a path; and killing it hurts nobody else.
The script starts it under setsid: its process group is the server and its children, only ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.support.smtpserver import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "services" / "prefect.sh"


class PrefectServer:
    """Started, SIGKILLed and stopped through tests/services/prefect.sh; same port and database on a restart."""

    def __init__(self, state_dir: Path, settings: dict[str, str] | None = None) -> None:
        """``settings``: PREFECT_SERVER_* settings of this server (the script passes them on)."""
        self.dir = state_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            **(settings or {}),
            "HOERING_TEST_PREFECT_PORT": str(self.port),
            "PREFECT_API_URL": "",
        }

    def start(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "start", str(self.dir)], env=self.env, check=True, timeout=300)

    def kill(self) -> None:
        """SIGKILL the server's process group and wait until none of it is left."""
        pid = int((self.dir / "pid").read_text())
        os.killpg(pid, signal.SIGKILL)
        while True:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        (self.dir / "pid").unlink()

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.dir)], env=self.env, check=False, timeout=120)
