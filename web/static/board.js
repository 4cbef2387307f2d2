/* Referral board: open episodes with timers that turn red (hold expiring, arrival overdue,
   follow-up due) and a button for each move the state machine allows now (the server says
   which: "moves"). A move someone else made first comes back as 409 naming the state the
   episode is in; the board says so and reloads. Text only: data is set with textContent,
   never as HTML. */
"use strict";
(function () {
  const list = document.getElementById("board");
  const tz = list.getAttribute("data-tz");
  const transportOptions = document.getElementById("transport-options");
  const LABELS = {search: "Search again", accepted: "Accepted", declined: "Declined",
                  transport: "Transport", arrived: "Arrived", no_show: "No-show",
                  follow_up: "Follow-up done", closed: "Close"};
  const WORDS = {hold_expiring: "hold expiring", arrival_overdue: "arrival overdue",
                 follow_up_due: "follow-up due"};

  function at(iso) { return Nav.localTime(iso, tz); }

  function timer(e, name, text) {
    const red = e.timers[name];
    return Nav.el("span", text + (red ? " — " + WORDS[name] : ""),
                  {class: "timer " + name + (red ? " red" : ""), "data-timer": name});
  }

  function timers(e) {
    const box = Nav.el("div", null, {class: "timers small"});
    if (e.hold_expires_at) box.append(timer(e, "hold_expiring", "hold until " + at(e.hold_expires_at)));
    if (e.eta) box.append(timer(e, "arrival_overdue", "ETA " + at(e.eta) +
                                (e.overdue_at ? ", overdue after " + at(e.overdue_at) : "")));
    if (e.follow_up_due) box.append(timer(e, "follow_up_due", "follow-up due " + at(e.follow_up_due)));
    return box;
  }

  // After a 409 (someone moved it first) the message names the state; the board reloads.
  async function send(url, body, done) {
    const res = await Nav.api("POST", url, body);
    if (!res.ok) {
      Nav.say(Nav.errorText(res), true);
      await load(true);
      return;
    }
    Nav.say(done(res.data));
    await load(true);
  }

  function move(e, state, extra) {
    const body = Object.assign({state: state}, extra || {});
    return send(Nav.path("/api/episodes", e.id, "move"), body,
                (d) => "case " + d.client_ref + " is now " + d.state);
  }

  function transportControls(e) {
    const box = Nav.el("div", null, {class: "transport"});
    const how = Nav.el("select", null, {name: "transport", "aria-label": "transport"});
    how.append(transportOptions.content.cloneNode(true));
    const eta = Nav.el("input", null, {type: "number", min: "0", max: "1440", step: "1",
      inputmode: "numeric", name: "eta_min", placeholder: "ETA min", "aria-label": "ETA in minutes"});
    const go = Nav.button(LABELS.transport, function () {
      const extra = {transport: how.value};
      if (eta.value.trim() !== "") {
        extra.eta = new Date(Date.now() + Number(eta.value) * 60000).toISOString();
      }
      move(e, "transport", extra);
    }, {class: "move", "data-state": "transport"});
    box.append(how, eta, go);
    return box;
  }

  function actions(e) {
    const box = Nav.el("div", null, {class: "actions"});
    if (e.answer_hold) {
      for (const [action, label] of [["accept", "Accept hold"], ["decline", "Decline hold"]]) {
        box.append(Nav.button(label, () => send(Nav.path("/api/holds", e.answer_hold, action), {},
                                                 (d) => "hold " + d.response),
                              {class: "answer " + action}));
      }
    }
    if (e.find_bed) {
      const q = "?episode=" + encodeURIComponent(e.id) + "&ref=" + encodeURIComponent(e.client_ref);
      box.append(Nav.el("a", "Find a bed", {href: "/beds" + q, class: "find-bed"}));
    }
    for (const state of e.moves) {
      if (state === "transport") { box.append(transportControls(e)); continue; }
      box.append(Nav.button(LABELS[state] || state, () => move(e, state),
                            {class: "move", "data-state": state}));
    }
    return box;
  }

  function card(e) {
    const li = Nav.el("li", null, {class: e.red ? "episode red" : "episode", "data-id": e.id,
                                   "data-state": e.state, id: "episode-" + e.id});
    li.append(Nav.el("strong", "case " + e.client_ref),
              Nav.el("span", " · " + e.state.replace("_", " "), {class: "state"}));
    if (e.resource_id) {
      li.append(Nav.el("div", (e.site_name || e.resource_id) + " · " + (e.bed_type || ""),
                       {class: "small where"}));
    }
    if (e.transport) li.append(Nav.el("div", "transport: " + e.transport, {class: "small"}));
    if (e.follow_ups_done) li.append(Nav.el("div", "follow-ups done: " + e.follow_ups_done, {class: "small"}));
    li.append(timers(e), actions(e));
    return li;
  }

  async function load(keepMessage) {
    const res = await Nav.api("GET", "/api/board");
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    list.replaceChildren();
    if (!res.data.episodes.length) list.append(Nav.el("li", "No open referrals.", {class: "empty"}));
    for (const e of res.data.episodes) list.append(card(e));
    const focus = location.hash && document.getElementById(location.hash.slice(1));
    if (focus) focus.classList.add("focus");
    if (!keepMessage) Nav.say("Updated " + at(new Date().toISOString()) + " (" + tz + ")");
    list.setAttribute("data-loaded", String(Date.now()));
  }

  document.getElementById("board-refresh").addEventListener("click", () => load(false));
  load(false);
  // Every 20 s, unless a field on the board is being filled in (it would be wiped).
  setInterval(function () {
    const active = document.activeElement;
    if (active && list.contains(active) && active.tagName !== "BUTTON") return;
    load(true);
  }, 20000);
})();
