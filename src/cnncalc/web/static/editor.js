// The spec editor: a plain <textarea> with a line-number gutter and an error mark drawn under the text.
//
// The textarea never wraps (white-space: pre), so line i sits at padding + (i - 1) * line-height minus its
// scrollTop.  The gutter and the mark are positioned by that arithmetic and follow every scroll; only the line
// numbers in view (plus a margin) are in the DOM, so a 10,000-line spec costs what a 50-line one does.
import { $, h, perFrame } from "./dom.js";

const MARGIN = 8;          // lines drawn above and below the visible ones

export class Editor {
  constructor() {
    this.ta = $("spec");
    this.gutter = $("gutter");
    this.lines = $("gutter-lines");
    this.mirror = $("mirror-inner");
    this.err = null;
    this.count = 1;
    this.window = "";
    this.ta.addEventListener("scroll", () => this.sync());
    const later = perFrame(() => this.render(true));
    new ResizeObserver(later).observe(this.ta);
    if (document.fonts) document.fonts.ready.then(later);
  }

  metrics() {
    const cs = getComputedStyle(this.ta);
    this.lh = parseFloat(cs.lineHeight) || 20;
    this.padTop = parseFloat(cs.paddingTop) || 0;
    this.padLeft = parseFloat(cs.paddingLeft) || 0;
  }

  get value() { return this.ta.value; }
  set value(v) { this.ta.value = v; this.textChanged(); }

  // the text changed: the old error mark no longer points anywhere
  textChanged() {
    const v = this.ta.value;
    let n = 1;
    for (let i = v.indexOf("\n"); i !== -1; i = v.indexOf("\n", i + 1)) n++;
    this.count = n;
    this.err = null;
    this.render(true);
  }

  // err: {line, column} (1-based) or null
  setError(err) {
    this.err = err && Number.isInteger(err.line) && err.line >= 1 ? err : null;
    this.render(true);
  }

  render(force) {
    if (!this.lh || force) this.metrics();
    const top = this.ta.scrollTop, height = this.ta.clientHeight || 400;
    const first = Math.max(1, Math.floor((top - this.padTop) / this.lh) + 1 - MARGIN);
    const last = Math.min(this.count, Math.ceil((top + height) / this.lh) + MARGIN);
    const key = `${first}:${last}:${this.err ? this.err.line : 0}`;
    if (force || key !== this.window) {
      this.window = key;
      const errLine = this.err ? this.err.line : 0;
      const rows = [];
      for (let i = first; i <= last; i++) {
        const d = h("div", { class: i === errLine ? "gl err" : "gl" }, (i === errLine ? "▶" : "") + i);
        d.style.top = this.padTop + (i - 1) * this.lh + "px";
        rows.push(d);
      }
      this.lines.replaceChildren(...rows);
      this.gutter.style.setProperty("--digits", String(Math.max(2, String(this.count).length + (errLine ? 1 : 0))));
      this.renderMark();
    }
    this.position();
  }

  renderMark() {
    const err = this.err;
    if (!err) { this.mirror.replaceChildren(); return; }
    const text = this.ta.value.split("\n")[err.line - 1] ?? "";
    const c = Math.max(0, Math.min(text.length, (err.column || 1) - 1));
    const line = h("div", { class: "errline" }, text.slice(0, c),
      h("span", { class: "errmark" }, text.slice(c, c + 1) || " "), text.slice(c + 1));
    line.style.top = this.padTop + (err.line - 1) * this.lh + "px";
    line.style.paddingLeft = this.padLeft + "px";
    this.mirror.replaceChildren(line);
  }

  position() {
    this.lines.style.transform = `translateY(${-this.ta.scrollTop}px)`;
    this.mirror.style.transform = `translate(${-this.ta.scrollLeft}px, ${-this.ta.scrollTop}px)`;
  }

  sync() { this.render(false); }

  // put the caret on (line, column) and scroll it into the middle of the editor
  reveal(line, column) {
    const lines = this.ta.value.split("\n");
    let off = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
    off += Math.max(0, (column || 1) - 1);
    this.ta.focus({ preventScroll: true });
    this.ta.setSelectionRange(off, Math.min(off + 1, this.ta.value.length));
    this.ta.scrollTop = Math.max(0, this.padTop + (line - 1) * this.lh - this.ta.clientHeight / 2);
    this.sync();
  }
}
