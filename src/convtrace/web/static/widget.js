// convtrace explorer, the notebook widget's adapter (anywidget: convtrace.Explorer): the
// shared front end (explorer.js) answered by the kernel. The model's traits are the
// configuration (convtrace.explain's keyword arguments, listed in `_keys`), the step and the
// language; the documents come from Python (convtrace.notebook.widget.answer), the same the
// page's API returns, asked for by a message {kind: "request", id, what, body}.
"use strict";

import { mount } from "./explorer.js";

// the configuration the traits hold (an unset trait is null: left out, explain's default)
function modelConfig(model) {
  const cfg = {};
  for (const key of model.get("_keys") || []) {
    const v = model.get(key);
    if (v !== null && v !== undefined) cfg[key] = v;
  }
  return cfg;
}

// the same value, as the form would read it back (a list shows as its JSON text)
function same(a, b) {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const text = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  return text(a) === text(b);
}

function widgetHost(model) {
  let next = 0;
  const waiting = new Map();
  const onMessage = (msg) => {
    if (!msg || msg.kind !== "answer" || !waiting.has(msg.id)) return;
    const resolve = waiting.get(msg.id);
    waiting.delete(msg.id);
    resolve(msg.reply);
  };
  model.on("msg:custom", onMessage);
  function ask(what, body) {
    const id = ++next;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      model.send({ kind: "request", id, what, body });
    });
  }
  return {
    place: "kernel",
    embedded: null,
    config: modelConfig(model),
    lang: model.get("lang") || "en",
    step: model.get("step") || 0,
    request: ask,
    torch: () => ask("torch", {}).then((r) => (r.ok ? r.data : null)),
    // the traits the form does not show (verify, max_steps, ...): in every request
    extra: () => modelConfig(model),
    // the learner changed the form, the step or the language: the traits follow (a field the
    // form emptied: null, explain's default; the traits it does not show stay)
    changed(what, value, formKeys) {
      let dirty = false;
      const put = (key, v) => { if (!same(model.get(key), v)) { model.set(key, v); dirty = true; } };
      if (what === "config") {
        for (const key of model.get("_keys") || []) {
          if (key in value) put(key, value[key]);
          else if (formKeys.includes(key)) put(key, null);
        }
      } else if (what === "step" || what === "lang") put(what, value);
      if (dirty) model.save_changes();
    },
    forget: () => model.off("msg:custom", onMessage),
  };
}

// anywidget's entry point
function render({ model, el }) {
  const root = document.createElement("div");
  el.appendChild(root);
  const host = widgetHost(model);
  const explorer = mount(root, host);
  // Python changed traits (w.kernel_size = 5): one redraw for a batch of changes, unless the
  // form already shows them (its own change coming back)
  let queued = false;
  const onConfig = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const cfg = modelConfig(model);
      const shown = explorer.readConfig();
      const keys = new Set([...Object.keys(cfg), ...Object.keys(shown)].filter((k) => (model.get("_keys") || []).includes(k)));
      if ([...keys].every((k) => same(cfg[k], shown[k]))) return;
      explorer.setConfig(cfg);
    });
  };
  const keys = model.get("_keys") || [];
  for (const key of keys) model.on("change:" + key, onConfig);
  const onStep = () => explorer.showStep(model.get("step"));
  const onLang = () => explorer.setLanguage(model.get("lang"));
  model.on("change:step", onStep);
  model.on("change:lang", onLang);
  return () => {
    for (const key of keys) model.off("change:" + key, onConfig);
    model.off("change:step", onStep);
    model.off("change:lang", onLang);
    host.forget();
  };
}

export default { render };
