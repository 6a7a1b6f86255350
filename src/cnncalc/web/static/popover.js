// The formula next to the number: a popover anchored to what was clicked, always fully inside the viewport.
//
// Placed below its anchor when it fits, else above, else beside; clamped to the viewport with a margin and
// scrolled inside itself when taller than the screen.  Escape or a click elsewhere closes it and gives the focus
// back to the number it came from.  It follows its anchor while the page or a panel scrolls.
import { $, h, fmt, pct, si, bytes, shape, LABEL, EXPLAIN_KEYS } from "./dom.js";

const GAP = 6, EDGE = 8;
let anchorOf = null;           // () => Element | DOMRect | null: the thing the popover points at, now
let opener = null;             // the element to give the focus back to

export function initPopover() {
  const pop = $("explain");
  $("explain-close").addEventListener("click", () => closePopover(true));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !pop.hidden) { e.preventDefault(); closePopover(true); }
  });
  document.addEventListener("pointerdown", (e) => {
    if (pop.hidden || pop.contains(e.target)) return;
    if (e.target.closest && e.target.closest(".num, .tile, .bar, .node, #rfchart")) return;   // they open their own
    closePopover(false);
  });
  const follow = () => { if (!pop.hidden) place(); };
  window.addEventListener("scroll", follow, { passive: true, capture: true });
  window.addEventListener("resize", follow);
}

export function closePopover(refocus) {
  const pop = $("explain");
  if (pop.hidden) return;
  pop.hidden = true;
  anchorOf = null;
  document.querySelectorAll(".open-anchor").forEach((e) => e.classList.remove("open-anchor"));
  if (refocus && opener && opener.isConnected) opener.focus({ preventScroll: true });
  opener = null;
}

// content: {title, subtitle, value, lines: [string], hl: RegExp|null, note}; anchor: () => Element|DOMRect
export function openPopover(anchor, content, focusBack) {
  const pop = $("explain");
  document.querySelectorAll(".open-anchor").forEach((e) => e.classList.remove("open-anchor"));
  $("explain-title").textContent = content.title;
  $("explain-sub").textContent = content.subtitle || "";
  $("explain-value").replaceChildren(...(content.value || []));
  const lines = content.lines || [];
  const hl = content.hl;
  const picked = hl ? lines.filter((l) => hl.test(String(l).trim())) : [];
  const steps = lines.filter((l) => /^\s/.test(l));
  const body = picked.length ? picked.map((l) => formulaLine(l, true)) : steps.map((l) => formulaLine(l, false));
  if (hl && !picked.length) body.unshift(h("div", { class: "fnote" }, content.empty || "no formula line for this number"));
  const all = $("explain-all");
  if (picked.length && lines.length > picked.length) {
    all.hidden = false;
    all.open = false;
    $("explain-all-body").replaceChildren(...lines.map((l) => formulaLine(l, hl && hl.test(String(l).trim()))));
  } else all.hidden = true;
  if (content.terms && content.terms.length) body.push(h("table", { class: "terms" },
    h("caption", null, content.termsTitle || "largest terms"),
    h("tbody", null, ...content.terms.map(([name, kind, v, p]) =>
      h("tr", null, h("td", { class: "tn", title: name }, name), h("td", { class: "tk" }, kind),
        h("td", { class: "tv" }, v), h("td", { class: "tp" }, p))))));
  $("explain-body").replaceChildren(...body);
  $("explain-note").textContent = content.warn || content.note || "";
  $("explain-note").className = content.warn ? "pop-note warn" : "pop-note";
  $("explain-note").hidden = !(content.warn || content.note);
  anchorOf = anchor;
  opener = focusBack || (document.activeElement !== document.body ? document.activeElement : null);
  pop.hidden = false;
  const a = anchor();
  if (a instanceof Element) a.classList.add("open-anchor");
  place();
}

// "    macs = 1 * 2 = 2   [why]" -> the formula in monospace, the bracketed reason under it in the UI font
function formulaLine(line, strong) {
  const s = String(line);
  const m = /^(\s*)(.*?)(?:\s{2,}\[(.*)\])?$/.exec(s);
  const indent = m[1].length > 4 ? "sub" : "";
  const kids = [h("code", null, m[2])];
  if (m[3]) kids.push(h("span", { class: "why" }, m[3]));
  return h("div", { class: `fline ${strong ? "hl" : ""} ${indent}` }, ...kids);
}

function place() {
  const pop = $("explain");
  const a = anchorOf && anchorOf();
  if (!a) return;
  const r = a instanceof Element ? a.getBoundingClientRect() : a;
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  pop.style.maxWidth = Math.max(200, vw - 2 * EDGE) + "px";
  pop.style.maxHeight = Math.max(120, vh - 2 * EDGE) + "px";
  pop.style.left = "0px"; pop.style.top = "0px";
  const w = pop.offsetWidth, ht = pop.offsetHeight;
  let top;
  if (r.bottom + GAP + ht <= vh - EDGE) top = r.bottom + GAP;                 // below
  else if (r.top - GAP - ht >= EDGE) top = r.top - GAP - ht;                  // above
  else top = Math.max(EDGE, Math.min(vh - EDGE - ht, r.top + r.height / 2 - ht / 2));   // beside, centred
  let left = Math.min(Math.max(EDGE, r.left), vw - EDGE - w);
  if (top < r.bottom && top + ht > r.top) {                                    // beside: keep off the anchor
    if (r.right + GAP + w <= vw - EDGE) left = r.right + GAP;
    else if (r.left - GAP - w >= EDGE) left = r.left - GAP - w;
  }
  pop.style.left = Math.max(EDGE, left) + "px";
  pop.style.top = Math.max(EDGE, top) + "px";
}

// ------------------------------------------------------------------ what a number's popover says

export function layerContent(rep, i, col) {
  const l = rep.layers[i];
  const label = col ? LABEL[col] : "every step";
  let value = [];
  if (col === "output_shape") value = [h("b", null, shape(l.output_shape))];
  else if (col === "rf") value = [h("b", null, rfLabel(l.rf))];
  else if (col) value = [h("b", null, fmt(l[col])), unit(col, l[col]), share(rep, l, col)];
  return {
    title: `${l.name} — ${label}`,
    subtitle: `layer ${l.index} · ${l.kind} · ${shape(l.input_shape)} → ${shape(l.output_shape)}`,
    value, lines: l.explain || [], hl: col ? EXPLAIN_KEYS[col] : null,
    empty: col === "rf" ? "this layer does not change the receptive field" :
      `no formula line: ${l.kind} counts ${fmt(l[col] || 0)} ${label}`,
    warn: l.warnings.length ? "⚠ " + l.warnings.join(" · ") : "",
  };
}

function rfLabel(rf) {
  if (!rf) return "no spatial receptive field";
  if (rf.global) return "global: sees the whole input";
  return `size ${rf.size.join("×")}, stride ${rf.stride.join("×")}` + (rf.approximate ? " (approximate)" : "");
}
function unit(col, v) {
  if (col.endsWith("bytes")) return h("span", { class: "unit" }, ` B = ${bytes(v)}`);
  return v >= 1000 ? h("span", { class: "unit" }, ` = ${si(v)}`) : null;
}
function share(rep, l, col) {
  const t = rep.totals[col];
  return t > 0 && l[col] > 0 ? h("span", { class: "unit" }, ` · ${pct(l[col], t)} of the total`) : null;
}

// a total: the sum it is, with the largest terms named
export function totalContent(rep, key) {
  const t = rep.totals, L = rep.layers;
  if (key === "peak_activation_bytes") {
    let at = -1, best = -1;
    L.forEach((l, i) => { if ((l.live_bytes || 0) > best) { best = l.live_bytes || 0; at = i; } });
    const l = L[at];
    const lines = ["peak activation memory (inference)",
      `    peak = ${fmt(rep.peak_activation_bytes)} bytes   [the most bytes of tensors alive at once: a tensor lives from the layer that makes it to its last consumer]`];
    if (l) lines.push(`    live while layer ${l.index} (${l.name}) runs = ${fmt(l.live_bytes)} bytes`);
    lines.push(`    sum of all layer outputs = ${fmt(t.activation_bytes)} bytes; input = ${fmt(rep.input_bytes)} bytes   [what a framework that kept every tensor would hold]`);
    return { title: "Peak activations", subtitle: `dtype ${rep.dtype} · batch ${rep.batch}`,
      value: [h("b", null, fmt(rep.peak_activation_bytes)), h("span", { class: "unit" }, ` B = ${bytes(rep.peak_activation_bytes)}`)],
      lines, hl: null };
  }
  if (key === "param_bytes") {
    const nb = t.params ? t.param_bytes / t.params : 0;
    const lines = ["parameter memory", `    param_bytes = ${fmt(t.params)} params * ${num(nb)} bytes (${rep.dtype}) = ${fmt(t.param_bytes)}`];
    if (t.buffer_bytes) lines.push(`    buffer_bytes = ${fmt(t.buffer_bytes)}   [running statistics, not parameters]`);
    return { title: "Parameter memory", subtitle: `dtype ${rep.dtype}`,
      value: [h("b", null, fmt(t.param_bytes)), h("span", { class: "unit" }, ` B = ${bytes(t.param_bytes)}`)], lines, hl: null };
  }
  const parts = L.map((l) => [l, l[key] || 0]).filter(([, v]) => v > 0);
  const sorted = parts.slice().sort((a, b) => b[1] - a[1]);
  const label = LABEL[key] || key;
  const lines = [`${label} of the network`];
  if (parts.length <= 12 && parts.length > 1)
    lines.push(`    ${key} = ${parts.map(([, v]) => fmt(v)).join(" + ")} = ${fmt(t[key])}`);
  else
    lines.push(`    ${key} = sum over the ${fmt(parts.length)} layers that have any = ${fmt(t[key])}   [one term per layer: click a layer's number for its formula]`);
  if (key === "params") lines.push(`    trainable ${fmt(t.trainable_params)} + non-trainable ${fmt(t.non_trainable_params)} = ${fmt(t.params)}`);
  if (key === "macs") lines.push(`    mults = ${fmt(t.mults)}; adds = ${fmt(t.adds)}   [exact counts of the multiply-accumulate layers]`);
  const terms = sorted.slice(0, 5).map(([l, v]) => [String(l.name), String(l.kind), fmt(v), pct(v, t[key])]);
  const defs = rep.definitions || {};
  return { title: `${TOTAL[key] || label} — total`, subtitle: `${fmt(L.length)} layers · ${rep.convention} · dtype ${rep.dtype}`,
    value: [h("b", null, fmt(t[key])), unit(key, t[key])], lines, hl: null, note: defs[key] || "",
    terms, termsTitle: sorted.length > 5 ? `the 5 largest of ${fmt(sorted.length)} terms` : "the terms, largest first" };
}
const TOTAL = { params: "Parameters", macs: "MACs", flops: "FLOPs" };
function num(v) { return Number.isInteger(v) ? String(v) : v.toFixed(2); }
