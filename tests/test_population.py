"""Population layers: real Franklin block groups, CRS handling, clipping and snapping."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from navigator.decide.population import clip_population, load_population, snap_population
from navigator.errors import ValidationError
from navigator.roads import network_area

ROOT = Path(__file__).resolve().parent.parent
FRANKLIN = ROOT / "data" / "population" / "franklin_bg2010_population.gpkg"


@pytest.fixture(scope="module")
def franklin() -> gpd.GeoDataFrame:
    return gpd.read_file(FRANKLIN, layer="block_groups")


def test_load_franklin_whole_county():
    pop = load_population(FRANKLIN, layer="block_groups")
    assert len(pop.units) == 887
    assert pop.total_people == 1_163_414
    assert pop.units.crs.to_epsg() == 4326
    assert pop.units["unit_id"].str.len().eq(12).all()  # GEOID10 kept as text
    assert pop.clipped_units == 0 and "kept" in pop.note()


def test_clip_to_network_reports_what_was_left_out(columbus_graph):
    pop = load_population(FRANKLIN, layer="block_groups", area=network_area(columbus_graph))
    # the Columbus extract covers central Columbus only
    assert 400 < len(pop.units) < 600
    assert pop.clipped_units == 887 - len(pop.units)
    assert pop.clipped_people + pop.total_people == pytest.approx(1_163_414)
    assert pop.clipped_people > 500_000
    assert "left out" in pop.note() and f"{pop.clipped_units} units" in pop.note()


def test_other_crs_is_reprojected(tmp_path, franklin, columbus_graph):
    path = tmp_path / "bg_3735.gpkg"  # Ohio South state plane, US feet
    franklin.to_crs(3735).to_file(path, layer="bg")
    pop = load_population(path, layer="bg", area=network_area(columbus_graph))
    ref = load_population(FRANKLIN, layer="block_groups", area=network_area(columbus_graph))
    assert pop.units.crs.to_epsg() == 4326
    assert len(pop.units) == len(ref.units)
    assert pop.total_people == pytest.approx(ref.total_people)


def test_points_layer(tmp_path, franklin, columbus_graph):
    pts = franklin.assign(geometry=franklin.representative_point())
    path = tmp_path / "pts.geojson"
    pts[["GEOID10", "pop2010", "geometry"]].to_file(path, driver="GeoJSON")
    pop = load_population(path, area=network_area(columbus_graph))
    nodes = snap_population(columbus_graph, pop)
    assert (pop.units.geom_type == "Point").all()
    assert nodes.snapped.all() and (nodes.distance_m <= 1000).all()


def test_layer_without_crs_is_refused(tmp_path, franklin):
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio, on purpose
        franklin.set_crs(None, allow_override=True).to_file(path, layer="bg")
    with pytest.raises(ValidationError, match="no CRS"):
        load_population(path, layer="bg")


def test_wrong_crs_label_is_refused(tmp_path, franklin):
    # state-plane feet labelled as lon/lat: coordinates far outside EPSG:4326's bounds
    bad = franklin.to_crs(3735).set_crs(4326, allow_override=True)
    path = tmp_path / "mislabelled.gpkg"
    bad.to_file(path, layer="bg")
    with pytest.raises(ValidationError, match="area of use"):
        load_population(path, layer="bg")


def test_layer_elsewhere_does_not_overlap_network(tmp_path, franklin, columbus_graph):
    moved = franklin.assign(geometry=franklin.translate(xoff=10.0))  # 10 degrees east
    path = tmp_path / "moved.gpkg"
    moved.to_file(path, layer="bg")
    with pytest.raises(ValidationError, match="does not overlap the road network"):
        load_population(path, layer="bg", area=network_area(columbus_graph))


def test_no_unit_snaps_raises(columbus_graph):
    pop = load_population(FRANKLIN, layer="block_groups")
    outside = shapely.box(-84, 39, -82, 41).difference(network_area(columbus_graph))
    far = clip_population(pop, outside)  # the suburbs beyond the road extract
    assert len(far.units) > 300
    with pytest.raises(ValidationError, match="no population unit"):
        snap_population(columbus_graph, far, max_snap_m=50.0)


def test_missing_column():
    with pytest.raises(ValidationError, match="no column 'nope'"):
        load_population(FRANKLIN, layer="block_groups", column="nope")


def test_negative_or_missing_counts_refused(tmp_path, franklin):
    bad = franklin.copy()
    bad.loc[0, "pop2010"] = -3
    path = tmp_path / "neg.gpkg"
    bad.to_file(path, layer="bg")
    with pytest.raises(ValidationError, match="negative"):
        load_population(path, layer="bg")


def test_unreadable_file(tmp_path):
    with pytest.raises(ValidationError, match="cannot read"):
        load_population(tmp_path / "missing.gpkg")


def test_snap_keeps_units_off_network_as_minus_one(columbus_graph):
    pop = load_population(FRANKLIN, layer="block_groups")
    nodes = snap_population(columbus_graph, pop, max_snap_m=250.0)
    assert (nodes.node == -1).any() and (nodes.node >= 0).any()
    assert np.all(nodes.distance_m[nodes.node >= 0] <= 250.0)


def test_unit_values_checks_length(columbus_graph):
    from navigator.decide.population import unit_values

    pop = load_population(FRANKLIN, layer="block_groups", area=network_area(columbus_graph))
    nodes = snap_population(columbus_graph, pop)
    v = unit_values(columbus_graph, np.arange(columbus_graph.n_nodes, dtype=float), pop, nodes)
    assert np.array_equal(v, nodes.node.astype(float))
    with pytest.raises(ValidationError, match="node values"):
        unit_values(columbus_graph, np.zeros(3), pop, nodes)
    with pytest.raises(ValidationError, match="method"):
        unit_values(columbus_graph, np.zeros(columbus_graph.n_nodes), pop, nodes,
                    method="mean")  # type: ignore[arg-type]


def test_areal_people_known_answer():
    from navigator.decide.population import Population, areal_people

    unit = gpd.GeoDataFrame({"unit_id": ["a", "p"], "population": [100.0, 7.0]},
                            geometry=[shapely.box(0, 0, 0.02, 0.01), shapely.Point(0.015, 0.005)],
                            crs=4326)
    pop = Population(units=unit, source="test", column="population")
    halves = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 0.01, 0.01),
                                        shapely.box(0.01, 0, 0.02, 0.01),
                                        shapely.box(5, 5, 6, 6)], crs=4326)
    np.testing.assert_allclose(areal_people(halves, pop), [50.0, 57.0, 0.0], rtol=1e-6)
