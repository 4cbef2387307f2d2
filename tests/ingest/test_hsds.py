from __future__ import annotations

import copy
import json
import shutil
import zipfile

import pytest

from navigator.config import DATA_DIR
from navigator.errors import ValidationError
from navigator.exchange.hsds_export import (
    hsds_json,
    hsds_schema_errors,
    hsds_services,
    resource_service,
    write_hsds_package,
)
from navigator.exchange.hsds_import import read_hsds, read_hsds_json, read_hsds_package
from navigator.exchange.schedule import opening_hours_from_rows, schedule_rows
from navigator.model import Bundle, ResourceKind

EXAMPLES = DATA_DIR / "hsds" / "examples"


def _public(bundle: Bundle) -> tuple:
    return tuple(r for r in bundle.resources if not r.confidential)


def _assert_same_hotlines(got, want):
    assert [h.id for h in got] == [h.id for h in want]
    for a, b in zip(got, want, strict=True):
        assert (a.name, a.phone, a.channels, a.languages, a.opening_hours, a.text_number,
                a.chat_url, a.synthetic, a.source) == (
                b.name, b.phone, b.channels, b.languages, b.opening_hours, b.text_number,
                b.chat_url, b.synthetic, b.source)
        assert (a.area is None) == (b.area is None)
        if a.area is not None:
            assert a.area.equals_exact(b.area, 1e-12)


@pytest.mark.parametrize("name", ["ingest_pkg", "ingest_pkg.zip"])
def test_tabular_round_trip(demo, tmp_path, name):
    out = write_hsds_package(demo, tmp_path / name)
    back = read_hsds_package(out)
    assert back.resources == _public(demo)
    _assert_same_hotlines(back.hotlines, demo.hotlines)


def test_json_round_trip(demo):
    back = read_hsds_json(json.loads(hsds_json(demo)))
    assert back.resources == _public(demo)
    _assert_same_hotlines(back.hotlines, demo.hotlines)


def test_confidential_site_appears_nowhere(demo, tmp_path):
    (dv,) = [r for r in demo.resources if r.confidential]
    secrets = [dv.name, dv.id, f"{dv.lon}", f"{dv.lat}", "Confidential", dv.intake_phone]
    if dv.address:
        secrets.append(dv.address)
    texts = [hsds_json(demo)]
    folder = write_hsds_package(demo, tmp_path / "ingest_pkg")
    texts += [p.read_text(encoding="utf-8") for p in folder.iterdir()]
    with zipfile.ZipFile(write_hsds_package(demo, tmp_path / "ingest_pkg.zip")) as zf:
        texts += [zf.read(n).decode() for n in zf.namelist()]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    with pytest.raises(ValidationError, match="confidential"):
        resource_service(dv)


def test_json_output_validates_against_the_hsds_schema(demo):
    services = hsds_services(demo)
    assert hsds_schema_errors(services) == []
    broken = copy.deepcopy(services[0])
    broken["service_at_locations"][0]["location"]["latitude"] = "north"
    broken["status"] = "open"
    errors = hsds_schema_errors([broken])
    assert any("latitude" in e for e in errors) and any("status" in e for e in errors)


def test_package_has_the_hsds_tables_and_descriptor(demo, tmp_path):
    folder = write_hsds_package(demo, tmp_path / "ingest_pkg")
    names = {p.name for p in folder.iterdir()}
    assert {"organizations.csv", "services.csv", "locations.csv", "service_at_location.csv",
            "phones.csv", "schedules.csv", "languages.csv", "accessibility.csv",
            "attributes.csv", "datapackage.json"} <= names
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["version"] == "3.0.0"
    assert {r["path"] for r in package["resources"]} == names - {"datapackage.json"}
    header = (folder / "services.csv").read_text().splitlines()[0]
    assert header.startswith("id,organization_id,program_id,name,")


@pytest.mark.parametrize("hours", [
    "24/7", "Mo-Fr 08:00-17:00", "Mo-Su 17:00-08:00", "Sa,Su 09:00-12:00",
    "Mo-Fr 09:00-17:00; Sa 09:00-12:00", "Mo 08:00-12:00,13:00-17:00", "Mo,We,Fr 10:00-14:00",
])
def test_schedule_rows_round_trip(hours):
    rows, skipped = schedule_rows(hours)
    assert skipped == []
    assert opening_hours_from_rows(rows) == hours


def test_schedule_rows_shapes():
    rows, skipped = schedule_rows("Mo-Su 17:00-08:00; PH off")
    assert rows == [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR,SA,SU",
                     "opens_at": "17:00:00", "closes_at": "08:00:00",
                     "description": "Mo-Su 17:00-08:00"}]
    assert skipped == ["PH off"]
    assert opening_hours_from_rows([{"byday": "TH,FR", "opens_at": "10:00:00",
                                     "closes_at": "18:00:00", "freq": "WEEKLY"}]) \
        == "Th,Fr 10:00-18:00"
    with pytest.raises(ValidationError, match="HH:MM"):
        opening_hours_from_rows([{"byday": "MO", "opens_at": "ten", "closes_at": "18:00"}])


@pytest.mark.parametrize("name", ["service_full.json", "service_at_location_full.json",
                                  "service_at_location_list.json", "organization_full.json"])
def test_shipped_examples_give_a_clear_error(name):
    # The specification's example location sits at latitude 100, longitude 101.
    with pytest.raises(ValidationError, match=(
            r"service ac148810-d857-441c-9679-408f346de14b \('Community Counselling'\), "
            r"service_at_location e94c9f38-.*location '3a19ff88-.*lat=100.0 is outside")):
        read_hsds_json(EXAMPLES / name)


def test_shipped_csv_example_names_its_broken_references():
    # The specification's CSV example refers to an organization and a taxonomy it does not
    # hold; each is named by file, row, record id and field.
    with pytest.raises(ValidationError) as info:
        read_hsds_package(EXAMPLES / "csv")
    text = str(info.value)
    assert text.startswith("csv: 2 problems; nothing was imported")
    assert ("locations.csv row 2: location '3a19ff88-4620-4d17-9830-ac1d859eb5d5': field "
            "organization_id '985e4a42-bd9f-4edc-911d-0243a4640aca' names no row of "
            "organizations.csv") in text
    assert "taxonomy_terms.csv row 2: taxonomy_term '3f7b145d-84af-42d7-8fae-eaca714b02b2': " \
        "field taxonomy_id '07ff6aee-a219-438c-b694-d2fcb6c5373b'" in text


def _fixed_csv_example(folder):
    shutil.copytree(EXAMPLES / "csv", folder)
    (folder / "datapackage.json").unlink()  # a symlink stored as text upstream
    for name, old, new in (
            ("locations.csv", "985e4a42-bd9f-4edc-911d-0243a4640aca",
             "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"),
            ("taxonomy_terms.csv", "07ff6aee-a219-438c-b694-d2fcb6c5373b",
             "5c4d79d7-cc55-470e-9f1f-8cad074e4892"),
            ("taxonomy_terms.csv", "0bc248fa-dc27-4650-9ba4-8f1a24ef16a2", "")):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_fixed_csv_example_still_refuses_latitude_100(tmp_path):
    folder = _fixed_csv_example(tmp_path / "ingest_csv")
    with pytest.raises(ValidationError, match=(
            r"ingest_csv: services.csv row 2: service ac148810.*locations.csv row 2: "
            r"location '3a19ff88-.*lat=100.0 is outside")):
        read_hsds_package(folder)


def test_shipped_examples_with_a_real_place_import(tmp_path):
    data = json.loads((EXAMPLES / "service_full.json").read_text())
    loc = data["service_at_locations"][0]["location"]
    loc["latitude"], loc["longitude"] = 39.9612, -82.9988
    (r,) = read_hsds_json(data).resources
    assert r.name == "Community Counselling (MyCity Civic Center)"
    assert r.kind is ResourceKind.CLINIC
    assert (r.lon, r.lat) == (-82.9988, 39.9612)
    assert r.eligibility.min_age == 12 and r.eligibility.max_age == 100
    assert r.languages == ("ur",)
    assert r.opening_hours == "Th,Fr 10:00-18:00"
    assert r.phone == "+44 1234 234567"
    assert r.address.startswith("1-30 Main Street, MyVillage, MyCity")
    assert r.wheelchair and not r.synthetic
    folder = _fixed_csv_example(tmp_path / "ingest_csv")
    text = (folder / "locations.csv").read_text().replace(",100,101,", ",39.9612,-82.9988,")
    (folder / "locations.csv").write_text(text)
    (r2,) = read_hsds_package(folder).resources
    assert (r2.name, r2.lon, r2.lat, r2.languages) == (r.name, r.lon, r.lat, r.languages)


def test_service_list_without_locations_is_reported():
    bundle, report = read_hsds(EXAMPLES / "service_list.json")
    assert bundle.resources == () and bundle.hotlines == ()
    assert report.count("service", "skipped") == 1
    assert [e.reason for e in report.entries] == ["no location and no phone"]


def test_bad_hsds_inputs(tmp_path):
    bad = tmp_path / "ingest_bad.json"
    bad.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ValidationError, match="cannot read HSDS JSON"):
        read_hsds_json(bad)
    with pytest.raises(ValidationError, match="item 0 is not an HSDS service"):
        read_hsds_json([{"foo": 1}])
    empty = tmp_path / "ingest_empty"
    empty.mkdir()
    with pytest.raises(ValidationError, match=r"no services\.csv rows"):
        read_hsds_package(empty)
    data = json.loads((EXAMPLES / "service_full.json").read_text())
    data["minimum_age"] = "twelve"
    with pytest.raises(ValidationError, match=r"minimum_age='twelve' is not a number"):
        read_hsds_json(data)


def test_export_from_an_embedded_store_round_trips(demo, tmp_path):
    from navigator.exchange.hsds_export import store_public_bundle
    from navigator.store import open_store

    store = open_store(str(tmp_path / "ingest_store.gpkg"))
    try:
        store.load(demo, actor="test", replace=True)
        public = store_public_bundle(store)
    finally:
        store.close()
    assert not any(r.confidential for r in public.resources)
    back = read_hsds_package(write_hsds_package(public, tmp_path / "ingest_pkg.zip"))
    want = {r.id: r for r in _public(demo)}
    assert {r.id: r for r in back.resources} == want
    assert {h.id for h in back.hotlines} == {h.id for h in demo.hotlines}


def test_schedule_rows_follow_the_hours_parser():
    rows, skipped = schedule_rows("Mo-Su 08:00-17:00; Su off; PH 10:00-14:00")
    assert opening_hours_from_rows(rows) == "Mo-Sa 08:00-17:00"
    assert skipped == ["PH 10:00-14:00"]
    rows, skipped = schedule_rows("Jan-Mar Mo 08:00-12:00")
    assert rows == [] and skipped == ["Jan-Mar Mo 08:00-12:00"]
