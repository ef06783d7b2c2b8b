// convtrace explorer, the page's adapter: the shared front end (explorer.js) answered by the
// FastAPI API (`convtrace serve`), plus the page's own panel, the network planner.
"use strict";

import { mount, registerPanel } from "./explorer.js";
// the streaming switch (issue 19): registers its panel before mount
import "./stream.js";

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body) });
  const text = await r.text();
  try {
    return { ok: r.ok, status: r.status, data: JSON.parse(text) };
  } catch (e) {  // not the API's JSON (a server failure): said as an error, never thrown
    return { ok: false, status: r.status, data: { detail: { error: "server", rule: `${r.status} ${text.slice(0, 200)}` } } };
  }
}

const PLANNER = `
  <h2 data-i18n="plan">Plan a network</h2>
  <form id="stack-form" class="plan" data-testid="stack-form" autocomplete="off">
    <label><span data-i18n="stack">stack</span>
      <input name="stack" value="conv k=7 p=3; 4x(conv k=4 s=2 p=1)" data-testid="stack"></label>
    <label><span data-i18n="length">input length</span> <input name="length" type="number" value="16000" data-testid="stack-length"></label>
    <button type="submit" data-testid="stack-run" data-i18n="analyse">analyse</button>
  </form>
  <pre id="stack-report" data-testid="stack-report" class="detail"></pre>
  <form id="solve-form" class="plan" data-testid="solve-form" autocomplete="off">
    <label><span data-i18n="goal">goal</span>
      <select name="goal" data-testid="goal">
        <option>same</option><option selected>down</option><option>up</option><option>undo</option><option>length</option>
      </select></label>
    <label>stride <input name="stride" type="number" value="4" data-testid="solve-stride"></label>
    <label><span data-i18n="kernel_sizes">kernel sizes</span> <input name="kernel_sizes" value="1..16" data-testid="solve-kernels"></label>
    <label><span data-i18n="length">input length</span> <input name="length" type="number" placeholder="—" data-testid="solve-length"></label>
    <label><span data-i18n="target">target length</span> <input name="target" type="number" placeholder="—" data-testid="solve-target"></label>
    <label><span data-i18n="conv">layer to undo</span> <input name="conv" placeholder="conv k=4 s=2 p=1" data-testid="solve-conv"></label>
    <button type="submit" data-testid="solve-run" data-i18n="solve">solve</button>
  </form>
  <pre id="solve-report" data-testid="solve-report" class="detail"></pre>`;

// how many characters of the panel's monospace font fit on one of its lines
function columns(panel) {
  const probe = document.createElement("span");
  probe.textContent = "0".repeat(20);
  panel.appendChild(probe);
  const perChar = probe.getBoundingClientRect().width / 20;
  const style = getComputedStyle(panel);
  const inner = panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  probe.remove();  // (an empty panel is not displayed: measured while it holds the probe)
  return Math.max(20, Math.min(400, Math.floor(inner / (perChar || 8))));
}

// the planner (`convtrace stack` / `convtrace solve`), below the explorer's view; its reports
// follow the language
registerPanel({
  name: "planner",
  mount(ctx) {
    ctx.view.insertAdjacentHTML("beforeend", PLANNER);
    const planRuns = {};
    async function runPlan(e, path, formId, outId) {
      if (e) e.preventDefault();
      planRuns[formId] = [path, outId];
      const f = ctx.$(formId);
      const body = {};
      for (const el of f.elements) {
        if (!el.name || el.value.trim() === "") continue;
        body[el.name] = el.type === "number" ? Number.parseInt(el.value, 10) : el.value.trim();
      }
      body.width = columns(ctx.$(outId));
      const r = await post(path, { ...body, lang: ctx.lang() });
      ctx.$(outId).textContent = r.ok ? r.data.text : ctx.errorLines(r.data.detail).join("\n");
      ctx.root.dataset.plan = String(Number(ctx.root.dataset.plan || 0) + 1);
    }
    ctx.$("stack-form").addEventListener("submit", (e) => runPlan(e, "/api/stack", "stack-form", "stack-report"));
    ctx.$("solve-form").addEventListener("submit", (e) => runPlan(e, "/api/solve", "solve-form", "solve-report"));
    let first = true;
    return {
      language(lang) {
        document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
        if (first) { first = false; return; }
        for (const [formId, [path, outId]] of Object.entries(planRuns)) runPlan(null, path, formId, outId);
      },
    };
  },
});

const embedded = document.getElementById("first-render");
mount(document.getElementById("explorer"), {
  place: "server",
  embedded: embedded ? JSON.parse(embedded.textContent) : null,
  request: (kind, body) => post("/api/" + kind, body),
  torch: () => fetch("/api/torch").then((r) => r.json()),
});
