// The training panel: one training step's memory (peak and its terms), backward MACs, the timeline of memory
// over forward, backward and the optimizer step, and the worked sum of the peak.  Text only (see dom.js).
import { $, h, svg, fmt, si, bytes, tx } from "./dom.js";

export function renderTraining(rep) {
  const panel = $("training-panel");
  const t = rep.training;
  if (!t) { panel.hidden = true; panel.replaceChildren(); return; }
  panel.hidden = false;
  const tile = (label, value, sub) => h("div", { class: "tile" }, h("span", { class: "k" }, label),
    h("b", { title: value }, value), h("span", { class: "sub" }, sub));
  const fixed = t.param_bytes + t.buffer_bytes + t.optimizer_bytes + t.weight_copy_bytes;
  const dominant = t.peak_activations > fixed + t.peak_gradients ? "activations dominate" :
    "parameters, gradients and optimizer state dominate";
  panel.replaceChildren(
    h("div", { class: "panel-head" }, h("h2", null, tx("Training step")),
      h("span", { class: "hint" }, `${t.optimizer}${t.amp ? " · amp " + t.amp : ""} · ${dominant}`)),
    h("div", { class: "tiles train-tiles" },
      tile(tx("Peak memory"), bytes(t.peak_bytes), `${fmt(t.peak_bytes)} B · ${t.peak_phase} at ${t.peak_layer}`),
      tile(tx("Parameters"), bytes(t.param_bytes), `+ buffers ${bytes(t.buffer_bytes)}`),
      tile(tx("Gradients"), bytes(t.gradient_bytes), `${fmt(t.gradient_bytes)} B`),
      tile(tx("Optimizer state"), bytes(t.optimizer_bytes), `${fmt(t.optimizer_bytes)} B`),
      tile(tx("Saved for backward"), bytes(t.saved_bytes), `${fmt(t.saved_bytes)} B at the end of the forward`),
      tile(tx("Backward MACs"), si(t.backward_macs) || "0", `${fmt(t.backward_macs)} · inputs ${si(t.backward_input_macs) || 0} · weights ${si(t.backward_weight_macs) || 0}`)),
    timeline(t),
    h("pre", { class: "formula train-explain" }, (t.explain || []).join("\n")));
}

function timeline(t) {
  const ev = t.timeline || [];
  const W = 640, H = 150, pad = 44;
  const g = svg("svg", { viewBox: `0 0 ${W} ${H + 26}`, class: "train-timeline", role: "img",
    "aria-label": "memory over the forward, backward and optimizer step" });
  if (!ev.length) return g;
  const max = Math.max(...ev.map((e) => e.total), 1);
  const x = (i) => pad + (W - pad - 8) * (ev.length > 1 ? i / (ev.length - 1) : 0);
  const y = (v) => H - (H - 12) * v / max;
  let start = 0;
  for (let i = 1; i <= ev.length; i++) {             // a band per phase
    if (i === ev.length || ev[i].phase !== ev[start].phase) {
      g.append(svg("rect", { x: x(start), y: 4, width: Math.max(x(i - 1) - x(start), 2), height: H - 4,
        class: `band ${ev[start].phase}` }));
      g.append(svg("text", { x: x(start) + 4, y: H + 14, class: "axis" }, ev[start].phase));
      start = i;
    }
  }
  g.append(svg("path", { d: ev.map((e, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(e.total).toFixed(1)}`).join(" "),
    class: "line total" }));
  const k = ev.findIndex((e) => e.total === t.peak_bytes);
  if (k >= 0) {
    g.append(svg("circle", { cx: x(k), cy: y(ev[k].total), r: 4, class: "peak" }));
    g.append(svg("text", { x: Math.min(x(k) + 6, W - 120), y: Math.max(y(ev[k].total) - 4, 12), class: "axis" },
      `peak ${bytes(t.peak_bytes)}`));
  }
  g.append(svg("text", { x: 2, y: 14, class: "axis" }, bytes(max)));
  g.append(svg("text", { x: 2, y: H, class: "axis" }, "0"));
  return g;
}
