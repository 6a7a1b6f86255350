// The layer table: a virtual grid.  Only the rows in view (and a block either side) are in the DOM; the rest
// of the table's height is padding on its sizer, so 10,000 layers scroll like 50.  Column widths are fixed per
// report (from the longest value of each column), so they do not jump while rows come and go.  The header and
// the totals row stick to the panel; the # and Layer columns stick to its left edge.
//
// Keyboard: one cell is in the tab order (roving tabindex); arrows, Home/End and PageUp/PageDown move; Enter or
// Space opens the cell's formula.
import { $, h, fmt, pct, shape, rfText, COLS, SHARED, watchScroll, tx, UI } from "./dom.js";

const PAD = 18;                          // a cell's left + right padding (style.css)
const BLOCK = 10;                        // rows are added and removed in blocks of this many
const SHARED_KEYS = [...SHARED];
const CLICKABLE = new Set(COLS.filter(([k, , a]) => a === "n" || k === "output_shape" || k === "rf").map(([k]) => k));

export class LayerTable {
  constructor({ onSelect, onOpen, onOpenTotal }) {
    this.wrap = $("tablewrap");
    this.sizer = $("tablesizer");
    this.table = $("layers");
    this.colgroup = this.table.querySelector("colgroup");
    this.thead = this.table.querySelector("thead");
    this.tbody = this.table.querySelector("tbody");
    this.tfoot = this.table.querySelector("tfoot");
    this.onSelect = onSelect; this.onOpen = onOpen; this.onOpenTotal = onOpenTotal;
    this.rep = null; this.rowH = 29; this.range = [0, 0]; this.selected = -1;
    this.cursor = { row: 0, col: 1 };
    // a phone: the sticky name column is kept narrow (names are ellipsised, the full name is on hover)
    this.narrow = matchMedia("(max-width: 600px)");
    this.narrow.addEventListener("change", () => { if (this.rep) { this.widthKey = ""; this.setReport(this.rep); } });
    this.view = watchScroll(this.wrap, () => this.render(false));
    this.table.addEventListener("click", (e) => this.click(e));
    this.table.addEventListener("keydown", (e) => this.key(e));
    this.table.addEventListener("focusin", (e) => {
      const td = e.target.closest("td");
      if (td && td.dataset.row !== undefined) this.setCursor(+td.dataset.row, COLS.findIndex(([k]) => k === td.dataset.col));
    });
  }

  setReport(rep) {
    this.rep = rep;
    const n = rep.layers.length;
    this.table.setAttribute("aria-rowcount", String(n + 2));
    this.sizeColumns(rep);
    if (!this.thead.firstChild || this.headLang !== UI.lang) {
      this.headLang = UI.lang;
      this.thead.replaceChildren(h("tr", { "aria-rowindex": "1" }, ...COLS.map(([k, label, a]) =>
        h("th", { class: `c-${k} ${a}`, scope: "col", title: k === "macs" ? "multiply-accumulates" : null }, tx(label)))));
    }
    const t = rep.totals;
    this.tfoot.replaceChildren(h("tr", { "aria-rowindex": String(n + 2) }, ...COLS.map(([k, , a]) => {
      if (k === "index") return h("td", { class: "c-index i" }, "");
      if (k === "name") return h("td", { class: "c-name l" }, h("b", null, tx("Total")));
      if (a !== "n") return h("td", { class: `c-${k} ${a}` }, "");
      return h("td", { class: `c-${k} n num`, tabindex: "-1", dataset: { total: k } }, h("b", null, fmt(t[k])));
    })));
    if (this.cursor.row >= n) this.cursor.row = Math.max(0, n - 1);
    this.totSig = SHARED_KEYS.map((k) => t[k]).join(",");
    this.render(true);
  }

  // fixed column widths, in ch of the table's font, from the longest value of each column
  sizeColumns(rep) {
    const L = rep.layers, n = L.length;
    const longest = (f, cap) => { let m = 0; for (let i = 0; i < n; i++) { const v = f(L[i]); if (v > m) m = v; } return Math.min(m, cap); };
    const widths = COLS.map(([k, label, a]) => {
      let w;
      if (k === "index") w = String(n).length + 1;
      else if (k === "name") w = longest((l) => String(l.name).length, this.narrow.matches ? 13 : 30) + 2;
      else if (k === "kind") w = longest((l) => String(l.kind).length, 18);
      else if (k === "output_shape") w = longest((l) => shape(l.output_shape).length, 28);
      else if (k === "rf") w = longest((l) => rfText(l.rf).length, 18);
      else {
        let max = rep.totals[k] || 0;
        w = fmt(max).length + (SHARED.has(k) ? 6.5 : 0);
      }
      return Math.max(w, label.length * 0.95, 4);
    });
    const key = widths.map((w) => w.toFixed(1)).join(",");
    if (key === this.widthKey) return;                    // unchanged: touch nothing (no relayout)
    this.widthKey = key;
    const cols = widths.map((w) => { const c = h("col"); c.style.width = `calc(${w.toFixed(1)}ch + ${PAD}px)`; return c; });
    this.colgroup.replaceChildren(...cols);
    const total = widths.reduce((a, b) => a + b, 0);
    this.table.style.width = `max(100%, calc(${total.toFixed(1)}ch + ${PAD * widths.length}px))`;
    this.table.style.setProperty("--c0", `calc(${widths[0].toFixed(1)}ch + ${PAD}px)`);
    // the sticky columns and rows must not hide a cell scrolled into view (keyboard, clicks)
    this.wrap.style.scrollPaddingLeft = `calc(${(widths[0] + widths[1]).toFixed(1)}ch + ${2 * PAD}px)`;
  }

  // what row i shows, as one string: a row whose signature did not change is left alone on a re-render
  sig(i) {
    const l = this.rep.layers[i];
    return `${l.index}|${l.name}|${l.kind}|${l.output_shape}|${l.params}|${l.macs}|${l.flops}|${l.mults}|${l.adds}|` +
      `${l.activation_bytes}|${l.param_bytes}|${rfText(l.rf)}|${l.warnings.join("\n")}|${this.totSig}`;
  }

  row(i, sig) {
    const l = this.rep.layers[i], tot = this.rep.totals;
    const cells = COLS.map(([k, , a]) => {
      let kids, title = null;
      if (k === "index") kids = [String(l.index)];
      else if (k === "name") {
        kids = [String(l.name)];
        if (l.warnings.length) kids.push(h("span", { class: "warnmark", "aria-label": "warning" }, " ⚠"));
        title = l.warnings.length ? `${l.name}\n⚠ ${l.warnings.join("\n⚠ ")}` : String(l.name);
      } else if (k === "kind") { kids = [String(l.kind)]; title = String(l.kind); }
      else if (k === "output_shape") kids = [shape(l.output_shape)];
      else if (k === "rf") kids = [rfText(l.rf)];
      else {
        kids = [fmt(l[k])];
        if (SHARED.has(k) && tot[k] > 0 && l[k] > 0) kids.push(h("span", { class: "share" }, " " + pct(l[k], tot[k])));
      }
      const cls = `c-${k} ${a}${CLICKABLE.has(k) ? " num" : ""}`;
      return h("td", { class: cls, title, tabindex: "-1", dataset: { row: i, col: k } }, ...kids);
    });
    const tr = h("tr", { class: l.warnings.length ? "warn" : null, dataset: { row: i }, "aria-rowindex": String(i + 2) }, ...cells);
    tr.sig = sig;
    return this.decorate(tr, i);
  }

  // the selection and the keyboard cursor, on a new or a kept row
  decorate(tr, i) {
    tr.classList.toggle("sel", i === this.selected);
    const c = this.cursor.row === i ? tr.children[this.cursor.col] : null;
    const old = tr.querySelector('td[tabindex="0"]');
    if (old && old !== c) old.setAttribute("tabindex", "-1");
    if (c && c.getAttribute("tabindex") !== "0") c.setAttribute("tabindex", "0");
    return tr;
  }

  render(force) {
    if (!this.rep) return;
    const n = this.rep.layers.length;
    // measured once (reading a size forces a layout: a re-render would pay one per read)
    const headH = this.headH || (this.headH = this.thead.offsetHeight) || 35;
    const top = Math.max(0, this.view.top - headH);
    const view = this.view.height || 600;
    const first = Math.floor(top / this.rowH), visible = Math.ceil(view / this.rowH) + 1;
    const start = Math.max(0, (Math.floor(first / BLOCK) - 1) * BLOCK);
    const end = Math.min(n, (Math.ceil((first + visible) / BLOCK) + 1) * BLOCK);
    const same = start === this.range[0] && end === this.range[1];
    if (!force && same) return;
    this.range = [start, end];
    const hadFocus = this.tbody.contains(document.activeElement);
    const rows = [];
    if (same && this.tbody.children.length === end - start) {
      // the same rows in view (a re-analysis): replace only those that show something new
      const kept = [...this.tbody.children];
      for (let i = start; i < end; i++) {
        const tr = kept[i - start], sig = this.sig(i);
        if (tr.sig === sig) rows.push(this.decorate(tr, i));
        else { const fresh = this.row(i, sig); tr.replaceWith(fresh); rows.push(fresh); }
      }
    } else {
      for (let i = start; i < end; i++) rows.push(this.row(i, this.sig(i)));
      this.tbody.replaceChildren(...rows);
    }
    if (!this.measured && rows.length > 1) {   // the real row height (fonts, zoom), measured once it is drawn
      const rh = (rows[rows.length - 1].offsetTop - rows[0].offsetTop) / (rows.length - 1);
      if (rh > 0) { this.rowH = rh; this.measured = true; }
    }
    const pt = (start * this.rowH) + "px", pb = ((n - end) * this.rowH) + "px";
    if (this.sizer.style.paddingTop !== pt) this.sizer.style.paddingTop = pt;
    if (this.sizer.style.paddingBottom !== pb) this.sizer.style.paddingBottom = pb;
    if (hadFocus) this.focusCursor();
  }

  cell(row, col) {
    return this.tbody.querySelector(`td[data-row="${row}"][data-col="${col}"]`);
  }

  setSelected(i) {
    this.selected = i;
    for (const tr of this.tbody.querySelectorAll("tr.sel")) tr.classList.remove("sel");
    const tr = this.tbody.querySelector(`tr[data-row="${i}"]`);
    if (tr) tr.classList.add("sel");
  }

  // scroll so that row i is in view (below the sticky header, above the sticky totals)
  reveal(i) {
    const headH = this.thead.offsetHeight, footH = this.tfoot.offsetHeight;
    const y = headH + i * this.rowH, view = this.wrap.clientHeight;
    if (y - headH < this.wrap.scrollTop) this.wrap.scrollTop = y - headH;
    else if (y + this.rowH > this.wrap.scrollTop + view - footH) this.wrap.scrollTop = y + this.rowH - view + footH;
    this.render(false);
  }

  setCursor(row, col) {
    const old = this.tbody.querySelector('td[tabindex="0"]');
    this.cursor = { row, col };
    const td = this.cell(row, COLS[col][0]);
    if (old && old !== td) old.setAttribute("tabindex", "-1");
    if (td) td.setAttribute("tabindex", "0");
  }

  focusCursor() {
    const td = this.cell(this.cursor.row, COLS[this.cursor.col][0]);
    if (td) { td.setAttribute("tabindex", "0"); td.focus({ preventScroll: true }); }
  }

  click(e) {
    const td = e.target.closest("td");
    if (!td) return;
    if (td.dataset.total) return this.onOpenTotal(td.dataset.total, td);
    if (td.dataset.row === undefined) return;
    const row = +td.dataset.row, col = td.dataset.col;
    this.setCursor(row, COLS.findIndex(([k]) => k === col));
    this.onSelect(row);
    if (CLICKABLE.has(col)) this.onOpen(row, col, td);
  }

  key(e) {
    const td = e.target.closest("td");
    if (!td || !this.rep) return;
    if (td.dataset.total) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.onOpenTotal(td.dataset.total, td); }
      return;
    }
    const n = this.rep.layers.length;
    let { row, col } = this.cursor;
    const page = Math.max(1, Math.floor(this.wrap.clientHeight / this.rowH) - 2);
    switch (e.key) {
      case "ArrowDown": row++; break;
      case "ArrowUp": row--; break;
      case "ArrowRight": col++; break;
      case "ArrowLeft": col--; break;
      case "PageDown": row += page; break;
      case "PageUp": row -= page; break;
      case "Home": if (e.ctrlKey) row = 0; else col = 0; break;
      case "End": if (e.ctrlKey) row = n - 1; else col = COLS.length - 1; break;
      case "Enter": case " ": {
        e.preventDefault();
        const k = COLS[col][0];
        this.onSelect(row);
        this.onOpen(row, CLICKABLE.has(k) ? k : null, td);
        return;
      }
      default: return;
    }
    e.preventDefault();
    row = Math.max(0, Math.min(n - 1, row)); col = Math.max(0, Math.min(COLS.length - 1, col));
    this.cursor = { row, col };
    this.reveal(row);
    this.render(true);
    this.focusCursor();
    const cell = this.cell(row, COLS[col][0]);
    if (cell) cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    this.onSelect(row, { fromKeyboard: true, col: COLS[col][0], cell });
  }
}
