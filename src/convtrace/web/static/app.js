// convtrace explorer: plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const TEXT = {
  en: {
    title: "convtrace explorer", operation: "Operation", data: "Data", input: "input x",
    input_help: "1,2,3 · channels a;b · batch items | · or a JSON array · 1/3 stays exact",
    weight: "weight w (empty: ones)", bias: "bias (empty: none)", parameters: "Parameters",
    play: "play", pause: "pause", overview: "All steps at once", snippet: "PyTorch code", copy: "copy",
    copied: "copied", lang_button: "中文", step: "step {n} of {total}", scatter: "scatter {n} of {total}",
    agree: "✓ PyTorch agrees (max |difference| {diff})", disagree: "✗ PyTorch disagrees (max |difference| {diff})",
    no_torch: "PyTorch is not installed on the server: numbers not confirmed",
    not_run: "PyTorch check not run", invalid: "Invalid configuration", pytorch_says: "PyTorch: {m}",
    rule: "rule: {r}", numbers: "numbers: {n}", nearest: "nearest valid: {s}", too_large: "Too large",
    bad_values: "Cannot read the values: {m}", sum: "sum", cropped: "cropped", padding: "padding",
    torch_on: "server runs {v}", torch_off: "no PyTorch on the server",
    plan: "Plan a network", stack: "stack", length: "input length", analyse: "analyse", goal: "goal", solve: "solve",
  },
  zh: {
    title: "convtrace 探索器", operation: "运算", data: "数据", input: "输入 x",
    input_help: "1,2,3 · 通道用 a;b · 批次用 | · 或 JSON 数组 · 1/3 保持精确",
    weight: "权重 w（空：全 1）", bias: "偏置（空：无）", parameters: "参数",
    play: "播放", pause: "暂停", overview: "所有步骤一览", snippet: "PyTorch 代码", copy: "复制",
    copied: "已复制", lang_button: "English", step: "第 {n} 步（共 {total} 步）", scatter: "散射第 {n} 步（共 {total} 步）",
    agree: "✓ PyTorch 结果一致（最大差 {diff}）", disagree: "✗ PyTorch 结果不一致（最大差 {diff}）",
    no_torch: "服务器上没有安装 PyTorch：数值未经确认",
    not_run: "未运行 PyTorch 检查", invalid: "配置无效", pytorch_says: "PyTorch：{m}",
    rule: "规则：{r}", numbers: "数值：{n}", nearest: "最接近的有效设置：{s}", too_large: "太大",
    bad_values: "无法读取数值：{m}", sum: "求和", cropped: "被裁掉", padding: "填充",
    torch_on: "服务器运行 {v}", torch_off: "服务器上没有 PyTorch",
    plan: "规划网络", stack: "层堆叠", length: "输入长度", analyse: "分析", goal: "目标", solve: "求解",
  },
};

const state = { torch: null, lang: "en", doc: null, config: null, frames: 0, step: 0, timer: null, seq: 0, stepSeq: 0 };
window.convtraceTimings = [];
const $ = (id) => document.getElementById(id);
const form = $("controls");

function t(key, values) {
  let s = TEXT[state.lang][key] || key;
  for (const [k, v] of Object.entries(values || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}

function num(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return `${v.re}${v.im < 0 ? "-" : "+"}${Math.abs(v.im)}j`;
  if (typeof v === "number") return String(Math.round(v * 1e6) / 1e6);
  return String(v);
}

function scalar(s) {
  s = s.trim();
  const n = Number(s);
  return s !== "" && !Number.isNaN(n) && !s.includes("/") ? n : s;
}

function parseValues(text) {
  text = text.trim();
  if (!text) return null;
  if (text.startsWith("[")) return JSON.parse(text);
  const row = (r) => r.split(",").map(scalar);
  if (text.includes("|")) return text.split("|").map((b) => b.split(";").map(row));
  if (text.includes(";")) return text.split(";").map(row);
  return row(text);
}

function intField(name) {
  const el = form.elements[name];
  if (el.disabled || el.value.trim() === "") return null;
  return Number.parseInt(el.value, 10);
}

function readConfig() {
  const transposed = form.elements.op.value === "transposed";
  const cfg = { input: parseValues(form.elements.input.value), transposed };
  const weight = parseValues(form.elements.weight.value);
  if (weight !== null) cfg.weight = weight;
  const biasText = form.elements.bias.value.trim();
  if (biasText) cfg.bias = biasText === "true" ? true : parseValues(biasText);
  for (const name of ["in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"]) {
    const v = intField(name);
    if (v !== null && !Number.isNaN(v)) cfg[name] = v;
  }
  const padding = form.elements.padding.value.trim();
  cfg.padding = /^-?\d+$/.test(padding) ? Number.parseInt(padding, 10) : padding || 0;
  if (transposed) {
    const op = intField("output_padding");
    if (op !== null && !Number.isNaN(op)) cfg.output_padding = op;
    const size = intField("output_size");
    if (size !== null && !Number.isNaN(size)) cfg.output_size = size;
  } else {
    cfg.padding_mode = form.elements.padding_mode.value;
  }
  return cfg;
}

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { ok: r.ok, status: r.status, data: await r.json() };
}

function showError(detail) {
  const box = $("error");
  let lines;
  if (typeof detail === "string") lines = [detail];
  else if (Array.isArray(detail)) lines = [t("invalid")].concat(detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`));
  else if (detail.error === "invalid_configuration") {
    lines = [t("invalid"), t("pytorch_says", { m: `${detail.param}=${detail.value}: ${detail.pytorch}` })];
    if (detail.rule && detail.rule !== detail.pytorch) lines.push(t("rule", { r: detail.rule }));
    if (detail.numbers) lines.push(t("numbers", { n: detail.numbers }));
    for (const s of detail.suggestions || []) lines.push(t("nearest", { s }));
  } else if (detail.error === "too_large") lines = [t("too_large"), detail.message];
  else lines = [t("invalid"), detail.message || JSON.stringify(detail)];
  box.textContent = lines.join("\n");
  box.hidden = false;
  $("badge").textContent = "";
  $("badge").className = "badge";
}

function renderFormula(doc) {
  const L = doc.length;
  $("formula").textContent = `L_out = ${L.formula}\n      = ${L.substituted}\n      = ${L.result}`;
}

function renderBadge(doc) {
  const badge = $("badge");
  const check = doc.check;
  if (!check) { badge.textContent = t("not_run"); badge.className = "badge missing"; return; }
  if (!check.available) { badge.textContent = t("no_torch"); badge.className = "badge missing"; return; }
  const diff = check.max_abs_diff === null ? "?" : num(check.max_abs_diff);
  badge.textContent = t(check.agree ? "agree" : "disagree", { diff });
  badge.className = "badge " + (check.agree ? "agree" : "disagree");
}

function xName(doc, term) {
  const multi = doc.parameters.in_channels > 1;
  const i = term.input_index;
  if (term.source === "zero") return `0 (${t("padding")})`;
  const base = multi ? `x[${term.in_channel + 1}][${i + 1}]` : `x${i + 1}`;
  return term.source === "input" ? base : `${base} (${term.source})`;
}

function stepDetail(doc, n) {
  if (doc.views && doc.views.scatter && doc.views.scatter.placements.length) {
    const p = doc.views.scatter.placements[n];
    if (!p) return "";
    const lines = [`x${p.input_index + 1} = ${num(p.x)}`];
    for (const tap of p.taps) {
      const where = tap.cropped ? t("cropped") : `y${tap.out_index + 1}`;
      lines.push(`  x${p.input_index + 1} × w${tap.kernel_index + 1} = ${num(p.x)} × ${num(tap.w)} = ${num(tap.product)}  → ${where}`);
    }
    return lines.join("\n");
  }
  const s = doc.steps[n];
  if (!s) return "";
  const lines = s.terms.map((term) => `${xName(doc, term)} × w${term.kernel_index + 1} = ${num(term.x)} × ${num(term.w)} = ${num(term.product)}`);
  lines.push(`${t("sum")} = ${s.terms.map((term) => num(term.product)).join(" + ")} = ${num(s.sum)}`);
  if (s.bias !== null) lines.push(`+ bias ${num(s.bias)} = ${num(s.value)}`);
  lines.push(`y${s.out_index + 1} = ${num(s.value)}`);
  return lines.join("\n");
}

async function showStep(n) {
  const my = ++state.stepSeq;
  const t0 = performance.now();
  state.step = Math.max(0, Math.min(n, Math.max(state.frames - 1, 0)));
  $("step").value = String(state.step);
  const r = await post("/api/draw", { ...state.config, step: state.frames ? state.step : null, lang: state.lang });
  if (my !== state.stepSeq) return;
  if (!r.ok) { showError(r.data.detail); return; }
  showStepResult(r.data, state.step);
  window.convtraceTimings.push({ kind: "step", ms: performance.now() - t0 });
}

function showStepResult(data, n) {
  state.step = n;
  $("step").value = String(n);
  $("figure").innerHTML = data.svg;
  $("step-detail").textContent = state.frames ? stepDetail(state.doc, state.step) : "";
  const key = state.doc.views ? "scatter" : "step";
  $("step-label").textContent = state.frames ? t(key, { n: state.step + 1, total: state.frames }) : "";
  document.body.dataset.step = String(state.step);
}

async function update() {
  const my = ++state.seq;
  const t0 = performance.now();
  let cfg;
  try { cfg = readConfig(); } catch (e) { showError(t("bad_values", { m: e.message })); return; }
  // the explanation, the overview, the snippet and (optimistically) the current step's figure,
  // all asked for at once: none of the drawings waits for the explanation
  const wanted = state.step;
  const pending = Promise.all([
    post("/api/draw", { ...cfg, step: null, lang: state.lang }), post("/api/snippet", cfg),
    post("/api/draw", { ...cfg, step: wanted, lang: state.lang })]);
  const ex = await post("/api/explain", cfg);
  if (my !== state.seq) return;
  if (!showExplanation(ex, cfg, my)) return;
  const [ov, sn, st] = await pending;
  if (my !== state.seq) return;
  await showDrawings(ov, sn, st, wanted);
  window.convtraceTimings.push({ kind: "update", ms: performance.now() - t0, at: performance.now() });
  document.body.dataset.ready = String(my);
}

// false when the configuration is invalid (the error is shown instead)
function showExplanation(ex, cfg, my) {
  if (!ex.ok) {
    showError(ex.data.detail);
    $("figure").innerHTML = ""; $("overview").innerHTML = ""; $("step-detail").textContent = "";
    document.body.dataset.ready = String(my);
    return false;
  }
  $("error").hidden = true;
  state.doc = ex.data;
  state.config = cfg;
  renderFormula(ex.data);
  renderBadge(ex.data);
  return true;
}

async function showDrawings(ov, sn, st, wanted) {
  state.frames = ov.ok ? ov.data.frames : 0;
  $("step").max = String(Math.max(state.frames - 1, 0));
  $("overview").innerHTML = ov.ok ? ov.data.svg : "";
  $("snippet").textContent = sn.ok ? sn.data.code : "";
  if (st.ok && wanted < state.frames) showStepResult(st.data, wanted);
  else await showStep(Math.min(state.step, Math.max(state.frames - 1, 0)));
}

function sameConfig(a, b) {
  const canonical = (o) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
  return canonical(a) === canonical(b);
}

// The server puts the answers for the form's defaults into the page (the same documents the
// API returns), so the first render needs no request; any other state asks the API.
async function firstRender() {
  const embedded = $("first-render");
  let cfg = null;
  try { cfg = readConfig(); } catch (e) { cfg = null; }
  const data = embedded ? JSON.parse(embedded.textContent) : null;
  if (!data || cfg === null || state.lang !== "en" || !sameConfig(cfg, data.config)) return update();
  const my = ++state.seq;
  const t0 = performance.now();
  const ok = (d) => ({ ok: true, status: 200, data: d });
  if (!showExplanation(ok(data.explain), cfg, my)) return undefined;
  await showDrawings(ok(data.overview), ok(data.snippet), ok(data.step), 0);
  window.convtraceTimings.push({ kind: "update", ms: performance.now() - t0, embedded: true, at: performance.now() });
  document.body.dataset.ready = String(my);
  return undefined;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = t("lang_button");
  $("play").textContent = t(state.timer ? "pause" : "play");
  renderTorchStatus();
}

function applyOperation() {
  const transposed = form.elements.op.value === "transposed";
  for (const el of document.querySelectorAll(".transposed-only, .conv-only")) {
    const off = el.classList.contains("transposed-only") ? !transposed : transposed;
    el.classList.toggle("hidden-field", off);
    for (const input of el.querySelectorAll("input, select")) input.disabled = off;
  }
}

function togglePlay() {
  if (state.timer) { clearInterval(state.timer); state.timer = null; }
  else state.timer = setInterval(() => showStep(state.step + 1 < state.frames ? state.step + 1 : 0), 900);
  $("play").textContent = t(state.timer ? "pause" : "play");
}

let pending = null;
form.addEventListener("input", (e) => {
  if (e.target.name === "op") applyOperation();
  clearTimeout(pending);
  pending = setTimeout(update, e.target.type === "radio" || e.target.tagName === "SELECT" ? 0 : 120);
});
form.addEventListener("submit", (e) => e.preventDefault());
$("prev").addEventListener("click", () => showStep(state.step - 1));
$("next").addEventListener("click", () => showStep(state.step + 1));
$("step").addEventListener("input", (e) => showStep(Number(e.target.value)));
$("play").addEventListener("click", togglePlay);
$("lang").addEventListener("click", () => { state.lang = state.lang === "en" ? "zh" : "en"; applyLanguage(); update(); });
$("copy").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("snippet").textContent); } catch (e) {
    const range = document.createRange(); range.selectNodeContents($("snippet"));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  $("copy").textContent = t("copied");
  setTimeout(() => { $("copy").textContent = t("copy"); }, 1200);
});

function planError(detail) {
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("\n");
  const lines = [t(detail.error === "too_large" ? "too_large" : "invalid"), detail.message || ""];
  for (const s of detail.suggestions || []) lines.push(t("nearest", { s }));
  return lines.join("\n");
}

async function runPlan(e, path, formId, outId) {
  e.preventDefault();
  const f = $(formId);
  const body = {};
  for (const el of f.elements) {
    if (!el.name || el.value.trim() === "") continue;
    body[el.name] = el.type === "number" ? Number.parseInt(el.value, 10) : el.value.trim();
  }
  const r = await post(path, body);
  $(outId).textContent = r.ok ? r.data.text : planError(r.data.detail);
  document.body.dataset.plan = String(Number(document.body.dataset.plan || 0) + 1);
}
$("stack-form").addEventListener("submit", (e) => runPlan(e, "/api/stack", "stack-form", "stack-report"));
$("solve-form").addEventListener("submit", (e) => runPlan(e, "/api/solve", "solve-form", "solve-report"));

function renderTorchStatus() {
  const s = state.torch;
  if (!s) return;
  $("torch-status").textContent = s.available ? t("torch_on", { v: s.message }) : t("torch_off");
  $("torch-status").dataset.available = String(s.available);
}
fetch("/api/torch").then((r) => r.json()).then((s) => { state.torch = s; renderTorchStatus(); });
applyOperation();
applyLanguage();
firstRender();
