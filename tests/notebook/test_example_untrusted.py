"""End to end: the executed learner's notebook, opened unsigned (untrusted) in a real
JupyterLab 4 and Notebook 7 (the server of test_widget_jupyter.py), shows every figure as a
PNG ``<img>``: no output is drawn by the SVG renderer (which an untrusted notebook does not
use), no inline ``<svg>`` survives the HTML sanitizer, and each Explorer output shows its
static PNG, as no widget starts without a kernel. Screenshots go to tests/notebook/artifacts/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nbclient")
pytest.importorskip("playwright")
pytest.importorskip("cairosvg")
pytest.importorskip("anywidget")

import nbformat
import test_widget_jupyter as jupyter_server
from playwright.sync_api import Page
from test_example_notebooks import NOTEBOOKS, SVG, WIDGET, _displays, _kernel_manager

#: JupyterLab 4 or Notebook 7 on 127.0.0.1, no token (the widget's end-to-end fixture)
jupyter = jupyter_server.jupyter

#: what the untrusted page shows: how many outputs draw a PNG, an SVG, or an inline <svg>
COUNT = """async () => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const shown = {png: 0, svgRenderer: 0, inlineSvg: 0, trusted: 0};
  for (let i = 0; i < notebook.widgets.length; i++) {
    await notebook.scrollToItem(i, 'start');  // a windowed notebook renders the cells in view only
    await new Promise((resolve) => setTimeout(resolve, 30));
    const cell = notebook.widgets[i];
    if (cell.model.trusted) shown.trusted++;
    for (const output of cell.node.querySelectorAll('.jp-OutputArea-output')) {
      if (output.querySelector('img[src^="data:image/png"]')) shown.png++;
      if (output.querySelector('svg')) shown.inlineSvg++;
      if (output.classList.contains('jp-RenderedSVG') || output.querySelector('.jp-RenderedSVG')) shown.svgRenderer++;
    }
  }
  return shown;
}"""


@pytest.fixture(scope="module")
def executed_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp("untrusted")
    nb = nbformat.read(NOTEBOOKS["en"], as_version=4)
    NotebookClient(nb, timeout=180, km=_kernel_manager(tmp), resources={"metadata": {"path": str(tmp)}}).execute()
    return nb, nbformat.writes(nb)


@pytest.mark.slow
def test_unsigned_notebook_in_jupyter_shows_every_figure_as_png(
    jupyter: tuple[str, str], executed_path: tuple[Any, str], page: Page, artifacts: Path
) -> None:
    url, app = jupyter
    nb, text = executed_path
    name = "untrusted-example.ipynb"
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(url + ("/lab" if app == "lab" else "/tree"))
    page.wait_for_function("() => Boolean(window.jupyterapp && window.jupyterapp.serviceManager)", timeout=90_000)
    # saved through the contents API: its outputs are not marked trusted, so the server does not sign it
    page.evaluate("async ([name, content]) => { await window.jupyterapp.serviceManager.contents.save(name, "
                  "{type: 'notebook', format: 'json', content}); }", [name, json.loads(text)])  # fmt: skip
    figures = sum(1 for _, output in _displays(nb) if SVG in output.data)
    explorers = sum(1 for _, output in _displays(nb) if WIDGET in output.data)
    assert figures >= 12 and explorers >= 9
    page.goto(url + jupyter_server.APPS[app][1].replace("explorer.ipynb", name))
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length > 5", timeout=90_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"untrusted_{app}_top.png"))
    shown = page.evaluate(COUNT)
    page.screenshot(path=str(artifacts / f"untrusted_{app}_end.png"))
    assert shown["trusted"] == 0, shown  # the notebook opened untrusted
    assert shown["svgRenderer"] == 0 and shown["inlineSvg"] == 0, shown
    assert shown["png"] == figures, shown  # the Explorer outputs' fallback too (they carry an SVG)
