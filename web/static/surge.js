/* Admin: activate or deactivate a surge shelter from its row; the page reloads to redraw the
   maps (active surge shelters show on every map). Every string reaches the page as text. */
"use strict";
(function () {
  for (const b of document.querySelectorAll("button.surge-toggle")) {
    b.addEventListener("click", async function () {
      const action = b.dataset.action;
      Nav.say((action === "activate" ? "Activating " : "Deactivating ") + b.dataset.id + "…");
      const res = await Nav.api("POST", Nav.path("/api/resources", b.dataset.id, action), {});
      if (!res.ok) { Nav.say(Nav.errorText(res), true); return; }
      Nav.say(b.dataset.id + (res.data.active ? " is active" : " is inactive"));
      window.location.reload();
    });
  }
})();
