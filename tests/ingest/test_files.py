from __future__ import annotations

import json

import geopandas as gpd
import pytest

from navigator.errors import ValidationError
from navigator.exchange.files import (
    read_resources_csv,
    read_resources_geojson,
    resources_frame,
    resources_geojson,
    write_resources_geojson,
    write_resources_gpkg,
)
from navigator.model import Beds, BedType, Eligibility, ResourceKind
from tests.ingest.conftest import TEST_DATA

CSV = TEST_DATA / "ingest_resources.csv"
GEOJSON = TEST_DATA / "ingest_resources.geojson"
HEADER = "id,kind,name,lon,lat,beds_single_men_capacity,beds_single_men_free\n"


def test_csv_and_geojson_fixtures_give_the_same_records():
    from_csv = read_resources_csv(CSV).resources
    from_json = read_resources_geojson(GEOJSON).resources
    assert from_csv == from_json
    shelter, clinic = from_csv
    assert shelter.kind is ResourceKind.SHELTER
    assert shelter.beds == (Beds(BedType.SINGLE_WOMEN, 40, 3),)
    assert shelter.eligibility == Eligibility(("female",), 18, None, False)
    assert shelter.languages == ("en", "so") and shelter.wheelchair and not shelter.pets
    assert clinic.eligibility == Eligibility() and clinic.languages == ("en",)
    assert clinic.services == ("primary_care",)


def _csv(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "ingest_case.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "match"), [
    ("a,shelter,A,-83,40,10,2\nb,shelter,B,nan,40,10,2\n",
     r"line 3 \(id 'b'\): resource 'b': location.lon must be finite"),
    ("a,shelter,A,-83,140,10,2\n", r"line 2 \(id 'a'\).*lat=140.0 is outside"),
    ("a,shelter,A,-83,40,-5,0\n",
     r"line 2 \(id 'a'\).*beds\[single_men\].capacity=-5 must be a non-negative"),
    ("a,shelter,A,-83,40,5,9\n", r"free=9 exceeds capacity=5"),
    ("a,shed,A,-83,40,,\n", r"kind='shed' is not one of"),
    ("a,shelter,A,-83,,10,2\n", r"location.lat must be a number, got None"),
    ("a,shelter,A,-83,40,ten,2\n", r"beds_single_men_capacity='ten' is not a number"),
    ("a,shelter,A,-83,40,10,\n", r"must both be given"),
    (",shelter,A,-83,40,,\n", r"line 2 \(id ''\): missing required field\(s\) id"),
    ("a,clinic,A,-83,40,,\na,clinic,B,-83,40,,\n", r"id 'a' appears more than once"),
])
def test_bad_csv_rows_name_line_id_and_field(tmp_path, body, match):
    with pytest.raises(ValidationError, match=match):
        read_resources_csv(_csv(tmp_path, body))


def test_csv_missing_columns(tmp_path):
    with pytest.raises(ValidationError, match=r"missing column\(s\) kind, lat"):
        read_resources_csv(_csv(tmp_path, "a,A,-83\n", header="id,name,lon\n"))


def test_csv_import_is_all_or_nothing(tmp_path):
    good = "".join(f"r{i},clinic,C{i},-83,40,,\n" for i in range(50))
    with pytest.raises(ValidationError, match="line 52"):
        read_resources_csv(_csv(tmp_path, good + "bad,clinic,X,-83,95,,\n"))


def _features(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(geometry, **props):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"id": "x", "kind": "clinic", "name": "X", **props}}


@pytest.mark.parametrize(("data", "match"), [
    ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
    (_features(_feature({"type": "Polygon", "coordinates": []})),
     r"feature 0 \(id 'x'\): geometry must be a Point, got 'Polygon'"),
    (_features(_feature(None)), "geometry must be a Point, got None"),
    (_features(_feature({"type": "Point", "coordinates": [-83]})), "must be \\[lon, lat\\]"),
    (_features(_feature({"type": "Point", "coordinates": [200, 40]})), "lon=200"),
    (_features(_feature({"type": "Point", "coordinates": [-83, 40]}, kind="shelter",
                        beds=[{"bed_type": "dv", "capacity": -1, "free": 0}])),
     r"feature 0 \(id 'x'\): resource 'x': beds\[dv\].capacity=-1 must be a non-negative"),
    (_features(_feature({"type": "Point", "coordinates": [-83, 40]},
                        beds=[{"bed_type": "dv", "capacity": 5, "free": 0}])),
     "only shelters have beds"),
    (_features(_feature({"type": "Point", "coordinates": [-83, 40]}, walk_in="maybe")),
     "walk_in='maybe' is not true/false"),
])
def test_bad_geojson(data, match):
    with pytest.raises(ValidationError, match=match):
        read_resources_geojson(data)


def test_geojson_not_json(tmp_path):
    path = tmp_path / "ingest_bad.geojson"
    path.write_text('{"type": "FeatureCollection", ', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"ingest_bad\.geojson: cannot read GeoJSON"):
        read_resources_geojson(path)


def test_geojson_export_round_trips_and_hides_confidential(demo, tmp_path):
    frame = resources_frame(demo.resources)
    text = resources_geojson(frame)
    data = json.loads(text)
    assert "crs" not in data  # RFC 7946: EPSG:4326 implied
    public = tuple(r for r in demo.resources if not r.confidential)
    assert read_resources_geojson(data).resources == public
    (dv,) = [r for r in demo.resources if r.confidential]
    assert dv.id not in text and str(dv.lon) not in text and dv.name not in text
    everything = json.loads(resources_geojson(frame, include_confidential=True))
    assert len(everything["features"]) == len(demo.resources)
    path = write_resources_geojson(frame, tmp_path / "ingest_out.geojson")
    assert read_resources_geojson(path).resources == public


def test_geojson_export_adds_beds_from_a_separate_table(demo):
    import pandas as pd

    frame = resources_frame(demo.resources)
    frame = frame[[c for c in frame.columns if not c.startswith("beds_")]]
    beds = pd.DataFrame([{"resource_id": r.id, "bed_type": b.bed_type.value,
                          "capacity": b.capacity, "free": b.free}
                         for r in demo.resources for b in r.beds])
    text = resources_geojson(frame, beds=beds)
    public = tuple(r for r in demo.resources if not r.confidential)
    assert read_resources_geojson(json.loads(text)).resources == public


def test_geopackage_export(demo, tmp_path):
    frame = resources_frame(demo.resources)
    path = write_resources_gpkg(frame, tmp_path / "ingest_out.gpkg")
    back = gpd.read_file(path, layer="resources")
    assert back.crs.to_epsg() == 4326
    assert len(back) == len(demo.resources) - 1 and not back["confidential"].any()
    van_buren = back[back["id"] == "columbus-poi-5790296"].iloc[0]
    assert van_buren["eligibility_min_age"] == 18
    assert van_buren["beds_single_men_capacity"] > 0
    csv_path = tmp_path / "ingest_from_gpkg.csv"
    back.drop(columns="geometry").assign(lon=back.geometry.x, lat=back.geometry.y).to_csv(
        csv_path, index=False)
    public = tuple(r for r in demo.resources if not r.confidential)
    assert read_resources_csv(csv_path).resources == public
