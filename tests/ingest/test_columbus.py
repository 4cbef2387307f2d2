from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from navigator.demo.columbus import columbus_resources
from navigator.errors import ValidationError
from navigator.exchange.area import COLUMBUS_DRIVE_BBOX, columbus_area
from navigator.model import ResourceKind
from tests.ingest.conftest import POI_CSV, TEST_DATA


def test_city_file_gives_eight_real_shelters_before_clipping():
    everything = box(-180, -90, 180, 90)
    bundle = columbus_resources(POI_CSV, area=everything)
    shelters = [r for r in bundle.resources if r.kind is ResourceKind.SHELTER]
    assert len(shelters) == 8
    assert {r.name for r in shelters} >= {"Van Buren Shelter", "YWCA", "Faith Mission",
                                         "The Open Shelter", "Friends of the Homeless"}
    assert len(bundle.resources) == 184
    assert all(not r.synthetic and r.source.startswith("City of Columbus POI ")
               for r in bundle.resources)


def test_kinds_follow_the_decided_mapping():
    bundle = columbus_resources(POI_CSV, area=box(-180, -90, 180, 90))
    counts = {k: sum(r.kind is k for r in bundle.resources) for k in ResourceKind}
    assert counts[ResourceKind.HOSPITAL] == 30
    assert counts[ResourceKind.CLINIC] == 50 + 33
    assert counts[ResourceKind.TEAM_BASE] == 36 + 27
    assert counts[ResourceKind.CRISIS_UNIT] == 0


def test_default_area_clips_to_the_drive_network_and_says_so():
    bundle = columbus_resources(POI_CSV)
    area = columbus_area()
    assert area.bounds == COLUMBUS_DRIVE_BBOX
    assert len(bundle.resources) == 179
    assert all(area.covers(Point(r.lon, r.lat)) for r in bundle.resources)
    clip_note = next(n for n in bundle.notes if "clipped" in n)
    assert "5 of 184" in clip_note and "Mt Carmel St Ann's Hospital" in clip_note


def test_real_fields_are_kept():
    bundle = columbus_resources(POI_CSV)
    van_buren = next(r for r in bundle.resources if r.id == "columbus-poi-5790296")
    assert van_buren.name == "Van Buren Shelter"
    assert van_buren.address == "595 Van Buren Dr"
    assert van_buren.phone == "614-715-2030"
    assert van_buren.lon == pytest.approx(-83.020998, abs=1e-6)
    assert van_buren.source == "City of Columbus POI 5790296"
    all_seasons = next(r for r in bundle.resources if r.id == "columbus-poi-5787841")
    assert all_seasons.services == ("womens_health", "pediatrics", "primary_care")


def test_rows_without_coordinates_are_skipped_and_named(tmp_path):
    text = POI_CSV.read_text(encoding="utf-8-sig").splitlines()
    header, first = text[0], text[1]
    broken = ",," + ",".join(first.split(",")[2:])  # X and Y empty
    path = tmp_path / "ingest_poi.csv"
    path.write_text("\n".join([header, first, broken]) + "\n", encoding="utf-8")
    bundle = columbus_resources(path)
    assert len(bundle.resources) == 1
    assert any("without coordinates" in n and "Westside Primary Care" in n
               for n in bundle.notes)


def test_missing_column_is_a_validation_error(tmp_path):
    path = tmp_path / "ingest_bad.csv"
    path.write_text("X,Y,POI_NAME\n-83,40,a\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="lacks column"):
        columbus_resources(path)


def test_bad_area_is_refused():
    with pytest.raises(ValidationError, match="Polygon"):
        columbus_resources(POI_CSV, area=Point(0, 0))
    assert TEST_DATA.is_dir()
