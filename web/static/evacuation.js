/* Planner evacuation view: click corners of an evacuation zone (or upload a GeoJSON polygon or
   a households CSV), place its people into open shelters, see lines to the shelters, loads,
   unplaced people by need; download the CSV. Every string reaches the page as text. */
"use strict";
(function () {
  const m = Nav.map();
  const $ = (id) => document.getElementById(id);
  const NEEDS = ["general", "fnss", "medical", "pets"];
  const zoneLayer = L.layerGroup().addTo(m);
  const resultLayer = L.layerGroup().addTo(m);
  let corners = [];
  let upload = null;  // {zone: {...}} or {households_csv: "..."}

  function drawZone() {
    zoneLayer.clearLayers();
    $("zone-corners").textContent = corners.length + " corners";
    if (corners.length >= 2) {
      L.polygon(corners.map((c) => [c[1], c[0]]), {renderer: Nav.svg, color: "#b00020",
        weight: 2, dashArray: "4", fillOpacity: 0.08, className: "evac-zone"}).addTo(zoneLayer);
    }
    for (const c of corners) {
      L.circleMarker([c[1], c[0]], {renderer: Nav.svg, radius: 3, color: "#b00020"})
        .addTo(zoneLayer);
    }
  }
  m.on("click", function (e) {
    upload = null;
    corners.push([Number(e.latlng.lng.toFixed(6)), Number(e.latlng.lat.toFixed(6))]);
    drawZone();
  });
  $("zone-clear").addEventListener("click", function () {
    corners = [];
    upload = null;
    resultLayer.clearLayers();
    drawZone();
  });
  $("evac-file").addEventListener("change", async function () {
    const f = this.files && this.files[0];
    if (!f) return;
    const text = await f.text();
    corners = [];
    drawZone();
    if (/\.csv$/i.test(f.name)) {
      upload = {households_csv: text};
      Nav.say("Households file " + f.name + " ready");
      return;
    }
    try {
      upload = {zone: JSON.parse(text)};
      L.geoJSON(upload.zone, {renderer: Nav.svg, style: () => ({color: "#b00020", weight: 2,
        dashArray: "4", fillOpacity: 0.08, className: "evac-zone"})}).addTo(zoneLayer);
      Nav.say("Zone file " + f.name + " ready");
    } catch (err) {
      upload = null;
      Nav.say(f.name + " is not JSON: " + err.message, true);
    }
  });

  function body() {
    const b = {method: $("evac-method").value};
    if (upload) return Object.assign(b, upload);
    const ring = corners.concat(corners.length ? [corners[0]] : []);
    return Object.assign(b, {zone: {type: "Polygon", coordinates: [ring]}});
  }
  const people = (n) => Math.round(n).toLocaleString("en-US");

  function row(cells) {
    const tr = Nav.el("tr");
    for (const c of cells) tr.append(Nav.el("td", c));
    return tr;
  }

  function show(d) {
    resultLayer.clearLayers();
    const s = d.summary;
    const methods = ["optimal", "greedy"].filter((k) => k in d.shelters);  // keys come sorted
    const sum = $("evac-summary").querySelector("tbody");
    sum.replaceChildren();
    for (const k of methods) {
      const r = s[k];
      sum.append(row([k, people(r.placed), people(r.unplaced), Nav.minutes(r.mean_time_s),
                      Nav.minutes(r.worst_time_s), (r.total_time_s / 3600).toFixed(1)]));
    }
    $("evac-summary").hidden = false;
    const un = $("evac-unplaced").querySelector("tbody");
    un.replaceChildren(row(NEEDS.map((n) => people(s[methods[0]].unplaced_by_need[n]))));
    $("evac-unplaced").hidden = false;
    const sh = $("evac-shelters").querySelector("tbody");
    sh.replaceChildren();
    const at = {};
    for (const x of d.shelters[methods[0]]) {
      at[x.id] = [x.lat, x.lon];
      sh.append(row([x.name, people(x.placed)].concat(
        NEEDS.map((n) => x.load[n] + " / " + x.free[n]))));
      Nav.tip(L.circleMarker([x.lat, x.lon], {renderer: Nav.svg,
        radius: 5 + Math.min(15, Math.sqrt(x.placed) / 2), color: "#d95f02", weight: 2,
        fillOpacity: 0.6, className: "evac-shelter"}).addTo(resultLayer),
        x.name + ": " + people(x.placed) + " placed");
    }
    $("evac-shelters").hidden = false;
    for (const a of d.assignments) {
      if (!a.shelter_id || !at[a.shelter_id]) continue;
      Nav.tip(L.polyline([[a.lat, a.lon], at[a.shelter_id]], {renderer: Nav.svg,
        color: "#6a3d9a", weight: 1 + Math.min(5, a.people / 50), opacity: 0.6,
        className: "evac-line"}).addTo(resultLayer),
        a.people + " " + a.need + " → " + a.shelter_name + " (" + Nav.minutes(a.travel_time_s) + ")");
    }
    const notes = $("evac-notes");
    notes.replaceChildren(...s.notes.map((n) => Nav.el("li", n)));
    Nav.say("Placed " + people(s[methods[0]].placed) + " of " + people(s.people) + " people ("
            + methods[0] + ")");
  }

  $("run-evacuation").addEventListener("click", async function () {
    Nav.say("Placing evacuees…");
    const res = await Nav.api("POST", "/api/planner/evacuation", body());
    if (!res.ok) { resultLayer.clearLayers(); Nav.say(Nav.errorText(res), true); return; }
    show(res.data);
  });

  $("export-evacuation").addEventListener("click", async function () {
    const meta = document.querySelector('meta[name="csrf-token"]');
    Nav.say("Preparing the CSV…");
    const r = await fetch("/api/planner/evacuation/export", {method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : ""},
      body: JSON.stringify(body())});
    if (!r.ok) {
      let data = null;
      try { data = await r.json(); } catch (err) { data = {message: "no JSON in the answer"}; }
      Nav.say(Nav.errorText({ok: false, status: r.status, data: data}), true);
      return;
    }
    const url = URL.createObjectURL(await r.blob());
    const a = Nav.el("a", null, {href: url, download: "evacuation.csv"});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    Nav.say("Downloaded evacuation.csv");
  });
})();
