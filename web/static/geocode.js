/* Address box (bed finder, dispatch console): type a street address, pick one of the offline
   geocoder's candidates (GET /api/geocode, each with its match score) and the page's lon/lat
   inputs are filled from it; where the box names a form (data-submit) that form is submitted,
   so the bed search runs from the picked place. Candidates are text (textContent), never
   HTML. */
"use strict";
(function () {
  function setup(box) {
    const input = box.querySelector(".address-q");
    const list = box.querySelector(".address-candidates");
    let marker = null;

    function pick(c) {
      document.getElementById(box.dataset.lon).value = c.lon.toFixed(6);
      document.getElementById(box.dataset.lat).value = c.lat.toFixed(6);
      list.replaceChildren();
      const m = Nav.map();
      if (m) {
        if (marker) m.removeLayer(marker);
        marker = Nav.tip(L.circleMarker([c.lat, c.lon], {renderer: Nav.svg, radius: 7,
          color: "#6a3d9a", className: "address-marker"}), c.matched).addTo(m);
        m.panTo([c.lat, c.lon]);
      }
      Nav.say("Location: " + c.matched);
      const form = box.dataset.submit && document.getElementById(box.dataset.submit);
      if (form) form.requestSubmit();
    }

    async function lookup() {
      list.replaceChildren();
      const q = input.value.trim();
      if (!q) { Nav.say("Type an address: house number and street", true); return; }
      Nav.say("Looking up the address…");
      const res = await Nav.api("GET", "/api/geocode?q=" + encodeURIComponent(q));
      if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
      const found = res.data.candidates;
      if (!found.length) {
        Nav.say("No address or street like that in this region's map data", true);
        return;
      }
      Nav.say(found.length === 1 ? "1 match: pick it" : found.length + " matches: pick one");
      for (const c of found) {
        const li = Nav.el("li", null, {class: "candidate"});
        li.append(Nav.button(c.matched, () => pick(c), {class: "pick"}),
                  Nav.el("span", " match " + Math.round(c.score * 100) + "%",
                         {class: "small score"}));
        list.append(li);
      }
    }

    box.querySelector(".address-go").addEventListener("click", lookup);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); lookup(); }
    });
  }

  for (const box of document.querySelectorAll(".address-box")) setup(box);
})();
