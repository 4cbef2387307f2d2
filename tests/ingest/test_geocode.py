"""The offline OSM geocoder: forward with scores, reverse, cache, and use on import."""

from __future__ import annotations

import pytest

from navigator.config import DATA_DIR
from navigator.errors import ValidationError
from navigator.exchange.geocode import Geocoder, normalise_street, parse_address
from navigator.exchange.hsds_import import read_hsds

from .test_directory import ORG, _package

BALTIMORE_PBF = DATA_DIR / "osm" / "baltimore.osm.pbf"


@pytest.fixture(scope="module")
def geocoder(tmp_path_factory):
    return Geocoder.from_osm(BALTIMORE_PBF, cache_dir=tmp_path_factory.mktemp("geocache"))


def test_parse_and_normalise():
    assert parse_address("615 N. Wolfe St, Baltimore, MD 21205") == ("615", "N. Wolfe St")
    assert parse_address("615A Main Street") == ("615a", "Main Street")
    assert parse_address("PO Box 12") is None
    assert normalise_street("North Wolfe Street") == normalise_street("N Wolfe St")


def test_forward_matches_score_and_refuse(geocoder):
    hit = geocoder.geocode("615 N Wolfe St, Baltimore, MD")
    assert (hit.lon, hit.lat, hit.score, hit.method) == (-76.5905556, 39.2980556, 1.0,
                                                         "address")
    assert geocoder.geocode("615 North Wolf Street").score < 1.0  # spelling differs
    assert geocoder.geocode("9999 Nowhere Road") is None
    street_only = geocoder.candidates("617 N Wolfe St")
    assert street_only[0].method == "street" and street_only[0].score < geocoder.min_score
    assert geocoder.geocode("617 N Wolfe St") is None  # unmatched stays unlocated


def test_reverse_gives_the_nearest_address(geocoder):
    near = geocoder.reverse(-76.59056, 39.29806)
    assert near.address == "615 North Wolfe Street" and near.distance_m < 5
    assert geocoder.reverse(-70.0, 39.29) is None
    with pytest.raises(ValidationError):
        geocoder.reverse(200.0, 0.0)


def test_cache_gives_the_same_geocoder(tmp_path):
    first = Geocoder.from_osm(BALTIMORE_PBF, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("geocoder-*.npz"))) == 1
    second = Geocoder.from_osm(BALTIMORE_PBF, cache_dir=tmp_path)
    assert second.addr_number == first.addr_number
    assert second.geocode("615 N Wolfe St") == first.geocode("615 N Wolfe St")


def test_import_places_unlocated_addresses_and_reports_them(tmp_path, geocoder):
    folder = _package(tmp_path, **{
        "services.csv": [{"id": f"s{i}", "organization_id": ORG, "name": f"Place {i}",
                          "status": "active"} for i in (1, 2)],
        "locations.csv": [{"id": f"l{i}", "organization_id": ORG, "name": f"L{i}"}
                          for i in (1, 2)],
        "service_at_location.csv": [{"id": f"sal{i}", "service_id": f"s{i}",
                                     "location_id": f"l{i}"} for i in (1, 2)],
        "addresses.csv": [
            {"id": "a1", "location_id": "l1", "address_1": "615 N Wolfe St",
             "city": "Baltimore", "address_type": "physical"},
            {"id": "a2", "location_id": "l2", "address_1": "1 Imaginary Lane",
             "city": "Baltimore", "address_type": "physical"}],
    })
    with pytest.raises(ValidationError, match=r"l2.*geocoder matched no address"):
        read_hsds(folder, geocoder=geocoder)
    bundle, report = read_hsds(folder, geocoder=geocoder, skip_unlocated=True)
    (r,) = bundle.resources
    assert (r.lon, r.lat) == (-76.5905556, 39.2980556)
    assert report.count("other", "located") == 1 and report.count("other", "skipped") == 1
