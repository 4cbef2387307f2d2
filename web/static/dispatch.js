/* Dispatch console: incidents and teams from the JSON API as live Leaflet layers, ranking
   with routes, one-click assignment and team status updates; refreshes every 15 s. */
"use strict";
(function () {
  const colours = {available: "#1b9e77", en_route: "#d95f02", on_scene: "#7570b3",
                   returning: "#e7298a", off_duty: "#999999"};
  const next = {en_route: ["on_scene", "On scene"], on_scene: ["returning", "Complete"],
                returning: ["available", "Available"]};
  const m = Nav.map();
  const live = L.layerGroup().addTo(m);
  const routes = L.layerGroup().addTo(m);
  let pick = null;
  let assignments = [];

  Nav.pickOnClick("inc-lon", "inc-lat", function (ll) {
    if (pick) m.removeLayer(pick);
    pick = L.circleMarker(ll, {renderer: Nav.svg, radius: 6, color: "#000"}).addTo(m);
  });

  async function load() {
    const [inc, teams, asg] = await Promise.all([
      Nav.api("GET", "/api/incidents"), Nav.api("GET", "/api/teams"),
      Nav.api("GET", "/api/assignments")]);
    if (!inc.ok || !teams.ok) { Nav.say(Nav.errorText(inc.ok ? teams : inc), true); return; }
    assignments = asg.ok ? asg.data.assignments : [];
    live.clearLayers();
    drawIncidents(inc.data.features);
    drawTeams(teams.data.features);
  }

  function drawIncidents(features) {
    const list = document.getElementById("incident-list");
    list.replaceChildren();
    for (const f of features) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const label = p.crisis_type + " P" + p.priority + " (" + p.status + ")";
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 9 - p.priority,
        color: "#b10026", fillOpacity: 0.8, className: "incident-marker"}), label)
        .addTo(live);
      const li = Nav.el("li", null, {"data-id": p.id, class: "incident"});
      li.append(Nav.el("span", label + " "), Nav.el("span", p.notes || "", {class: "notes"}));
      li.append(Nav.button("Rank teams", () => rank(p.id), {class: "rank"}));
      li.append(Nav.button("Resolve", () => setIncident(p.id, "resolved")));
      list.append(li);
    }
  }

  function drawTeams(features) {
    const list = document.getElementById("team-list");
    list.replaceChildren();
    for (const f of features) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 7, weight: 2,
        color: "#222", fillColor: colours[p.status] || "#333", fillOpacity: 0.9,
        className: "team-marker"}), p.name + " (" + p.status + ")").addTo(live);
      const li = Nav.el("li", null, {"data-id": p.id, class: "team"});
      li.append(Nav.el("span", p.name + " — "), Nav.el("span", p.status, {class: "status"}));
      const step = next[p.status];
      if (step) li.append(Nav.button(step[1], () => advance(p.id, p.status)));
      list.append(li);
    }
  }

  async function advance(teamId, status) {
    const active = assignments.find((a) => a.team_id === teamId && a.status === "active");
    let res;
    if (status === "on_scene" && active) {
      res = await Nav.api("POST", Nav.path("/api/assignments", active.id, "finish"),
                          {status: "completed"});
    } else {
      res = await Nav.api("POST", Nav.path("/api/teams", teamId, "status"),
                          {status: next[status][0]});
    }
    Nav.say(res.ok ? "Team updated" : Nav.errorText(res), !res.ok);
    load();
  }

  async function setIncident(id, status) {
    const res = await Nav.api("POST", Nav.path("/api/incidents", id, "status"),
                              {status: status});
    Nav.say(res.ok ? "Incident " + status : Nav.errorText(res), !res.ok);
    load();
  }

  async function rank(incidentId) {
    Nav.say("Ranking teams…");
    const res = await Nav.api("POST", Nav.path("/api/incidents", incidentId, "rank"), {});
    const list = document.getElementById("team-options");
    list.replaceChildren();
    routes.clearLayers();
    document.getElementById("ranked-for").textContent = "for " + incidentId;
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    Nav.say(res.data.message);
    res.data.options.forEach(function (o, i) {
      if (o.route) {
        L.geoJSON(o.route, {renderer: Nav.svg, className: "route",
          style: {color: i === 0 ? "#d95f02" : "#888", weight: i === 0 ? 6 : 3,
                  opacity: 0.85}}).addTo(routes);
      }
      const li = Nav.el("li", null, {class: "option"});
      li.append(Nav.el("span", o.name + " — " + Nav.minutes(o.eta_s) +
        (o.meets_target ? "" : " (misses target)") + (o.shift_ok ? "" : " (shift ends)")));
      li.append(Nav.button("Assign", () => assign(incidentId, o.team_id), {class: "assign"}));
      list.append(li);
    });
  }

  async function assign(incidentId, teamId) {
    const res = await Nav.api("POST", "/api/assignments",
      {incident_id: incidentId, team_id: teamId, idempotency_key: Nav.key()});
    Nav.say(res.ok ? "Assigned " + teamId + " (ETA " + Nav.minutes(res.data.eta_s) + ")"
                   : Nav.errorText(res), !res.ok);
    document.getElementById("team-options").replaceChildren();
    load();
  }

  document.getElementById("incident-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const body = {lon: Nav.num("inc-lon"), lat: Nav.num("inc-lat"),
                  crisis_type: document.getElementById("inc-type").value,
                  priority: Number(document.getElementById("inc-priority").value),
                  notes: document.getElementById("inc-notes").value};
    const res = await Nav.api("POST", "/api/incidents", body);
    Nav.say(res.ok ? "Created incident " + res.data.id : Nav.errorText(res), !res.ok);
    if (res.ok) { await load(); rank(res.data.id); }
  });

  load();
  setInterval(load, 15000);
})();
