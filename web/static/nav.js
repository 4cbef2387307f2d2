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

  // Narrow windows: the map legend starts folded so it does not hide the map.
  document.addEventListener("DOMContentLoaded", function () {
    const keyBox = document.getElementById("map-key");
    if (keyBox && window.innerWidth <= 1000) keyBox.open = false;
  });
  if (document.readyState !== "loading") {
    const keyBox = document.getElementById("map-key");
    if (keyBox && window.innerWidth <= 1000) keyBox.open = false;
  }

  function pickOnClick(lonId, latId, then) {
    if (!map()) return;
    function fill(ll) {
      document.getElementById(lonId).value = ll.lng.toFixed(6);
      document.getElementById(latId).value = ll.lat.toFixed(6);
      if (then) then(ll);
    }
    function empty() {
      return [lonId, latId].every((id) => document.getElementById(id).value.trim() === "");
    }
    // A click on the map's background picks the place. A click on a marker or line (to read
    // its popup; vector markers pass the click on to the map) fills the inputs only while
    // both are empty: reading a popup never overwrites typed coordinates.
    map().on("click", function (e) {
      const t = e.originalEvent && e.originalEvent.target;
      const onLayer = t && t.classList && t.classList.contains("leaflet-interactive");
      if (!onLayer || empty()) fill(e.latlng);
    });
    map().on("popupopen", function (e) {
      const src = e.popup && e.popup._source;
      if (src && src.getLatLng && empty()) fill(src.getLatLng());
    });
  }

  function localTime(iso, tz) {  // "21:17" in the area's time zone (IANA name from the page)
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    try {
      return d.toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit", timeZone: tz});
    } catch (e) {
      return d.toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit"});
    }
  }

  function num(id) {
    const v = document.getElementById(id).value.trim();
    return v === "" ? null : Number(v);
  }

  // An API path with each record id percent-encoded: an id never changes the route.
  function path(...parts) {
    return parts.map((p, i) => i % 2 ? encodeURIComponent(String(p)) : p).join("/");
  }

  // A link only for http(s) URLs (no javascript:, data: ...); anything else stays text.
  function link(text, url) {
    let ok = false;
    try { ok = ["http:", "https:"].includes(new URL(String(url), location.href).protocol); }
    catch (e) { ok = false; }
    if (!ok || !url) return el("span", text);
    return el("a", text, {href: new URL(String(url), location.href).href,
                          rel: "noopener noreferrer", target: "_blank"});
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
          pickOnClick: pickOnClick, localTime: localTime, num: num, tip: tip, svg: svg,
          errorText: errorText, path: path, link: link};
})();
