// cnncalc page: type a network, see every number, click one to see why. No framework, no CDN.
"use strict";
const $ = (id) => document.getElementById(id);
// Every string from a report or a request (names, kinds, messages, warnings, file names) reaches the page
// through textContent or setAttribute, never as HTML: h() is the only way this page builds elements.
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const k in props || {}) {
    if (k === "class") e.className = props[k];
    else if (k === "dataset") Object.assign(e.dataset, props[k]);
    else e.setAttribute(k, props[k]);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const SEED = "# the seed MNIST network (217,706 parameters)\ninput(1, 28, 28)\nconv2d(32, 5) | relu\nmaxpool2d(2)\n" +
  "conv2d(32, 3) | relu\nmaxpool2d(2)\nflatten\ndense(256) | relu\ndense(10) | softmax\n";
const COLS = [
  ["index", "#", "r"], ["name", "Layer", "l"], ["kind", "Kind", "l"], ["output_shape", "Output shape", "l"],
  ["params", "Params", "n"], ["macs", "MACs", "n"], ["flops", "FLOPs", "n"], ["mults", "Mults", "n"],
  ["adds", "Adds", "n"], ["activation_bytes", "Act. bytes", "n"], ["param_bytes", "Param bytes", "n"],
  ["rf", "RF size / stride", "n"],
];
// which explanation lines belong to which column
const EXPLAIN_KEYS = { output_shape: /^(\w+_out|pad_|features|offset|axis)/, params: /^params|^gates/,
  macs: /macs/, flops: /flops/, mults: /mults/, adds: /adds/, activation_bytes: /^activation_bytes/,
  param_bytes: /^param_bytes|^buffer_bytes/, rf: /^rf/ };
let state = { report: null, selected: null, timer: null, seq: 0 };

const fmt = (n) => (n === null || n === undefined) ? "" : Number(n).toLocaleString("en-US");
const shape = (s) => s && s.length ? "(" + s.join(", ") + ")" : "-";
const rfText = (rf) => !rf ? "-" : rf.global ? "global" :
  (rf.approximate ? "≈" : "") + rf.size.map(num).join("x") + " /" + rf.stride.map(num).join("x");
function num(v) { return (v === null || v === undefined) ? "?" : (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, "")); }
function b64e(s) { return btoa(unescape(encodeURIComponent(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); }
function b64d(s) { s = s.replace(/-/g, "+").replace(/_/g, "/"); return decodeURIComponent(escape(atob(s))); }

// ------------------------------------------------------------------ state in the URL
function saveHash() {
  const p = new URLSearchParams({ s: b64e($("spec").value), c: $("convention").value, b: $("batch").value,
    d: $("dtype").value });
  history.replaceState(null, "", "#" + p.toString());
}
function loadHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  try { $("spec").value = p.has("s") ? b64d(p.get("s")) : SEED; } catch (e) { $("spec").value = SEED; }
  if (p.has("c")) $("convention").value = p.get("c");
  if (p.has("b")) $("batch").value = p.get("b");
  if (p.has("d")) $("dtype").value = p.get("d");
}

// ------------------------------------------------------------------ editor: gutter and error marks
function renderGutter(errLine) {
  const n = $("spec").value.split("\n").length;
  let g = "";
  for (let i = 1; i <= n; i++) g += (i === errLine ? "▶" : "") + i + "\n";
  $("gutter").textContent = g;
}
function renderMirror(err) {
  const lines = $("spec").value.split("\n");
  const m = $("mirror");
  m.textContent = "";
  lines.forEach((line, i) => {
    const div = document.createElement("span");
    if (err && err.line === i + 1) {
      div.className = "errline";
      const c = Math.max(0, (err.column || 1) - 1);
      div.append(document.createTextNode(line.slice(0, c)));
      const mark = document.createElement("span");
      mark.className = "errmark";
      mark.textContent = line.slice(c, c + 1) || " ";
      div.append(mark, document.createTextNode(line.slice(c + 1)));
    } else div.textContent = line;
    m.append(div, document.createTextNode("\n"));
  });
  m.scrollTop = $("spec").scrollTop; m.scrollLeft = $("spec").scrollLeft;
}

// ------------------------------------------------------------------ talking to the server
function body(format) {
  const b = parseInt($("batch").value, 10);
  return JSON.stringify({ spec: $("spec").value, convention: $("convention").value,
    batch: Number.isFinite(b) && b > 0 ? b : null, dtype: $("dtype").value, format: format || "json" });
}
async function analyze() {
  const seq = ++state.seq;
  saveHash();
  const t0 = performance.now();
  let res, data;
  try {
    res = await fetch("/api/analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body: body() });
    data = await res.json();
  } catch (e) { return showError({ message: "cannot reach the cnncalc server: " + e }); }
  if (seq !== state.seq) return;              // a newer request is on its way
  if (!res.ok) return showError(data);
  showReport(data, performance.now() - t0);
}
function schedule() { clearTimeout(state.timer); renderGutter(null); state.timer = setTimeout(analyze, 300); }

function showError(err) {
  const s = $("status");
  s.className = "error";
  s.textContent = err.message || err.error || (err.detail ? JSON.stringify(err.detail) : "error");
  renderGutter(err.line || null);
  renderMirror(err.line ? err : null);
}

// ------------------------------------------------------------------ results
function showReport(rep, ms) {
  state.report = rep;
  const s = $("status");
  s.className = "";
  s.textContent = `${rep.layers.length} layers, convention ${rep.convention}, analysed in ${Math.round(ms)} ms` +
    (rep.warnings.length ? ` — ${rep.warnings.length} warning(s): ${rep.warnings[0]}` : "");
  renderGutter(null); renderMirror(null);
  const t = rep.totals;
  $("totals").replaceChildren(
    "Params ", h("b", null, fmt(t.params)),
    ` (trainable ${fmt(t.trainable_params)}, non-trainable ${fmt(t.non_trainable_params)}) · MACs `,
    h("b", null, fmt(t.macs)), " · FLOPs ", h("b", null, fmt(t.flops)),
    ` · mults ${fmt(t.mults)} · adds ${fmt(t.adds)}`, h("br"),
    "Peak activations ", h("b", null, fmt(rep.peak_activation_bytes)),
    ` B (sum of outputs ${fmt(t.activation_bytes)} B) · parameters ${fmt(t.param_bytes)} B · input ` +
    `${shape(rep.input_shape)} · dtype ${rep.dtype}`, h("br"),
    h("small", null, "MACs: multiply-accumulates of conv/dense/recurrent layers, bias excluded. " +
      "FLOPs: every floating-point operation."));
  renderTable(rep);
  if (state.selected === null || state.selected >= rep.layers.length) state.selected = rep.layers.length - 1;
  select(state.selected, null);
  renderRFChart(rep); renderBars(rep); renderGraph(rep);
}

function renderTable(rep) {
  const thead = $("layers").querySelector("thead"), tbody = $("layers").querySelector("tbody");
  thead.replaceChildren(h("tr", null, ...COLS.map(([k, label, a]) => h("th", { class: a === "l" ? "l" : "" }, label))));
  const tot = rep.totals;
  const rows = rep.layers.map((l, i) => {
    const cells = COLS.map(([k, label, a]) => {
      const kids = [];
      if (k === "output_shape") kids.push(shape(l.output_shape));
      else if (k === "rf") kids.push(rfText(l.rf));
      else if (a === "n") {
        kids.push(fmt(l[k]));
        if (["params", "macs", "flops", "activation_bytes"].includes(k) && tot[k] > 0 && l[k] > 0)
          kids.push(h("span", { class: "share" }, `${(100 * l[k] / tot[k]).toFixed(1)}%`));
      } else kids.push(k === "index" ? l.index : (l[k] ?? ""));
      const clickable = (a === "n" || k === "output_shape") ? "num" : "";
      return h("td", { class: `${a === "l" ? "l" : ""} ${clickable}`, dataset: { row: i, col: k } }, ...kids);
    });
    return h("tr", { class: l.warnings.length ? "warn" : "", title: l.warnings.join("; "), dataset: { row: i } },
      ...cells);
  });
  tbody.replaceChildren(...rows);
}

function select(i, col) {
  const rep = state.report;
  if (!rep || !rep.layers[i]) return;
  state.selected = i;
  document.querySelectorAll("#layers tr.sel").forEach((r) => r.classList.remove("sel"));
  const tr = document.querySelector(`#layers tbody tr[data-row="${i}"]`);
  if (tr) tr.classList.add("sel");
  const l = rep.layers[i];
  if (col) {
    $("explain").hidden = false;
    $("explain-title").textContent = `${l.name} — ${col.replace("_", " ")}`;
    const re = EXPLAIN_KEYS[col];
    $("explain-body").replaceChildren(...(l.explain || []).flatMap((line, k) => {
      const bare = String(line).trim();
      return [k ? "\n" : "", re && re.test(bare) ? h("span", { class: "hl" }, line) : String(line)];
    }));
  }
  renderRFGrid(rep, i);
  document.querySelectorAll("#graph .node").forEach((n) => n.classList.toggle("sel", n.dataset.row === String(i)));
}

// ------------------------------------------------------------------ pictures
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

function renderRFChart(rep) {
  const svg = $("rfchart"); clear(svg);
  const W = svg.clientWidth || 400, H = 240, pad = 36;
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 20}`);
  const pts = rep.layers.map((l, i) => ({ i, r: l.rf && !l.rf.global ? l.rf.size[0] : null,
    s: l.rf && !l.rf.global ? l.rf.stride[0] : null }));
  const rmax = Math.max(1, ...pts.filter((p) => p.r !== null).map((p) => p.r));
  const smax = Math.max(1, ...pts.filter((p) => p.s !== null).map((p) => p.s));
  const n = Math.max(1, pts.length - 1);
  const x = (i) => pad + (W - 2 * pad) * i / n, y = (v, m) => H - (H - 20) * v / m;
  svg.append(el("line", { x1: pad, y1: H, x2: W - pad, y2: H, stroke: "#99a" }));
  for (const [key, m, color, label] of [["r", rmax, "#5b7bd5", `size (max ${num(rmax)})`], ["s", smax, "#d5825b", `stride (max ${num(smax)})`]]) {
    const d = pts.filter((p) => p[key] !== null).map((p, k) => (k ? "L" : "M") + x(p.i) + "," + y(p[key], m)).join(" ");
    if (d) svg.append(el("path", { d, stroke: color, fill: "none", "stroke-width": 2 }));
    svg.append(el("text", { x: key === "r" ? pad : W / 2, y: 14, fill: color }, label));
  }
  svg.append(el("text", { x: pad, y: H + 16, fill: "#667" }, "layer 1"));
  svg.append(el("text", { x: W - pad - 60, y: H + 16, fill: "#667" }, `layer ${pts.length}`));
  const g = pts.findIndex((p) => rep.layers[p.i].rf && rep.layers[p.i].rf.global);
  if (g >= 0) svg.append(el("text", { x: x(g), y: H - 4, fill: "#667" }, "global →"));
}

function spatialOf(shapeArr, convention) {
  if (!shapeArr || shapeArr.length < 3) return [];
  return convention === "keras" ? shapeArr.slice(1, -1) : shapeArr.slice(2);
}
function renderRFGrid(rep, i) {
  const svg = $("rfgrid"); clear(svg);
  const l = rep.layers[i];
  $("rfname").textContent = l.name;
  const sp = spatialOf(rep.input_shape, rep.convention);
  const W = svg.clientWidth || 400, H = 250;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  if (sp.length < 1) { svg.append(el("text", { x: 10, y: 20 }, "the input has no spatial dimensions")); return; }
  const ih = sp.length > 1 ? sp[0] : 1, iw = sp.length > 1 ? sp[1] : sp[0];
  const scale = Math.min((W - 20) / (iw * 1.6), (H - 40) / (ih * 1.6));
  const ox = (W - iw * scale) / 2, oy = 20 + (H - 30 - ih * scale) / 2;
  svg.append(el("rect", { x: ox, y: oy, width: iw * scale, height: ih * scale, fill: "#f2f4fa", stroke: "#889" }));
  if (iw * scale / iw > 6) for (let k = 1; k < iw; k++)
    svg.append(el("line", { x1: ox + k * scale, y1: oy, x2: ox + k * scale, y2: oy + ih * scale, stroke: "#dde" }));
  if (ih * scale / ih > 6) for (let k = 1; k < ih; k++)
    svg.append(el("line", { x1: ox, y1: oy + k * scale, x2: ox + iw * scale, y2: oy + k * scale, stroke: "#dde" }));
  const rf = l.rf;
  if (!rf) { svg.append(el("text", { x: 10, y: 14 }, "no spatial receptive field here")); return; }
  if (rf.global) {
    svg.append(el("rect", { x: ox, y: oy, width: iw * scale, height: ih * scale, fill: "#5b7bd533", stroke: "#5b7bd5" }));
    svg.append(el("text", { x: 10, y: 14 }, "global: every output sees the whole input")); return;
  }
  const out = spatialOf(l.output_shape, rep.convention);
  const dims = rf.size.length > 1 ? [0, 1] : [0];
  const units = [[0, 0], out.map((o) => Math.floor(o / 2))];
  const colors = ["#d5825b", "#5b7bd5"];
  units.forEach((u, k) => {
    const start = dims.map((d) => -rf.padding[d] + (u[d] || 0) * rf.stride[d]);
    const sy = rf.size.length > 1 ? start[0] : 0, sx = rf.size.length > 1 ? start[1] : start[0];
    const hy = rf.size.length > 1 ? rf.size[0] : 1, wx = rf.size.length > 1 ? rf.size[1] : rf.size[0];
    svg.append(el("rect", { x: ox + sx * scale, y: oy + sy * scale, width: wx * scale, height: hy * scale,
      fill: colors[k] + "33", stroke: colors[k], "stroke-width": 2 }));
  });
  svg.append(el("text", { x: 10, y: 14 }, `input ${ih}x${iw}: unit (0,0) orange, unit (${units[1].join(",")}) blue; ` +
    `size ${rf.size.map(num).join("x")}, stride ${rf.stride.map(num).join("x")}${rf.approximate ? " (approximate)" : ""}`));
}

function renderBars(rep) {
  const key = $("barmetric").value, div = $("bars");
  const tot = rep.totals[key] || 0, max = Math.max(1, ...rep.layers.map((l) => l[key]));
  div.replaceChildren(...rep.layers.map((l) => {
    const bar = h("span", { class: "b" });
    bar.style.width = `${(100 * l[key] / max).toFixed(1)}%`;            // CSSOM, not an inline style attribute
    return h("div", { class: "bar" }, h("span", { title: l.name }, String(l.name).slice(0, 18)),
      h("span", null, bar), h("span", null, tot ? (100 * l[key] / tot).toFixed(1) + "%" : ""));
  }));
}

function renderGraph(rep) {
  const svg = $("graph"); clear(svg);
  const nodes = [{ name: "input", shape: rep.input_shape, ins: [] }].concat(rep.layers.map((l, i) => ({
    name: l.name, shape: l.output_shape, row: i,
    ins: (l.input_indices && l.input_indices.length) ? l.input_indices : [i] })));
  const level = nodes.map(() => 0), col = nodes.map(() => 0), perLevel = {};
  nodes.forEach((n, i) => { if (i) level[i] = 1 + Math.max(...n.ins.map((j) => level[j] ?? 0)); });
  nodes.forEach((n, i) => { col[i] = perLevel[level[i]] = (perLevel[level[i]] ?? -1) + 1; });
  const BW = 150, BH = 24, GX = 30, GY = 22;
  const width = Math.max(...Object.values(perLevel).map((c) => c + 1)) * (BW + GX) + 20;
  const height = (Math.max(...level) + 1) * (BH + GY) + 20;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = height + "px"; svg.style.width = width + "px";
  const px = (i) => 10 + col[i] * (BW + GX), py = (i) => 10 + level[i] * (BH + GY);
  nodes.forEach((n, i) => n.ins.forEach((j) => {
    if (j === undefined || !nodes[j]) return;
    const x1 = px(j) + BW / 2, y1 = py(j) + BH, x2 = px(i) + BW / 2, y2 = py(i);
    svg.append(el("path", { class: "edge", d: `M${x1},${y1} C${x1},${y1 + 12} ${x2},${y2 - 12} ${x2},${y2}` }));
    svg.append(el("text", { x: (x1 + x2) / 2 + 4, y: (y1 + y2) / 2 + 4, fill: "#778" }, shape(nodes[j].shape)));
  }));
  nodes.forEach((n, i) => {
    const g = el("g", { class: "node", transform: `translate(${px(i)},${py(i)})` });
    if (n.row !== undefined) g.dataset.row = n.row;
    g.append(el("rect", { width: BW, height: BH, rx: 4 }), el("text", { x: 6, y: 16 }, n.name.slice(0, 22)));
    if (n.row !== undefined) g.addEventListener("click", () => select(n.row, null));
    svg.append(g);
  });
}

// ------------------------------------------------------------------ exports and uploads
async function exportAs(format) {
  if (format === "json") {
    if (!state.report) return;
    return download(JSON.stringify(state.report, null, 2), "cnncalc.json", "application/json");
  }
  const res = await fetch("/api/analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body: body(format) });
  if (!res.ok) return showError(await res.json());
  download(await res.text(), format === "csv" ? "cnncalc.csv" : "cnncalc.md", "text/plain");
}
function download(text, name, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name; a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
async function upload() {
  const f = $("upload").files[0];
  if (!f) return;
  const fd = new FormData();
  fd.append("file", f);
  if ($("upinput").value.trim()) fd.append("input", $("upinput").value.trim());
  $("status").className = ""; $("status").textContent = `analysing ${f.name} …`;
  const res = await fetch("/api/analyze/file", { method: "POST", body: fd });
  const data = await res.json();
  if (!res.ok) return showError(data);
  showReport(data, 0);
  $("status").textContent = `${f.name}: ` + $("status").textContent;
}

// ------------------------------------------------------------------ wiring
async function init() {
  loadHash();
  renderGutter(null);
  $("spec").addEventListener("input", schedule);
  $("spec").addEventListener("scroll", () => { $("mirror").scrollTop = $("spec").scrollTop; $("gutter").scrollTop = $("spec").scrollTop; });
  for (const id of ["convention", "batch", "dtype"]) $(id).addEventListener("change", analyze);
  $("barmetric").addEventListener("change", () => state.report && renderBars(state.report));
  $("layers").addEventListener("click", (e) => {
    const td = e.target.closest("td");
    if (td) select(parseInt(td.dataset.row, 10), td.classList.contains("num") ? td.dataset.col : null);
  });
  $("exp-json").onclick = () => exportAs("json");
  $("exp-csv").onclick = () => exportAs("csv");
  $("exp-md").onclick = () => exportAs("markdown");
  $("share").onclick = async () => { saveHash(); try { await navigator.clipboard.writeText(location.href); } catch (e) {} $("status").textContent = "link: " + location.href; };
  $("upload").addEventListener("change", upload);
  $("zoo").addEventListener("change", async () => {
    const name = $("zoo").value;
    if (!name) return;
    const res = await fetch("/api/zoo/" + encodeURIComponent(name));
    const m = await res.json();
    $("spec").value = m.spec;
    if (m.spec.includes("input(") && /input\(\s*\d+\s*,\s*\d+\s*,\s*3\s*\)/.test(m.spec)) $("convention").value = "keras";
    analyze();
  });
  try {
    const zoo = await (await fetch("/api/zoo")).json();
    for (const m of zoo) $("zoo").append(new Option(`${m.name} — ${m.description.slice(0, 50)}`, m.name));
  } catch (e) {}
  analyze();
}
window.addEventListener("DOMContentLoaded", init);
