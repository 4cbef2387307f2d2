/* Road closures on the dispatch console: the "Close road" tool (pick a road segment by
   clicking near it, or draw an area by clicking its corners), reason and optional expiry,
   the closures in force as a red hatched layer with text popups, a list with "Reopen", and
   the page banner. Plain Leaflet, no drawing library. Text only: data never becomes HTML. */
"use strict";
(function () {
  const m = Nav.map();
  const STYLE = {color: "#d62728", weight: 5, opacity: 0.9, dashArray: "6 4",
                 fillOpacity: 0.5};
  const layer = L.layerGroup().addTo(m);     // closures in force
  const draft = L.layerGroup().addTo(m);     // what is being drawn or picked
  const hint = document.getElementById("closure-hint");
  const closeBtn = document.getElementById("close-road");
  const finishBtn = document.getElementById("close-finish");
  let mode = null;        // "segment" | "area" | null
  let vertices = [];      // [lat, lng] of the area being drawn
  let geometry = null;    // GeoJSON geometry ready to close

  function setHint(text) { hint.textContent = text; }

  function reset() {
    mode = null; vertices = []; geometry = null;
    draft.clearLayers();
    closeBtn.disabled = true;
    finishBtn.hidden = true;
    m.getContainer().classList.remove("drawing");
    setHint("");
  }

  function ready(geom, what) {
    geometry = geom;
    closeBtn.disabled = false;
    setHint(what + " selected: give a reason and press Close road.");
  }

  function drawDraft() {
    draft.clearLayers();
    for (const v of vertices) {
      L.circleMarker(v, {renderer: Nav.svg, radius: 4, color: "#d62728",
                         className: "closure-vertex"}).addTo(draft);
    }
    if (vertices.length > 1) {
      L.polyline(vertices.concat(vertices.length > 2 ? [vertices[0]] : []),
                 {renderer: Nav.svg, color: "#d62728", dashArray: "4 4"}).addTo(draft);
    }
  }

  async function pickSegment(ll) {
    const url = "/api/closures/segment?lon=" + ll.lng.toFixed(6) + "&lat=" + ll.lat.toFixed(6);
    const res = await Nav.api("GET", url);
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    draft.clearLayers();
    L.geoJSON(res.data, {renderer: Nav.svg, className: "closure-draft",
                         style: {color: "#ff7f0e", weight: 8, opacity: 0.9}}).addTo(draft);
    ready(res.data.geometry, "Road segment (" + Math.round(res.data.properties.length_m) +
          " m)");
  }

  m.on("click", function (e) {
    if (mode === "segment") {
      pickSegment(e.latlng);
    } else if (mode === "area") {
      vertices.push([e.latlng.lat, e.latlng.lng]);
      drawDraft();
      finishBtn.hidden = vertices.length < 3;
      setHint(vertices.length + " corner(s); " +
              (vertices.length < 3 ? "click at least 3." : "press Finish area when done."));
    }
  });

  document.getElementById("close-segment").addEventListener("click", function () {
    reset();
    mode = "segment";
    m.getContainer().classList.add("drawing");
    setHint("Click on the map next to the road to close.");
  });
  document.getElementById("close-area").addEventListener("click", function () {
    reset();
    mode = "area";
    m.getContainer().classList.add("drawing");
    setHint("Click the corners of the area to close.");
  });
  document.getElementById("close-clear").addEventListener("click", reset);
  finishBtn.addEventListener("click", function () {
    if (vertices.length < 3) return;
    const ring = vertices.map(([lat, lng]) => [lng, lat]);
    ring.push(ring[0]);
    mode = null;
    finishBtn.hidden = true;
    ready({type: "Polygon", coordinates: [ring]}, "Area");
  });

  closeBtn.addEventListener("click", async function () {
    if (!geometry) return;
    const body = {geojson: geometry, reason: document.getElementById("closure-reason").value};
    const until = document.getElementById("closure-expires").value;
    if (until) body.expires_at = new Date(until).toISOString();
    const res = await Nav.api("POST", "/api/closures", body);
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    const made = res.data.closures;
    Nav.say("Closed " + made.map((c) => c.closed_edges + " road edge(s)").join(", ") +
            ": rankings now route around it");
    document.getElementById("closure-reason").value = "";
    reset();
    load();
  });

  function popup(p) {
    return NavMap.popup({title: p.reason, rows: [["Road closure", p.id],
      ["From", Nav.localTime(p.starts_at)], ["Until", p.expires_at
        ? Nav.localTime(p.expires_at) : "reopened by hand"], ["Closed by", p.created_by]]});
  }

  async function reopen(id) {
    const res = await Nav.api("POST", Nav.path("/api/closures", id, "lift"), {});
    Nav.say(res.ok ? "Reopened " + id : Nav.errorText(res), !res.ok);
    load();
  }

  async function load() {
    const res = await Nav.api("GET", "/api/closures");
    if (!res.ok) return;
    const features = res.data.features;
    layer.clearLayers();
    const hatch = NavMap.hatch();
    L.geoJSON(res.data, {renderer: Nav.svg, className: "closure",
      style: Object.assign({}, STYLE, {fillColor: hatch}),
      onEachFeature: (f, l) => {
        l.bindPopup(() => popup(f.properties), {maxWidth: 320});
        l.bindTooltip(() => Nav.el("span", f.properties.reason), {sticky: true});
      }}).addTo(layer);
    const list = document.getElementById("closure-list");
    list.replaceChildren();
    for (const f of features) {
      const p = f.properties;
      const li = Nav.el("li", null, {class: "closure", "data-id": p.id});
      li.append(Nav.el("span", p.reason, {class: "reason"}), " ",
                Nav.el("span", p.expires_at ? "until " + Nav.localTime(p.expires_at) : "",
                       {class: "hint"}), " ",
                Nav.button("Reopen", () => reopen(p.id), {class: "reopen"}));
      list.append(li);
    }
    const banner = document.getElementById("closures-banner");
    if (banner) {
      banner.hidden = features.length === 0;
      document.getElementById("closures-count").textContent = String(features.length);
    }
  }

  load();
  setInterval(load, 15000);
})();
