// Pictures of the report: the receptive field growing layer by layer (labelled axes, nothing clipped), one
// layer's receptive field over the input grid, and per-layer bars (a virtual list: only bars in view are drawn).
import { $, h, svg, fmt, pct, si, bytes, num, watchScroll } from "./dom.js";

function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

function niceTicks(max, count) {
  if (!(max > 0)) max = 1;
  const raw = max / count, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * p).find((s) => s >= raw);
  const top = Math.ceil(max / step) * step, ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { top, ticks };
}
const tickLabel = (v) => v >= 1e4 ? si(v).replace(" ", "") : fmt(v);

// ------------------------------------------------------------------ receptive field growth
// the drawing width of a chart: kept up to date by a ResizeObserver, so a re-render never forces a layout
const widths = new Map();
const resized = new ResizeObserver((entries) => { for (const e of entries) widths.set(e.target.id, e.contentRect.width); });
function widthOf(box) {
  if (!widths.has(box.id)) { widths.set(box.id, box.getBoundingClientRect().width); resized.observe(box); }
  return Math.max(260, Math.round(widths.get(box.id)) || 400);
}

export function renderRFChart(rep, selected, onPick) {
  const box = $("rfchart");
  clear(box);
  const W = widthOf(box), H = 250;
  box.setAttribute("viewBox", `0 0 ${W} ${H}`);
  box.setAttribute("height", String(H));
  const L = rep.layers, n = L.length;
  const m = { l: 58, r: 54, t: 16, b: 42 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const size = L.map((l) => l.rf && !l.rf.global ? l.rf.size[0] : null);
  const stride = L.map((l) => l.rf && !l.rf.global ? l.rf.stride[0] : null);
  const yl = niceTicks(Math.max(1, ...size.filter((v) => v !== null)), 4);
  const yr = niceTicks(Math.max(1, ...stride.filter((v) => v !== null)), 4);
  const xt = niceTicks(Math.max(1, n), Math.max(2, Math.min(8, Math.floor(pw / 70))));
  const x = (i) => m.l + (n > 1 ? pw * i / (n - 1) : pw / 2);           // i: row 0..n-1 (layer i + 1)
  const y = (v, t) => m.t + ph - ph * v / t.top;
  const g = svg("g", { class: "axis" });
  for (const v of yl.ticks) {
    g.append(svg("line", { x1: m.l, x2: W - m.r, y1: y(v, yl), y2: y(v, yl), class: "grid" }));
    g.append(svg("text", { x: m.l - 6, y: y(v, yl) + 4, "text-anchor": "end" }, tickLabel(v)));
  }
  for (const v of yr.ticks) g.append(svg("text", { x: W - m.r + 6, y: y(v, yr) + 4, "text-anchor": "start", class: "t-stride" }, tickLabel(v)));
  for (const v of xt.ticks) {
    if (v < 1 || v > n) continue;
    const xv = x(v - 1);
    g.append(svg("line", { x1: xv, x2: xv, y1: m.t + ph, y2: m.t + ph + 4, class: "tick" }));
    g.append(svg("text", { x: xv, y: m.t + ph + 17, "text-anchor": "middle" }, fmt(v)));
  }
  g.append(svg("line", { x1: m.l, x2: W - m.r, y1: m.t + ph, y2: m.t + ph, class: "base" }));
  g.append(svg("text", { x: m.l + pw / 2, y: H - 6, "text-anchor": "middle", class: "title" }, "layer"));
  g.append(svg("text", { transform: `translate(14 ${m.t + ph / 2}) rotate(-90)`, "text-anchor": "middle", class: "title t-size" }, "RF size (input px)"));
  g.append(svg("text", { transform: `translate(${W - 10} ${m.t + ph / 2}) rotate(90)`, "text-anchor": "middle", class: "title t-stride" }, "stride (input px)"));
  box.append(g);
  // from the first global layer on, every unit sees the whole input
  const gi = L.findIndex((l) => l.rf && l.rf.global);
  if (gi >= 0) {
    const x0 = gi > 0 ? (x(gi - 1) + x(gi)) / 2 : m.l, x1 = W - m.r;
    box.append(svg("rect", { x: x0, y: m.t, width: Math.max(3, x1 - x0), height: ph, class: "band" }));
    const wide = x1 - x0 > 56;
    box.append(svg("text", { x: wide ? x1 - 6 : x0 - 6, y: m.t + 14, "text-anchor": "end", class: "band-label" },
      wide ? "global" : "global →"));
  }
  for (const [vals, t, cls] of [[size, yl, "l-size"], [stride, yr, "l-stride"]]) {
    let d = "", pen = "M";
    for (let i = 0; i < n; i++) {
      if (vals[i] === null) { pen = "M"; continue; }
      d += `${pen}${x(i).toFixed(1)},${y(vals[i], t).toFixed(1)}`;
      pen = "L";
    }
    if (d) box.append(svg("path", { d, class: cls }));
  }
  if (selected >= 0 && selected < n) {
    box.append(svg("line", { x1: x(selected), x2: x(selected), y1: m.t, y2: m.t + ph, class: "cursor" }));
    if (size[selected] !== null) box.append(svg("circle", { cx: x(selected), cy: y(size[selected], yl), r: 3.5, class: "dot-size" }));
    if (stride[selected] !== null) box.append(svg("circle", { cx: x(selected), cy: y(stride[selected], yr), r: 3.5, class: "dot-stride" }));
  }
  box.onclick = (e) => {
    const r = box.getBoundingClientRect();
    const i = Math.round((e.clientX - r.left - m.l * r.width / W) / (pw * r.width / W) * (n - 1));
    onPick(Math.max(0, Math.min(n - 1, n > 1 ? i : 0)), new DOMRect(e.clientX - 4, e.clientY - 4, 8, 8));
  };
}

// ------------------------------------------------------------------ one layer's receptive field over the input
function spatialOf(shapeArr, convention) {
  if (!shapeArr || shapeArr.length < 3) return [];
  return convention === "keras" ? shapeArr.slice(1, -1) : shapeArr.slice(2);
}

export function renderRFGrid(rep, i) {
  const box = $("rfgrid");
  clear(box);
  const l = rep.layers[i], note = $("rfnote");
  $("rfname").textContent = l ? l.name : "the selected layer";
  const W = widthOf(box), H = 250;
  box.setAttribute("viewBox", `0 0 ${W} ${H}`);
  box.setAttribute("height", String(H));
  const sp = spatialOf(rep.input_shape, rep.convention);
  if (!l || sp.length < 1) { note.textContent = "The input has no spatial dimensions."; return; }
  const ih = sp.length > 1 ? sp[0] : 1, iw = sp.length > 1 ? sp[1] : sp[0];
  const scale = Math.min((W - 20) / (iw * 1.5), (H - 20) / (ih * 1.5));
  const ox = (W - iw * scale) / 2, oy = (H - ih * scale) / 2;
  box.append(svg("rect", { x: ox, y: oy, width: iw * scale, height: ih * scale, class: "input" }));
  if (scale > 6) {
    for (let k = 1; k < iw; k++) box.append(svg("line", { x1: ox + k * scale, y1: oy, x2: ox + k * scale, y2: oy + ih * scale, class: "cell" }));
    for (let k = 1; k < ih; k++) box.append(svg("line", { x1: ox, y1: oy + k * scale, x2: ox + iw * scale, y2: oy + k * scale, class: "cell" }));
  }
  const rf = l.rf;
  if (!rf) { note.textContent = `${l.name}: no spatial receptive field (its output has no spatial dimensions).`; return; }
  if (rf.global) {
    box.append(svg("rect", { x: ox, y: oy, width: iw * scale, height: ih * scale, class: "rf-b" }));
    note.textContent = `${l.name}: global — every output unit sees the whole ${ih}×${iw} input.`;
    return;
  }
  const out = spatialOf(l.output_shape, rep.convention);
  const two = rf.size.length > 1;
  const units = [[0, 0], out.map((o) => Math.floor(o / 2))];
  units.forEach((u, k) => {
    const start = (two ? [0, 1] : [0]).map((d) => -rf.padding[d] + (u[d] || 0) * rf.stride[d]);
    const sy = two ? start[0] : 0, sx = two ? start[1] : start[0];
    const hy = two ? rf.size[0] : 1, wx = two ? rf.size[1] : rf.size[0];
    box.append(svg("rect", { x: ox + sx * scale, y: oy + sy * scale, width: wx * scale, height: hy * scale, class: k ? "rf-b" : "rf-a" }));
  });
  note.textContent = `Input ${ih}×${iw}. Orange: the window seen by output unit (0, 0); blue: unit (${units[1].join(", ")}). ` +
    `Size ${rf.size.map(num).join("×")}, stride ${rf.stride.map(num).join("×")}${rf.approximate ? " (approximate)" : ""}; ` +
    `windows may reach into the padding, outside the input.`;
}

// ------------------------------------------------------------------ per-layer bars
const BAR_H = 26;

export class Bars {
  constructor({ onOpen }) {
    this.box = $("bars");
    this.inner = $("bars-inner");
    this.metric = $("barmetric");
    this.onOpen = onOpen;
    this.rep = null; this.range = [-1, -1];
    this.view = watchScroll(this.box, () => this.render(false));
    this.metric.addEventListener("change", () => this.setReport(this.rep));
    this.inner.addEventListener("click", (e) => {
      const b = e.target.closest(".bar");
      if (b) this.onOpen(+b.dataset.row, this.metric.value, b);
    });
  }

  setReport(rep) {
    if (!rep) return;
    this.rep = rep;
    const key = this.metric.value;
    let max = 1;
    for (const l of rep.layers) if (l[key] > max) max = l[key];
    this.max = max;
    this.inner.style.height = rep.layers.length * BAR_H + "px";
    this.range = [-1, -1];
    this.render(true);
  }

  render(force) {
    if (!this.rep) return;
    const n = this.rep.layers.length;
    const first = Math.floor(this.view.top / BAR_H), vis = Math.ceil((this.view.height || 300) / BAR_H);
    const start = Math.max(0, first - 10), end = Math.min(n, first + vis + 10);
    const same = start === this.range[0] && end === this.range[1];
    if (!force && same) return;
    this.range = [start, end];
    const key = this.metric.value, tot = this.rep.totals[key] || 0, show = key.endsWith("bytes") ? bytes : si;
    const kept = same && this.inner.children.length === end - start ? [...this.inner.children] : null;
    const rows = [];
    for (let i = start; i < end; i++) {
      const l = this.rep.layers[i], v = l[key] || 0;
      const sig = `${l.name}|${v}|${this.max}|${tot}`;
      if (kept && kept[i - start].sig === sig) { rows.push(kept[i - start]); continue; }    // unchanged: left alone
      const fill = h("span", { class: "fill" });
      fill.style.width = (100 * v / this.max).toFixed(2) + "%";          // CSSOM, not an inline style attribute
      const b = h("button", { class: "bar", type: "button", dataset: { row: i },
        "aria-label": `${l.name}: ${fmt(v)} ${key}` },
        h("span", { class: "bname", title: String(l.name) }, String(l.name)),
        h("span", { class: "track" }, fill),
        h("span", { class: "bval" }, v ? show(v) : "0", h("small", null, v ? " " + pct(v, tot) : "")));
      b.style.top = i * BAR_H + "px";
      b.sig = sig;
      if (kept) kept[i - start].replaceWith(b);
      rows.push(b);
    }
    if (!kept) this.inner.replaceChildren(...rows);
  }

  find(i) { return this.inner.querySelector(`.bar[data-row="${i}"]`); }
}
