// convtrace explorer: the one front end of the explorer page (`convtrace serve`) and the
// notebook widget (`convtrace.Explorer`). Plain JavaScript, an ES module, no build step,
// nothing fetched from elsewhere. Python computes, this module draws.
//
// A host adapter gives `mount(root, host)` its documents: the page's (app.js) fetches them from
// the FastAPI API, the widget's (widget.js) asks the kernel through the anywidget model. Both
// answer with the same JSON documents (convtrace.web.service).
//
// Extensions (hook point): a file such as stream.js calls `registerPanel({...})` before mount;
// each panel gets the mounted explorer's context (see `panelContext`) and may add fields to
// the configuration (`config(cfg)`), follow the language (`language()`) and a new answer
// (`explained(doc)`). List the file in convtrace.web.assets.EXTENSIONS so both hosts load it.
"use strict";

export const TEXT = {
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
    kernel_torch_on: "kernel runs {v}", kernel_torch_off: "no PyTorch in the kernel",
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
    kernel_torch_on: "内核运行 {v}", kernel_torch_off: "内核中没有 PyTorch",
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

// the panels of the extensions, in the order registered (see the note at the top)
const PANELS = [];
export function registerPanel(panel) {
  PANELS.push(panel);
}

// the pools, by their functional names (the op selector's values besides conv, transposed)
export const POOLS = ["max_pool1d", "avg_pool1d", "lp_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_unpool1d"];

// the configuration's keys the form sets; a host may hold others (the widget's verify,
// max_steps, ...: `host.extra()`), which the form leaves as they are
export const FORM_KEYS = ["op", "input", "transposed", "weight", "bias", "in_channels", "out_channels", "kernel_size",
  "stride", "padding", "dilation", "groups", "padding_mode", "output_padding", "output_size", "ceil_mode",
  "count_include_pad", "norm_type", "indices", "at"];

// The explorer's markup, the same on every host (the page adds its own panels around it).
export const MARKUP = `
<header>
  <h1><span data-i18n="title">convtrace explorer</span></h1>
  <span id="torch-status" data-testid="torch-status"></span>
  <button id="lang" data-testid="lang" type="button">中文</button>
</header>
<main>
<form id="controls" data-testid="controls" autocomplete="off">
  <fieldset>
    <legend data-i18n="operation">Operation</legend>
    <label><input type="radio" name="op" value="conv" checked data-testid="op-conv"> Conv1d</label>
    <label><input type="radio" name="op" value="transposed" data-testid="op-transposed"> ConvTranspose1d</label>
    <small data-i18n="pooling">pooling</small>
    <label><input type="radio" name="op" value="max_pool1d" data-testid="op-max_pool1d"> MaxPool1d</label>
    <label><input type="radio" name="op" value="avg_pool1d" data-testid="op-avg_pool1d"> AvgPool1d</label>
    <label><input type="radio" name="op" value="lp_pool1d" data-testid="op-lp_pool1d"> LPPool1d</label>
    <label><input type="radio" name="op" value="adaptive_avg_pool1d" data-testid="op-adaptive_avg_pool1d"> AdaptiveAvgPool1d</label>
    <label><input type="radio" name="op" value="adaptive_max_pool1d" data-testid="op-adaptive_max_pool1d"> AdaptiveMaxPool1d</label>
    <label><input type="radio" name="op" value="max_unpool1d" data-testid="op-max_unpool1d"> MaxUnpool1d</label>
  </fieldset>
  <fieldset>
    <legend data-i18n="data">Data</legend>
    <label><span data-i18n="input">input x</span> <input name="input" value="1,1,1,1" data-testid="input"></label>
    <small data-i18n="input_help">as --input: 1,2,3 · channels 1,2:3,4 · batch items :: · or a JSON array · 1/3 stays exact</small>
    <label data-ops="conv transposed"><span data-i18n="weight">weight w (empty: ones)</span> <input name="weight" value="" data-testid="weight"></label>
    <label data-ops="conv transposed"><span data-i18n="bias">bias (empty: none)</span> <input name="bias" value="" data-testid="bias"></label>
    <label data-ops="max_unpool1d"><span data-i18n="indices">indices</span> <input name="indices" value="1,3,3,6" data-testid="indices"></label>
  </fieldset>
  <fieldset>
    <legend data-i18n="parameters">Parameters</legend>
    <label data-ops="conv transposed">in_channels <input name="in_channels" type="number" min="1" placeholder="auto" data-testid="in_channels"></label>
    <label data-ops="conv transposed">out_channels <input name="out_channels" type="number" min="1" placeholder="auto" data-testid="out_channels"></label>
    <label data-ops="lp_pool1d">norm_type <input name="norm_type" type="number" step="any" value="2" data-testid="norm_type"></label>
    <label data-ops="conv transposed max_pool1d avg_pool1d lp_pool1d max_unpool1d">kernel_size <input name="kernel_size" type="number" min="1" value="3" data-testid="kernel_size"></label>
    <label data-ops="conv transposed max_pool1d avg_pool1d lp_pool1d max_unpool1d">stride <input name="stride" type="number" min="1" value="1" placeholder="kernel_size" data-testid="stride"></label>
    <label data-ops="conv transposed max_pool1d avg_pool1d max_unpool1d">padding <input name="padding" value="1" data-testid="padding"></label>
    <label data-ops="conv transposed max_pool1d">dilation <input name="dilation" type="number" min="1" value="1" data-testid="dilation"></label>
    <label data-ops="conv transposed">groups <input name="groups" type="number" min="1" value="1" data-testid="groups"></label>
    <label data-ops="max_pool1d avg_pool1d lp_pool1d">ceil_mode <input name="ceil_mode" type="checkbox" data-testid="ceil_mode"></label>
    <label data-ops="avg_pool1d">count_include_pad <input name="count_include_pad" type="checkbox" checked data-testid="count_include_pad"></label>
    <label data-ops="conv">padding_mode
      <select name="padding_mode" data-testid="padding_mode">
        <option>zeros</option><option>reflect</option><option>replicate</option><option>circular</option>
      </select></label>
    <label data-ops="transposed">output_padding <input name="output_padding" type="number" min="0" value="0" data-testid="output_padding"></label>
    <label data-ops="transposed adaptive_avg_pool1d adaptive_max_pool1d max_unpool1d">output_size <input name="output_size" type="number" min="1" placeholder="auto" data-testid="output_size"></label>
  </fieldset>
  <fieldset>
    <legend data-i18n="at">explain output y[n, c, t]</legend>
    <div class="at">
      <label>n <input name="at_n" type="number" min="0" placeholder="0" data-testid="at_n"></label>
      <label>c <input name="at_c" type="number" min="0" placeholder="0" data-testid="at_c"></label>
      <label>t <input name="at_t" type="number" min="0" placeholder="auto" data-testid="at_t"></label>
    </div>
    <small data-i18n="at_help">0-based, as --at N,C,T; empty: chosen for you</small>
  </fieldset>
</form>
<section id="view">
  <div id="formula" data-testid="formula" class="formula"></div>
  <div id="error" data-testid="error" class="error" hidden></div>
  <div id="badge" data-testid="badge" class="badge"></div>
  <p id="outputs-note" data-testid="outputs-note" class="note"></p>
  <div class="scrubber">
    <button type="button" id="prev" data-testid="prev" aria-label="previous step">◀</button>
    <input type="range" id="step" data-testid="step" min="0" max="0" value="0">
    <button type="button" id="next" data-testid="next" aria-label="next step">▶</button>
    <button type="button" id="play" data-testid="play" data-i18n="play">play</button>
    <span id="step-label" data-testid="step-label"></span>
  </div>
  <div id="figure" data-testid="figure" class="figure"></div>
  <pre id="step-detail" data-testid="step-detail" class="detail"></pre>
  <h2 data-i18n="overview">All steps at once</h2>
  <div id="overview" data-testid="overview" class="figure"></div>
  <h2 data-i18n="snippet">PyTorch code</h2>
  <div class="snippet"><button type="button" id="copy" data-testid="copy" data-i18n="copy">copy</button>
  <pre id="snippet" data-testid="snippet"></pre></div>
</section>
</main>`;

export function num(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return `${v.re}${v.im < 0 ? "-" : "+"}${Math.abs(v.im)}j`;
  if (typeof v === "number") return String(Math.round(v * 1e6) / 1e6);
  return String(v);
}

function sameConfig(a, b) {
  const canonical = (o) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
  return canonical(a) === canonical(b);
}

// a value of the configuration as a text field shows it (the command line's text, or JSON)
function fieldText(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Mount the explorer into `root` (emptied), answered by `host`:
 *   host.request(kind, body) -> Promise<{ok, status, data}>   kind: "explain" | "draw" | "snippet"
 *   host.torch() -> Promise<{available, message} | null>
 *   host.place: "server" | "kernel" (where PyTorch runs, for the status line)
 *   host.embedded: the answers for the form's defaults ({config, explain, overview, snippet, step}) or null
 *   host.config: a configuration to show instead of the form's defaults (or null); host.lang, host.step
 *   host.extra(): configuration the form does not show (kept in every request), or absent
 *   host.changed(what, value, formKeys): the learner changed "config" (valid or not; the form
 *     sets formKeys), "step" or "lang"
 * Returns the controller the host drives: setConfig(cfg), showStep(n), setLanguage(lang), update().
 */
export function mount(root, host) {
  root.classList.add("convtrace-explorer");
  root.innerHTML = MARKUP;
  const state = { torch: null, lang: host.lang || "en", doc: null, config: null, frames: 0, step: host.step || 0,
                  timer: null, seq: 0, stepSeq: 0 };
  window.convtraceTimings = window.convtraceTimings || [];
  const $ = (id) => root.querySelector("#" + id);
  const form = $("controls");
  const tell = (what, value) => { if (host.changed) host.changed(what, value, formKeys()); };

  function t(key, values) {
    let s = TEXT[state.lang][key] || key;
    for (const [k, v] of Object.entries(values || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
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

  function currentOp() {
    return form.elements.op.value;
  }

  // the keys the form and the panels set (a panel lists its own in `keys`)
  function formKeys() {
    return FORM_KEYS.concat(...panels.map((panel) => panel.keys || []));
  }

  function readConfig() {
    const op = currentOp();
    const cfg = POOLS.includes(op) ? readPoolConfig(op) : readConvConfig(op);
    const mine = formKeys();
    for (const [key, value] of Object.entries(host.extra ? host.extra() : {})) {
      if (!mine.includes(key) && !(key in cfg)) cfg[key] = value;
    }
    for (const panel of panels) if (panel.config) panel.config(cfg);
    return cfg;
  }

  function readConvConfig(op) {
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

  // the form shows `cfg` (a configuration set by the host, as convtrace.explain's keyword
  // arguments): every field from it; an absent one shows a convolution's default
  // (CONV_DEFAULTS), or stays empty for a pool (PyTorch's defaults: stride = kernel_size)
  const CONV_DEFAULTS = { stride: 1, padding: 0, dilation: 1, groups: 1, output_padding: 0 };
  function writeConfig(given) {
    const op = given.op && POOLS.includes(given.op) ? given.op : given.transposed || given.op === "conv_transpose1d" ? "transposed" : "conv";
    const cfg = POOLS.includes(op) ? given : { ...CONV_DEFAULTS, ...given };
    for (const radio of form.querySelectorAll("input[name=op]")) radio.checked = radio.value === op;
    for (const name of ["input", "weight", "indices"]) form.elements[name].value = fieldText(cfg[name]);
    form.elements.bias.value = cfg.bias === true ? "true" : cfg.bias === false ? "" : fieldText(cfg.bias);
    for (const name of ["in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups", "output_padding", "norm_type"]) {
      form.elements[name].value = fieldText(cfg[name]);
    }
    form.elements.padding.value = fieldText(cfg.padding);
    const size = Array.isArray(cfg.output_size) ? cfg.output_size[0] : cfg.output_size;
    form.elements.output_size.value = fieldText(size);
    form.elements.padding_mode.value = cfg.padding_mode || "zeros";
    form.elements.ceil_mode.checked = Boolean(cfg.ceil_mode);
    form.elements.count_include_pad.checked = cfg.count_include_pad !== false;
    const at = Array.isArray(cfg.at) ? cfg.at : [];
    ["at_n", "at_c", "at_t"].forEach((name, i) => { form.elements[name].value = fieldText(at[i]); });
    for (const panel of panels) if (panel.writeConfig) panel.writeConfig(cfg);
    lastOp = op;
    applyOperation();
  }

  // every 422 alike, in the explorer's language: the parameter, its value, the rule (worded
  // here from its code when the server gives one), PyTorch's own message, the numbers, the
  // nearest valid settings
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
    root.classList.toggle("stale", stale);
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

  function ask(kind, body) {
    return host.request(kind, { ...body, lang: state.lang });
  }

  async function showStep(n) {
    const my = ++state.stepSeq;
    const t0 = performance.now();
    state.step = Math.max(0, Math.min(n, Math.max(state.frames - 1, 0)));
    $("step").value = String(state.step);
    const r = await ask("draw", { ...state.config, step: state.frames ? state.step : null });
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
    // a panel whose frames mean something else (the streaming switch: pushes, then the flush) names them
    let label = state.frames ? t(key, { n: state.step + 1, total: state.frames }) : "";
    for (const panel of panels) if (panel.stepLabel && state.frames) label = panel.stepLabel(state.step, state.frames) || label;
    $("step-label").textContent = label;
    root.dataset.step = String(state.step);
    tell("step", state.step);
  }

  async function update() {
    const my = ++state.seq;
    const t0 = performance.now();
    const cfg = readConfig();
    // the explanation, the overview, the snippet and (optimistically) the current step's figure,
    // all asked for at once: none of the drawings waits for the explanation
    const wanted = state.step;
    const pending = Promise.all([
      ask("draw", { ...cfg, step: null }), ask("snippet", cfg), ask("draw", { ...cfg, step: wanted })]);
    const ex = await ask("explain", cfg);
    if (my !== state.seq) return;
    if (!showExplanation(ex, cfg, my)) return;
    const [ov, sn, st] = await pending;
    if (my !== state.seq) return;
    await showDrawings(ov, sn, st, wanted);
    window.convtraceTimings.push({ kind: "update", ms: performance.now() - t0, at: performance.now() });
    root.dataset.ready = String(my);
  }

  // false when the configuration is invalid (the error is shown instead)
  function showExplanation(ex, cfg, my) {
    if (!ex.ok) {
      showError(ex.data.detail);
      root.dataset.ready = String(my);
      return false;
    }
    $("error").hidden = true;
    markStale(false);
    state.doc = ex.data;
    state.config = cfg;
    renderFormula(ex.data);
    renderBadge(ex.data);
    for (const panel of panels) if (panel.explained) panel.explained(ex.data);
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

  // The page puts the answers for the form's defaults into itself (the same documents the API
  // returns), so its first render needs no request; any other state asks the host.
  async function firstRender() {
    const cfg = readConfig();
    const data = host.embedded || null;
    if (!data || state.lang !== "en" || !sameConfig(cfg, data.config)) return update();
    const my = ++state.seq;
    const t0 = performance.now();
    const ok = (d) => ({ ok: true, status: 200, data: d });
    if (!showExplanation(ok(data.explain), cfg, my)) return undefined;
    await showDrawings(ok(data.overview), ok(data.snippet), ok(data.step), 0);
    window.convtraceTimings.push({ kind: "update", ms: performance.now() - t0, embedded: true, at: performance.now() });
    root.dataset.ready = String(my);
    return undefined;
  }

  function applyLanguage() {
    root.lang = state.lang === "zh" ? "zh-CN" : "en";
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    $("lang").textContent = t("lang_button");
    $("play").textContent = t(state.timer ? "pause" : "play");
    renderTorchStatus();
    for (const panel of panels) if (panel.language) panel.language(state.lang);
  }

  // only the fields of the chosen operation are shown (and sent): each lists its operations
  function applyOperation() {
    const op = currentOp();
    for (const el of root.querySelectorAll("[data-ops]")) {
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

  function renderTorchStatus() {
    const s = state.torch;
    if (!s) return;
    const prefix = host.place === "kernel" ? "kernel_" : "";
    $("torch-status").textContent = s.available ? t(prefix + "torch_on", { v: s.message }) : t(prefix + "torch_off");
    $("torch-status").dataset.available = String(s.available);
  }

  let pending = null;
  form.addEventListener("input", (e) => {
    if (e.target.name === "op") { switchDefaults(currentOp()); applyOperation(); }
    clearTimeout(pending);
    pending = setTimeout(() => { tell("config", readConfig()); update(); },
      e.target.type === "radio" || e.target.tagName === "SELECT" ? 0 : 120);
  });
  form.addEventListener("submit", (e) => e.preventDefault());
  $("prev").addEventListener("click", () => showStep(state.step - 1));
  $("next").addEventListener("click", () => showStep(state.step + 1));
  $("step").addEventListener("input", (e) => showStep(Number(e.target.value)));
  $("play").addEventListener("click", togglePlay);
  $("lang").addEventListener("click", () => {
    setLanguage(state.lang === "en" ? "zh" : "en");
    tell("lang", state.lang);
  });
  $("copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("snippet").textContent); } catch (e) {
      const range = document.createRange(); range.selectNodeContents($("snippet"));
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    }
    $("copy").textContent = t("copied");
    setTimeout(() => { $("copy").textContent = t("copy"); }, 1200);
  });

  function setLanguage(lang) {
    if (lang !== "en" && lang !== "zh") return;
    const changed = lang !== state.lang;
    state.lang = lang;
    applyLanguage();
    if (changed) update();
  }

  // what an extension's panel gets: the explorer's parts and its verbs
  const panelContext = { root, form, view: $("view"), host, $, t, errorLines, update, readConfig,
                         lang: () => state.lang, state };
  const panels = PANELS.map((panel) => ({ ...panel, ...(panel.mount ? panel.mount(panelContext) || {} : {}) }));

  if (host.config) writeConfig(host.config);
  lastOp = currentOp();
  applyOperation();
  applyLanguage();
  if (host.torch) {
    host.torch().then((s) => { if (s) { state.torch = s; renderTorchStatus(); } }).catch(() => undefined);
  }
  firstRender();

  return {
    root,
    update,
    readConfig,
    formKeys,
    setLanguage,
    // a configuration from the host (the widget's traits): shown in the form, then explained
    setConfig(cfg) {
      writeConfig(cfg);
      return update();
    },
    // a step from the host: drawn now, or, before the first answer, once the steps are known
    showStep(n) {
      if (!Number.isInteger(n) || n === state.step) return undefined;
      if (!state.frames) { state.step = Math.max(0, n); return undefined; }
      return showStep(n);
    },
  };
}
