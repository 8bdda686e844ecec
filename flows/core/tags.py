"""The tag that ties a Prefect run to its round, so the dashboard and ``status`` can filter by it."""

from __future__ import annotations


def round_tag(round_id: str) -> str:
    """``round:<id>``: every run of a round carries it (planned runs and the ones tagged at start)."""
    return f"round:{round_id}"
