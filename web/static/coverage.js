/* Coverage view: hexes coloured by travel time to the nearest facility, gaps beyond the
   target outlined, summary figures; isochrones from a clicked point. */
"use strict";
(function () {
  const m = Nav.map();
  const hexLayer = L.layerGroup().addTo(m);
  const isoLayer = L.layerGroup().addTo(m);
  const bins = [[15, "#1a9850"], [30, "#91cf60"], [45, "#fee08b"], [60, "#fc8d59"]];
  const colour = (s) => s === null ? "#d73027"
    : (bins.find((b) => s <= b[0] * 60) || [0, "#d73027"])[1];

  Nav.pickOnClick("iso-lon", "iso-lat");

  document.getElementById("coverage-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    Nav.say("Computing coverage…");
    const res = await Nav.api("POST", "/api/coverage", {
      kind: document.getElementById("cov-kind").value, target_min: Nav.num("cov-target")});
    hexLayer.clearLayers();
    const dl = document.getElementById("coverage-summary");
    dl.replaceChildren();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    L.geoJSON(res.data, {renderer: Nav.svg, style: (f) => ({
      fillColor: colour(f.properties.min_time_s), fillOpacity: 0.5,
      color: f.properties.gap ? "#b00020" : "#555", weight: f.properties.gap ? 2 : 0.3}),
      onEachFeature: (f, l) => Nav.tip(l, Nav.minutes(f.properties.min_time_s))
    }).addTo(hexLayer);
    const s = res.data.summary;
    const rows = [["Facilities", s.facilities],
      ["Roads within target", s.share_of_roads_within_target === null ? "n/a"
        : (100 * s.share_of_roads_within_target).toFixed(1) + " %"],
      ["Median time", Nav.minutes(s.median_time_s)], ["Worst time", Nav.minutes(s.max_time_s)],
      ["Gap hexes", s.gap_hexes + " of " + s.hexes]];
    for (const [k, v] of rows) dl.append(Nav.el("dt", k), Nav.el("dd", v));
    Nav.say("Coverage of " + s.kind);
  });

  document.getElementById("iso-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const res = await Nav.api("POST", "/api/isochrone",
                              {lon: Nav.num("iso-lon"), lat: Nav.num("iso-lat")});
    isoLayer.clearLayers();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    L.geoJSON(res.data, {renderer: Nav.svg, style: (f) => ({color: "#6a3d9a", weight: 1,
      fillOpacity: 0.15}), onEachFeature: (f, l) => Nav.tip(l, f.properties.minutes + " min")
    }).addTo(isoLayer);
    Nav.say("Isochrones drawn");
  });
})();
