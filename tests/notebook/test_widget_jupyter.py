"""End to end: ``convtrace.Explorer`` in a real JupyterLab 4 and Notebook 7, headless on
127.0.0.1 with no token, in the system Chromium. A small notebook with the seed's explorer is
opened and run; the widget renders, a scrubber drag changes ``w.step`` in the kernel, setting
``w.kernel_size = 5`` from Python redraws, and no request leaves 127.0.0.1 (anywidget's
front end comes from its lab extension, the widget's from the package). The server stops in
the fixture's teardown; screenshots go to tests/notebook/artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anywidget")
pytest.importorskip("playwright")
pytest.importorskip("ipykernel")

from playwright.sync_api import Page, expect

from browsers import free_port, stop, wait_until_up

SRC = Path(__file__).resolve().parents[2] / "src"
CELLS = [
    "import convtrace\nw = convtrace.Explorer(input=[1, 1, 1, 1], kernel_size=3, padding=1)\nw",
    "print('step', w.step)",
]
#: each app: its command, the flag exposing window.jupyterapp, the notebook's URL
APPS = {
    "lab": (["jupyter-lab", "--LabApp.expose_app_in_browser=True"], "/lab/tree/explorer.ipynb"),
    "notebook": (["jupyter-notebook", "--JupyterNotebookApp.expose_app_in_browser=True"], "/notebooks/explorer.ipynb"),
}


def _notebook() -> dict[str, Any]:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    return {"cells": [{**cell, "source": source} for source in CELLS], "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}


@pytest.fixture(scope="module", params=sorted(APPS))
def jupyter(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """JupyterLab or Notebook 7 serving a temporary folder with the notebook; (base URL, app)."""
    app = str(request.param)
    command, _ = APPS[app]
    exe = Path(sys.executable).parent / command[0]
    if not exe.exists():
        pytest.skip(f"{command[0]} is not installed next to {sys.executable}")
    root = tmp_path_factory.mktemp(f"jupyter_{app}")
    (root / "explorer.ipynb").write_text(json.dumps(_notebook()), encoding="utf-8")
    home = root / ".home"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               PATH=os.pathsep.join([str(exe.parent), os.environ.get("PATH", "")]),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               IPYTHONDIR=str(home / "ipython"))
    # no "Jupyter news?" toast over the notebook (nor its fetch)
    notification = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), *command[1:], "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
         "--ServerApp.password=", "--ServerApp.allow_root=True", f"--ServerApp.root_dir={root}",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "w"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/api/status", proc, f"jupyter {app}", (root / "server.log").read_text, timeout=120)
        yield url, app
    finally:
        stop(proc)
        shutil.rmtree(home, ignore_errors=True)


#: runs ``code`` in the notebook's kernel, resolves with what it printed
EXECUTE = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code });
  let out = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") out += msg.content.text;
    if (msg.header.msg_type === "error") out += "ERROR " + msg.content.ename + ": " + msg.content.evalue;
  };
  await future.done;
  return out;
}"""

KERNEL_READY = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const s = w && w.sessionContext;
  return Boolean(s && s.session && s.session.kernel && s.session.kernel.status === "idle"
                 && w.content && w.content.widgets && w.content.widgets.length > 0);
}"""


@pytest.mark.slow
def test_explorer_in_jupyter(jupyter: tuple[str, str], page: Page, artifacts: Path) -> None:
    url, app = jupyter
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
    page.on("websocket", lambda ws: outside.append(ws.url) if not ws.url.startswith("ws://127.0.0.1") else None)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url + APPS[app][1])
    page.wait_for_function(KERNEL_READY, timeout=90_000, polling=250)
    page.evaluate("window.jupyterapp.shell.collapseLeft && window.jupyterapp.shell.collapseLeft()")  # lab: the notebook wide
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    widget = page.locator(".convtrace-explorer")
    expect(widget).to_have_count(1, timeout=60_000)
    label = widget.get_by_test_id("step-label")
    expect(label).to_have_text("step 1 of 4", timeout=60_000)
    expect(widget.get_by_test_id("badge")).to_contain_text("PyTorch agrees")
    expect(widget.get_by_test_id("step-detail")).to_contain_text("y1 = 2")
    widget.get_by_test_id("figure").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"jupyter_{app}_seed.png"))
    # a scrubber drag changes w.step in the kernel
    slider = widget.get_by_test_id("step")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    expect(label).to_have_text("step 3 of 4")
    expect(widget.get_by_test_id("step-detail")).to_contain_text("y3 = 3")
    page.evaluate("document.querySelector('.convtrace-explorer').closest('.jp-Cell').scrollIntoView()")
    page.screenshot(path=str(artifacts / f"jupyter_{app}_scrubbed.png"))
    printed = ""
    for _ in range(40):  # the change reaches the kernel over the widget's comm
        printed = page.evaluate(EXECUTE, "print('step', w.step)")
        if printed.strip() == "step 2":
            break
        time.sleep(0.25)
    assert printed.strip() == "step 2", printed
    # w.kernel_size = 5 from Python redraws (L_out = 4 + 2 - 5 + 1 = 2)
    assert page.evaluate(EXECUTE, "w.kernel_size = 5") == ""
    expect(widget.get_by_test_id("kernel_size")).to_have_value("5")
    expect(label).to_have_text("step 2 of 2")
    expect(widget.get_by_test_id("overview").locator("g[data-role=output]")).to_have_count(2)
    expect(widget.get_by_test_id("formula")).to_contain_text("= 2")
    assert page.evaluate(EXECUTE, "print(w.step, w.trace.output.ravel().tolist())").strip() == "1 [4.0, 4.0]"
    widget.get_by_test_id("figure").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"jupyter_{app}_kernel5.png"))
    assert outside == [], outside
