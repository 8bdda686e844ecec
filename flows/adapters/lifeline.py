"""Children die with their parent: nothing a killed ``hoering`` started keeps running.

A SIGKILL (cron's timeout, the OOM killer, an operator) ends a process without its exit handlers,
so children it meant to stop live on, re-parented to pid 1: Prefect's temporary server (about
200 MB each) and the parse workers. Two ways, chosen by how the child is started:

* ``die_with_parent`` asks the kernel (``PR_SET_PDEATHSIG``) to SIGKILL the child when the
  thread that started it ends. Used for the temporary server, which the command line starts from
  its main thread, so "that thread ends" means "the command ends"
  (``flows/adapters/temporary_server.py``).
* ``watch_parent`` runs a thread in the child that ends it once its parent is gone. Used for
  pool workers: a pool may be started from a short-lived thread (a task runner's), whose end
  must not kill workers the process keeps using.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from typing import Any

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 0.5
_libc: Any = None
if sys.platform == "linux":
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def die_with_parent() -> None:
    """In a child between fork and exec (``preexec_fn``): SIGKILL me when my parent dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def watch_parent(parent_pid: int) -> None:
    """In a child (a pool initializer): exit as soon as ``parent_pid`` is no longer my parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_WATCH_SECONDS)
        os._exit(70)  # the parent is gone: no one will read what this process makes

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
