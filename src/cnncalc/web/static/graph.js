// The network as a layered graph (Sugiyama style), computed here in the page.
//
// 1. layers: each node one row below its deepest input (longest path from the input);
// 2. an edge spanning several rows gets a dummy point in each row between, which holds a slot of that row, so
//    the edge passes *between* boxes, never through one;
// 3. order within rows: barycentre sweeps up and down, keeping the order with the fewest crossings;
// 4. x positions: one longest path (the spine) is a straight column; every other node as close as it can be to
//    what it is joined to (a short edge pulls harder than a long one), solved exactly per row with the rows'
//    order and spacing kept (isotonic regression, PAV);
// 5. drawing: between two rows an edge is a vertical-tangent curve inside the gap between them; inside a row it
//    is a straight vertical line through its dummy slot.  Boxes only live in rows, curves only in gaps.
// Each box shows the layer's name and the shape it outputs (the shape every edge leaving it carries).  Big
// graphs draw only the rows in view.
import { $, svg, shape, watchScroll } from "./dom.js";

export const BW = 212, BH = 38, GY = 34, PAD = 16;
const SEP = { rr: 26, rd: 16, dd: 12 };          // spacing between box/box, box/dummy, dummy/dummy
const DRAW_ALL = 400;                             // graphs up to this many items are drawn whole

export function layoutGraph(rep) {
  const L = rep.layers, n = L.length + 1;                   // item 0 is the input, item i is layer i
  const preds = [[]];
  for (let i = 1; i < n; i++) {
    const ii = L[i - 1].input_indices;
    let p = Array.isArray(ii) ? ii.filter((j) => Number.isInteger(j) && j >= 0 && j < i) : [];
    if (!p.length) p = [i - 1];
    preds.push(p.length > 1 ? [...new Set(p)] : p);
  }
  const level = [0];
  for (let i = 1; i < n; i++) { let m = 0; for (const j of preds[i]) m = Math.max(m, level[j] + 1); level.push(m); }
  // items: real nodes then dummies; up/down: neighbours in the rows above/below
  const lv = level.slice(), dummy = new Array(n).fill(false), up = [], down = [];
  for (let i = 0; i < n; i++) { up.push([]); down.push([]); }
  const chains = [];
  for (let i = 1; i < n; i++) for (const j of preds[i]) {
    const via = [];
    let prev = j;
    for (let r = level[j] + 1; r < level[i]; r++) {
      const d = lv.length;
      lv.push(r); dummy.push(true); up.push([prev]); down.push([]);
      down[prev].push(d);
      via.push(d); prev = d;
    }
    down[prev].push(i); up[i].push(prev);
    chains.push({ from: j, to: i, via, k: chains.length });
  }
  const N = lv.length, depth = Math.max(...level) + 1;
  const rows = Array.from({ length: depth }, () => []);
  // initial order: real nodes in spec order, each edge's dummies next to where the edge starts
  const seen = new Array(N).fill(false);
  const put = (v) => { if (!seen[v]) { seen[v] = true; rows[lv[v]].push(v); } };
  const into = Array.from({ length: n }, () => []);
  for (const c of chains) into[c.to].push(c);
  for (let i = 0; i < n; i++) { put(i); for (const c of into[i]) c.via.forEach(put); }
  const pos = new Float64Array(N);
  const index = () => { for (const r of rows) r.forEach((v, k) => { pos[v] = k; }); };
  index();
  order(rows, up, down, pos, index);
  // the spine: one longest path from the input to the deepest layer, drawn as one straight column; branches,
  // side paths and long edges find their places around it (so a deep network does not drift sideways)
  const spine = new Array(N).fill(false);
  let v = 0;
  for (let i = 1; i < n; i++) if (level[i] >= level[v]) v = i;
  for (;;) {
    spine[v] = true;
    if (!v) break;
    v = preds[v].find((j) => level[j] === level[v] - 1);
  }
  const x = coordinates(rows, up, down, dummy, spine);
  let minX = Infinity, maxX = -Infinity;
  for (let v = 0; v < N; v++) {
    const half = dummy[v] ? 0 : BW / 2;
    minX = Math.min(minX, x[v] - half); maxX = Math.max(maxX, x[v] + half);
  }
  for (let v = 0; v < N; v++) x[v] += PAD - minX;
  const y = (r) => PAD + r * (BH + GY);
  return { n, N, lv, dummy, x, y, rows, chains, up, down, preds, depth,
    width: Math.ceil(maxX - minX + 2 * PAD), height: Math.ceil(y(depth - 1) + BH + PAD) };
}

// crossings between two adjacent rows (Fenwick tree over the lower row's positions)
function crossings(top, down, pos) {
  if (top.length === 1 && down[top[0]].length < 2) return 0;          // one edge: nothing to cross
  const edges = [];
  for (const u of top) for (const v of down[u]) edges.push([pos[u], pos[v]]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let size = 1;
  for (const e of edges) size = Math.max(size, e[1] + 2);
  const tree = new Int32Array(size + 1);
  let c = 0, seen = 0;
  for (const [, b] of edges) {
    let s = 0;
    for (let i = b + 1; i > 0; i -= i & -i) s += tree[i];
    c += seen - s;
    for (let i = b + 1; i <= size; i += i & -i) tree[i]++;
    seen++;
  }
  return c;
}

function order(rows, up, down, pos, index) {
  const wide = [];                                 // rows with more than one item: the only ones that can change
  for (let r = 0; r < rows.length; r++) if (rows[r].length > 1) wide.push(r);
  if (!wide.length) return;
  const pairs = new Set();
  for (const r of wide) { if (r > 0) pairs.add(r - 1); if (r + 1 < rows.length) pairs.add(r); }
  const total = () => { let c = 0; for (const r of pairs) c += crossings(rows[r], down, pos); return c; };
  let best = total(), bestRows = rows.map((r) => r.slice());
  for (let it = 0; it < 8 && best > 0; it++) {
    const downward = it % 2 === 0;
    for (let k = 0; k < wide.length; k++) {
      const r = downward ? wide[k] : wide[wide.length - 1 - k];
      if (downward ? r === 0 : r === rows.length - 1) continue;
      const nb = downward ? up : down;
      const key = new Map();
      for (const v of rows[r]) {
        const ns = nb[v];
        key.set(v, ns.length ? ns.reduce((s, u) => s + pos[u], 0) / ns.length : pos[v]);
      }
      rows[r].sort((a, b) => key.get(a) - key.get(b) || pos[a] - pos[b]);
      rows[r].forEach((v, i) => { pos[v] = i; });
    }
    const c = total();
    if (c < best) { best = c; bestRows = rows.map((r) => r.slice()); }
  }
  for (let r = 0; r < rows.length; r++) rows[r] = bestRows[r];
  index();
}

// x per item: rows keep their order and spacing; each item is pulled towards what it is joined to
function coordinates(rows, up, down, dummy, spine) {
  const N = dummy.length, x = new Float64Array(N);
  const gap = (a, b) => (dummy[a] ? 0 : BW / 2) + (dummy[b] ? 0 : BW / 2) +
    (dummy[a] && dummy[b] ? SEP.dd : dummy[a] || dummy[b] ? SEP.rd : SEP.rr);
  for (const r of rows) {
    let c = 0, at = 0;
    r.forEach((v, k) => { if (k) c += gap(r[k - 1], v); x[v] = c; if (spine[v]) at = c; });
    r.forEach((v) => { x[v] -= at; });
  }
  // where an item would like to be, given its neighbours on one side: a real node follows the real nodes right
  // next to it (a long edge goes round); a dummy follows its edge
  const want = (v, nb) => {
    const ns = nb[v];
    if (!ns.length) return null;
    if (ns.length === 1) return x[ns[0]];
    let sr = 0, nr = 0, sa = 0;
    for (const u of ns) { sa += x[u]; if (!dummy[u] || dummy[v]) { sr += x[u]; nr++; } }
    return nr ? sr / nr : sa / ns.length;
  };
  let width = 1;
  for (const r of rows) width = Math.max(width, r.length);
  const t = new Float64Array(width), w = new Float64Array(width), c = new Float64Array(width);
  const bw = new Float64Array(width), bs = new Float64Array(width), bn = new Int32Array(width);
  const solve = (r, nb) => {
    const m = r.length;
    if (m === 1) { const d = spine[r[0]] ? 0 : want(r[0], nb); if (d !== null) x[r[0]] = d; return; }
    c[0] = 0;
    for (let k = 0; k < m; k++) {
      const v = r[k];
      if (k) c[k] = c[k - 1] + gap(r[k - 1], v);
      const d = spine[v] ? 0 : want(v, nb);
      t[k] = (d === null ? x[v] : d) - c[k];
      w[k] = spine[v] ? 1000 : d === null ? 0.001 : dummy[v] ? 0.002 : 4;   // the spine stays; long edges make way
    }
    // pool adjacent violators: y non-decreasing, minimising sum w (y - t)^2
    let nb_ = 0;
    for (let k = 0; k < m; k++) {
      bw[nb_] = w[k]; bs[nb_] = w[k] * t[k]; bn[nb_] = 1; nb_++;
      while (nb_ > 1 && bs[nb_ - 2] / bw[nb_ - 2] > bs[nb_ - 1] / bw[nb_ - 1]) {
        bw[nb_ - 2] += bw[nb_ - 1]; bs[nb_ - 2] += bs[nb_ - 1]; bn[nb_ - 2] += bn[nb_ - 1]; nb_--;
      }
    }
    let k = 0;
    for (let b = 0; b < nb_; b++) {
      const yv = bs[b] / bw[b];
      for (let j = 0; j < bn[b]; j++, k++) x[r[k]] = yv + c[k];
    }
  };
  for (let it = 0; it < 6; it++) {
    if (it % 2 === 0) for (let r = 1; r < rows.length; r++) solve(rows[r], up);
    else for (let r = rows.length - 2; r >= 0; r--) solve(rows[r], down);
  }
  for (let r = 1; r < rows.length; r++) solve(rows[r], up);
  return x;
}

// ------------------------------------------------------------------ drawing

// where each edge leaves and enters a box: as near the other end's x as the box allows (an edge going straight
// down stays straight), at least PORT px apart, in the other ends' order; pt.out[k], pt.inn[k] for chain k
const PORT = 14, REACH = BW / 2 - 12;
function ports(lay) {
  const ch = lay.chains, x = lay.x, C = ch.length;
  const out = new Float64Array(C), inn = new Float64Array(C);
  const outDeg = new Int32Array(lay.n), inDeg = new Int32Array(lay.n);
  for (const c of ch) { outDeg[c.from]++; inDeg[c.to]++; }
  const clampd = (v) => Math.max(-REACH, Math.min(REACH, v));
  const multiOut = new Map(), multiIn = new Map();
  const add = (m, key, k) => { const l = m.get(key); if (l) l.push(k); else m.set(key, [k]); };
  ch.forEach((c, k) => {
    out[k] = clampd(x[c.via.length ? c.via[0] : c.to] - x[c.from]);
    inn[k] = clampd(x[c.via.length ? c.via[c.via.length - 1] : c.from] - x[c.to]);
    if (outDeg[c.from] > 1) add(multiOut, c.from, k);
    if (inDeg[c.to] > 1) add(multiIn, c.to, k);
  });
  // several edges at one box: keep their order, at least PORT apart, inside the box
  const spread = (list, at) => {
    list.sort((a, b) => at[a] - at[b]);
    for (let k = 1; k < list.length; k++) at[list[k]] = Math.max(at[list[k]], at[list[k - 1]] + PORT);
    const over = at[list[list.length - 1]] - REACH;
    if (over > 0) for (const k of list) at[k] -= over;                  // pushed past the right edge: shift back
    for (let k = list.length - 2; k >= 0; k--) at[list[k]] = Math.min(at[list[k]], at[list[k + 1]] - PORT);
    for (const k of list) at[k] = Math.max(-REACH, at[k]);
  };
  for (const list of multiOut.values()) spread(list, out);
  for (const list of multiIn.values()) spread(list, inn);
  return { out, inn };
}

// the points of an edge: out of the source's bottom, through each dummy's slot, into the target's top
export function edgePoints(lay, c, pt) {
  const p = [[lay.x[c.from] + (pt ? pt.out[c.k] : 0), lay.y(lay.lv[c.from]) + BH]];
  for (const d of c.via) p.push([lay.x[d], lay.y(lay.lv[d])], [lay.x[d], lay.y(lay.lv[d]) + BH]);
  p.push([lay.x[c.to] + (pt ? pt.inn[c.k] : 0), lay.y(lay.lv[c.to])]);
  return p;
}

// the drawing as numbers (the tests check it): every box, and every edge's points as drawn (ports included)
export function geometry(rep) {
  const lay = layoutGraph(rep), pt = ports(lay), boxes = [];
  for (let v = 0; v < lay.n; v++) boxes.push({ x: lay.x[v] - BW / 2, y: lay.y(lay.lv[v]), w: BW, h: BH });
  return { boxes, edges: lay.chains.map((c) => edgePoints(lay, c, pt)) };
}

function pathOf(p) {
  let d = `M${p[0][0].toFixed(1)},${p[0][1]}`;
  for (let k = 1; k < p.length; k++) {
    const [x0, y0] = p[k - 1], [x1, y1] = p[k];
    if (x0 === x1) d += `L${x1.toFixed(1)},${y1}`;                         // straight down through a slot
    else { const ym = (y0 + y1) / 2; d += `C${x0.toFixed(1)},${ym} ${x1.toFixed(1)},${ym} ${x1.toFixed(1)},${y1}`; }
  }
  return d;
}

// text cut to a width, measured with the page's own fonts (canvas measureText)
let ctx = null, families = null;
function fitter(font) {
  if (!ctx) {
    ctx = document.createElement("canvas").getContext("2d");
    const cs = getComputedStyle(document.documentElement);                // once: reading styles forces a layout
    families = { mono: cs.getPropertyValue("--mono").trim() || "monospace", sans: cs.getPropertyValue("--font").trim() || "sans-serif" };
  }
  const family = font === "mono" ? families.mono : families.sans;
  const spec = (font === "mono" ? "11px " : font === "bold" ? "600 12px " : "11px ") + family;
  return (text, max) => {
    ctx.font = spec;
    text = String(text);
    if (ctx.measureText(text).width <= max) return [text, ctx.measureText(text).width];
    let lo = 0, hi = text.length;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ctx.measureText(text.slice(0, mid) + "…").width <= max) lo = mid; else hi = mid - 1; }
    const t = text.slice(0, lo) + "…";
    return [t, ctx.measureText(t).width];
  };
}

export class Graph {
  constructor({ onOpen }) {
    this.wrap = $("graphwrap");
    this.svg = $("graph");
    this.onOpen = onOpen;
    this.lay = null; this.selected = -1; this.window = "";
    this.view = watchScroll(this.wrap, () => this.render(false));
    this.svg.addEventListener("click", (e) => {
      const g = e.target.closest(".node");
      if (g && g.dataset.row !== undefined) this.onOpen(+g.dataset.row, g);
    });
  }

  setReport(rep) {
    // the same boxes and edges as drawn (a re-analysis that changed only numbers): keep the drawing
    let sig = `${rep.input_shape}`;
    for (const l of rep.layers) sig += `\n${l.name}\t${l.kind}\t${l.output_shape}\t${l.input_indices}`;
    this.rep = rep;
    if (sig === this.sig) return;
    this.sig = sig;
    this.lay = layoutGraph(rep);
    this.pt = ports(this.lay);
    const lay = this.lay;
    this.svg.setAttribute("viewBox", `0 0 ${lay.width} ${lay.height}`);
    this.svg.setAttribute("width", String(lay.width));
    this.svg.setAttribute("height", String(lay.height));
    this.svg.dataset.nodes = String(lay.n);
    this.svg.dataset.items = String(lay.N);
    this.window = "";
    this.render(true);
    // wider than its panel (a phone): start with the input in the middle, not the empty left margin
    const w = this.view.width;
    if (w && lay.width > w) this.wrap.scrollLeft = Math.max(0, lay.x[0] - w / 2);
  }

  render(force) {
    const lay = this.lay;
    if (!lay) return;
    let r0 = 0, r1 = lay.depth - 1;
    if (lay.N > DRAW_ALL) {
      const top = this.view.top, view = this.view.height || 600, row = BH + GY;
      r0 = Math.max(0, Math.floor((top - 400 - PAD) / row));
      r1 = Math.min(lay.depth - 1, Math.ceil((top + view + 400) / row));
    }
    const key = `${r0}:${r1}`;
    if (!force && key === this.window) return;
    this.window = key;
    const edges = svg("g", { class: "edges" }), nodes = svg("g", { class: "nodes" });
    for (const c of lay.chains) {
      if (lay.lv[c.to] < r0 || lay.lv[c.from] > r1) continue;
      edges.append(svg("path", { class: "edge", d: pathOf(edgePoints(lay, c, this.pt)), "marker-end": "url(#arrow)" }));
    }
    const L = this.rep.layers, bold = fitter("bold"), mono = fitter("mono"), sans = fitter("sans");
    for (let r = r0; r <= r1; r++) for (const v of lay.rows[r]) {
      if (lay.dummy[v]) continue;
      const l = v ? L[v - 1] : null;
      const name = l ? l.name : "input", shp = shape(l ? l.output_shape : this.rep.input_shape);
      const g = svg("g", { class: "node" + (v ? "" : " input") + (v - 1 === this.selected ? " sel" : ""),
        transform: `translate(${(lay.x[v] - BW / 2).toFixed(1)},${lay.y(r)})` });
      if (v) g.dataset.row = String(v - 1);
      const [shpText, sw] = mono(shp, BW - 16);
      g.append(svg("title", {}, `${name}${l ? " (" + l.kind + ")" : ""} → ${shp}`),
        svg("rect", { width: BW, height: BH, rx: 6 }),
        svg("text", { x: 8, y: 15, class: "n1" }, bold(name, BW - 16)[0]),
        svg("text", { x: 8, y: 31, class: "n2" }, shpText));
      if (l && BW - 24 - sw >= 28) g.append(svg("text", { x: BW - 8, y: 31, "text-anchor": "end", class: "n3" }, sans(l.kind, BW - 24 - sw)[0]));
      nodes.append(g);
    }
    this.svg.replaceChildren(defs(), edges, nodes);
  }

  setSelected(i) {
    this.selected = i;
    for (const g of this.svg.querySelectorAll(".node.sel")) g.classList.remove("sel");
    const g = this.svg.querySelector(`.node[data-row="${i}"]`);
    if (g) g.classList.add("sel");
  }

  node(i) { return this.svg.querySelector(`.node[data-row="${i}"]`); }
}

function defs() {
  const m = svg("marker", { id: "arrow", viewBox: "0 0 8 8", refX: "7", refY: "4", markerWidth: "7", markerHeight: "7",
    orient: "auto-start-reverse" });
  m.append(svg("path", { d: "M0,0 L8,4 L0,8 z", class: "arrowhead" }));
  const d = svg("defs");
  d.append(m);
  return d;
}
