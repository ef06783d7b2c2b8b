"""The learner's notebooks (issue 20): ``examples/conv1d_explained.ipynb`` and its Chinese
twin run from top to bottom without an error (nbclient, a kernel on this interpreter that
imports this checkout's ``src``); every figure output carries a PNG beside its SVG; opened
unsigned (untrusted), what JupyterLab would render is still a picture; and nbconvert's HTML
export shows each figure as a PNG ``<img>``."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("cairosvg")  # the figures' PNG: the viz extra (`make test` installs it)
pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = {"en": EXAMPLES / "conv1d_explained.ipynb", "zh": EXAMPLES / "conv1d_explained.zh.ipynb"}
SVG, PNG, HTML, TEXT = "image/svg+xml", "image/png", "text/html", "text/plain"
WIDGET = "application/vnd.jupyter.widget-view+json"

#: JupyterLab 4's output renderers (@jupyterlab/rendermime's standard factories and the
#: widget manager's): mimetype -> (rank, safe). An output shows its best-ranked type; in an
#: untrusted notebook only a safe one (HTML goes through the sanitizer, SVG never shows).
LAB_RENDERERS = {
    WIDGET: (-10, False),
    HTML: (50, True),
    "text/markdown": (60, True),
    "text/latex": (70, True),
    SVG: (80, False),
    PNG: (90, True),
    "image/jpeg": (90, True),
    "application/javascript": (110, False),
    TEXT: (120, True),
}


def lab_choice(data: dict[str, Any], trusted: bool) -> str | None:
    """The mimetype JupyterLab renders (its ``preferredMimeType(bundle, trusted ? 'any' : 'ensure')``)."""
    ranked = sorted((m for m in data if m in LAB_RENDERERS), key=lambda m: LAB_RENDERERS[m][0])
    for mime in ranked:
        if trusted or LAB_RENDERERS[mime][1]:
            return mime
    return None


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_notebooks_are_what_the_generator_writes(lang: str) -> None:
    """One list of cells makes both notebooks: the code is the same, the prose translated."""
    built = _load_generator().build(lang)
    stored = nbformat.read(NOTEBOOKS[lang], as_version=4)
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in built.cells]
    assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code")  # stored without outputs


def test_the_chinese_notebook_is_written_in_chinese() -> None:
    en, zh = (nbformat.read(NOTEBOOKS[lang], as_version=4) for lang in ("en", "zh"))
    assert len(en.cells) == len(zh.cells)
    for a, b in zip(en.cells, zh.cells):
        if a.cell_type == "markdown":
            assert re.search("[\u4e00-\u9fff]", b.source) and a.source != b.source
    assert 'LANG = "zh"' in zh.cells[1].source and 'LANG = "en"' in en.cells[1].source


def _kernel_manager(tmp: Path) -> Any:
    """A kernel on this interpreter, importing this checkout's src first."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp / "kernels" / "convtrace-test"
    spec_dir.mkdir(parents=True)
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "convtrace test",
        "language": "python",
        "env": {"PYTHONPATH": path, "COLUMNS": "80"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    return KernelManager(kernel_name="convtrace-test", kernel_spec_manager=specs)


@pytest.fixture(scope="module", params=["en", "zh"])
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook run top to bottom (an error in any cell fails here), saved and read back
    as a file is: unsigned."""
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp(f"notebook-{request.param}")
    nb = nbformat.read(NOTEBOOKS[request.param], as_version=4)
    client = NotebookClient(nb, timeout=180, km=_kernel_manager(tmp), resources={"metadata": {"path": str(tmp)}})
    client.execute()
    path = tmp / NOTEBOOKS[request.param].name
    nbformat.write(nb, path)
    return nbformat.read(path, as_version=4)


def _displays(nb: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs
            if o.output_type in ("display_data", "execute_result")]  # fmt: skip


def _figures(nb: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, o) for i, o in _displays(nb) if SVG in o.data]


@pytest.mark.slow
def test_the_notebook_ran_and_shows_a_figure_in_every_section(executed: Any) -> None:
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")
    sections = [i for i, c in enumerate(executed.cells) if c.cell_type == "markdown" and c.source.startswith("## ")]
    figure_cells = {i for i, _ in _figures(executed)}
    for start, end in zip(sections, sections[1:] + [len(executed.cells)]):
        assert figure_cells & set(range(start, end)), executed.cells[start].source.splitlines()[0]


@pytest.mark.slow
def test_every_figure_output_has_a_png_beside_its_svg(executed: Any) -> None:
    import io

    from PIL import Image

    figures = _figures(executed)
    assert len(figures) >= 12
    for index, output in figures:
        assert output.data[SVG].lstrip().startswith("<svg"), index
        raw = base64.b64decode(output.data[PNG])
        with Image.open(io.BytesIO(raw)) as image:
            assert image.format == "PNG" and image.size[0] > 100, index
        assert output.metadata[PNG]["width"] * 2 == image.size[0], index  # the 2x PNG sized to the figure


@pytest.mark.slow
def test_unsigned_the_notebook_still_shows_every_figure(executed: Any, tmp_path: Path) -> None:
    """An unsigned notebook opens untrusted: JupyterLab shows no SVG output and sanitizes
    HTML (an inline <svg> is removed, an <img> kept). Each figure output must then render as
    HTML holding the PNG as an <img>, or as the PNG itself."""
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(tmp_path), secret=b"convtrace-test")
    assert not notary.check_signature(executed)
    for index, output in _displays(executed):
        shown = lab_choice(output.data, trusted=False)
        assert shown is not None and shown != SVG, index
        if SVG in output.data:
            assert PNG in output.data, index
            assert shown in (HTML, PNG), index
            if shown == HTML:
                page = output.data[HTML]
                assert "<svg" not in page and "<script" not in page, index
                assert f'<img src="data:image/png;base64,{output.data[PNG]}"' in page, index
    assert lab_choice({SVG: "<svg/>", TEXT: "<svg/>"}, trusted=False) == TEXT  # why a PNG must be there


def _exported_pngs(nb: Any) -> set[str]:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return set(re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', body))


@pytest.mark.slow
def test_the_html_export_shows_every_figure_as_a_png(executed: Any) -> None:
    """nbconvert's export shows a convtrace bundle's HTML, the figure in it a PNG <img>."""
    pngs = _exported_pngs(executed)
    figures = [(index, output) for index, output in _figures(executed) if WIDGET not in output.data]
    assert len(figures) >= 12
    for index, output in figures:
        assert output.data[PNG] in pngs, index


def _explorers(nb: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, o) for i, o in _displays(nb) if WIDGET in o.data]


@pytest.mark.slow
def test_the_html_export_renders_the_explorers_from_their_saved_state(executed: Any) -> None:
    """With the widget state saved (nbclient saves it, as JupyterLab's "save widget state"),
    nbconvert picks the widget view of an Explorer output and drops every fallback beside it."""
    from nbconvert import HTMLExporter

    explorers = _explorers(executed)
    assert len(explorers) >= 9
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
    for index, output in explorers:
        assert output.data[WIDGET]["model_id"] in body, index
        assert output.data[PNG] not in body, index  # nbconvert's choice, not ours: the view or nothing


def _stateless(nb: Any) -> Any:
    """The notebook as JupyterLab saves it by default: without the widget state."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    copy.metadata.pop("widgets", None)
    return copy


@pytest.mark.slow
def test_without_widget_state_the_html_export_shows_each_explorers_figure(executed: Any) -> None:
    """Without the widget state nbconvert falls back to the Explorer's static figure."""
    from nbconvert import HTMLExporter

    stateless = _stateless(executed)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(stateless)
    images = set(re.findall(r'<img [^>]*src="data:image/(?:svg\+xml|png);base64,([A-Za-z0-9+/=]+)"', body))
    for index, output in _explorers(stateless):
        svg = base64.b64encode(output.data[SVG].encode()).decode()
        assert svg in images or output.data[PNG] in images, index


@pytest.mark.slow
def test_without_widget_state_the_html_export_shows_the_explorers_png(executed: Any) -> None:
    """... and that figure should be the PNG, as every other figure's."""
    stateless = _stateless(executed)
    pngs = _exported_pngs(stateless)
    for index, output in _explorers(stateless):
        assert output.data[PNG] in pngs, index
