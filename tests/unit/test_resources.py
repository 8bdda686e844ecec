"""flows.resources: the one lookup of config/ and sql/ (the installed case: tests/e2e/test_wheel_install.py)."""

from __future__ import annotations

import pytest

from flows.resources import ResourceMissingError, required, resource


def test_resources_are_the_shipped_files() -> None:
    assert (required("sql") / "env.py").is_file()
    assert required("config/note_da.toml").read_text(encoding="utf-8").count("Høringsnotat") >= 1
    assert resource("config/letterhead.docx").parent == required("config")


def test_a_missing_resource_is_named() -> None:
    with pytest.raises(ResourceMissingError, match=r"config/ingen\.toml mangler"):
        required("config/ingen.toml")


@pytest.mark.parametrize("name", ["tests", "../etc/passwd", "flows/cli.py"])
def test_only_the_shipped_folders_are_resources(name: str) -> None:
    with pytest.raises(ValueError, match="shipped folders"):
        resource(name)
