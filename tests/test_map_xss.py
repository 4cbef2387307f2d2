"""Record text in generated map HTML: only inside JSON data blocks, and exactly as stored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from xss_payloads import (
    FLAG,
    ID_PAYLOADS,
    IMPORT_FORMATS,
    PAYLOADS,
    json_blocks,
    plant,
    strings,
    texts_of,
    without_json_blocks,
)

from navigator.maps import coverage as coverage_maps
from navigator.maps import json_for_html, offline_assets, overview_map
from navigator.maps.layers import script_path

TEXT_FIELDS = ("name", "address", "phone", "opening_hours", "source")
ALL = {**PAYLOADS, **ID_PAYLOADS}


@pytest.fixture(scope="module")
def planted(columbus_graph: Any, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Any, list[str]]]:
    from navigator.demo.bundle import demo_bundle
    from navigator.roads import network_area
    from navigator.store import open_store

    folder = tmp_path_factory.mktemp("xss")
    store = open_store(str(folder / "xss.gpkg"))
    store.load(demo_bundle(seed=7, area=network_area(columbus_graph)), actor="test",
               replace=True)
    near = (float(columbus_graph.lon.mean()), float(columbus_graph.lat.mean()))
    ids = plant(store, columbus_graph, folder / "imports", near=near)
    yield store, ids
    store.close()


def _assert_text_only_in_json(html: str, expected: set[str]) -> None:
    """No payload outside JSON blocks; every expected text inside one, exactly."""
    outside = without_json_blocks(html)
    assert FLAG not in outside and "onerror" not in outside and "${" not in outside
    assert "</script><script>" not in outside.replace("</script>\n<script>", "")
    found = set().union(*(strings(b) for b in json_blocks(html)))
    missing = expected - found
    assert not missing, sorted(missing)[:3]


@pytest.mark.parametrize("key", sorted(ALL))
def test_json_for_html_cannot_end_the_block_and_round_trips(key: str) -> None:
    text = ALL[key]
    data = {"name": text, "rows": [[text, text]]}
    out = json_for_html(data)
    assert not set(out) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(out) == data


def test_every_import_path_stores_the_payloads(planted: tuple[Any, list[str]]) -> None:
    store, ids = planted
    res = store.resources()
    for fmt in IMPORT_FORMATS:
        rows = res[res["id"].str.startswith(f"xss-{fmt}-")]
        assert len(rows) == len(PAYLOADS), fmt
        assert set(PAYLOADS.values()) <= texts_of(rows.itertuples(), "name"), fmt
    assert set(ids) <= set(res["id"])


def test_overview_map_keeps_record_text_in_json(planted: tuple[Any, list[str]],
                                                columbus_graph: Any) -> None:
    store, _ = planted
    html = overview_map(store, columbus_graph).get_root().render()
    res = store.resources(include_confidential=False)
    active = {rid for rid, s in store.surge_sites().items() if s.active}
    res = res[(res["kind"] != "evacuation_shelter") | res["id"].isin(active)]  # inactive: hidden
    expected = texts_of(res.itertuples(), *TEXT_FIELDS)
    expected |= texts_of(store.teams().itertuples(), "name")
    expected |= texts_of(store.incidents().itertuples(), "notes")
    assert set(PAYLOADS.values()) <= expected
    _assert_text_only_in_json(html, expected)
    assert any(f"Incident {i}" in strings(json_blocks(html)) for i in ID_PAYLOADS.values())


def test_web_map_links_navmap_js_and_standalone_inlines_it(planted: tuple[Any, list[str]],
                                                           columbus_graph: Any) -> None:
    store, _ = planted
    linked = overview_map(store, columbus_graph, asset_url="/static/vendor",
                          roads_url="/roads.geojson").get_root().render()
    assert re.search(r'<script src="/static/vendor/navmap\.js\?v=[0-9a-f]{12}"></script>', linked)
    assert offline_assets()["navmap.js"] == script_path() and script_path().is_file()
    standalone = overview_map(store, columbus_graph).get_root().render()
    assert "/static/vendor" not in standalone and "data:text/javascript;base64," in standalone


@pytest.fixture(scope="module")
def report_parts(planted: tuple[Any, list[str]], columbus_graph: Any) -> Any:
    from navigator.config import DATA_DIR
    from navigator.services import planner as cs
    from navigator.services import reports

    store, _ = planted
    demand = reports.demand_units(columbus_graph, DATA_DIR / "population"
                                  / "franklin_bg2010_population.gpkg")
    label = PAYLOADS["backtick_call"]
    run = cs.facility_surface(store, columbus_graph, kind="clinics", label=label)
    report = reports.coverage_report(columbus_graph, run, demand, targets_s=[300, 600])
    return run, report, demand


def test_coverage_map_keeps_names_and_labels_in_json(report_parts: Any,
                                                     columbus_graph: Any) -> None:
    run, report, _ = report_parts
    assert set(PAYLOADS.values()) <= set(run.facilities["name"])
    html = coverage_maps.coverage_map(columbus_graph, report,
                                      facilities=run.facilities).get_root().render()
    label = PAYLOADS["backtick_call"]
    _assert_text_only_in_json(html, {*PAYLOADS.values(), f"Travel time ({label})",
                                     f"Travel time: {label}"})


def test_delta_map_keeps_its_label_in_json(planted: tuple[Any, list[str]], report_parts: Any,
                                           columbus_graph: Any) -> None:
    from navigator.services import planner as cs
    from navigator.services import reports

    store, _ = planted
    run, _, demand = report_parts
    closed = cs.facility_surface(store, columbus_graph, kind="clinics",
                                 closed=[run.facilities["id"].iloc[0]], label="closed")
    units = reports.compare(run, closed, demand, targets_s=[300])[1]
    label = PAYLOADS["admin_takeover"]
    html = coverage_maps.delta_map(columbus_graph, units, label=label).get_root().render()
    _assert_text_only_in_json(html, {f"Change in travel time ({label})", f"Change: {label}"})
