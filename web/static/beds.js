/* Bed finder: search open shelters for a client's needs, draw routes, hold / confirm /
   release a bed and list the hotlines for the spot. A hold keeps its idempotency key until
   the server gives a definite answer, so a retry after a lost answer or a 5xx never takes a
   second bed. Active holds are listed again after a reload (GET /api/holds). Counts nobody
   confirmed within the freshness window are never shown as free beds. A hold needs the
   client's case reference (no names) and opens or links the client's referral episode,
   linked from the hold to the board. */
"use strict";
(function () {
  const m = Nav.map();
  const layer = L.layerGroup().addTo(m);
  let pick = null;
  const refBox = document.getElementById("bed-client-ref");

  // Opened from the board (?episode=...&ref=...): the next hold is for that episode.
  const query = new URLSearchParams(location.search);
  let episodeId = query.get("episode");
  if (episodeId) {
    refBox.value = query.get("ref") || "";
    refBox.readOnly = true;
    document.getElementById("bed-episode").textContent =
      "Looking for a bed for case " + refBox.value + " (from the board)";
  }

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
    if (document.getElementById("bed-fresh-only").checked) body.fresh_only = true;
    return body;
  }

  function ago(iso) {  // "25 min ago", "3 h ago"
    const min = Math.max(0, (Date.now() - Date.parse(iso)) / 60000);
    return min < 90 ? Math.round(min) + " min ago" : Math.round(min / 60) + " h ago";
  }

  function result(p, list) {
    const li = Nav.el("li", null, {class: "result", "data-id": p.resource_id});
    li.append(Nav.el("strong", p.name, {class: "name"}));
    li.append(Nav.el("span", " — " + Nav.minutes(p.eta_s) + ", free "));
    li.append(Nav.el("span", p.free_beds, {class: "free"}));
    const where = p.at_meeting_point ? "meeting point; intake " + p.intake_phone
                                     : [p.address, p.phone].filter(Boolean).join(", ");
    li.append(Nav.el("div", where, {class: "small"}));
    if (p.reported_at) {
      li.append(Nav.el("div", "count confirmed " + ago(p.reported_at) +
                       (p.reported_by ? " by " + p.reported_by : ""), {class: "small fresh"}));
    }
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
    showStale(res.data.stale || [], list);
  }

  // Counts older than the freshness window: never a free bed; the caseworker calls ahead.
  function showStale(sites, list) {
    for (const s of sites) {
      const li = Nav.el("li", null, {class: "stale", "data-id": s.resource_id});
      li.append(Nav.el("strong", s.name, {class: "name"}));
      li.append(Nav.el("span", " — " + (s.stale_text || s.reason_text || "count not confirmed") +
                                " (" + Nav.minutes(s.eta_s) + ")", {class: "reason"}));
      list.append(li);
    }
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

  // One idempotency key per shelter and bed type until the server answers for sure.
  const pending = {};
  const definite = (res) => res.ok || (res.status >= 400 && res.status < 500);

  async function post(url, body) {
    try { return await Nav.api("POST", url, body); }
    catch (e) { return {ok: false, status: 0, data: {message: "no answer from the server"}}; }
  }

  // Every hold is for a case: it opens (or links) the client's episode on the board.
  async function hold(p, li) {
    const ref = refBox.value.trim();
    if (!ref) {
      Nav.say("Enter the client's case reference (no names) before holding a bed", true);
      refBox.focus();
      return;
    }
    const slot = p.resource_id + "|" + p.bed_type;
    const key = pending[slot] || (pending[slot] = Nav.key());
    const body = {resource_id: p.resource_id, bed_type: p.bed_type, idempotency_key: key,
                  client_ref: ref};
    if (episodeId) body.episode_id = episodeId;
    let res = await post("/api/holds", body);
    for (let i = 1; i < 3 && !definite(res); i++) {  // lost answer or 5xx: the same hold again
      await new Promise((done) => setTimeout(done, 700 * i));
      res = await post("/api/holds", body);
    }
    if (!definite(res)) {
      Nav.say(Nav.errorText(res) + " — click Hold again: it asks for the same hold, never " +
              "a second bed", true);
      return;
    }
    delete pending[slot];
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    li.querySelector(".free").textContent = res.data.free_beds;
    const item = holdItem(res.data, p.name, li);
    if (episodeId) {  // that episode is on hold now; a next hold opens its own
      episodeId = null;
      refBox.readOnly = false;
      history.replaceState(null, "", location.pathname);
    }
    Nav.say("Held a bed at " + p.name + " until " + item.dataset.until +
            (res.data.episode_id ? "; referral on the board" : ""));
  }

  function holdItem(h, name, li) {
    const until = h.expires_local || Nav.localTime(h.expires_at, h.timezone);
    const item = Nav.el("li", null, {class: "hold-item", "data-id": h.id, "data-until": until});
    item.append(Nav.el("span", name + " (" + h.bed_type + ")" +
                               (h.client_ref ? " for " + h.client_ref : "") + ": "),
                Nav.el("span", h.status, {class: "status"}),
                Nav.el("span", " until " + until, {class: "until"}),
                Nav.el("span", "", {class: "left small", "data-expires": h.expires_at}));
    if (h.episode_id) {
      item.append(" ", Nav.el("a", "episode on the board",
                              {href: "/board#episode-" + encodeURIComponent(h.episode_id),
                               class: "episode-link", "data-episode": h.episode_id}));
    }
    item.append(Nav.button("Confirm", () => finish(h.id, "confirm", item, li)),
                Nav.button("Release", () => finish(h.id, "release", item, li)));
    document.getElementById("hold-list").append(item);
    tick();
    return item;
  }

  // Minutes left on every active hold, refreshed every 30 s.
  function tick() {
    for (const span of document.querySelectorAll("#hold-list .left[data-expires]")) {
      const left = (Date.parse(span.dataset.expires) - Date.now()) / 60000;
      span.textContent = left > 0 ? " (" + Math.ceil(left) + " min left)" : " (expired)";
    }
  }
  setInterval(tick, 30000);

  async function finish(id, action, item, li) {
    const res = await post(Nav.path("/api/holds", id, action), {});
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    item.querySelector(".status").textContent = res.data.status;
    const free = li && li.querySelector(".free");
    if (free) free.textContent = res.data.free_beds;
    item.querySelector(".left").removeAttribute("data-expires");
    item.querySelector(".left").textContent = "";
    for (const b of item.querySelectorAll("button")) b.disabled = true;
  }

  // After a reload the holds live on: list the active ones of this caseworker.
  Nav.api("GET", "/api/holds?scope=mine").then(function (res) {
    if (!res.ok) return;
    for (const h of res.data.holds) holdItem(h, h.resource_id, null);
  });

  document.getElementById("bed-form").addEventListener("submit", search);
})();
