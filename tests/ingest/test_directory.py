"""HSDS versions, referential integrity, never inventing, kinds, languages and the report."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from shapely.geometry import box

from navigator.errors import ValidationError
from navigator.exchange.hsds_export import write_hsds_package
from navigator.exchange.hsds_import import read_hsds
from navigator.exchange.hsds_tables import detect_version
from navigator.exchange.languages import language_codes
from navigator.model import (
    AREA_UNKNOWN_PREFIX,
    Bundle,
    Hotline,
    ResourceKind,
    hotline_area_known,
)
from navigator.services.directory import import_directory
from navigator.store import open_store

from .conftest import TEST_DATA

SAMPLE_1_1 = TEST_DATA / "hsds_1_1_sample"
ORG = "org-1"


def _write(folder: Path, name: str, rows: list[dict[str, object]], *,
           encoding: str = "utf-8", newline: str = "\n") -> None:
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    with (folder / name).open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator=newline)
        writer.writeheader()
        writer.writerows(rows)


def _package(tmp_path: Path, name: str = "ingest_pkg", **tables: list[dict[str, object]]
             ) -> Path:
    """Write a small HSDS 3.0 package: one organization, then the given tables."""
    folder = tmp_path / name
    folder.mkdir()
    tables.setdefault("organizations.csv", [{"id": ORG, "name": "Org"}])
    for file, rows in tables.items():
        _write(folder, file, rows)
    return folder


def _located(tmp_path: Path, **extra: list[dict[str, object]]) -> Path:
    return _package(
        tmp_path,
        **{"services.csv": [{"id": "s1", "organization_id": ORG, "name": "Harbor Clinic",
                             "status": "active"}],
           "locations.csv": [{"id": "l1", "organization_id": ORG, "name": "Main St",
                              "latitude": 39.96, "longitude": -83.0}],
           "service_at_location.csv": [{"id": "sal1", "service_id": "s1",
                                        "location_id": "l1"}], **extra})


# -- versions ------------------------------------------------------------------------------------
def test_real_hsds_1_1_package_refuses_unlocated_services_by_name():
    with pytest.raises(ValidationError) as info:
        read_hsds(SAMPLE_1_1)
    text = str(info.value)
    assert text.startswith("hsds_1_1_sample: 9 problems; nothing was imported")
    assert ("services.csv row 2: service c89eb05c-62dd-4b64-b494-0cc347b6ea7f ('Never Homeless "
            "Helpline'), service_at_location d254626c-6858-46ad-850a-6e1c53ea463a, "
            "locations.csv row 2: location '30b83c60-64a1-11e6-8b77-86f30ca893d3': fields "
            "latitude and longitude are empty") in text


def test_real_hsds_1_1_package_with_skip_unlocated_reports_truthfully():
    bundle, report = read_hsds(SAMPLE_1_1, skip_unlocated=True)
    assert report.version == "1.x"
    assert [r.name for r in bundle.resources] == ["Yound Minds (4830 Highland Drive)"]
    assert bundle.hotlines == ()  # the laundry line is not a hotline
    (r,) = bundle.resources
    assert (r.kind, r.opening_hours, r.languages) == (ResourceKind.OTHER, "", ())
    assert report.count("other", "skipped") == 9
    assert report.count("service", "skipped") == 3  # inactive
    reasons = {(e.kind, e.action, e.reason) for e in report.entries}
    assert ("other", "defaulted", "hours unknown (no weekly schedule)") in reasons
    assert ("other", "defaulted", "languages unknown") in reasons
    assert any("holiday_schedules.csv left out" in n for n in report.notes)
    assert json.loads(json.dumps(report.to_dict()))["by_kind"]["other"]["skipped"] == 9
    assert "other: 1 imported, 9 skipped, 2 defaulted" in report.to_text()


def test_hsds_1_1_tables_are_read_not_ignored(tmp_path):
    folder = tmp_path / "ingest_1_1"
    shutil.copytree(SAMPLE_1_1, folder)
    path = folder / "locations.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "On the Number 41 bus route.,,", "On the Number 41 bus route.,40.7506,-73.9972"),
        encoding="utf-8")
    _write(folder, "accessibility_for_disabilities.csv", [
        {"id": "a1", "location_id": "30b83c60-64a1-11e6-8b77-86f30ca893d3",
         "accessibility": "Handicap accessible", "details": ""}])
    bundle, _ = read_hsds(folder, skip_unlocated=True)
    (helpline,) = [r for r in bundle.resources if r.name.startswith("Never Homeless")]
    assert helpline.id == "hsds-d254626c-6858-46ad-850a-6e1c53ea463a"
    assert helpline.opening_hours == "Mo-We 09:00-17:00"  # regular_schedules.csv, weekday 1-3
    assert helpline.languages == ("en", "es")  # 1.x languages.csv `language` column
    assert helpline.address == "Address 1, Address 2, New York City, NY, 10001"
    assert helpline.wheelchair  # "Handicap accessible"


def test_version_detection():
    assert detect_version({"version": "3.0.0"}, {"services.csv": ["id"]}, where="p")[0] == "3.x"
    assert detect_version(None, {"services_at_location.csv": [], "schedules.csv": []},
                          where="p")[0] == "2.x"
    assert detect_version(None, {"service_attributes.csv": []}, where="p")[0] == "2.x"
    version, why = detect_version({"version": "3.0.0"}, {"regular_schedules.csv": []},
                                  where="p")
    assert version == "1.x" and "says version '3.0.0' but the tables are HSDS 1.x" in why
    assert detect_version(None, {"languages.csv": ["id", "language"]}, where="p")[0] == "1.x"
    with pytest.raises(ValidationError, match=r"p: datapackage.json says HSDS version '4.0'"):
        detect_version({"version": "4.0"}, {}, where="p")


def test_hsds_2_schedules_and_attributes(tmp_path):
    folder = _package(tmp_path, **{
        "services.csv": [{"id": "s1", "organization_id": ORG, "name": "Night Place",
                          "status": "active"}],
        "locations.csv": [{"id": "l1", "organization_id": ORG, "latitude": 39.9,
                           "longitude": -83.0}],
        "services_at_location.csv": [{"id": "sal1", "service_id": "s1", "location_id": "l1"}],
        "schedules.csv": [{"id": "h1", "service_id": "s1", "freq": "WEEKLY",
                           "byday": "MO,TU", "opens_at": "18:00", "closes_at": "23:00"}],
        "taxonomy_terms.csv": [{"id": "BH-1800.8500", "term": "Homeless Shelter",
                                "taxonomy": "AIRS"}],
        "service_attributes.csv": [{"id": "a1", "service_id": "s1",
                                    "taxonomy_term_id": "BH-1800.8500"}],
    })
    bundle, report = read_hsds(folder)
    (r,) = bundle.resources
    assert report.version == "2.x"
    assert (r.kind, r.opening_hours) == (ResourceKind.SHELTER, "Mo,Tu 18:00-23:00")
    assert report.count("shelter", "classified") == 1


# -- never invent --------------------------------------------------------------------------------
def _phone_only(tmp_path: Path, **extra: list[dict[str, object]]) -> Path:
    return _package(tmp_path, **{
        "services.csv": [{"id": "s1", "organization_id": ORG, "name": "Laundry Line",
                          "status": "active"}],
        "phones.csv": [{"id": "p1", "service_id": "s1", "number": "555-0100"}], **extra})


def test_phone_without_location_or_area_is_area_unknown_and_hours_unknown(tmp_path):
    bundle, report = read_hsds(_phone_only(tmp_path))
    (h,) = bundle.hotlines
    assert not h.area_known and h.area is None
    assert h.source.startswith(AREA_UNKNOWN_PREFIX)
    assert h.opening_hours == ""  # never 24/7
    assert h.languages == ()  # never assumed English
    assert report.count("hotline", "defaulted") == 3


def test_area_unknown_survives_both_stores_and_an_export(tmp_path):
    bundle, _ = read_hsds(_phone_only(tmp_path))
    store = open_store(str(tmp_path / "ingest_store.gpkg"))
    try:
        store.load(bundle, actor="test")
        frame = store.hotlines()
        assert not frame["source"].map(hotline_area_known).any()
        assert store.hotline("hsds-s1").area_known is False
    finally:
        store.close()
    out = write_hsds_package(bundle, tmp_path / "ingest_out")
    assert "Nationwide" not in (out / "service_areas.csv").read_text(encoding="utf-8")
    back, _ = read_hsds(out)
    assert back.hotlines[0].area_known is False


def test_service_area_says_nationwide_or_has_geometry(tmp_path):
    folder = _phone_only(tmp_path, **{"service_areas.csv": [
        {"id": "a1", "service_id": "s1", "name": "Nationwide", "description": ""}]})
    (h,) = read_hsds(folder)[0].hotlines
    assert h.area_known and h.area is None
    (tmp_path / "b").mkdir()
    other = _phone_only(tmp_path / "b", **{"service_areas.csv": [
        {"id": "a1", "service_id": "s1", "name": "Franklin County", "description": ""}]})
    bundle, report = read_hsds(other)
    assert not bundle.hotlines[0].area_known
    assert any("'Franklin County' has no geometry" in e.reason for e in report.entries)


def test_the_real_988_line_is_never_marked_unknown():
    line = Hotline("988", "988 Lifeline", "988")
    assert line.area_known and hotline_area_known(line.source)
    with pytest.raises(ValidationError, match="area_known=False"):
        Hotline("x", "X", "1", area=box(0, 0, 1, 1), area_known=False)


# -- kinds, languages, accessibility -------------------------------------------------------------
def test_kinds_from_taxonomy_and_other_when_nothing_fits(tmp_path):
    folder = _package(tmp_path, **{
        "services.csv": [
            {"id": "s1", "organization_id": ORG, "name": "Youth Ballet", "status": "active",
             "description": "Classical dance; good for mental health"},
            {"id": "s2", "organization_id": ORG, "name": "Harbor House", "status": "active"}],
        "locations.csv": [{"id": "l1", "organization_id": ORG, "latitude": 39.9,
                           "longitude": -83.0}],
        "service_at_location.csv": [
            {"id": "sal1", "service_id": "s1", "location_id": "l1"},
            {"id": "sal2", "service_id": "s2", "location_id": "l1"}],
        "taxonomy_terms.csv": [{"id": "t1", "code": "BH-1800.1500-100",
                                "name": "Domestic Violence Shelters", "taxonomy": "AIRS"}],
        "attributes.csv": [{"id": "a1", "link_id": "s2", "link_entity": "service",
                            "taxonomy_term_id": "t1"}],
    })
    bundle, report = read_hsds(folder)
    kinds = {r.name.split(" (")[0]: r.kind for r in bundle.resources}
    assert kinds == {"Youth Ballet": ResourceKind.OTHER, "Harbor House": ResourceKind.SHELTER}
    assert report.count("other") == 1 and report.count("shelter") == 1


@pytest.mark.parametrize(("text", "codes"), [
    ("Haitian Creole", ("ht",)), ("Hebrew", ("he",)), ("ASL", ("ase",)),
    ("American Sign Language", ("ase",)), ("en, es", ("en", "es")), ("heb", ("he",)),
    ("Spanish; Somali", ("es", "so")), ("pt-BR", ("pt",)), ("Farsi", ("fa",)),
])
def test_languages_by_name_and_code(text, codes):
    assert language_codes(text) == (codes, ())


def test_unknown_language_is_reported_not_replaced_by_english(tmp_path):
    folder = _located(tmp_path, **{"languages.csv": [
        {"id": "g1", "service_id": "s1", "name": "Martian", "code": ""},
        {"id": "g2", "service_id": "s1", "name": "Haitian Creole", "code": ""}]})
    bundle, report = read_hsds(folder)
    assert bundle.resources[0].languages == ("ht",)
    assert any("'Martian' is not an ISO 639" in e.reason for e in report.entries)


@pytest.mark.parametrize(("words", "flag"), [
    ("Handicap accessible", True), ("ADA compliant entrance", True), ("wheelchair", True),
    ("ramp", True), ("Not wheelchair accessible", False), ("disabled_parking", False),
])
def test_accessibility_vocabulary(tmp_path, words, flag):
    folder = _located(tmp_path, **{"accessibility.csv": [
        {"id": "x1", "location_id": "l1", "description": words}]})
    assert read_hsds(folder)[0].resources[0].wheelchair is flag


# -- integrity and bad input ---------------------------------------------------------------------
@pytest.mark.parametrize(("file", "rows", "message"), [
    ("service_at_location.csv", [{"id": "sal1", "service_id": "nope", "location_id": "l1"}],
     r"service_at_location.csv row 2: service_at_location 'sal1': field service_id 'nope' "
     r"names no row of services.csv"),
    ("service_at_location.csv", [{"id": "sal1", "service_id": "s1", "location_id": "gone"}],
     r"field location_id 'gone' names no row of locations.csv"),
    ("services.csv", [{"id": "s1", "organization_id": "ghost", "name": "X"}],
     r"services.csv row 2: service 's1': field organization_id 'ghost' names no row of "
     r"organizations.csv"),
    ("services.csv", [{"id": "s1", "organization_id": ORG, "name": ""}],
     r"services.csv row 2: service 's1': field name is required but empty"),
    ("services.csv", [{"id": "", "organization_id": ORG, "name": "X"},
                      {"id": "s1", "organization_id": ORG, "name": "Y"}],
     r"services.csv row 2: service has no id"),
    ("services.csv", [{"id": "s1", "organization_id": ORG, "name": "X"},
                      {"id": "s1", "organization_id": ORG, "name": "Y"}],
     r"services.csv row 3: service 's1': field id repeats services.csv row 2"),
    ("phones.csv", [{"id": "p1", "service_at_location_id": "missing", "number": "1"}],
     r"phones.csv row 2: phone 'p1': field service_at_location_id 'missing' names no row"),
])
def test_broken_packages_name_file_row_id_and_field_and_change_nothing(
        tmp_path, file, rows, message):
    folder = _located(tmp_path, **{file: rows})
    (tmp_path / "ok").mkdir()
    store = open_store(str(tmp_path / "ingest_store.gpkg"))
    try:
        import_directory(store, _located(tmp_path / "ok"), actor="test")
        before = store.counts()
        with pytest.raises(ValidationError, match=message):
            import_directory(store, folder, actor="test")
        assert store.counts() == before
    finally:
        store.close()


def test_encodings_bom_and_crlf(tmp_path):
    folder = _located(tmp_path)
    rows = [{"id": "s1", "organization_id": ORG, "name": "Clínica Señora", "status": "active"}]
    _write(folder, "services.csv", rows, encoding="utf-8-sig", newline="\r\n")
    assert read_hsds(folder)[0].resources[0].name.startswith("Clínica Señora")
    _write(folder, "services.csv", rows, encoding="utf-16")
    assert read_hsds(folder)[0].resources[0].name.startswith("Clínica Señora")
    _write(folder, "services.csv", rows, encoding="cp1252", newline="\r\n")
    with pytest.raises(ValidationError, match=r"services.csv line 2 is not utf-8 text.*column 12.*"
                       r"encoding='cp1252'"):
        read_hsds(folder)
    assert read_hsds(folder, encoding="cp1252")[0].resources[0].name.startswith("Clínica")


def test_import_directory_audits_once_and_reports_stored_counts(tmp_path):
    store = open_store(str(tmp_path / "ingest_store.gpkg"))
    try:
        report = import_directory(store, _located(tmp_path), actor="tester")
        assert report.stored["resources"] == 1
        (entry,) = store.audit_log(action="import_directory")
        assert entry.actor == "tester" and entry.result["imported"] == {"clinic": 1}
        with pytest.raises(ValidationError, match="refusing to replace"):
            import_directory(store, _package(tmp_path, "ingest_empty", **{
                "services.csv": [{"id": "s9", "organization_id": ORG, "name": "Nothing",
                                  "status": "inactive"}]}), actor="t", replace=True)
        assert store.counts()["resources"] == 1
    finally:
        store.close()


def test_demo_round_trip_keeps_every_kind(demo, tmp_path):
    bundle = Bundle(resources=tuple(r for r in demo.resources if not r.confidential),
                    hotlines=demo.hotlines)
    back, report = read_hsds(write_hsds_package(bundle, tmp_path / "ingest_rt"))
    assert back.resources == bundle.resources
    assert report.version == "3.x"
    assert report.count("other") == 0
