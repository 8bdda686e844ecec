"""The combined PDF's volumes: how many a round fills and what they are called (``flows.core.outputs``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.core.danish import thousands
from flows.core.outputs import bundle_labels, bundle_paths, output_paths, volume_count, volume_number

OUT = output_paths(Path("/srv/out"), "sof-2025")


def test_up_to_one_volume_the_bundle_is_its_one_file() -> None:
    assert volume_count(0, 5_000) == volume_count(5_000, 5_000) == 1
    assert bundle_paths(OUT.bundle, 5_000, 5_000) == (OUT.bundle,)
    assert bundle_paths(OUT.public_bundle, 0, 5_000) == (OUT.public_bundle,)


def test_above_one_volume_the_bundle_is_numbered_volumes_beside_it() -> None:
    assert volume_count(5_001, 5_000) == 2 and volume_count(350_000, 5_000) == 70
    assert bundle_paths(OUT.bundle, 12_000, 5_000) == tuple(
        Path(f"/srv/out/sof-2025-samlede-hoeringssvar-del-0{k}.pdf") for k in (1, 2, 3)
    )
    assert bundle_paths(OUT.public_bundle, 5_001, 5_000)[-1] == Path(
        "/srv/out/sof-2025-samlede-hoeringssvar-offentlig-del-02.pdf"
    )


def test_a_hundred_volumes_or_more_get_numbers_that_sort_in_order() -> None:
    names = [p.name for p in bundle_paths(OUT.bundle, 101, 1)]
    assert names[0].endswith("-del-001.pdf") and names[-1].endswith("-del-101.pdf")
    assert sorted(names) == names


def test_a_volume_is_known_by_its_bundle_and_no_other() -> None:
    volumes = bundle_paths(OUT.bundle, 3, 1)
    assert [volume_number(OUT.bundle, p) for p in volumes] == [1, 2, 3]
    public = bundle_paths(OUT.public_bundle, 3, 1)
    assert [volume_number(OUT.bundle, p) for p in (*public, OUT.bundle, OUT.public_bundle)] == [None] * 5
    assert [volume_number(OUT.public_bundle, p) for p in public] == [1, 2, 3]
    elsewhere = Path("/srv/andet") / volumes[0].name
    odd = OUT.bundle.with_name("sof-2025-samlede-hoeringssvar-del-x1.pdf")
    assert volume_number(OUT.bundle, elsewhere) is None and volume_number(OUT.bundle, odd) is None


def test_a_volume_holds_at_least_one_response() -> None:
    with pytest.raises(ValueError, match="at least one"):
        volume_count(10, 0)


def test_numbers_are_written_with_a_point_between_the_thousands() -> None:
    assert [thousands(n) for n in (7, 5_001, 10_000, 1_234_567)] == ["7", "5.001", "10.000", "1.234.567"]


def test_the_volumes_are_named_by_part_where_they_are_listed() -> None:
    assert bundle_labels("Samlede høringssvar", ["a.pdf"]) == {"Samlede høringssvar": "a.pdf"}
    assert bundle_labels("Offentlige svar", ["1.pdf", "2.pdf"]) == {
        "Offentlige svar, del 1 af 2": "1.pdf",
        "Offentlige svar, del 2 af 2": "2.pdf",
    }
