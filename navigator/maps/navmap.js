/* Navigator map layers: draw what a page's JSON data blocks describe onto a Leaflet map.

   Python (navigator.maps.layers) writes each layer as a <script type="application/json">
   block and one call NavMap.draw(map, blockId) that names no record text. Here, record text
   only ever becomes DOM text (textContent); colours must be hex; style options come from
   Python constants; URLs must be same-origin paths. The same file is served by the web app
   (/static/vendor/navmap.js) and inlined into standalone HTML maps. */
"use strict";
window.NavMap = (function () {
  const HEX = /^#[0-9a-fA-F]{3,8}$/;
  const SHAPES = {square: "2,2 18,2 18,18 2,18", triangle: "10,1 19,19 1,19"};
  const SVG = "http://www.w3.org/2000/svg";
  const named = new WeakMap();  // map -> [[layer, name], ...] for the layer control

  function colour(value, fallback) {
    return HEX.test(String(value)) ? String(value) : (fallback || "#333333");
  }

  function node(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined && text !== null) el.textContent = String(text);
    if (className) el.className = className;
    return el;
  }

  // Markup of plain text, for the two Leaflet APIs that insert HTML (layer names, attribution).
  function markup(text) { return node("span", text).innerHTML; }

  function popup(item) {
    const box = node("div", null, "nav-popup");
    box.append(node("b", item.title));
    const table = document.createElement("table");
    for (const [label, value] of item.rows || []) {
      const tr = document.createElement("tr");
      tr.append(node("th", label), node("td", value));
      table.append(tr);
    }
    box.append(table);
    if (item.note) {
      const p = node("p", null, "synthetic");
      p.append(node("em", item.note));
      box.append(p);
    }
    return box;
  }

  function shapeIcon(shape, fill, size) {
    const svg = document.createElementNS(SVG, "svg");
    for (const [k, v] of [["width", size], ["height", size], ["viewBox", "0 0 20 20"]]) {
      svg.setAttribute(k, v);
    }
    const poly = document.createElementNS(SVG, "polygon");
    for (const [k, v] of [["points", SHAPES[shape] || SHAPES.square], ["fill", fill],
                          ["stroke", "#222"], ["stroke-width", "1.5"]]) {
      poly.setAttribute(k, v);
    }
    svg.append(poly);
    const half = Math.floor(size / 2);
    return L.divIcon({html: svg, iconSize: [size, size], iconAnchor: [half, half],
                      className: "nav-shape"});
  }

  function marker(p) {
    const at = [Number(p.lat), Number(p.lon)];
    const c = colour(p.colour);
    const size = Number(p.size) || 6;
    const m = p.shape && p.shape !== "circle"
      ? L.marker(at, {icon: shapeIcon(p.shape, c, size)})
      : L.circleMarker(at, {radius: size, color: c, fill: true, fillOpacity: 0.85, weight: 1});
    if (p.title !== undefined) m.bindPopup(() => popup(p), {maxWidth: 320});
    if (p.tip !== undefined) m.bindTooltip(() => node("span", p.tip), {sticky: true});
    return m;
  }

  function markers(spec) {
    return L.featureGroup((spec.points || []).map(marker));
  }

  // One hidden SVG pattern per page: red diagonal hatching for closed areas.
  function hatch() {
    if (!document.getElementById("nav-hatch")) {
      const svg = document.createElementNS(SVG, "svg");
      for (const [k, v] of [["width", "0"], ["height", "0"], ["aria-hidden", "true"]]) {
        svg.setAttribute(k, v);
      }
      svg.style.position = "absolute";
      const pattern = document.createElementNS(SVG, "pattern");
      for (const [k, v] of [["id", "nav-hatch"], ["width", "8"], ["height", "8"],
                            ["patternUnits", "userSpaceOnUse"],
                            ["patternTransform", "rotate(45)"]]) {
        pattern.setAttribute(k, v);
      }
      const line = document.createElementNS(SVG, "rect");
      for (const [k, v] of [["width", "3"], ["height", "8"], ["fill", "#d62728"]]) {
        line.setAttribute(k, v);
      }
      pattern.append(line);
      const defs = document.createElementNS(SVG, "defs");
      defs.append(pattern);
      svg.append(defs);
      document.body.append(svg);
    }
    return "url(#nav-hatch)";
  }

  // A feature's popup: title and rows are property values, shown as text.
  function featurePopup(spec, f) {
    const p = f.properties || {};
    return popup({title: p[spec.popup.title],
                  rows: (spec.popup.rows || []).map(([label, key]) => [label, p[key] ?? ""])});
  }

  function geojson(spec, data, group) {
    const base = Object.assign({}, spec.style || {});
    if (base.hatch) base.fillColor = hatch();
    delete base.hatch;
    const layer = L.geoJSON(data, {
      interactive: spec.interactive !== false,
      style: (f) => spec.fill_from
        ? Object.assign({}, base, {fillColor: colour(f.properties[spec.fill_from])}) : base,
      onEachFeature: (f, l) => {
        if (spec.tip_from) {
          l.bindTooltip(() => node("span", f.properties[spec.tip_from]), {sticky: true});
        }
        if (spec.popup) l.bindPopup(() => featurePopup(spec, f), {maxWidth: 320});
      },
    });
    layer.addTo(group);
    if (spec.back && group._map) group.bringToBack();  // fetched after the group was drawn
  }

  function vectors(spec) {
    const group = L.featureGroup();
    if (spec.data) {
      geojson(spec, spec.data, group);
    } else if (/^\/(?!\/)/.test(String(spec.url))) {  // a same-origin path, fetched later
      fetch(spec.url, {credentials: "same-origin"}).then((r) => r.json())
        .then((data) => geojson(spec, data, group));
    }
    return group;
  }

  function legend(spec) {
    const control = L.control({position: spec.position || "bottomleft"});
    control.onAdd = function () {
      const box = node("div", null, "nav-legend");
      Object.assign(box.style, {background: "white", padding: "6px 9px", maxWidth: "260px",
                                border: "1px solid #999", borderRadius: "4px",
                                font: "12px/1.4 sans-serif"});
      box.append(node("b", spec.title));
      for (const [label, c] of spec.items || []) {
        const swatch = node("span", null, "nav-swatch");
        Object.assign(swatch.style, {display: "inline-block", width: "10px", height: "10px",
                                     marginRight: "6px", border: "1px solid #333",
                                     background: colour(c)});
        const row = node("div");
        row.append(swatch, document.createTextNode(String(label)));
        box.append(row);
      }
      if (spec.note) {
        const p = node("p");
        p.append(node("em", spec.note));
        box.append(p);
      }
      return box;
    };
    return control;
  }

  function layerControl(map, spec) {
    const overlays = {};
    for (const [layer, name] of named.get(map) || []) overlays[markup(name)] = layer;
    return L.control.layers(null, overlays, {collapsed: spec.collapsed !== false});
  }

  const BUILD = {markers: markers, vectors: vectors};

  function draw(map, id) {
    const spec = JSON.parse(document.getElementById(id).textContent);
    if (spec.kind === "legend") return legend(spec).addTo(map);
    if (spec.kind === "control") return layerControl(map, spec).addTo(map);
    if (spec.kind === "attribution") {
      return map.attributionControl.addAttribution(markup(spec.text));
    }
    const layer = BUILD[spec.kind](spec).addTo(map);
    if (spec.back) layer.bringToBack();
    if (spec.name && spec.control !== false) {
      if (!named.has(map)) named.set(map, []);
      named.get(map).push([layer, spec.name]);
    }
    return layer;
  }

  return {draw: draw, colour: colour, popup: popup, hatch: hatch};
})();
