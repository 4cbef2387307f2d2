/* Dispatch-policy simulator page: run a simulation, show the policies side by side, draw the
   response-time CDFs and utilisation by hour as SVG, and the p90 change per area on the map.
   Every string reaches the page as text (textContent, SVG text nodes), never as markup. */
"use strict";
(function () {
  const m = Nav.map();
  const $ = (id) => document.getElementById(id);
  const areaLayer = L.layerGroup().addTo(m);
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a"];
  const CHANGE = JSON.parse($("change-colours").textContent);  // maps.simulation
  const pct = (x) => x === null || x === undefined ? "n/a" : (100 * x).toFixed(1) + " %";
  const mins = (s) => s === null || s === undefined ? "n/a" : (s / 60).toFixed(1) + " min";
  let last = null;

  function num(id, name, required) {
    const text = $(id).value.trim();
    if (text === "" && !required) return null;
    const v = Number(text);
    if (text === "" || !Number.isFinite(v)) throw new Error(name + " must be a number");
    return v;
  }

  function readFile(input) {
    const f = input.files && input.files[0];
    if (!f) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.onerror = () => reject(new Error("cannot read the file"));
      r.readAsText(f);
    });
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  // A line plot: series [{name, colour, points: [[x, y], ...]}], y in 0..1; x from 0 to xMax.
  function plot(svg, series, xMax, xLabel, xTicks) {
    svg.replaceChildren();
    const W = 420, H = 220, L0 = 38, R = 10, T = 10, B = 30;
    const sx = (x) => L0 + (W - L0 - R) * x / xMax;
    const sy = (y) => H - B - (H - T - B) * y;
    for (const y of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(svgEl("line", {x1: L0, x2: W - R, y1: sy(y), y2: sy(y), class: "grid"}));
      svg.append(svgEl("text", {x: 2, y: sy(y) + 3}, (100 * y) + " %"));
    }
    for (const x of xTicks) {
      svg.append(svgEl("text", {x: sx(x) - 6, y: H - B + 12}, x));
    }
    svg.append(svgEl("line", {x1: L0, x2: W - R, y1: sy(0), y2: sy(0), class: "axis"}));
    svg.append(svgEl("line", {x1: L0, x2: L0, y1: sy(0), y2: sy(1), class: "axis"}));
    svg.append(svgEl("text", {x: W / 2 - 30, y: H - 4}, xLabel));
    series.forEach((s, k) => {
      const pts = s.points.filter((p) => p[1] !== null)
        .map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
      svg.append(svgEl("polyline", {points: pts, stroke: s.colour, "data-policy": s.name}));
      svg.append(svgEl("rect", {x: W - 110, y: T + 4 + 13 * k, width: 10, height: 8,
                                fill: s.colour}));
      svg.append(svgEl("text", {x: W - 96, y: T + 12 + 13 * k}, s.name));
    });
  }

  function row(cells) {
    const tr = Nav.el("tr");
    for (const c of cells) tr.append(Nav.el("td", c));
    return tr;
  }

  function tables(d) {
    const body = $("sim-table").querySelector("tbody");
    body.replaceChildren();
    for (const p of d.policies) {
      body.append(row([p.policy, mins(p.p50_s), mins(p.p90_s), pct(p.share_within_target),
                       p.unserved, p.calls_waited, pct(p.utilisation), p.preemptions]));
    }
    $("sim-table").hidden = false;
    const prios = [...new Set(d.policies.flatMap((p) => p.by_priority.map((b) => b.priority)))]
      .sort();
    const head = $("prio-table").querySelector("thead tr");
    head.replaceChildren(Nav.el("th", "Policy"), ...prios.map((q) => Nav.el("th", "P" + q)));
    const pb = $("prio-table").querySelector("tbody");
    pb.replaceChildren();
    for (const p of d.policies) {
      const by = Object.fromEntries(p.by_priority.map((b) => [b.priority, b]));
      pb.append(row([p.policy, ...prios.map((q) => by[q]
        ? mins(by[q].p50_s) + " / " + mins(by[q].p90_s) + (by[q].unserved ? " (" +
          by[q].unserved + " unserved)" : "") : "n/a")]));
    }
    $("prio-table").hidden = false;
    const sum = $("sim-summary");
    sum.replaceChildren();
    for (const [k, v] of [["Calls", d.calls], ["Teams", d.teams], ["Days", d.days.toFixed(1)],
                          ["Source", d.source],
                          ["Run time", (d.timings_s.matrix + d.timings_s.simulate).toFixed(1) +
                                       " s"]]) {
      sum.append(Nav.el("dt", k), Nav.el("dd", v));
    }
    const notes = $("sim-notes");
    notes.replaceChildren(...d.notes.map((n) => Nav.el("li", n)));
  }

  function plots(d) {
    const colour = (k) => PALETTE[k % PALETTE.length];
    plot($("cdf-plot"), d.policies.map((p, k) => ({
      name: p.policy, colour: colour(k),
      points: p.cdf.minutes.map((x, i) => [x, p.cdf.share[i]]).filter((q) => q[0] <= 60)})),
      60, "minutes from call to team on scene", [0, 10, 20, 30, 40, 50, 60]);
    plot($("util-plot"), d.policies.map((p, k) => ({
      name: p.policy, colour: colour(k),
      points: p.utilisation_by_hour.map((u, h) => [h + 0.5, u])})),
      24, "local hour of day", [0, 6, 12, 18, 24]);
  }

  function changeColour(c) {
    if (c === null || c === undefined) return CHANGE.none;
    return c < -60 ? CHANGE.faster : c > 60 ? CHANGE.slower : CHANGE.same;
  }

  function drawAreas() {
    areaLayer.clearLayers();
    if (!last) return;
    const policy = $("sim-map-policy").value;
    const ref = last.policies[0].policy;
    $("area-legend-title").textContent = "p90 change per area: " + policy + " vs " + ref;
    L.geoJSON(last.areas, {
      renderer: L.svg(),
      style: (f) => ({color: "#555", weight: 0.5, fillOpacity: 0.55,
                      fillColor: changeColour(f.properties[policy + "_p90_change_s"])}),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const tip = Nav.el("div");
        tip.append(Nav.el("div", p.calls + " calls"),
                   Nav.el("div", ref + " p90 " + mins(p[ref + "_p90_s"])),
                   Nav.el("div", policy + " p90 " + mins(p[policy + "_p90_s"])));
        layer.bindTooltip(tip);
      },
    }).addTo(areaLayer);
    $("area-legend").hidden = false;
  }

  $("sim-map-policy").addEventListener("change", drawAreas);

  $("sim-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = {
        policies: [...document.querySelectorAll("input[name=policies]:checked")]
          .map((i) => i.value),
        days: num("sim-days", "Days", true), calls_per_day: num("sim-calls", "Calls a day", true),
        seed: num("sim-seed", "Seed", true), target_min: num("sim-target", "Target", true),
        slack_min: num("sim-slack", "Slack", true),
        batch_every_min: num("sim-batch", "Batch interval", true),
      };
      const teams = num("sim-teams", "Teams", false);
      if (teams !== null) body.teams = teams;
      const csv = await readFile($("sim-csv"));
      if (csv !== null) body.incidents_csv = csv;
    } catch (e) {
      Nav.say(e.message, true);
      return;
    }
    Nav.say("Simulating…");
    $("run-sim").disabled = true;
    const r = await Nav.api("POST", "/api/planner/simulate", body);
    $("run-sim").disabled = false;
    if (!r.ok) {
      Nav.say(r.data.message || ("error " + r.status), true);
      return;
    }
    last = r.data;
    const sel = $("sim-map-policy");
    sel.replaceChildren(...last.policies.map((p) => Nav.el("option", p.policy,
                                                           {value: p.policy})));
    if (last.policies.length > 1) sel.value = last.policies[1].policy;
    tables(last);
    plots(last);
    drawAreas();
    Nav.say("Simulated " + last.calls + " calls through " + last.policies.length +
            " policies.");
  });
})();
