// Building blocks shared by the page's modules.
//
// Every string from a report or a request (names, kinds, messages, warnings, file names) reaches the page
// through textContent or setAttribute, never as HTML: h() and svg() are the only ways this page builds elements.
export const $ = (id) => document.getElementById(id);

export function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const k in props || {}) {
    const v = props[k];
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export const NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------ numbers
// 1234567 -> "1,234,567" (fast: called for every cell of big tables)
export function fmt(n) {
  if (n === null || n === undefined) return "";
  if (typeof n !== "number") return String(n);
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1e21) return n.toExponential(3);
  const s = String(Math.round(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
export function si(n) {
  if (n === null || n === undefined) return "";
  for (const [u, v] of [["T", 1e12], ["G", 1e9], ["M", 1e6], ["K", 1e3]])
    if (Math.abs(n) >= v) return (n / v).toFixed(2) + " " + u;
  return String(n);
}
export function bytes(n) {
  if (n === null || n === undefined) return "";
  for (const [u, v] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]])
    if (n >= v) return (n / v).toFixed(1) + " " + u;
  return n + " B";
}
export function num(v) {
  return (v === null || v === undefined) ? "?" : (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/\.?0+$/, ""));
}
// a part of a total: "12.3%", "<0.1%" for a small non-zero part
export function pct(v, tot) {
  if (!(tot > 0) || !(v > 0)) return "";
  const p = 100 * v / tot;
  return p < 0.05 ? "<0.1%" : p.toFixed(1) + "%";
}
export const shape = (s) => s && s.length ? "(" + s.join(", ") + ")" : "-";
export const rfText = (rf) => !rf ? "-" : rf.global ? "global" :
  (rf.approximate ? "≈" : "") + rf.size.map(num).join("x") + " /" + rf.stride.map(num).join("x");

// the columns of the layer table (key, header, alignment: l = text, n = number), shared by table, bars and popover
export const COLS = [
  ["index", "#", "i"], ["name", "Layer", "l"], ["kind", "Kind", "l"], ["output_shape", "Output shape", "l"],
  ["params", "Params", "n"], ["macs", "MACs", "n"], ["flops", "FLOPs", "n"], ["mults", "Mults", "n"],
  ["adds", "Adds", "n"], ["activation_bytes", "Act. bytes", "n"], ["param_bytes", "Param bytes", "n"],
  ["rf", "RF size / stride", "l"],
];
export const LABEL = Object.fromEntries(COLS.map(([k, label]) => [k, label]));

// ------------------------------------------------------------------ the page's language (the switch in the header)
export const UI = { lang: "en" };
const ZH = {
  "Layer": "层", "Kind": "类型", "Output shape": "输出尺寸", "Params": "参数量", "MACs": "乘加次数",
  "FLOPs": "计算量", "Mults": "乘法次数", "Adds": "加法次数", "Act. bytes": "激活字节", "Param bytes": "参数字节",
  "RF size / stride": "感受野 / 步长", "Total": "合计", "Parameters": "参数量", "Peak activations": "激活峰值",
  "Parameter memory": "参数显存占用", "Training step": "训练一步", "Peak memory": "显存峰值",
  "Gradients": "梯度", "Optimizer state": "优化器状态", "Saved for backward": "反向传播保存的激活",
  "Backward MACs": "反向乘加次数", "trainable": "可训练", "Practice": "练习", "New problem": "出一道题",
  "Check": "判断", "Right": "答对了", "Wrong": "答错了", "Your answer": "你的答案", "Topic": "题型",
  "the answer is": "答案是",
};
export function tx(s) { return UI.lang === "zh" ? (ZH[s] || s) : s; }
LABEL.activation_bytes = "Activation bytes"; LABEL.param_bytes = "Parameter bytes"; LABEL.rf = "Receptive field";
export const SHARED = new Set(["params", "macs", "flops", "activation_bytes"]);   // cells with a share of the total

// which explanation lines belong to which column
export const EXPLAIN_KEYS = {
  output_shape: /^(\w+_out\b|pad_|features|offset|axis|shape|output)/, params: /^(params|gates)\b/,
  macs: /^macs\b/, flops: /^flops\b/, mults: /^mults\b/, adds: /^adds\b/, activation_bytes: /^activation_bytes\b/,
  param_bytes: /^(param_bytes|buffer_bytes)\b/, rf: /^rf/,
};

// base64url of UTF-8 text (the spec in the URL)
export function b64e(s) {
  const b = new TextEncoder().encode(s);
  let bin = "";
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
export function b64d(s) {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const b = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
  return new TextDecoder("utf-8", { fatal: true }).decode(b);
}

// a scrolling box's position and height, kept by its scroll event and a ResizeObserver: a re-render reads these
// instead of scrollTop / clientHeight, which would force a layout in the middle of building the page
export function watchScroll(el, onChange) {
  const s = { top: el.scrollTop, height: el.clientHeight, width: el.clientWidth };
  const later = perFrame(onChange);
  el.addEventListener("scroll", () => { s.top = el.scrollTop; later(); }, { passive: true });
  new ResizeObserver((entries) => {
    for (const e of entries) { s.height = e.contentRect.height; s.width = e.contentRect.width; }
    later();
  }).observe(el);
  return s;
}

// run fn at most once per animation frame
export function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fn(); });
  };
}
