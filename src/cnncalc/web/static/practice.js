// Practice: seed-style problems on small random networks (GET /api/practice), answers checked by the server
// (GET /api/practice/check), the worked solution shown after.  Reproducible from the topic and the seed.
import { $, tx, UI } from "./dom.js";

let current = null;

async function getJSON(url) {
  try {
    const res = await fetch(url);
    const data = await res.json();
    return res.ok ? data : { error: data.message || `${res.status}` };
  } catch (e) { return { error: `cannot reach the cnncalc server (${e.message || e})` }; }
}

async function newProblem() {
  const seed = Math.floor(Math.random() * 1e6);
  const topic = $("practice-topic").value;
  const q = new URLSearchParams({ topic, seed: String(seed), lang: UI.lang });
  const p = await getJSON("/api/practice?" + q);
  $("practice-solution").hidden = true;
  $("practice-verdict").textContent = "";
  $("practice-answer").value = "";
  if (p.error) { $("practice-question").textContent = p.error; current = null; return; }
  current = { topic, seed };
  $("practice-network").textContent = p.network;
  $("practice-question").textContent = `#${seed} · ${p.question}`;
  $("practice-answer").focus();
}

async function check() {
  if (!current) return;
  const q = new URLSearchParams({ topic: current.topic, seed: String(current.seed), lang: UI.lang,
    answer: $("practice-answer").value.slice(0, 200) });
  const r = await getJSON("/api/practice/check?" + q);
  if (r.error) { $("practice-verdict").textContent = r.error; return; }
  const v = $("practice-verdict");
  v.className = r.right ? "ok" : "bad";
  v.textContent = r.right === null ? `${tx("the answer is")} ${r.answer_text}` :
    `${tx(r.right ? "Right" : "Wrong")} — ${tx("the answer is")} ${r.answer_text}`;
  $("practice-solution").textContent = r.solution.join("\n");
  $("practice-solution").hidden = false;
}

export function initPractice() {
  $("practice-open").addEventListener("click", () => {
    const panel = $("practice-panel");
    panel.hidden = !panel.hidden;
    $("practice-h").textContent = tx("Practice");
    $("practice-new").textContent = tx("New problem");
    $("practice-check").textContent = tx("Check");
    $("practice-topic-l").textContent = tx("Topic");
    if (!panel.hidden) { panel.scrollIntoView({ block: "nearest" }); if (!current) newProblem(); }
  });
  $("practice-new").addEventListener("click", newProblem);
  $("practice-check").addEventListener("click", check);
  $("practice-answer").addEventListener("keydown", (e) => { if (e.key === "Enter") check(); });
}
