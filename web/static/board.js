/* Referral board: open episodes with timers that turn red (hold expiring, arrival overdue,
   follow-up due). Text only: data is set with textContent, never as HTML. */
"use strict";
(function () {
  const WORDS = {hold_expiring: "hold expiring", arrival_overdue: "arrival overdue",
                 follow_up_due: "follow-up due"};

  async function load() {
    const list = document.getElementById("board");
    const res = await Nav.api("GET", "/api/board");
    list.replaceChildren();
    if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
    if (!res.data.episodes.length) list.append(Nav.el("li", "No open referrals."));
    for (const e of res.data.episodes) {
      const li = Nav.el("li", null, {class: e.red ? "episode red" : "episode", "data-id": e.id});
      li.append(Nav.el("strong", "case " + e.client_ref),
                Nav.el("span", " · " + e.state, {class: "state"}));
      if (e.resource_id) li.append(Nav.el("div", e.resource_id + " · " + (e.bed_type || ""), {class: "small"}));
      const due = Object.keys(WORDS).filter((k) => e.timers[k]).map((k) => WORDS[k]);
      if (due.length) li.append(Nav.el("div", due.join(", "), {class: "stale timers"}));
      list.append(li);
    }
  }

  load();
  setInterval(load, 30000);
})();
