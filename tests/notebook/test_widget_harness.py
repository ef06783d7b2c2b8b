"""The widget's real ES module (``Explorer._esm``: the shared explorer.js and the notebook
adapter) in a plain page with a small fake anywidget model, no Jupyter: the model's
``send`` is answered by the Explorer in this process (``reply_to``, what the kernel runs), and
the traits travel as the widget protocol carries them (Python sets -> ``model.set``; the
front end's ``save_changes`` -> ``set_state``). Render, scrubbing, traits from Python, form
edits and invalid settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anywidget")
pytest.importorskip("playwright")

from playwright.sync_api import Page, expect

from convtrace.notebook.widget import Explorer, answer

SEED = {"input": [1, 1, 1, 1], "kernel_size": 3, "padding": 1}
ORIGIN = "http://widget.test"

#: the page: a cell, the fake model (get/set/on/off/save_changes/send, Backbone's events) and
#: anywidget's way of loading the ESM (a module from a blob) and its CSS (a style element)
HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><style id="widget-css"></style></head>
<body style="margin:0"><div id="cell" style="width: 1200px"></div>
<script type="module">
class FakeModel {
  constructor(state) { this.state = { ...state }; this.handlers = {}; this.dirty = {}; this.saved = []; }
  get(key) { return this.state[key]; }
  set(key, value) {
    if (JSON.stringify(this.state[key]) === JSON.stringify(value)) return;
    this.state[key] = value; this.dirty[key] = value;
    this.emit("change:" + key, value);
  }
  // a change from the kernel: set, not sent back
  receive(key, value) { this.set(key, value); delete this.dirty[key]; }
  on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); }
  off(name, fn) { this.handlers[name] = (this.handlers[name] || []).filter((f) => f !== fn); }
  emit(name, ...args) { for (const fn of this.handlers[name] || []) fn(...args); }
  save_changes() { this.saved.push(this.dirty); this.dirty = {}; }
  send(content) { window.kernel(content).then((reply) => { if (reply) this.emit("msg:custom", reply); }); }
}
window.start = async (state) => {
  document.getElementById("widget-css").textContent = state._css;
  const url = URL.createObjectURL(new Blob([state._esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  window.model = new FakeModel(state);
  window.cleanup = await widget.render({ model: window.model, el: document.getElementById("cell") });
  // a second view of the same model (the widget displayed again, in another cell)
  window.addView = async () => {
    const el = document.createElement("div");
    el.id = "cell2"; el.style.width = "1200px";
    document.body.appendChild(el);
    await widget.render({ model: window.model, el });
  };
  return true;
};
</script></body></html>
"""


class Harness:
    """The page and the Explorer it shows: ``set`` from Python, ``sync`` back what the front
    end saved."""

    def __init__(self, page: Page, widget: Explorer) -> None:
        self.page, self.widget = page, widget
        self.requests: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.route("**/*", self._serve)
        page.expose_function("kernel", widget.reply_to)
        page.goto(ORIGIN + "/")
        state = {k: v for k, v in widget.get_state().items() if not k.startswith("_") or k in ("_esm", "_css", "_keys")}
        page.evaluate("(state) => window.start(state)", state)

    def _serve(self, route: Any) -> None:
        if route.request.url == ORIGIN + "/":
            route.fulfill(status=200, content_type="text/html", body=HARNESS)
        else:  # nothing else is there: a widget that fetched anything would fail here
            route.fulfill(status=404, body="not here")

    def set(self, **traits: Any) -> None:
        """Python sets traits (``w.kernel_size = 5``); the comm carries them to the front end."""
        for name, value in traits.items():
            setattr(self.widget, name, value)
            synced = self.widget.get_state(name)[name]
            self.page.evaluate("([k, v]) => window.model.receive(k, v)", [name, synced])

    def sync(self) -> dict[str, Any]:
        """What the front end saved since the last sync, applied to the Python widget."""
        saved = self.page.evaluate("window.model.saved.splice(0)")
        changes: dict[str, Any] = {}
        for batch in saved:
            changes.update(batch)
        self.widget.set_state(changes)
        return changes

    def saved_step(self) -> int:
        return int(self.page.evaluate("window.model.get('step')"))

    def part(self, name: str) -> Any:
        return self.page.get_by_test_id(name)


@pytest.fixture
def harness(page: Page) -> Iterator[Any]:
    """A harness maker; fails the test on any console error or request leaving the page."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1240, "height": 1000})
    made: list[Harness] = []

    def make(**config: Any) -> Harness:
        made.append(Harness(page, Explorer(**config)))
        return made[-1]

    yield make
    assert errors == [], errors
    for h in made:
        assert [u for u in h.requests if u != ORIGIN + "/"] == [], h.requests  # only the page itself


def test_renders_the_seed_example(harness: Any, artifacts: Path) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    expect(h.part("step-detail")).to_contain_text("y1 = 2")
    expect(h.part("formula")).to_contain_text("= 4")
    expect(h.part("snippet")).to_contain_text("nn.Conv1d(in_channels=1, out_channels=1, kernel_size=3")
    expect(h.part("overview").locator("g[data-role=output]")).to_have_count(4)
    expect(h.part("input")).to_have_value("[1,1,1,1]")  # the form shows the traits
    expect(h.part("kernel_size")).to_have_value("3")
    expect(h.part("torch-status")).to_contain_text("kernel")
    # the shipped stylesheet applies, inside the widget's root only
    radius = h.page.evaluate("getComputedStyle(document.querySelector('.convtrace-explorer .badge')).borderRadius")
    assert radius == "999px"
    assert h.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    h.page.screenshot(path=str(artifacts / "harness_seed.png"), full_page=True)


def test_scrubber_drag_sets_the_step_trait(harness: Any) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    box = h.part("step").bounding_box()
    assert box is not None
    h.page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)
    h.page.mouse.down()
    h.page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2, steps=5)
    h.page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    h.page.mouse.up()
    expect(h.part("step-label")).to_have_text("step 4 of 4")
    expect(h.part("step-detail")).to_contain_text("y4 = 2")
    assert h.saved_step() == 3
    assert h.sync()["step"] == 3 and h.widget.step == 3  # the kernel's w.step
    h.part("prev").click()
    expect(h.part("step-label")).to_have_text("step 3 of 4")
    h.sync()
    assert h.widget.step == 2


def test_python_traits_redraw(harness: Any) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    h.set(step=2)  # w.step = 2 moves the page
    expect(h.part("step-label")).to_have_text("step 3 of 4")
    expect(h.part("step-detail")).to_contain_text("y3 = 3")
    h.set(kernel_size=5)  # w.kernel_size = 5 redraws: L_out = 4 + 2 - 5 + 1 = 2
    expect(h.part("step-label")).to_have_text("step 2 of 2")  # the step kept within the new steps
    expect(h.part("kernel_size")).to_have_value("5")
    expect(h.part("formula")).to_contain_text("= 2")
    expect(h.part("overview").locator("g[data-role=output]")).to_have_count(2)
    assert h.sync() == {"step": 1} and h.widget.step == 1  # the clamped step goes back to Python
    assert h.widget.trace.output.ravel().tolist() == [4.0, 4.0]  # padded 0,1,1,1,1,0 under five ones
    h.set(lang="zh")
    expect(h.part("step-label")).to_have_text("第 2 步（共 2 步）")
    h.set(op="max_pool1d", kernel_size=2, stride=2, padding=0)
    expect(h.part("op-max_pool1d")).to_be_checked()
    expect(h.part("overview").locator("g[data-role=output]")).to_have_count(2)


def test_form_edits_set_the_traits(harness: Any) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    h.part("kernel_size").fill("2")
    expect(h.part("step-label")).to_have_text("step 1 of 5")
    h.page.wait_for_function("window.model.get('kernel_size') === 2")
    h.sync()
    assert h.widget.kernel_size == 2 and h.widget.trace.output.shape[-1] == 5
    h.part("lang").click()
    expect(h.part("step-label")).to_have_text("第 1 步（共 5 步）")
    h.sync()
    assert h.widget.lang == "zh"


def test_traits_the_form_does_not_show_are_kept(harness: Any) -> None:
    h = harness(input=[1] * 10, kernel_size=3, padding=1, verify=False, max_steps=2)  # 4 of the 10 steps, no check
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    expect(h.part("outputs-note")).to_contain_text("The output has 10 elements")
    expect(h.part("badge")).to_have_text("PyTorch check not run")
    h.part("padding").fill("0")  # a form edit keeps them: 8 outputs, still 4 steps shown, still no check
    expect(h.part("formula")).to_contain_text("= 8")
    expect(h.part("outputs-note")).to_contain_text("The output has 8 elements")
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    expect(h.part("badge")).to_have_text("PyTorch check not run")
    h.page.wait_for_function("window.model.get('padding') === 0")
    h.sync()
    assert (h.widget.verify, h.widget.max_steps, h.widget.padding) == (False, 2, 0)


def test_invalid_setting_shows_the_advice_and_no_stale_numbers(harness: Any, artifacts: Path) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    h.set(kernel_size=9)  # larger than the padded input (6)
    detail = answer("explain", {**h.widget.config(), "lang": "en"})["data"]["detail"]
    assert detail == h.widget.error and h.widget.trace is None
    error = h.part("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(detail["rule"])  # the service's advice, as the page shows it
    for suggestion in detail["suggestions"]:
        expect(error).to_contain_text(suggestion)
    for panel in ("figure", "overview", "snippet", "step-label", "step-detail"):
        expect(h.part(panel)).to_be_empty()
    assert h.part("overview").locator("svg").count() == 0
    expect(h.part("formula")).to_have_text("(waiting for a valid setting)")
    expect(h.part("step")).to_be_disabled()
    h.page.screenshot(path=str(artifacts / "harness_invalid.png"), full_page=True)
    h.set(kernel_size=3)  # valid again: every panel back
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    expect(error).to_be_hidden()


def test_explorer_takes_every_op(harness: Any) -> None:
    h = harness(input=[1, 2, 3], kernel_size=2, stride=2, transposed=True, bias=[1])
    expect(h.part("op-transposed")).to_be_checked()
    expect(h.part("step-label")).to_have_text("scatter 1 of 3")
    expect(h.part("bias")).to_have_value("[1]")
    # each x stamps [1, 1] at 2t, plus the bias: PyTorch's ConvTranspose1d (the badge says it agrees)
    cells = h.part("overview").locator("g[data-role=output]")
    expect(cells).to_have_count(6)
    assert [cells.nth(i).get_attribute("data-label") for i in range(6)] == ["2", "2", "3", "3", "4", "4"]
    assert h.widget.trace.output.ravel().tolist() == [2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    expect(h.part("badge")).to_contain_text("PyTorch agrees")


def test_two_views_of_one_widget_follow_each_other(harness: Any) -> None:
    h = harness(**SEED)
    expect(h.part("step-label")).to_have_text("step 1 of 4")
    h.page.evaluate("window.addView()")
    first, second = h.page.locator("#cell"), h.page.locator("#cell2")
    expect(second.get_by_test_id("step-label")).to_have_text("step 1 of 4")
    first.get_by_test_id("next").click()  # one view's step is the model's: the other follows
    expect(second.get_by_test_id("step-label")).to_have_text("step 2 of 4")
    second.get_by_test_id("kernel_size").fill("2")  # and its form: the other redraws
    expect(first.get_by_test_id("kernel_size")).to_have_value("2")
    expect(first.get_by_test_id("formula")).to_contain_text("= 5")
    h.sync()
    assert (h.widget.step, h.widget.kernel_size) == (1, 2)
