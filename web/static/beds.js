/* Bed finder: search open shelters for a client's needs, draw routes, hold / confirm /
   release a bed (a fresh idempotency key per attempt) and list the hotlines for the spot. */
"use strict";
(function () {
  const m = Nav.map();
  const layer = L.layerGroup().addTo(m);
  let pick = null;

  Nav.pickOnClick("bed-lon", "bed-lat", function (ll) {
    if (pick) m.removeLayer(pick);
    pick = L.circleMarker(ll, {renderer: Nav.svg, radius: 6, color: "#000"}).addTo(m);
  });

  function needs() {
    const body = {lon: Nav.num("bed-lon"), lat: Nav.num("bed-lat"),
                  bed_type: document.getElementById("bed-type").value};
    const gender = document.getElementById("bed-gender").value;
    if (gender) body.gender = gender;
    if (Nav.num("bed-age") !== null) body.age = Nav.num("bed-age");
    for (const f of ["language", "service"]) {
      const v = document.getElementById("bed-" + f).value.trim();
      if (v) body[f] = v;
    }
    for (const f of ["family", "wheelchair", "pets"]) {
      if (document.getElementById("bed-" + f).checked) body[f] = true;
    }
    return body;
  }

  function result(p, list) {
    const li = Nav.el("li", null, {class: "result", "data-id": p.resource_id});
    li.append(Nav.el("strong", p.name, {class: "name"}));
    li.append(Nav.el("span", " — " + Nav.minutes(p.eta_s) + ", free "));
    li.append(Nav.el("span", p.free_beds, {class: "free"}));
    const where = p.at_meeting_point ? "meeting point; intake " + p.intake_phone
                                     : [p.address, p.phone].filter(Boolean).join(", ");
    li.append(Nav.el("div", where, {class: "small"}));
    li.append(Nav.button("Hold bed", () => hold(p, li), {class: "hold"}));
    list.append(li);
  }

  async function search(e) {
    e.preventDefault();
    const body = needs();
    const list = document.getElementById("bed-results");
    list.replaceChildren();
    layer.clearLayers();
    Nav.say("Searching…");
    const [res, lines] = await Promise.all([
      Nav.api("POST", "/api/beds/search", body),
      Nav.api("GET", "/api/hotlines?lon=" + encodeURIComponent(body.lon) +
                     "&lat=" + encodeURIComponent(body.lat))]);
    showHotlines(lines);
    if (!res.ok) {
      // 404: no open bed fits; the answer still lists the nearest alternatives, in words.
      const alts = (res.data && res.data.alternatives) || [];
      const text = Nav.errorText(res).split("; alternatives:")[0];
      Nav.say(alts.length ? text + ". Nearest alternatives are listed below." : text, true);
      showAlternatives(alts, list);
      return;
    }
    Nav.say((res.data.message || "").split("; alternatives:")[0]);
    res.data.features.forEach(function (f, i) {
      const p = f.properties;
      if (p.route) {
        L.geoJSON(p.route, {renderer: Nav.svg, className: "route",
          style: {color: i === 0 ? "#1f78b4" : "#888", weight: i === 0 ? 6 : 3}}).addTo(layer);
      }
      Nav.tip(L.circleMarker([p.lat, p.lon], {renderer: Nav.svg, radius: 8, color: "#1f78b4",
        fillOpacity: 0.8}), p.name).addTo(layer);
      result(p, list);
    });
    showAlternatives(res.data.alternatives || [], list);
  }

  function showAlternatives(alts, list) {
    for (const a of alts) {
      const li = Nav.el("li", null, {class: "alternative", "data-id": a.resource_id});
      li.append(Nav.el("strong", a.name, {class: "name"}));
      li.append(Nav.el("span", " — " + (a.reason_text || a.reason) + " (" +
                                Nav.minutes(a.eta_s) + ")", {class: "reason"}));
      list.append(li);
    }
  }

  function showHotlines(res) {
    const list = document.getElementById("hotline-list");
    list.replaceChildren();
    if (!res.ok) { list.append(Nav.el("li", Nav.errorText(res))); return; }
    for (const h of res.data.hotlines) {
      const li = Nav.el("li", h.name + ": " + h.phone + " (" + h.channels.join(", ") + ")",
                        {class: "hotline"});
      if (h.chat_url) li.append(" ", Nav.link("chat", h.chat_url));
      list.append(li);
    }
  }

  async function hold(p, li) {
    const res = await Nav.api("POST", "/api/holds", {resource_id: p.resource_id,
      bed_type: p.bed_type, idempotency_key: Nav.key()});
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    li.querySelector(".free").textContent = res.data.free_beds;
    const until = res.data.expires_local ||
                  Nav.localTime(res.data.expires_at, res.data.timezone);
    Nav.say("Held a bed at " + p.name + " until " + until);
    const item = Nav.el("li", null, {class: "hold-item", "data-id": res.data.id});
    item.append(Nav.el("span", p.name + " (" + res.data.bed_type + "): "),
                Nav.el("span", res.data.status, {class: "status"}),
                Nav.el("span", " until " + until, {class: "until"}));
    item.append(Nav.button("Confirm", () => finish(res.data.id, "confirm", item, li)),
                Nav.button("Release", () => finish(res.data.id, "release", item, li)));
    document.getElementById("hold-list").append(item);
  }

  async function finish(id, action, item, li) {
    const res = await Nav.api("POST", Nav.path("/api/holds", id, action), {});
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    item.querySelector(".status").textContent = res.data.status;
    li.querySelector(".free").textContent = res.data.free_beds;
    for (const b of item.querySelectorAll("button")) b.disabled = true;
  }

  document.getElementById("bed-form").addEventListener("submit", search);
})();
