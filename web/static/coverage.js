/* Planner coverage view: hexes coloured by travel time with a legend, people covered per
   target, gaps ranked by people (click to zoom), scenario comparison with a delta map,
   location-allocation of new sites, isochrones. Every string reaches the page as text. */
"use strict";
(function () {
  const m = Nav.map();
  const hexLayer = L.layerGroup().addTo(m);
  const gapLayer = L.layerGroup().addTo(m);
  const facLayer = L.layerGroup().addTo(m);
  const deltaLayer = L.layerGroup().addTo(m);
  const siteLayer = L.layerGroup().addTo(m);
  const isoLayer = L.layerGroup().addTo(m);
  const GREY = "#bdbdbd";
  const bins = [[15, "#1a9850"], [30, "#fee08b"], [60, "#fc8d59"]];
  const colour = (s) => s === null ? GREY
    : (bins.find((b) => s <= b[0] * 60) || [0, "#d73027"])[1];
  const $ = (id) => document.getElementById(id);
  const people = (x) => x === null || x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US");
  const pct = (x) => x === null || x === undefined ? "n/a" : (100 * x).toFixed(1) + " %";
  let gapBounds = [];

  function scenario() {
    const body = {kind: $("cov-kind").value};
    const bed = $("cov-bed-type").value;
    if (body.kind === "shelters" && bed) body.bed_type = bed;
    const at = $("cov-at").value;
    if (at) body.at = new Date(at).toISOString();
    return body;
  }

  function fillTable(id, rows) {
    const table = $(id);
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const cells of rows) {
      const tr = Nav.el("tr");
      for (const c of cells) tr.append(Nav.el("td", c));
      tbody.append(tr);
    }
    table.hidden = false;
    return tbody;
  }

  function notes(list) {
    const ul = $("coverage-notes");
    ul.replaceChildren();
    for (const n of list || []) ul.append(Nav.el("li", n));
  }

  function toggleBeds() {
    $("bed-type-label").hidden = $("cov-kind").value !== "shelters";
  }
  $("cov-kind").addEventListener("change", toggleBeds);
  toggleBeds();

  m.on("click", function (e) {
    $("iso-lon").value = e.latlng.lng.toFixed(6);
    $("iso-lat").value = e.latlng.lat.toFixed(6);
    if ($("add-base").checked) {
      $("add-lon").value = e.latlng.lng.toFixed(6);
      $("add-lat").value = e.latlng.lat.toFixed(6);
    }
  });

  function drawFacilities(fc) {
    facLayer.clearLayers();
    const select = $("close-select");
    select.replaceChildren(Nav.el("option", "(none)", {value: ""}));
    for (const f of fc.features) {
      const p = f.properties;
      select.append(Nav.el("option", p.name + " (" + p.kind.replace("_", " ") + ")",
                           {value: p.id}));
      const [lon, lat] = f.geometry.coordinates;
      const dot = L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 5, color: "#222",
        weight: 1, fillColor: "#fff", fillOpacity: 0.9, className: "facility"});
      Nav.tip(dot, p.name);
      dot.on("click", function (e) {
        L.DomEvent.stopPropagation(e);
        select.value = p.id;
        Nav.say("Close: " + p.name);
      });
      dot.addTo(facLayer);
    }
  }

  $("coverage-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    Nav.say("Computing coverage…");
    const res = await Nav.api("POST", "/api/coverage",
                              Object.assign(scenario(), {target_min: Nav.num("cov-target")}));
    hexLayer.clearLayers();
    gapLayer.clearLayers();
    deltaLayer.clearLayers();
    $("delta-legend").hidden = true;
    const dl = $("coverage-summary");
    dl.replaceChildren();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    const d = res.data;
    L.geoJSON({type: "FeatureCollection", features: d.features}, {renderer: Nav.svg,
      style: (f) => ({fillColor: colour(f.properties.min_time_s), fillOpacity: 0.55,
                      color: "#555", weight: 0.3}),
      onEachFeature: (f, l) => Nav.tip(l, Nav.minutes(f.properties.min_time_s) + " · ~"
                                          + people(f.properties.population) + " people")
    }).addTo(hexLayer);
    $("time-legend").hidden = false;
    gapBounds = [];
    L.geoJSON(d.gaps, {renderer: Nav.svg, style: () => ({color: "#b00020", weight: 2,
      dashArray: "4", fillOpacity: 0.05, className: "gap"}),
      onEachFeature: (f, l) => Nav.tip(l, "Gap #" + f.properties.rank + ": "
                                          + people(f.properties.people_uncovered) + " people")
    }).addTo(gapLayer);
    drawFacilities(d.facilities);
    const s = d.summary;
    const rows = [["Facilities", s.facilities], ["Median time (roads)", Nav.minutes(s.median_time_s)],
      ["Worst time (roads)", Nav.minutes(s.max_time_s)],
      ["Beyond " + (s.target_s / 60) + " min", people(s.people_beyond_target) + " people in "
        + s.gaps + " gaps"]];
    for (const [k, v] of rows) dl.append(Nav.el("dt", k), Nav.el("dd", v));
    const pop = d.population;
    fillTable("population-table", pop.targets.map((t) => [
      "≤ " + t.target_min + " min", people(t.people_covered), pct(t.share_covered),
      people(t.people_uncovered) + " (" + pct(t.share_uncovered) + ")"]));
    $("clip-note").textContent = people(pop.total_people) + " people in " + pop.units + " "
      + pop.unit_name + " inside the road network area. " + pop.clip_note + ".";
    const tbody = fillTable("gap-table", d.gaps.features.map((f) => [
      "#" + f.properties.rank, people(f.properties.people_uncovered), f.properties.n_areas,
      Nav.minutes(f.properties.max_time_s)]));
    d.gaps.features.forEach(function (f, i) {
      const b = f.bbox;
      gapBounds.push([[b[1], b[0]], [b[3], b[2]]]);
      const tr = tbody.children[i];
      tr.dataset.rank = f.properties.rank;
      tr.addEventListener("click", function () {
        for (const other of tbody.children) other.classList.remove("selected");
        tr.classList.add("selected");
        m.fitBounds(gapBounds[i], {maxZoom: 15});
      });
    });
    if (!d.gaps.features.length) {
      fillTable("gap-table", [["—", "no gap beyond " + (s.target_s / 60) + " min", "", ""]]);
    }
    notes(s.notes);
    Nav.say("Coverage of " + s.kind.replace("_", " "));
  });

  $("compare-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const body = scenario();
    const close = $("close-select").value;
    body.close = close ? [close] : [];
    body.add = [];
    if ($("add-base").checked) body.add.push({lon: Nav.num("add-lon"), lat: Nav.num("add-lat")});
    Nav.say("Comparing…");
    const res = await Nav.api("POST", "/api/coverage/compare", body);
    deltaLayer.clearLayers();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    const d = res.data;
    L.geoJSON({type: "FeatureCollection", features: d.features}, {renderer: Nav.svg,
      style: (f) => {
        const x = f.properties.delta_s;
        const c = x === null ? GREY : x < 0 ? "#1a9850" : "#d73027";
        return {fillColor: c, fillOpacity: 0.6, color: c, weight: 0.5, className: "delta"};
      },
      onEachFeature: (f, l) => {
        const x = f.properties.delta_s;
        Nav.tip(l, x === null ? "newly (un)reachable" : (x > 0 ? "+" : "")
          + (x / 60).toFixed(1) + " min · " + people(f.properties.population) + " people");
      }}).addTo(deltaLayer);
    for (const f of d.added.features) {
      const [lon, lat] = f.geometry.coordinates;
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 7, color: "#1f78b4",
        weight: 3, fill: false}), f.properties.name).addTo(deltaLayer);
    }
    $("delta-legend").hidden = false;
    fillTable("compare-table", d.targets.map((t) => [
      "≤ " + t.target_min + " min", people(t.covered_before), people(t.covered_after),
      people(t.newly_covered), people(t.newly_uncovered)]));
    notes(d.notes);
    Nav.say(d.features.length + " block groups change travel time");
  });

  $("recommend-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const body = Object.assign(scenario(), {k: Nav.num("rec-k"), target_min: Nav.num("rec-target"),
      model: $("rec-model").value,
      candidates: Array.from(document.querySelectorAll('input[name="candidates"]:checked'),
                             (x) => x.value)});
    Nav.say("Solving…");
    const res = await Nav.api("POST", "/api/coverage/recommend", body);
    siteLayer.clearLayers();
    const dl = $("recommend-result");
    dl.replaceChildren();
    const ol = $("recommend-sites");
    ol.replaceChildren();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    const d = res.data;
    const within = " within " + d.target_min + " min";
    const rows = [["Covered now", people(d.people_covered_before) + within],
      ["With " + d.sites.features.length + " new sites (" + d.model + ")",
       people(d.people_covered_after) + " (+" + people(d.people_covered_after
         - d.people_covered_before) + ")"],
      ["Greedy baseline", people(d.greedy_people_covered)],
      ["Of", people(d.total_people) + " people · " + d.candidates + " candidates · "
        + d.status]];
    for (const [k, v] of rows) dl.append(Nav.el("dt", k), Nav.el("dd", v));
    for (const f of d.sites.features) {
      const p = f.properties;
      ol.append(Nav.el("li", p.name + " (" + p.kind.replace("_", " ") + ")", {class: "site"}));
      const [lon, lat] = f.geometry.coordinates;
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 8, color: "#6a3d9a",
        weight: 3, fillColor: "#cab2d6", fillOpacity: 0.9, className: "site"}), p.name)
        .addTo(siteLayer);
    }
    notes(d.notes);
    Nav.say("Recommended " + d.sites.features.length + " sites");
  });

  $("iso-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const res = await Nav.api("POST", "/api/isochrone", {lon: Nav.num("iso-lon"), lat: Nav.num("iso-lat")});
    isoLayer.clearLayers();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    L.geoJSON(res.data, {renderer: Nav.svg, style: (f) => ({color: "#6a3d9a", weight: 1,
      fillOpacity: 0.15}), onEachFeature: (f, l) => Nav.tip(l, f.properties.minutes + " min")
    }).addTo(isoLayer);
    Nav.say("Isochrones drawn");
  });
})();
