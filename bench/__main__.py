"""``python -m bench --responses N [--database URL] [--json]``: the harness (``bench.harness.main``)."""

from __future__ import annotations

from bench.harness import main

raise SystemExit(main())
