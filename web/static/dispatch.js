/* Dispatch console: incidents and teams from the JSON API as live Leaflet layers, the
   incident list (priority, then oldest first, with assigned team and elapsed time), ranking
   with routes and what each team lacks, one-click assignment (an override reason for a team
   that lacks a needed skill or language), last-seen age of team positions, safety check-in
   alerts (red, on top), area incidents (incident_area.js). Live: a server-sent event stream
   says when anything changed in any server process and the console reloads; if the stream is
   refused or drops, it polls every 5 s and tries the stream again. Text only: data never becomes HTML. */
"use strict";
(function () {
  const colours = {available: "#1b9e77", en_route: "#d95f02", on_scene: "#7570b3",
                   returning: "#e7298a", off_duty: "#999999"};
  const next = {en_route: ["on_scene", "On scene"], on_scene: ["returning", "Complete"],
                returning: ["available", "Available"]};
  const panel = document.getElementById("dispatch-panel");
  const tz = panel.dataset.tz || undefined;
  const staleS = Number(panel.dataset.staleS) || 600;
  const m = Nav.map();
  const live = L.layerGroup().addTo(m);
  const routes = L.layerGroup().addTo(m);
  let pick = null;
  let assignments = [];
  let teamNames = {};
  let checks = {};
  let version = null;
  let loading = null;
  let again = false;
  let dueTimer = null;

  Nav.pickOnClick("inc-lon", "inc-lat", function (ll) {
    if (pick) m.removeLayer(pick);
    pick = L.circleMarker(ll, {renderer: Nav.svg, radius: 6, color: "#000"}).addTo(m);
  });

  function ageS(iso) {
    const t = Date.parse(iso);
    return isNaN(t) ? null : Math.max(0, (Date.now() - t) / 1000);
  }

  function ago(s) {  // "4 min", "2 h 5 min"
    if (s === null) return "?";
    const mins = Math.floor(s / 60);
    if (mins < 1) return "<1 min";
    if (mins < 60) return mins + " min";
    return Math.floor(mins / 60) + " h " + (mins % 60) + " min";
  }

  function load() {  // one load at a time; changes during a load ask for one more
    if (loading) { again = true; return loading; }
    loading = fetchAll().finally(function () {
      loading = null;
      if (again) { again = false; load(); }
    });
    return loading;
  }

  async function fetchAll() {
    const [inc, teams, asg, chk] = await Promise.all([
      Nav.api("GET", "/api/incidents"), Nav.api("GET", "/api/teams"),
      Nav.api("GET", "/api/assignments"), Nav.api("GET", "/api/dispatch/checkins")]);
    if (!inc.ok || !teams.ok) { Nav.say(Nav.errorText(inc.ok ? teams : inc), true); return; }
    assignments = asg.ok ? asg.data.assignments : [];
    teamNames = {};
    for (const f of teams.data.features) teamNames[f.properties.id] = f.properties.name;
    checks = {};
    if (chk.ok) for (const c of chk.data.checks) checks[c.team_id] = c;
    live.clearLayers();
    drawAlerts(chk.ok ? chk.data.checks : []);
    drawIncidents(inc.data.features);
    drawTeams(teams.data.features);
  }

  function drawAlerts(list) {
    const box = document.getElementById("safety-alerts");
    box.replaceChildren();
    const overdue = list.filter((c) => c.overdue);
    for (const c of overdue) {
      const li = Nav.el("li", null, {class: "alert", "data-team": c.team_id});
      li.append(Nav.el("span", c.name + ": safety check-in overdue by " + ago(c.overdue_s) +
        " (on scene since " + Nav.localTime(c.on_scene_at, tz) + ")"));
      li.append(Nav.button("Checked in", () => checkIn(c.team_id, false), {class: "check-in"}),
                Nav.button("Acknowledge", () => checkIn(c.team_id, true),
                           {class: "acknowledge"}));
      box.append(li);
    }
    box.hidden = overdue.length === 0;
    // the next check-in falls due without any write: reload just after it
    if (dueTimer) clearTimeout(dueTimer);
    const waits = list.filter((c) => !c.overdue).map((c) => Date.parse(c.due_at) - Date.now());
    if (waits.length) {
      dueTimer = setTimeout(load, Math.min(Math.max(0, Math.min(...waits)) + 500, 2 ** 31 - 1));
    }
  }

  async function checkIn(teamId, acknowledge) {
    const res = await Nav.api("POST", Nav.path("/api/teams", teamId, "check-in") +
                              (acknowledge ? "/acknowledge" : ""), {});
    Nav.say(res.ok ? (acknowledge ? "Alert acknowledged for " : "Check-in recorded for ") +
                     (teamNames[teamId] || teamId) : Nav.errorText(res), !res.ok);
    load();
  }

  function incidentLabel(p) {
    return "P" + p.priority + " " + p.crisis_type + " " + p.id;
  }

  function drawIncidents(features) {
    const list = document.getElementById("incident-list");
    list.replaceChildren();
    const sorted = features.slice().sort((a, b) =>
      (a.properties.priority - b.properties.priority) ||
      (Date.parse(a.properties.created_at) - Date.parse(b.properties.created_at)));
    for (const f of sorted) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const sent = assignments.filter((a) => a.incident_id === p.id && a.status === "active")
        .map((a) => teamNames[a.team_id] || a.team_id);
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 9 - p.priority,
        color: "#b10026", fillOpacity: 0.8, className: "incident-marker"}),
        incidentLabel(p) + " (" + p.status + ")").addTo(live);
      NavArea.draw(p, live);
      const li = Nav.el("li", null, {"data-id": p.id, class: "incident " + p.status});
      const head = Nav.el("div");
      head.append(Nav.el("span", "P" + p.priority, {class: "priority p" + p.priority}), " ",
        Nav.el("span", p.crisis_type, {class: "type"}), " ",
        Nav.el("span", p.id, {class: "id"}));
      const where = Nav.el("div", p.address || "no street address nearby",
                           {class: "address"});
      const facts = Nav.el("div");
      facts.append(
        Nav.el("span", Nav.localTime(p.created_at, tz), {class: "created",
                                                        title: String(p.created_at)}),
        " · ", Nav.el("span", p.status, {class: "status"}),
        " · ", Nav.el("span", sent.length ? sent.join(", ") : "no team", {class: "team"}),
        " · ", Nav.el("span", ago(ageS(p.created_at)), {class: "elapsed"}));
      li.append(head, where, facts, Nav.el("div", p.notes || "", {class: "notes"}));
      if (p.area) {
        li.append(Nav.el("div", NavArea.where(p), {class: "area"}),
                  Nav.button("Set exact point", () => NavArea.locate(p.id, load),
                             {class: "locate"}));
      }
      // Rank only what still needs a team: open incidents, or a backup for an assigned one
      // (resolved and cancelled incidents are not listed by the API).
      if (p.status === "open") {
        li.append(Nav.button("Rank teams", () => rank(p, false), {class: "rank"}));
      } else if (p.status === "assigned") {
        li.append(Nav.button("Rank backup", () => rank(p, true), {class: "rank-backup"}));
      }
      if (p.status === "open" || p.status === "assigned") {
        li.append(Nav.button("Resolve", () => setIncident(p.id, "resolved")));
      }
      list.append(li);
    }
  }

  function positionText(p) {
    if (!p.position_at) return ["no GPS fix", false];
    const s = ageS(p.position_at);
    const stale = s !== null && s > staleS;
    return ["seen " + ago(s) + " ago" + (stale ? " (stale)" : ""), stale];
  }

  function drawTeams(features) {
    const list = document.getElementById("team-list");
    list.replaceChildren();
    for (const f of features) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      const [where, stale] = positionText(p);
      Nav.tip(L.circleMarker([lat, lon], {renderer: Nav.svg, radius: 7, weight: 2,
        color: stale ? "#b00020" : "#222", dashArray: stale ? "3" : null,
        fillColor: colours[p.status] || "#333", fillOpacity: 0.9,
        className: "team-marker"}), p.name + " (" + p.status + ", " + where + ")").addTo(live);
      const li = Nav.el("li", null, {"data-id": p.id, class: "team"});
      li.append(Nav.el("span", p.name + " — "), Nav.el("span", p.status, {class: "status"}),
                " ", Nav.el("span", where, {class: "position" + (stale ? " stale" : "")}));
      const step = next[p.status];
      if (step) li.append(Nav.button(step[1], () => advance(p.id, p.status)));
      const c = checks[p.id];
      if (c) {
        const due = (Date.parse(c.due_at) - Date.now()) / 1000;
        li.append(" ", Nav.el("span", c.overdue ? "check-in overdue " + ago(c.overdue_s)
                              : "check-in due in " + ago(Math.max(0, due)),
                              {class: "checkin" + (c.overdue ? " overdue" : "")}),
                  Nav.button("Check in", () => checkIn(p.id, false), {class: "check-in"}));
      }
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

  function lacksText(o) {
    const parts = [];
    if (o.missing_skills && o.missing_skills.length) {
      parts.push("skill " + o.missing_skills.join(", "));
    }
    if (o.missing_languages && o.missing_languages.length) {
      parts.push("language " + o.missing_languages.join(" or "));
    }
    return parts.length ? "lacks " + parts.join("; ") : "";
  }

  let rankSeq = 0;  // only the latest ranking asked for is shown (answers may cross)

  async function rank(inc, backup, lead) {  // lead: what the status line keeps (the triage)
    const seq = ++rankSeq;
    const said = lead ? lead + " · " : "";
    Nav.say(said + "Ranking teams…");
    const res = await Nav.api("POST", Nav.path("/api/incidents", inc.id, "rank"), {});
    if (seq !== rankSeq) return;
    const list = document.getElementById("team-options");
    const note = document.getElementById("ranking-note");
    list.replaceChildren();
    note.textContent = "";
    routes.clearLayers();
    document.getElementById("ranked-for").textContent =
      "for " + incidentLabel(inc) + (backup ? " (backup)" : "");
    if (!res.ok) { Nav.say(said + Nav.errorText(res), true); return; }
    if (inc.area) m.fitBounds(L.geoJSON(inc.area).getBounds(), {maxZoom: 15});
    Nav.say(said + res.data.message);
    note.textContent = NavArea.note(res.data.area);
    if (res.data.nothing_fits) {
      note.textContent += (note.textContent ? " " : "") + "No team fits; the nearest are " +
                          "shown with what each lacks. Sending one needs a reason.";
    }
    if (res.data.closures_in_effect) {
      note.textContent += (note.textContent ? " " : "") + "Road closures in effect (" +
        res.data.closures_count + "): routes avoid the closed roads.";
    }
    res.data.options.forEach(function (o, i) {
      if (o.route) {
        L.geoJSON(o.route, {renderer: Nav.svg, className: "route",
          style: {color: i === 0 ? "#d95f02" : "#888", weight: i === 0 ? 6 : 3,
                  opacity: 0.85}}).addTo(routes);
      }
      const lacks = lacksText(o);
      const li = Nav.el("li", null, {class: "option" + (lacks ? " misfit" : ""),
                                     "data-team": o.team_id});
      li.append(Nav.el("span", o.name + " — " + NavArea.eta(o, res.data.area) +
        (o.meets_target ? "" : " (misses target)") + (o.shift_ok ? "" : " (shift ends)")));
      if (o.position_stale) {
        li.append(" ", Nav.el("span", "position " + ago(o.position_age_s) + " old",
                              {class: "position stale"}));
      }
      let reason = null;
      if (lacks) {
        li.append(" ", Nav.el("span", lacks, {class: "lacks"}));
        reason = Nav.el("input", null, {class: "override", maxlength: "500",
                                        placeholder: "reason to send it anyway",
                                        "aria-label": "override reason for " + o.name});
      }
      li.append(Nav.button("Assign", () => assign(inc.id, o.team_id, backup, reason),
                           {class: "assign"}));
      if (reason) li.append(reason);
      list.append(li);
    });
  }

  async function assign(incidentId, teamId, backup, reasonInput) {
    const body = {incident_id: incidentId, team_id: teamId, idempotency_key: Nav.key(),
                  backup: Boolean(backup)};
    if (reasonInput) {
      const why = reasonInput.value.trim();
      if (!why) {
        Nav.say("This team lacks what the incident needs: give a reason to send it anyway",
                true);
        reasonInput.focus();
        return;
      }
      body.override_reason = why;
    }
    const res = await Nav.api("POST", "/api/assignments", body);
    Nav.say(res.ok ? "Assigned " + (teamNames[teamId] || teamId) + " (ETA " +
                     Nav.minutes(res.data.eta_s) + ")" : Nav.errorText(res), !res.ok);
    if (res.ok) {
      document.getElementById("team-options").replaceChildren();
      document.getElementById("ranking-note").textContent = "";
    }
    load();
  }

  document.getElementById("incident-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const body = {lon: Nav.num("inc-lon"), lat: Nav.num("inc-lat"),
                  crisis_type: document.getElementById("inc-type").value,
                  priority: Number(document.getElementById("inc-priority").value),
                  notes: document.getElementById("inc-notes").value};
    const answers = {};
    for (const box of document.querySelectorAll("#intake input[data-question]")) {
      if (box.checked) answers[box.dataset.question] = true;
    }
    const lang = document.getElementById("inc-caller-language").value.trim();
    if (lang) answers.language = lang;
    if (Object.keys(answers).length) body.assessment = answers;
    const res = await Nav.api("POST", "/api/incidents", NavArea.intake(body));
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    const t = res.data.triage;
    // the triage's priority, response and reasons stay on the status line while ranking
    const created = "Created incident " + res.data.id + (t ? ": priority " + t.priority +
      ", send " + t.response_text + " (" + t.reasons.join("; ") + ")" : "");
    Nav.say(created);
    await load();
    rank(res.data, false, created);
  });

  // -- live: server-sent events from any server process, polling while there are none ------
  const liveState = document.getElementById("live-state");
  let source = null;
  let poller = null;

  function showLive(state) {
    liveState.textContent = state === "live" ? "live" : state === "polling"
      ? "polling every 5 s" : "reconnecting…";
    liveState.className = "live-state " + state;
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/api/dispatch/events" +
                             (version === null ? "" : "?since=" + version));
    const seen = function (e) {
      version = Number(e.data);
      if (poller) { clearInterval(poller); poller = null; }
      showLive("live");
    };
    source.addEventListener("hello", function (e) {
      const first = version === null;
      seen(e);
      if (first) load();  // whatever changed between the page's first load and the stream
    });
    source.addEventListener("ping", seen);
    source.addEventListener("change", function (e) { seen(e); load(); });
    source.addEventListener("bye", function () { fallBack(); });
    source.onerror = function () {
      // a stream that ended on time reconnects by itself (CONNECTING); a refused one is CLOSED
      if (source.readyState === EventSource.CLOSED) fallBack(); else showLive("reconnecting");
    };
  }

  function fallBack() {
    if (source) { source.close(); source = null; }
    showLive("polling");
    if (!poller) poller = setInterval(load, 5000);
    load();
    setTimeout(connect, 20000);
  }

  load();
  connect();
  setInterval(load, 60000);  // elapsed times and position ages move on without any write
})();
