/* Navigator page helpers: JSON API calls with the CSRF header, safe DOM building (text only,
   never innerHTML with data), the Leaflet map folium made (window.navMap). No dependencies
   besides the locally served Leaflet. */
"use strict";
window.Nav = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const svg = window.L ? L.svg() : null;  // SVG renderer: live layers are DOM paths

  async function api(method, url, body) {
    const opts = {method: method, credentials: "same-origin",
                  headers: {"Accept": "application/json"}};
    if (method !== "GET") {
      opts.headers["X-CSRFToken"] = meta ? meta.content : "";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    const r = await fetch(url, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = {message: "no JSON in the answer"}; }
    return {ok: r.ok, status: r.status, data: data};
  }

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function button(label, onClick, attrs) {
    const b = el("button", label, Object.assign({type: "button"}, attrs || {}));
    b.addEventListener("click", onClick);
    return b;
  }

  function say(msg, isError) {
    const line = document.getElementById("status-line");
    if (!line) return;
    line.textContent = msg || "";
    line.className = isError ? "error" : "";
  }

  function minutes(s) {
    return (s === null || s === undefined) ? "unreachable" : (s / 60).toFixed(1) + " min";
  }

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function map() { return window.navMap; }

  function pickOnClick(lonId, latId, then) {
    if (!map()) return;
    map().on("click", function (e) {
      document.getElementById(lonId).value = e.latlng.lng.toFixed(6);
      document.getElementById(latId).value = e.latlng.lat.toFixed(6);
      if (then) then(e.latlng);
    });
  }

  function num(id) {
    const v = document.getElementById(id).value.trim();
    return v === "" ? null : Number(v);
  }

  function tip(layer, text) {  // tooltip as a text node: data never becomes HTML
    layer.bindTooltip(el("span", text));
    return layer;
  }

  function errorText(res) {
    const d = res.data || {};
    return (d.message || ("HTTP " + res.status));
  }

  return {api: api, el: el, button: button, say: say, minutes: minutes, key: key, map: map,
          pickOnClick: pickOnClick, num: num, tip: tip, svg: svg, errorText: errorText};
})();
