// convtrace explorer, the "streaming" switch (issue 19): an extension of the shared front end
// (explorer.js, through its hook `registerPanel`). Switched on, the configuration asks for one
// streamed push (`stream_chunk`): the figure's frames become the chunk loop (a frame per push,
// then the flush), and this panel shows, for the push of the current frame, which inputs each
// output reads from the cache and which are new (ConvTranspose1d: the carried tail, no bias),
// from the same JSON document as `convtrace explain --json --stream` (its `stream` object).
"use strict";

import { registerPanel } from "./explorer.js";

const WORDS = {
  en: {
    streaming: "streaming", chunk: "samples per push", push: "push {n} of {total}", flush: "flush(): the end is known",
    cache: "cache", pad_cache: "padding's cache", new: "new", carried: "carried",
    cache_before: "cache before the push", tail_before: "tail carried in (no bias)", tail_after: "tail carried on (no bias)",
    none: "none", no_output: "no output yet", bias: "+ bias {b}, once", convs_only: "streaming: Conv1d and ConvTranspose1d",
  },
  zh: {
    streaming: "流式运行", chunk: "每次 push 的样本数", push: "第 {n} 次 push（共 {total} 次）", flush: "flush()：结束已知",
    cache: "缓存", pad_cache: "填充的缓存", new: "新", carried: "携带",
    cache_before: "push 之前的缓存", tail_before: "携带进来的尾部（不含偏置）", tail_after: "继续携带的尾部（不含偏置）",
    none: "无", no_output: "尚无输出", bias: "+ 偏置 {b}，仅一次", convs_only: "流式运行：Conv1d 与 ConvTranspose1d",
  },
};

// the marks of the split (scoped: the explorer's root carries the class)
const STYLE = `
  .convtrace-explorer .stream-read { border-radius: 4px; padding: 0 4px; border: 1px solid; }
  .convtrace-explorer .stream-cache, .convtrace-explorer .stream-carried { background: #d0ebff; border-color: #1c7ed6; }
  .convtrace-explorer .stream-pad_cache { background: #ffe8cc; border-color: #e8590c; }
  .convtrace-explorer .stream-new { background: #b2f2bb; border-color: #2b8a3e; }
  .convtrace-explorer #stream-split div { margin: 2px 0; }`;

const CONTROLS = `
  <fieldset class="stream-switch" data-testid="stream-switch">
    <legend data-stream-i18n="streaming">streaming</legend>
    <label><input type="checkbox" name="stream" data-testid="stream-toggle"> <span data-stream-i18n="streaming">streaming</span></label>
    <label><span data-stream-i18n="chunk">samples per push</span>
      <input name="stream_chunk" type="number" min="1" value="2" data-testid="stream-chunk"></label>
  </fieldset>`;

registerPanel({
  name: "stream",
  keys: ["stream_chunk"],
  mount(ctx) {
    ctx.form.insertAdjacentHTML("beforeend", CONTROLS);
    const style = document.createElement("style");
    style.textContent = STYLE;
    ctx.root.appendChild(style);
    const detail = ctx.$("step-detail");
    detail.insertAdjacentHTML("afterend", '<div id="stream-split" data-testid="stream-split" class="detail" hidden></div>');
    const split = ctx.$("stream-split");
    const toggle = ctx.form.elements.stream;
    const chunk = ctx.form.elements.stream_chunk;
    const docs = {};  // the explained pushes of the current configuration, by push number
    let seq = 0;

    function w(key, values) {
      let s = WORDS[ctx.lang()][key] || key;
      for (const [k, v] of Object.entries(values || {})) s = s.split("{" + k + "}").join(String(v));
      return s;
    }

    function on() {
      const op = ctx.form.elements.op.value;
      return toggle.checked && (op === "conv" || op === "transposed");
    }

    function span(text, origin) {
      const el = document.createElement("span");
      el.className = "stream-read stream-" + origin;
      el.dataset.origin = origin;
      el.textContent = text;
      return el;
    }

    function line(parent, testid) {
      const div = document.createElement("div");
      if (testid) div.dataset.testid = testid;
      parent.appendChild(div);
      return div;
    }

    // one push of the `stream` object: the state before it, each output's reads, the tail after
    function render(stream, frame) {
      split.replaceChildren();
      split.hidden = false;
      const flush = frame >= stream.pushes;
      split.dataset.push = flush ? "flush" : String(stream.push);
      line(split, "stream-title").textContent = flush ? w("flush") : w("push", { n: stream.push, total: stream.pushes });
      const before = stream.state_before.find((s) => s.role === "window" || s.role === "tail");
      if (before && !flush) {
        const head = line(split, "stream-cache");
        head.textContent = w(before.role === "tail" ? "tail_before" : "cache_before") + ": ";
        if (!before.positions.length) head.append(w("none"));
        before.positions.forEach((p, i) => head.append(span(`[${p}] ${before.values[i]}`, before.role === "tail" ? "carried" : "cache"), " "));
      }
      if (flush) {
        const first = stream.emitted_before + stream.emitted;  // the flush's outputs follow the last push's
        const values = (stream.flush && stream.flush[0] && stream.flush[0][0]) || [];
        const row = line(split, "stream-output");
        row.textContent = values.map((v, i) => `y${first + i + 1} = ${v}`).join(", ") || w("none");
        return;
      }
      if (!stream.outputs.length) line(split, "stream-output").textContent = w("no_output");
      for (const out of stream.outputs) {
        const row = line(split, "stream-output");
        row.dataset.out = String(out.out_index);
        row.append(`y${out.out_index + 1} = ${out.value} ← `);
        if (out.carried !== null) row.append(span(`${w("carried")} ${out.carried}`, "carried"), " + ");
        for (const r of out.reads) {
          if (out.carried !== null && r.origin === "carried") continue;  // inside the carried sum
          const name = r.input_index === null ? "0" : `x${r.input_index + 1}`;
          const shown = out.carried !== null ? `${name}·w${r.kernel_index + 1}` : name;
          row.append(span(`${shown} (${w(r.origin)})`, r.origin), " ");
        }
        if (out.bias !== null) row.append(w("bias", { b: out.bias }));
      }
      const after = stream.state_after.find((s) => s.role === "tail");
      if (after) {
        const tail = line(split, "stream-tail");
        tail.textContent = w("tail_after") + ": ";
        if (!after.positions.length) tail.append(w("none"));
        after.positions.forEach((p, i) => tail.append(span(`[${p}] ${after.values[i]}`, "carried"), " "));
      }
    }

    // the push of the scrubber's frame: asked for once per configuration, then kept
    async function sync() {
      const doc = ctx.state.doc;
      if (!on() || !doc || !doc.stream) { split.hidden = true; delete split.dataset.push; return; }
      const frame = ctx.state.step;
      const push = Math.min(frame + 1, doc.stream.pushes);
      const my = ++seq;
      if (!docs[push]) {
        docs[doc.stream.push] = doc.stream;
        if (!docs[push]) {
          const r = await ctx.host.request("explain", { ...ctx.state.config, stream_push: push, lang: ctx.lang() });
          if (!r.ok || my !== seq) return;
          docs[push] = r.data.stream;
        }
      }
      if (my === seq) render(docs[push], frame);
    }

    new MutationObserver(() => sync()).observe(ctx.root, { attributes: true, attributeFilter: ["data-step", "data-ready"] });
    toggle.addEventListener("change", () => { ctx.root.dataset.streaming = String(toggle.checked); });

    return {
      // the scrubber's frames are the pushes, then the flush: "push 2 of 3", not "scatter 2 of 4"
      stepLabel(frame, frames) {
        const doc = ctx.state.doc;
        if (!on() || !doc || !doc.stream) return null;
        return frame >= doc.stream.pushes ? w("flush") : w("push", { n: frame + 1, total: doc.stream.pushes });
      },
      config(cfg) {
        if (!on()) return;
        const n = Number.parseInt(chunk.value, 10);
        cfg.stream_chunk = Number.isNaN(n) ? chunk.value : n;  // as typed: the server says what is wrong
      },
      writeConfig(cfg) {
        toggle.checked = cfg.stream_chunk !== undefined && cfg.stream_chunk !== null;
        if (toggle.checked) chunk.value = String(cfg.stream_chunk);
      },
      explained(doc) {
        for (const key of Object.keys(docs)) delete docs[key];
        if (doc.stream) docs[doc.stream.push] = doc.stream;
        sync();
      },
      language() {
        for (const el of ctx.root.querySelectorAll("[data-stream-i18n]")) el.textContent = w(el.dataset.streamI18n);
        for (const key of Object.keys(docs)) delete docs[key];
        sync();
      },
    };
  },
});
