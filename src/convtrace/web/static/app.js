// convtrace explorer: plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const TEXT = {
  en: {
    title: "convtrace explorer", operation: "Operation", data: "Data", input: "input x",
    input_help: "as --input: 1,2,3 · channels 1,2:3,4 · batch items :: · or a JSON array · 1/3 stays exact",
    weight: "weight w (empty: ones)", bias: "bias (empty: none)", parameters: "Parameters",
    play: "play", pause: "pause", overview: "All steps at once", snippet: "PyTorch code", copy: "copy",
    copied: "copied", lang_button: "中文", step: "step {n} of {total}", scatter: "scatter {n} of {total}",
    agree: "✓ PyTorch agrees (max |difference| {diff})", disagree: "✗ PyTorch disagrees (max |difference| {diff})",
    no_torch: "PyTorch is not installed on the server: numbers not confirmed",
    not_run: "PyTorch check not run", invalid: "Invalid configuration", pytorch_says: "PyTorch: {m}", backend_says: "Why convtrace raises: {m}",
    rule: "rule: {r}", numbers: "numbers: {n}", nearest: "nearest valid: {s}", too_large: "Too large",
    cropped: "cropped",
    torch_on: "server runs {v}", torch_off: "no PyTorch on the server",
    plan: "Plan a network", stack: "stack", length: "input length", analyse: "analyse", goal: "goal", solve: "solve",
    kernel_sizes: "kernel sizes", target: "target length", conv: "layer to undo",
    at: "explain output y[n, c, t]", at_help: "0-based, as --at N,C,T; empty: chosen for you",
    shown_some: "The output has {n} elements: too many to write out, so the steps shown are {names} only (the first and the last of output channel 1). Type any n, c, t under “explain output” to see another.",
    shown_at: "Explaining {name} only (at = {at}); empty the t field to go back.",
    stale: "(waiting for a valid setting)",
    value_line: "{param} = {value}", too_large_line: "{param} = {value}: at most {limit} on this server (use convtrace from Python or the command line for more)",
    scatter_tap: "{x} × {w} = {v} × {wv} = {p}  → {y}",
    rule_not_integer: "must be an integer", rule_not_bool: "must be true or false",
    rule_not_values: "must be numbers, text such as 1,2,3:4,5,6, or a JSON array",
    rule_one_of: "must be one of {expected}", rule_at_least: "must be at least {limit}",
    rule_unknown_argument: "is not an argument of this request", rule_required: "is required",
    rule_not_json: "the request must be a JSON object", rule_not_text: "must be text",
    rule_three_numbers: "must be three integers n, c, t",
    "param_input elements": "input elements", "param_output elements": "output elements",
    pooling: "pooling", indices: "indices (of the max)", landing: "landing {n} of {total}",
  },
  zh: {
    title: "convtrace 探索器", operation: "运算", data: "数据", input: "输入 x",
    input_help: "同 --input：1,2,3 · 通道用 1,2:3,4 · 批次用 :: · 或 JSON 数组 · 1/3 保持精确",
    weight: "权重 w（空：全 1）", bias: "偏置（空：无）", parameters: "参数",
    play: "播放", pause: "暂停", overview: "所有步骤一览", snippet: "PyTorch 代码", copy: "复制",
    copied: "已复制", lang_button: "English", step: "第 {n} 步（共 {total} 步）", scatter: "散射第 {n} 步（共 {total} 步）",
    agree: "✓ PyTorch 结果一致（最大差 {diff}）", disagree: "✗ PyTorch 结果不一致（最大差 {diff}）",
    no_torch: "服务器上没有安装 PyTorch：数值未经确认",
    not_run: "未运行 PyTorch 检查", invalid: "配置无效", pytorch_says: "PyTorch：{m}", backend_says: "convtrace 为什么报错：{m}",
    rule: "规则：{r}", numbers: "数值：{n}", nearest: "最接近的有效设置：{s}", too_large: "太大",
    cropped: "被裁掉",
    torch_on: "服务器运行 {v}", torch_off: "服务器上没有 PyTorch",
    plan: "规划网络", stack: "层堆叠", length: "输入长度", analyse: "分析", goal: "目标", solve: "求解",
    kernel_sizes: "卷积核大小", target: "目标长度", conv: "要还原的层",
    at: "解释输出 y[n, c, t]", at_help: "从 0 开始，同 --at N,C,T；留空：自动选择",
    shown_some: "输出共有 {n} 个元素，太多无法逐一写出，这里只展示 {names} 这几步（输出通道 1 的开头和结尾）。在“解释输出”里填任意 n, c, t 即可查看其他元素。",
    shown_at: "只解释 {name}（at = {at}）；清空 t 即可回到自动选择。",
    stale: "（等待有效的设置）",
    value_line: "{param} = {value}", too_large_line: "{param} = {value}：本服务器最多 {limit}（更大的输入请用 Python 或命令行的 convtrace）",
    scatter_tap: "{x} × {w} = {v} × {wv} = {p}  → {y}",
    rule_not_integer: "必须是整数", rule_not_bool: "必须是 true 或 false",
    rule_not_values: "必须是数字、形如 1,2,3:4,5,6 的文本，或 JSON 数组",
    rule_one_of: "必须是 {expected} 之一", rule_at_least: "至少为 {limit}",
    rule_unknown_argument: "不是这个请求的参数", rule_required: "必须给出",
    rule_not_json: "请求必须是 JSON 对象", rule_not_text: "必须是文本",
    rule_three_numbers: "必须是三个整数 n, c, t",
    "param_input elements": "输入元素个数", "param_output elements": "输出元素个数",
    "param_weight elements": "权重元素个数", "param_multiply-adds": "乘加次数", "param_input characters": "输入字符数",
    pooling: "池化", indices: "下标 indices（最大值的位置）", landing: "第 {n} 个落点（共 {total} 个）",
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

// the values as typed: the server reads them with the command line's parser
function textField(name) {
  const text = form.elements[name].value.trim();
  return text === "" ? null : text;
}

function intField(name) {
  const el = form.elements[name];
  if (el.disabled || el.value.trim() === "") return null;
  return Number.parseInt(el.value, 10);
}

// the pools, by their functional names (the op selector's values besides conv, transposed)
const POOLS = ["max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_unpool1d"];

function currentOp() {
  return form.elements.op.value;
}

function readConfig() {
  const op = currentOp();
  if (POOLS.includes(op)) return readPoolConfig(op);
  const transposed = op === "transposed";
  const cfg = { input: textField("input"), transposed };
  const weight = textField("weight");
  if (weight !== null) cfg.weight = weight;
  const bias = textField("bias");
  if (bias !== null) cfg.bias = bias === "true" ? true : bias;
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
  readAt(cfg);
  return cfg;
}

// the output to explain (as --at N,C,T), when its t is given
function readAt(cfg) {
  const at = ["at_n", "at_c", "at_t"].map(intField);
  if (at[2] !== null) cfg.at = at.map((v) => (v === null || Number.isNaN(v) ? 0 : v));
}

// a pool's arguments, as its functional takes them: only the fields of this pool (the others
// are disabled), an empty field left to PyTorch's default (stride: kernel_size)
function readPoolConfig(op) {
  const cfg = { op, input: textField("input") };
  for (const name of ["kernel_size", "stride", "dilation", "output_size"]) {
    const v = intField(name);
    if (v !== null && !Number.isNaN(v)) cfg[name] = v;
  }
  const padding = form.elements.padding;
  if (!padding.disabled && padding.value.trim() !== "") {
    const text = padding.value.trim();
    cfg.padding = /^-?\d+$/.test(text) ? Number.parseInt(text, 10) : text;
  }
  for (const name of ["ceil_mode", "count_include_pad"]) {
    if (!form.elements[name].disabled) cfg[name] = form.elements[name].checked;
  }
  const norm = form.elements.norm_type;
  if (!norm.disabled && norm.value.trim() !== "") cfg.norm_type = Number(norm.value);
  if (!form.elements.indices.disabled) cfg.indices = textField("indices");
  // max_unpool1d takes output_size as a sequence, as PyTorch's functional does
  if (op === "max_unpool1d" && cfg.output_size !== undefined) cfg.output_size = [cfg.output_size];
  readAt(cfg);
  return cfg;
}

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, lang: state.lang }) });
  const text = await r.text();
  try {
    return { ok: r.ok, status: r.status, data: JSON.parse(text) };
  } catch (e) {  // not the API's JSON (a server failure): said as an error, never thrown
    return { ok: false, status: r.status, data: { detail: { error: "server", rule: `${r.status} ${text.slice(0, 200)}` } } };
  }
}

// every 422 alike, in the page's language: the parameter, its value, the rule (worded here
// from its code when the server gives one), PyTorch's own message, the numbers, the nearest
// valid settings
function errorLines(detail) {
  if (!detail || typeof detail !== "object") return [t("invalid"), String(detail)];
  const param = TEXT[state.lang]["param_" + detail.param] ? t("param_" + detail.param) : detail.param;
  if (detail.error === "too_large") {
    return [t("too_large"), t("too_large_line", { param, value: detail.value, limit: detail.limit })];
  }
  const lines = [t("invalid")];
  if (detail.value !== undefined && detail.value !== "") lines.push(t("value_line", { param, value: detail.value }));
  const coded = detail.code && TEXT[state.lang]["rule_" + detail.code];
  const rule = coded ? t("rule_" + detail.code, detail) : detail.rule;
  if (rule) lines.push(t("rule", { r: coded ? `${param} ${rule}` : rule }));
  if (detail.pytorch && detail.pytorch !== detail.rule) lines.push(t("pytorch_says", { m: detail.pytorch }));
  if (detail.backend) lines.push(t("backend_says", { m: detail.backend }));
  if (detail.numbers) lines.push(t("numbers", { n: detail.numbers }));
  for (const s of detail.suggestions || []) lines.push(t("nearest", { s }));
  return lines;
}

function showError(detail) {
  const box = $("error");
  box.textContent = errorLines(detail).join("\n");
  box.hidden = false;
  $("badge").textContent = "";
  $("badge").className = "badge";
  markStale(true);
}

// After an invalid setting nothing may show the last valid state's numbers: the formula, the
// figures, the step, the scrubber, the snippet and the note on the outputs are emptied and
// marked (data-stale), until a valid setting renders them again.
const RESULT_PANELS = ["formula", "figure", "overview", "step-detail", "step-label", "snippet", "outputs-note"];
function markStale(stale) {
  document.body.classList.toggle("stale", stale);
  for (const id of RESULT_PANELS) {
    $(id).dataset.stale = String(stale);
    if (stale) $(id).textContent = "";
  }
  for (const id of ["prev", "next", "play", "step", "copy"]) $(id).disabled = stale;
  if (stale) {
    state.stepSeq++;  // a step asked for before the error must not draw over it
    if (state.timer) togglePlay();
    state.frames = 0;
    $("step").max = "0"; $("step").value = "0";
    $("formula").textContent = t("stale");
  }
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

// a frame in words, named as the command line names things (the server words a Conv1d step
// exactly as `convtrace explain` does; a ConvTranspose1d placement comes as names)
function frameDetail(data) {
  if (data.detail) return data.detail;
  const p = data.scatter;
  if (!p) return "";
  const lines = [`${p.x} = ${p.value}`];
  for (const tap of p.taps) {
    lines.push("  " + t("scatter_tap", { x: p.x, w: tap.w, v: p.value, wv: tap.weight, p: tap.product, y: tap.y || t("cropped") }));
  }
  return lines.join("\n");
}

function renderOutputsNote(outputs) {
  const note = $("outputs-note");
  note.textContent = "";
  if (!outputs) return;
  const at = state.config && state.config.at;
  if (outputs.at && at) note.textContent = t("shown_at", { name: outputs.shown[0], at: at.join(", ") });
  else if (!outputs.complete && !(state.doc && state.doc.views)) {
    note.textContent = t("shown_some", { n: outputs.elements, names: outputs.shown.join(", ") });
  }
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
  $("step-detail").textContent = frameDetail(data);
  const key = state.doc.views ? "scatter" : currentOp() === "max_unpool1d" ? "landing" : "step";
  $("step-label").textContent = state.frames ? t(key, { n: state.step + 1, total: state.frames }) : "";
  document.body.dataset.step = String(state.step);
}

async function update() {
  const my = ++state.seq;
  const t0 = performance.now();
  let cfg;
  cfg = readConfig();
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
    document.body.dataset.ready = String(my);
    return false;
  }
  $("error").hidden = true;
  markStale(false);
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
  renderOutputsNote(ov.ok ? ov.data.outputs : null);
  $("snippet").textContent = sn.ok ? sn.data.code : "";
  if (!state.frames) {  // nothing to step through (e.g. the views of one element): the steps in words
    $("figure").innerHTML = ""; $("step-label").textContent = "";
    $("step-detail").textContent = ov.ok && ov.data.detail ? ov.data.detail : "";
  } else if (st.ok && wanted < state.frames) showStepResult(st.data, wanted);
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
  const cfg = readConfig();
  const data = embedded ? JSON.parse(embedded.textContent) : null;
  if (!data || state.lang !== "en" || !sameConfig(cfg, data.config)) return update();
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

// only the fields of the chosen operation are shown (and sent): each lists its operations
function applyOperation() {
  const op = currentOp();
  for (const el of document.querySelectorAll("[data-ops]")) {
    const off = !el.dataset.ops.split(" ").includes(op);
    el.classList.toggle("hidden-field", off);
    for (const input of el.querySelectorAll("input, select")) input.disabled = off;
  }
}

// from a convolution to a pool: PyTorch's pool defaults (stride = kernel_size, an adaptive
// pool needs its output_size); back: the convolution's stride 1
let lastOp = null;
function switchDefaults(op) {
  const pool = POOLS.includes(op);
  const wasPool = lastOp !== null && POOLS.includes(lastOp);
  if (lastOp !== null && pool !== wasPool) form.elements.stride.value = pool ? "" : "1";
  if (op.startsWith("adaptive_") && form.elements.output_size.value.trim() === "") form.elements.output_size.value = "3";
  if (lastOp !== null && lastOp.startsWith("adaptive_") && !op.startsWith("adaptive_")) form.elements.output_size.value = "";
  lastOp = op;
}

function togglePlay() {
  if (state.timer) { clearInterval(state.timer); state.timer = null; }
  else state.timer = setInterval(() => showStep(state.step + 1 < state.frames ? state.step + 1 : 0), 900);
  $("play").textContent = t(state.timer ? "pause" : "play");
}

let pending = null;
form.addEventListener("input", (e) => {
  if (e.target.name === "op") { switchDefaults(currentOp()); applyOperation(); }
  clearTimeout(pending);
  pending = setTimeout(update, e.target.type === "radio" || e.target.tagName === "SELECT" ? 0 : 120);
});
form.addEventListener("submit", (e) => e.preventDefault());
$("prev").addEventListener("click", () => showStep(state.step - 1));
$("next").addEventListener("click", () => showStep(state.step + 1));
$("step").addEventListener("input", (e) => showStep(Number(e.target.value)));
$("play").addEventListener("click", togglePlay);
$("lang").addEventListener("click", () => {
  state.lang = state.lang === "en" ? "zh" : "en";
  applyLanguage();
  update();
  for (const [formId, [path, outId]] of Object.entries(planRuns)) runPlan(null, path, formId, outId);
});
$("copy").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("snippet").textContent); } catch (e) {
    const range = document.createRange(); range.selectNodeContents($("snippet"));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  $("copy").textContent = t("copied");
  setTimeout(() => { $("copy").textContent = t("copy"); }, 1200);
});

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

const planRuns = {};
async function runPlan(e, path, formId, outId) {
  if (e) e.preventDefault();
  planRuns[formId] = [path, outId];
  const f = $(formId);
  const body = {};
  for (const el of f.elements) {
    if (!el.name || el.value.trim() === "") continue;
    body[el.name] = el.type === "number" ? Number.parseInt(el.value, 10) : el.value.trim();
  }
  body.width = columns($(outId));
  const r = await post(path, body);
  $(outId).textContent = r.ok ? r.data.text : errorLines(r.data.detail).join("\n");
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
lastOp = currentOp();
applyOperation();
applyLanguage();
firstRender();
