/* Planner coverage view: hexes coloured by travel time against the chosen targets, people
   covered per target, gaps ranked by people (click to zoom), scenario comparison with a delta
   map, location-allocation of new sites, isochrones; each layer toggles with its legend;
   coverage downloads as GeoPackage, GeoJSON or CSV. Every string reaches the page as text. */
"use strict";
(function () {
  const m = Nav.map();
  const hexLayer = L.layerGroup();
  const gapLayer = L.layerGroup();
  const facLayer = L.layerGroup();
  const deltaLayer = L.layerGroup();
  const siteLayer = L.layerGroup();
  const isoLayer = L.layerGroup();
  // Each toggle shows or hides one layer group and its legend (shown once something is drawn).
  const layers = {
    coverage: {group: L.layerGroup([hexLayer, gapLayer, facLayer]).addTo(m),
               legend: "time-legend", drawn: false},
    compare: {group: deltaLayer.addTo(m), legend: "delta-legend", drawn: false},
    recommend: {group: siteLayer.addTo(m), legend: "site-legend", drawn: false},
    iso: {group: isoLayer.addTo(m), legend: "iso-legend", drawn: false},
  };
  const GREY = "#bdbdbd";
  const WITHIN = ["#1a9850", "#66bd63", "#a6d96a", "#d9ef8b"];  // bands within the gap target
  const BEYOND = ["#fee08b", "#fdae61", "#f46d43"];             // bands beyond it
  const LAST = "#d73027";                                       // beyond every target
  let bands = [];  // [[upper limit in seconds, colour, label], ...] from the chosen targets
  const colour = (s) => s === null ? GREY : (bands.find((b) => s <= b[0]) || [0, LAST])[1];
  const $ = (id) => document.getElementById(id);
  const people = (x) => x === null || x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US");
  const pct = (x) => x === null || x === undefined ? "n/a" : (100 * x).toFixed(1) + " %";
  let gapBounds = [];

  function showLayer(name) {
    const l = layers[name];
    const on = $("layer-" + name).checked;
    if (on) l.group.addTo(m); else m.removeLayer(l.group);
    $(l.legend).hidden = !(on && l.drawn);
  }
  function drawn(name, isDrawn) {
    layers[name].drawn = isDrawn;
    showLayer(name);
  }
  for (const name of Object.keys(layers)) {
    $("layer-" + name).addEventListener("change", () => showLayer(name));
  }

  function setBands(targetsMin, gapMin) {
    // Colours follow the targets: greens up to the gap target, warm colours beyond it, so
    // a place beyond the target never draws green.
    let w = 0, b = 0;
    bands = targetsMin.map((t) => [t * 60, t <= gapMin ? WITHIN[Math.min(w++, 3)]
                                           : BEYOND[Math.min(b++, 2)], "≤ " + t + " min"]);
    const items = $("time-legend-items");
    items.replaceChildren();
    const rows = [...bands, [null, LAST, "beyond " + targetsMin[targetsMin.length - 1] + " min"]];
    for (const [, c, label] of rows) {
      const swatch = Nav.el("i", null, {class: "swatch"});
      swatch.style.background = c;
      const div = Nav.el("div");
      div.append(swatch, Nav.el("span", label));
      items.append(div);
    }
    $("time-legend-title").textContent = "Travel time (target " + gapMin + " min)";
    $("gap-legend-text").textContent = "gap beyond " + gapMin + " min";
  }

  function targetList() {
    const raw = $("cov-targets").value.split(",").map((x) => x.trim()).filter((x) => x);
    return raw.map(Number);
  }

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

  function coverageBody() {
    const body = Object.assign(scenario(), {target_min: Nav.num("cov-target")});
    const more = targetList();
    if (more.length) body.targets_min = more;
    return body;
  }

  async function download(format) {
    // The file comes back as a blob and is saved through a temporary link (no data in HTML).
    const meta = document.querySelector('meta[name="csrf-token"]');
    Nav.say("Preparing the " + format + " file…");
    const r = await fetch("/api/coverage/export", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : ""},
      body: JSON.stringify(Object.assign(coverageBody(), {format: format}))});
    if (!r.ok) {
      let data = null;
      try { data = await r.json(); } catch (err) { data = {message: "no JSON in the answer"}; }
      Nav.say(Nav.errorText({ok: false, status: r.status, data: data}), true);
      return;
    }
    const found = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
    const name = found ? found[1] : "coverage." + format;
    const url = URL.createObjectURL(await r.blob());
    const a = Nav.el("a", null, {href: url, download: name});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    Nav.say("Downloaded " + name);
  }
  for (const b of document.querySelectorAll("p.exports button")) {
    b.addEventListener("click", () => download(b.dataset.format));
  }

  $("coverage-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    Nav.say("Computing coverage…");
    const res = await Nav.api("POST", "/api/coverage", coverageBody());
    hexLayer.clearLayers();
    gapLayer.clearLayers();
    deltaLayer.clearLayers();
    drawn("compare", false);
    const dl = $("coverage-summary");
    dl.replaceChildren();
    if (!res.ok) { drawn("coverage", false); Nav.say(Nav.errorText(res), true); return; }
    const d = res.data;
    setBands(d.population.targets.map((t) => t.target_min), d.summary.target_s / 60);
    L.geoJSON({type: "FeatureCollection", features: d.features}, {renderer: Nav.svg,
      style: (f) => ({fillColor: colour(f.properties.min_time_s), fillOpacity: 0.55,
                      color: "#555", weight: 0.3}),
      onEachFeature: (f, l) => Nav.tip(l, Nav.minutes(f.properties.min_time_s) + " · ~"
                                          + people(f.properties.population) + " people")
    }).addTo(hexLayer);
    drawn("coverage", true);
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
    body.closures = $("compare-closures").checked;
    Nav.say("Comparing…");
    const res = await Nav.api("POST", "/api/coverage/compare", body);
    deltaLayer.clearLayers();
    if (!res.ok) { drawn("compare", false); Nav.say(Nav.errorText(res), true); return; }
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
    drawn("compare", true);
    fillTable("compare-table", d.targets.map((t) => [
      "≤ " + t.target_min + " min", people(t.covered_before), people(t.covered_after),
      people(t.newly_covered), people(t.newly_uncovered)]));
    notes(d.notes);
    $("closures-lost").textContent = d.closures_compared
      ? "With the road closures in force (" + d.closures_count + "): " +
        d.units_losing_coverage.map((u) => u.units + " places (" + people(u.people) +
          " people) lose coverage within " + u.target_min + " min").join("; ")
      : "";
    Nav.say(d.features.length + " block groups change travel time");
  });

  $("recommend-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const body = Object.assign(scenario(), {k: Nav.num("rec-k"), target_min: Nav.num("rec-target"),
      model: $("rec-model").value,
      candidates: Array.from(document.querySelectorAll('input[name="candidates"]:checked'),
                             (x) => x.value)});
    const saved = $("rec-busy-from").files[0];
    if (saved) {
      // a `navigator simulate --json` result: the service checks its region, bases, fractions
      try { body.busy_from = JSON.parse(await saved.text()); } catch (err) {
        Nav.say(saved.name + " is not JSON: save a run with navigator simulate --json", true);
        return;
      }
    }
    Nav.say("Solving…");
    const res = await Nav.api("POST", "/api/coverage/recommend", body);
    siteLayer.clearLayers();
    const dl = $("recommend-result");
    dl.replaceChildren();
    const ol = $("recommend-sites");
    ol.replaceChildren();
    if (!res.ok) { drawn("recommend", false); Nav.say(Nav.errorText(res), true); return; }
    const d = res.data;
    $("site-legend-text").textContent = "new site (" + d.model + ", within " + d.target_min
      + " min)";
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
    drawn("recommend", d.sites.features.length > 0);
    notes(d.notes);
    Nav.say("Recommended " + d.sites.features.length + " sites");
  });

  $("iso-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const res = await Nav.api("POST", "/api/isochrone", {lon: Nav.num("iso-lon"), lat: Nav.num("iso-lat")});
    isoLayer.clearLayers();
    if (!res.ok) { drawn("iso", false); Nav.say(Nav.errorText(res), true); return; }
    L.geoJSON(res.data, {renderer: Nav.svg, style: (f) => ({color: "#6a3d9a", weight: 1,
      fillOpacity: 0.15}), onEachFeature: (f, l) => Nav.tip(l, f.properties.minutes + " min")
    }).addTo(isoLayer);
    const minutes = res.data.features.map((f) => f.properties.minutes).sort((a, b) => a - b);
    $("iso-legend-text").textContent = "reachable within " + minutes.join(" / ")
      + " min (darker: nearer)";
    drawn("iso", true);
    Nav.say("Isochrones drawn");
  });
})();
