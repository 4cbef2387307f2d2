from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, box

from navigator.errors import ValidationError
from navigator.exchange.osm_pois import (
    deduplicated_resources,
    distance_m,
    osm_kind,
    osm_resources,
    similar_names,
)
from navigator.model import ResourceKind
from tests.ingest.conftest import BALTIMORE_GEOJSON, COLUMBUS_GEOJSON, POI_CSV

BALTIMORE = box(-76.7, 39.2, -76.4, 39.4)


def test_amenity_shelter_is_never_a_shelter():
    assert osm_kind({"amenity": "shelter"}) is None
    assert osm_kind({"amenity": "shelter", "shelter_type": "public_transport"}) is None
    assert osm_kind({"amenity": "social_facility", "social_facility": "shelter"}) \
        is ResourceKind.SHELTER
    assert osm_kind({"healthcare": "pharmacy"}) is None
    assert osm_kind({"healthcare": "counselling"}) is ResourceKind.CLINIC


def test_baltimore_has_one_shelter_and_no_weather_shelters():
    raw = json.loads(BALTIMORE_GEOJSON.read_text())
    weather = {f"osm-{f['properties']['osm_type']}-{f['properties']['osm_id']}"
               for f in raw["features"] if f["properties"].get("amenity") == "shelter"}
    assert len(weather) == 3
    bundle = osm_resources(BALTIMORE_GEOJSON, area=BALTIMORE)
    ids = {r.id for r in bundle.resources}
    assert not ids & weather
    shelters = [r for r in bundle.resources if r.kind is ResourceKind.SHELTER]
    assert [r.name for r in shelters] == ["Helping Up Mission"]
    assert shelters[0].source == "OSM way/316163776 (© OpenStreetMap contributors, ODbL 1.0)"
    assert all(not r.synthetic for r in bundle.resources)


def test_columbus_weather_shelter_and_historical_places_are_left_out():
    ids = {r.id for r in osm_resources(COLUMBUS_GEOJSON).resources}
    assert "osm-way-224885249" not in ids  # amenity=shelter at Capital University
    names = {r.name for r in osm_resources(BALTIMORE_GEOJSON, area=BALTIMORE).resources}
    assert "Church Home Hospital (historical)" not in names
    assert "Johns Hopkins Hospital" in names


def test_columbus_geojson_and_pbf_agree():
    from_json = osm_resources(COLUMBUS_GEOJSON)
    from_pbf = osm_resources(COLUMBUS_GEOJSON.parent / "columbus.osm.pbf")
    a = {r.id: r for r in from_json.resources}
    b = {r.id: r for r in from_pbf.resources}
    assert a.keys() == b.keys()
    assert len(a) == 9
    for rid, r in a.items():
        assert r.kind is b[rid].kind and r.name == b[rid].name
        assert distance_m(r.lon, r.lat, b[rid].lon, b[rid].lat) < 60


def test_opening_hours_and_address_are_kept():
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-83.0, 39.96]},
               "properties": {"osm_type": "node", "osm_id": 1, "amenity": "clinic",
                              "name": "Test clinic", "opening_hours": "Mo-Fr 09:00-17:00",
                              "addr:housenumber": "1", "addr:street": "High St",
                              "healthcare:speciality": "psychiatry"}}
    bundle = osm_resources({"type": "FeatureCollection", "features": [feature]})
    (r,) = bundle.resources
    assert r.opening_hours == "Mo-Fr 09:00-17:00"
    assert r.address == "1 High St"
    assert r.services == ("psychiatric",)
    assert r.id == "osm-node-1"


def test_clipping_is_reported():
    small = box(-83.03, 39.95, -82.97, 40.0)
    bundle = osm_resources(COLUMBUS_GEOJSON, area=small)
    assert all(small.covers(Point(r.lon, r.lat)) for r in bundle.resources)
    assert "clipped" in bundle.notes[0] and "ARFF" in bundle.notes[0]


def test_dedupe_keeps_the_city_record():
    from navigator.demo.columbus import columbus_resources

    city = columbus_resources(POI_CSV).resources
    osm = osm_resources(COLUMBUS_GEOJSON).resources
    merged, notes = deduplicated_resources(city, osm)
    ids = {r.id for r in merged}
    for dup in ("osm-way-29979021", "osm-way-30172726", "osm-way-30172959",
                "osm-way-30173024"):
        assert dup not in ids
    # CarePoint East is 900 m from OSU Hospital East: a different place.
    assert "osm-way-174132228" in ids
    assert len(merged) == len(city) + len(osm) - 4
    assert "dropped 4 duplicate" in notes[0]


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Mt Carmel West", "Mount Carmel West Hospital", True),
    ("Grant Medical Center", "Grant Hospital", True),
    ("OSU Medical Center CarePoint East", "Ohio State University Hospital East", False),
    ("Columbus Fire Station 3", "Columbus Fire Station 30", False),
])
def test_similar_names(a, b, same):
    assert similar_names(a, b) is same


def test_bad_inputs(tmp_path):
    bad = tmp_path / "ingest_bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        osm_resources(bad)
    with pytest.raises(ValidationError, match="does not exist"):
        osm_resources(tmp_path / "missing.geojson")
    line = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"osm_type": "way", "osm_id": 7, "amenity": "hospital"}}]}
    with pytest.raises(ValidationError, match=r"feature 0 \(OSM way/7\).*Point"):
        osm_resources(line)
