// cnncalc page: type a network, see every number, click one to see why. No framework, no CDN, no inline code.
//
// Modules: dom.js (element builders, number formats), editor.js (gutter and error mark), table.js (the virtual
// layer table), popover.js (the formula next to the number), charts.js (receptive field, bars), graph.js (the
// layered graph).  Every user string reaches the DOM as text (see dom.js).
import { $, h, fmt, si, bytes, shape, b64e, b64d, perFrame, tx, UI } from "./dom.js";
import { Editor } from "./editor.js";
import { LayerTable } from "./table.js";
import { initPopover, openPopover, closePopover, layerContent, totalContent } from "./popover.js";
import { renderRFChart, renderRFGrid, Bars } from "./charts.js";
import { Graph } from "./graph.js";
import { renderTraining } from "./training.js";
import { initPractice } from "./practice.js";

const SEED = "# the seed MNIST network (217,706 parameters)\ninput(1, 28, 28)\nconv2d(32, 5) | relu\nmaxpool2d(2)\n" +
  "conv2d(32, 3) | relu\nmaxpool2d(2)\nflatten\ndense(256) | relu\ndense(10) | softmax\n";
const state = { report: null, selected: -1, timer: null, seq: 0, renders: 0 };
let editor, table, bars, graph;

// ------------------------------------------------------------------ state in the URL: nothing typed is lost
function saveHash() {
  const p = new URLSearchParams({ s: b64e(editor.value), c: $("convention").value, b: $("batch").value,
    d: $("dtype").value });
  if (UI.lang !== "en") p.set("l", UI.lang);
  if ($("train").checked) { p.set("t", "1"); p.set("o", $("optimizer").value); if ($("amp").value) p.set("a", $("amp").value); }
  history.replaceState(null, "", "#" + p.toString());
}
function loadHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  let spec = SEED;
  try { if (p.has("s")) spec = b64d(p.get("s")); } catch (e) { /* a damaged link: the seed network */ }
  editor.value = spec;
  const pick = (id, v) => { if (v !== null && [...$(id).options].some((o) => o.value === v)) $(id).value = v; };
  pick("convention", p.get("c"));
  pick("dtype", p.get("d"));
  if (p.has("b") && /^\d{1,7}$/.test(p.get("b"))) $("batch").value = p.get("b");
  $("train").checked = p.get("t") === "1";
  pick("lang", p.get("l"));
  UI.lang = $("lang").value;
  pick("optimizer", p.get("o"));
  pick("amp", p.get("a"));
}

// ------------------------------------------------------------------ talking to the server
// -> {data} on success, or {error: {kind: "spec" | "request" | "server" | "network", status, message, line, column}}
async function call(url, init) {
  let res;
  try { res = await fetch(url, init); }
  catch (e) {
    return { error: { kind: "network", message: `cannot reach the cnncalc server at ${location.host} — is ` +
      `\`cnncalc serve\` still running? (${e.message || e})` } };
  }
  performance.mark("cnncalc:response");
  const type = res.headers.get("content-type") || "";
  let data = null, text = "";
  try { if (type.includes("json")) data = await res.json(); else text = await res.text(); } catch (e) { data = null; }
  performance.mark("cnncalc:parsed");
  if (res.ok) {
    if (data !== null || !type.includes("json")) return { data: data !== null ? data : text };
    return { error: { kind: "server", status: res.status, message: "the server's answer was not valid JSON" } };
  }
  const msg = (data && (data.message || data.error)) || `${res.status} ${res.statusText || ""}`.trim() +
    (text ? ` — the server answered ${type.split(";")[0] || "text"}, not a cnncalc error` : "");
  const kind = res.status >= 500 ? "server" : data && data.kind === "spec" ? "spec" : "request";
  return { error: { kind, status: res.status, message: msg, line: data && data.line, column: data && data.column } };
}

function requestBody(format) {
  const b = parseInt($("batch").value, 10);
  const train = $("train").checked ? { train: true, optimizer: $("optimizer").value, amp: $("amp").value || null } : {};
  return JSON.stringify({ spec: editor.value, convention: $("convention").value,
    batch: Number.isFinite(b) && b > 0 ? b : null, dtype: $("dtype").value, format: format || "json", ...train,
    lang: UI.lang });
}

async function analyze() {
  const seq = ++state.seq;
  clearTimeout(state.timer);
  saveHash();
  busy(true);
  const t0 = performance.now();
  const r = await call("/api/analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body: requestBody() });
  if (seq !== state.seq) return;              // a newer request is on its way
  busy(false);
  if (r.error) return showError(r.error);
  showReport(r.data, { serverMs: performance.now() - t0 });
}
function schedule() {
  clearTimeout(state.timer);
  editor.textChanged();
  state.timer = setTimeout(analyze, 250);
}
function busy(on) {
  clearTimeout(state.busyTimer);
  if (on) state.busyTimer = setTimeout(() => $("busy").hidden = false, 150);
  else $("busy").hidden = true;
}

// ------------------------------------------------------------------ errors: where, what, and whose
const TITLES = { spec: "Spec error", request: "Request refused", server: "Server error", network: "Network error" };
function showError(err) {
  busy(false);
  const s = $("status");
  s.className = "error";
  const where = err.kind === "spec" && err.line ? ` — line ${err.line}${err.column ? ", column " + err.column : ""}` : "";
  const head = TITLES[err.kind] + (err.status && err.kind !== "spec" ? ` (HTTP ${err.status})` : "") + where;
  const kids = [h("strong", null, head), h("span", { class: "msg" }, String(err.message || "error"))];
  if (err.kind === "spec" && err.line) {
    const go = h("button", { type: "button", class: "linkish" }, "show in the editor");
    go.addEventListener("click", () => editor.reveal(err.line, err.column));
    kids.push(go);
  }
  if (state.report) kids.push(h("span", { class: "stale-note" }, "The results below are from the last network that worked."));
  s.replaceChildren(...kids);
  $("resultbody").classList.toggle("stale", !!state.report);
  editor.setError(err.kind === "spec" ? err : null);
  const hint = $("errhint");
  hint.hidden = err.kind !== "spec";
  // under the editor, short: where, and the gist (the banner above the results has the whole message)
  const gist = String(err.message || "").replace(/^.*?line \d+(, column \d+)?: /, "").split("; ")[0];
  hint.textContent = err.kind === "spec" ? (err.line ? `Line ${err.line}${err.column ? ", column " + err.column : ""}: ` : "") + gist : "";
}

// ------------------------------------------------------------------ results
function showReport(rep, meta) {
  performance.mark("cnncalc:render-start");
  closePopover(false);
  state.report = rep;
  $("resultbody").classList.remove("stale");
  $("errhint").hidden = true;
  editor.setError(null);
  renderTotals(rep);
  table.setReport(rep);
  if (state.selected < 0 || state.selected >= rep.layers.length) state.selected = rep.layers.length - 1;
  bars.setReport(rep);
  graph.setReport(rep);
  renderTraining(rep);
  select(state.selected);
  void document.body.offsetHeight;                    // style and layout are part of the render
  performance.mark("cnncalc:render-end");
  const m = performance.measure("cnncalc:render", "cnncalc:render-start", "cnncalc:render-end");
  state.renders++;
  const root = document.documentElement.dataset;
  root.renderMs = m.duration.toFixed(1);
  root.renders = String(state.renders);
  root.rows = String(rep.layers.length);
  const s = $("status");
  s.className = "ok";
  const warn = rep.warnings.length ? h("span", { class: "warn" }, `⚠ ${rep.warnings.length} warning${rep.warnings.length > 1 ? "s" : ""}: ${rep.warnings.join(" · ")}`) : null;
  s.replaceChildren(h("span", null, `${fmt(rep.layers.length)} layers · ${rep.convention}` +
    (meta.file ? ` · ${meta.file}` : "") + (meta.serverMs ? ` · answered in ${Math.round(meta.serverMs)} ms` : "") +
    ` · drawn in ${Math.round(m.duration)} ms`), ...(warn ? [warn] : []));
  requestAnimationFrame(() => setTimeout(() => {            // the first frame with the new numbers painted
    performance.mark("cnncalc:painted");
    root.paintMs = performance.measure("cnncalc:paint", "cnncalc:render-start", "cnncalc:painted").duration.toFixed(1);
  }, 0));
}

function renderTotals(rep) {
  const t = rep.totals;
  const tile = (key, label, value, sub) => h("button", { type: "button", class: "tile", dataset: { total: key },
    "aria-label": `${label}: ${value} — show how it is summed` }, h("span", { class: "k" }, label), h("b", { title: value }, value),
    h("span", { class: "sub" }, sub));
  $("totals").replaceChildren(
    tile("params", tx("Parameters"), fmt(t.params), `${si(t.params)} · trainable ${fmt(t.trainable_params)}`),
    tile("macs", tx("MACs"), fmt(t.macs), `${si(t.macs)} · mults ${si(t.mults)} · adds ${si(t.adds)}`),
    tile("flops", tx("FLOPs"), fmt(t.flops), si(t.flops) || "0"),
    tile("peak_activation_bytes", tx("Peak activations"), bytes(rep.peak_activation_bytes),
      `${fmt(rep.peak_activation_bytes)} B · all outputs ${bytes(t.activation_bytes)}`),
    tile("param_bytes", tx("Parameter memory"), bytes(t.param_bytes), `${fmt(t.param_bytes)} B · ${rep.dtype}`));
  $("context").textContent = `Input ${shape(rep.input_shape)} · convention ${rep.convention} · dtype ${rep.dtype} · ` +
    `batch ${rep.batch}. MACs: multiply-accumulates of conv/dense/recurrent layers, bias excluded. FLOPs: every ` +
    `floating-point operation.`;
  $("rowcount").textContent = `${fmt(rep.layers.length)} layers`;
}

function select(i) {
  const rep = state.report;
  if (!rep || !rep.layers[i]) return;
  state.selected = i;
  table.setSelected(i);
  graph.setSelected(i);
  renderRFGrid(rep, i);
  renderRFChart(rep, i, pickFromChart);
}

// the formula of layer i's number col, next to the element it was asked from
function openLayer(i, col, el, find) {
  const rep = state.report;
  if (!rep || !rep.layers[i]) return;
  select(i);
  let last = el;
  const anchor = () => {
    if (last && last.isConnected) return last;
    last = find ? find() : null;                 // a virtual list redrew it: the same number, new element
    return last;
  };
  openPopover(anchor, layerContent(rep, i, col), el);
}
function pickFromChart(i, rect) {
  select(i);
  openPopover(() => rect, layerContent(state.report, i, "rf"), null);
}

// ------------------------------------------------------------------ exports and uploads
async function exportAs(format) {
  if (format === "json") {
    if (!state.report) return;
    return download(JSON.stringify(state.report, null, 2), "cnncalc.json", "application/json");
  }
  const r = await call("/api/analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body: requestBody(format) });
  if (r.error) return showError(r.error);
  download(r.data, format === "csv" ? "cnncalc.csv" : "cnncalc.md", "text/plain");
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
  fd.append("lang", UI.lang);
  if ($("upinput").value.trim()) fd.append("input", $("upinput").value.trim());
  const seq = ++state.seq;
  $("upname").textContent = f.name;
  busy(true);
  const t0 = performance.now();
  const r = await call("/api/analyze/file", { method: "POST", body: fd });
  if (seq !== state.seq) return;
  busy(false);
  if (r.error) return showError(r.error);
  showReport(r.data, { file: f.name, serverMs: performance.now() - t0 });
}

// ------------------------------------------------------------------ wiring
async function init() {
  editor = new Editor();
  table = new LayerTable({
    onSelect: (i, how) => {
      select(i);
      if (how && how.fromKeyboard && !$("explain").hidden && how.cell) openLayer(i, how.col, how.cell, () => table.cell(i, how.col));
    },
    onOpen: (i, col, td) => openLayer(i, col, td, () => table.cell(i, col)),
    onOpenTotal: (key, td) => state.report && openPopover(() => td, totalContent(state.report, key), td),
  });
  bars = new Bars({ onOpen: (i, key, b) => openLayer(i, key, b, () => bars.find(i)) });
  graph = new Graph({ onOpen: (i, g) => openLayer(i, null, g, () => graph.node(i)) });
  initPopover();
  loadHash();
  $("spec").addEventListener("input", schedule);
  for (const id of ["convention", "batch", "dtype", "train", "optimizer", "amp"]) $(id).addEventListener("change", analyze);
  $("lang").addEventListener("change", () => { UI.lang = $("lang").value; document.documentElement.lang = UI.lang === "zh" ? "zh-CN" : "en"; analyze(); });
  initPractice();
  $("totals").addEventListener("click", (e) => {
    const b = e.target.closest(".tile");
    if (b && state.report) openPopover(() => b, totalContent(state.report, b.dataset.total), b);
  });
  const redraw = perFrame(() => { if (state.report) { renderRFChart(state.report, state.selected, pickFromChart); renderRFGrid(state.report, state.selected); } });
  new ResizeObserver(redraw).observe($("charts"));
  $("exp-json").onclick = () => exportAs("json");
  $("exp-csv").onclick = () => exportAs("csv");
  $("exp-md").onclick = () => exportAs("markdown");
  $("share").onclick = async () => {
    saveHash();
    let ok = true;
    try { await navigator.clipboard.writeText(location.href); } catch (e) { ok = false; }
    $("sharenote").textContent = ok ? "Link copied" : "Copy the address bar: it holds the network";
    setTimeout(() => { $("sharenote").textContent = ""; }, 4000);
  };
  $("upload").addEventListener("change", upload);
  $("zoo").addEventListener("change", async () => {
    const name = $("zoo").value;
    if (!name) return;
    const r = await call("/api/zoo/" + encodeURIComponent(name));
    if (r.error) return showError(r.error);
    editor.value = r.data.spec;
    if (/input\(\s*\d+\s*,\s*\d+\s*,\s*3\s*\)/.test(r.data.spec)) $("convention").value = "keras";
    analyze();
  });
  const r = await call("/api/zoo");
  if (r.data) for (const m of r.data) $("zoo").append(new Option(`${m.name} — ${m.description}`, m.name));
  analyze();
}
window.addEventListener("DOMContentLoaded", init);
