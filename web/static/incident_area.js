/* Area incidents on the dispatch console (issue 13): the intake form's "where" choice
   (exact point, centre + radius, pasted GeoJSON), the area drawn on the map, and the words
   for an area's ranking: "expected X min, worst Y min (area of N road nodes)". The pasted
   GeoJSON goes to the server as text (it checks it); data never becomes HTML. */
"use strict";
window.NavArea = (function () {
  function mode() {
    return document.getElementById("inc-where").value;
  }

  function sync() {  // show the fields of the chosen mode; a pasted area needs no lon/lat
    const m = mode();
    document.getElementById("inc-radius-field").hidden = m !== "radius";
    document.getElementById("inc-area-field").hidden = m !== "geojson";
    for (const id of ["inc-lon", "inc-lat"]) {
      document.getElementById(id).required = m !== "geojson";
    }
  }

  document.getElementById("inc-where").addEventListener("change", sync);
  sync();

  /* Add the area fields of the chosen mode to a new incident's request body. */
  function intake(body) {
    const m = mode();
    // the text as typed: the server says what is wrong with it (never a silent point)
    if (m === "radius") body.radius_m = document.getElementById("inc-radius").value.trim();
    if (m === "geojson") {
      delete body.lon;
      delete body.lat;
      body.area = document.getElementById("inc-area").value;
    }
    return body;
  }

  /* Draw an incident's area (a GeoJSON geometry from the API) on a layer. */
  function draw(p, layer) {
    if (!p.area) return;
    Nav.tip(L.geoJSON(p.area, {renderer: Nav.svg, className: "incident-area",
      style: {color: "#b10026", weight: 2, dashArray: "6 4", fillOpacity: 0.08}}),
      "area of " + p.id + (p.area_radius_m ? " (radius " + p.area_radius_m + " m)" : "") +
      ": the caller is somewhere inside").addTo(layer);
  }

  /* The list's words for where an incident is. */
  function where(p) {
    if (!p.area) return "";
    return p.area_radius_m ? "area: " + p.area_radius_m + " m around the marker"
      : "area: polygon (marker at its centre)";
  }

  /* An option's ETA: the expected and worst over an area, else the ETA. */
  function eta(o, area) {
    if (!area || o.eta_worst_s === null || o.eta_worst_s === undefined) {
      return Nav.minutes(o.eta_s);
    }
    return "expected " + Nav.minutes(o.eta_s) + ", worst " + Nav.minutes(o.eta_worst_s) +
      " (area of " + area.nodes + " road nodes)";
  }

  /* The ranking note for an area incident. */
  function note(area) {
    return area ? "Only an area is known: ETAs are " + area.weighting + "-weighted over its " +
      area.nodes + " road nodes (expected = mean, worst = max); the route shown goes to " +
      area.route_to + ". Set the exact point when known." : "";
  }

  /* Refine an incident to the point typed in the form (clears its area). */
  async function locate(id, done) {
    const lon = Nav.num("inc-lon");
    const lat = Nav.num("inc-lat");
    if (lon === null || lat === null) {
      Nav.say("Type or click the exact point (Lon, Lat) first", true);
      return;
    }
    const res = await Nav.api("POST", Nav.path("/api/incidents", id, "location"),
                              {lon: lon, lat: lat});
    Nav.say(res.ok ? "Incident " + id + " set to the exact point" : Nav.errorText(res),
            !res.ok);
    done();
  }

  return {intake: intake, draw: draw, where: where, eta: eta, note: note, locate: locate};
})();
