"""The Columbus demo's compliance areas (a downtown core, the rest) and synthetic dispatches."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from navigator.model import (
    AssignmentStatus,
    ComplianceArea,
    CrisisType,
    Incident,
    TeamStatus,
)

if TYPE_CHECKING:
    from navigator.roads import TravelGraph
    from navigator.store import Store

#: Downtown Columbus (lon/lat box): the demo's urban area.
CORE_BBOX = (-83.02, 39.945, -82.975, 39.985)
#: Demo targets per priority, seconds: tighter downtown than in the rest of the region.
URBAN_TARGETS_S = {1: 900.0, 2: 1200.0, 3: 2700.0, 4: 5400.0}
RURAL_TARGETS_S = {1: 1800.0, 2: 2700.0, 3: 5400.0, 4: 10800.0}
#: Note of every synthetic dispatch the demo records.
SYNTHETIC = "synthetic demo dispatch (recorded at load time: its times are seconds, not real)"


def demo_compliance_areas(graph: TravelGraph) -> list[ComplianceArea]:
    """Return the demo's two areas: the downtown core (urban) and the rest (rural).

    The rest is the road network's whole area; the core, being smaller, wins where they
    overlap (the attribution rule of :mod:`navigator.services.compliance`).
    """
    import shapely

    from navigator.roads import network_area

    return [ComplianceArea(id="demo-core", name="Downtown core (demo)", area_class="urban",
                           geometry=shapely.box(*CORE_BBOX), targets_s=URBAN_TARGETS_S),
            ComplianceArea(id="demo-rest", name="Rest of the region (demo)",
                           area_class="rural", geometry=network_area(graph),
                           targets_s=RURAL_TARGETS_S)]


def seed_dispatches(store: Store, graph: TravelGraph, *, seed: int, actor: str,
                    per_area: int = 6) -> int:
    """Record synthetic dispatches in each demo area so the compliance page shows rows.

    Each goes: a new synthetic incident at a road node of the area, an available team sent,
    on scene at once (most) or cancelled (every fifth), then completed and available again.
    Returns how many dispatches were recorded (none when no team is available).
    """
    import shapely

    rng = random.Random(seed)
    core = shapely.box(*CORE_BBOX)
    inside = shapely.contains_xy(core, graph.lon, graph.lat)
    teams = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].tolist()
    if not teams:
        return 0
    made = 0
    for area, nodes in (("core", np.flatnonzero(inside)), ("rest", np.flatnonzero(~inside))):
        for i in range(per_area if nodes.size else 0):
            node = int(nodes[int(rng.random() * nodes.size)])
            kind = (CrisisType.SUICIDE_RISK, CrisisType.MENTAL_HEALTH,
                    CrisisType.WELFARE_CHECK)[i % 3]
            incident = store.add_incident(Incident(
                id=f"demo-history-{seed}-{area}-{i + 1}", lon=float(graph.lon[node]),
                lat=float(graph.lat[node]), crisis_type=kind, priority=(1, 2, 3)[i % 3],
                notes=SYNTHETIC, synthetic=True), actor=actor)
            team = teams[made % len(teams)]
            sent = store.assign_team(team, incident.id, actor=actor)
            if made % 5 == 4:
                store.finish_assignment(sent.id, actor=actor, status=AssignmentStatus.CANCELLED)
            else:
                store.update_team(team, actor=actor, status=TeamStatus.ON_SCENE)
                store.finish_assignment(sent.id, actor=actor, status=AssignmentStatus.COMPLETED)
                store.update_team(team, actor=actor, status=TeamStatus.AVAILABLE)
            made += 1
    return made
