/* Shelter page: every bed type of a site in one form (capacity, occupied, out of service;
   free is derived by the server), status and note, incoming holds to accept or decline, and
   the census upload. Text only: data is set with textContent, never as HTML. */
"use strict";
(function () {
  const sitesBox = document.getElementById("sites");
  const statusOptions = document.getElementById("status-options");

  function field(label, name, value, bed) {
    const lab = Nav.el("label", label);
    const input = Nav.el("input", null, {type: "number", min: "0", step: "1",
      inputmode: "numeric", name: name, "data-bed": bed, value: String(value)});
    lab.append(input);
    return lab;
  }

  function derivedText(b) {
    let text = "free " + b.free + " (held " + b.held + (b.confirmed ? ", arrived " + b.confirmed : "") + ")";
    if (b.overbooked) text += " · " + b.overbooked + " held over capacity";
    text += " · reported " + (b.reported_local || "never") + (b.reported_by ? " by " + b.reported_by : "");
    return text;
  }

  function siteCard(site) {
    const card = Nav.el("form", null, {class: "site", "data-id": site.resource_id});
    card.append(Nav.el("h2", site.name));
    for (const b of site.beds) {
      const row = Nav.el("div", null, {class: "bedrow", "data-bed": b.bed_type});
      row.append(Nav.el("span", b.bed_type, {class: "type"}),
                 field("capacity", "capacity", b.capacity, b.bed_type),
                 field("occupied", "occupied", b.occupied, b.bed_type),
                 field("out of svc", "out_of_service", b.out_of_service, b.bed_type));
      const info = Nav.el("div", derivedText(b), {class: "derived"});
      if (!b.fresh) info.append(Nav.el("div", b.stale_text, {class: "stale"}));
      row.append(info);
      card.append(row);
    }
    const status = Nav.el("select", null, {name: "status"});
    status.append(statusOptions.content.cloneNode(true));
    status.value = site.status;
    const statusLabel = Nav.el("label", "Status");
    statusLabel.append(status);
    const note = Nav.el("textarea", null, {name: "note", maxlength: "500", rows: "2"});
    note.value = site.note || "";
    const noteLabel = Nav.el("label", "Note");
    noteLabel.append(note);
    card.append(statusLabel, noteLabel,
                Nav.el("button", "Save all beds", {type: "submit", class: "save"}));
    card.addEventListener("submit", (e) => { e.preventDefault(); save(card); });
    return card;
  }

  async function save(card) {
    const counts = {};
    for (const row of card.querySelectorAll(".bedrow")) {
      const bed = row.getAttribute("data-bed");
      const c = {};
      for (const input of row.querySelectorAll("input")) c[input.name] = Number(input.value);
      counts[bed] = c;
    }
    const body = {counts: counts, status: card.querySelector("select").value,
                  note: card.querySelector("textarea").value};
    const id = card.getAttribute("data-id");
    const res = await Nav.api("PUT", "/api/resources/" + encodeURIComponent(id) + "/beds", body);
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    card.replaceWith(siteCard(res.data));
    Nav.say("Saved " + res.data.name);
  }

  async function loadSites() {
    const res = await Nav.api("GET", "/api/shelter/sites");
    sitesBox.replaceChildren();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    if (!res.data.sites.length) sitesBox.append(Nav.el("p", "No sites are assigned to you."));
    for (const site of res.data.sites) sitesBox.append(siteCard(site));
  }

  async function loadHolds() {
    const list = document.getElementById("incoming");
    const res = await Nav.api("GET", "/api/holds?scope=site");
    list.replaceChildren();
    if (!res.ok) { list.append(Nav.el("li", Nav.errorText(res))); return; }
    if (!res.data.holds.length) list.append(Nav.el("li", "No incoming holds."));
    for (const h of res.data.holds) {
      const li = Nav.el("li", null, {class: "hold-item", "data-id": h.id});
      li.append(Nav.el("div", h.bed_type + " · case " + (h.client_ref || "—") + " · by " + h.actor),
                Nav.el("div", "held until " + (h.expires_local || h.expires_at) +
                              (h.response ? " · " + h.response : ""), {class: "small status"}));
      if (h.episode_id) {
        li.append(Nav.el("a", "referral on the board", {class: "episode-link small",
          href: "/board#episode-" + encodeURIComponent(h.episode_id)}));
      }
      if (!h.response) {
        li.append(Nav.button("Accept", () => answer(h.id, "accept"), {class: "accept"}),
                  Nav.button("Decline", () => answer(h.id, "decline"), {class: "decline"}));
      }
      list.append(li);
    }
  }

  async function answer(id, action) {
    const res = await Nav.api("POST", "/api/holds/" + encodeURIComponent(id) + "/" + action, {});
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    Nav.say("Hold " + res.data.response);
    loadHolds();
    loadSites();
  }

  document.getElementById("census-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const file = document.getElementById("census-file").files[0];
    if (!file) { Nav.say("Choose a CSV file first", true); return; }
    const meta = document.querySelector('meta[name="csrf-token"]');
    const r = await fetch("/api/beds/census", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "text/csv", "X-CSRFToken": meta ? meta.content : "",
                "Accept": "application/json"}, body: await file.text()});
    let data = {};
    try { data = await r.json(); } catch (err) { data = {message: "no JSON in the answer"}; }
    if (!r.ok) { Nav.say(data.message || ("HTTP " + r.status), true); return; }
    Nav.say("Census applied to " + data.sites.length + " bed types");
    loadSites();
  });

  loadSites();
  loadHolds();
})();
