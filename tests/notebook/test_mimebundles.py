"""Jupyter's display bundles (issue 20): a trace, a pool trace and every report answer
``_repr_mimebundle_`` with the types every notebook host can show — ``text/plain``, HTML with
the figure as a sanitizer-proof ``<img>``, ``image/svg+xml`` and ``image/png`` (with the viz
extra; without it no PNG and no error) — and honour IPython's ``include`` / ``exclude``."""

from __future__ import annotations

import base64
import io
import sys

import pytest

import convtrace
from convtrace import plan
from convtrace.draw import raster, render_svg
from convtrace.stream import report as stream_report

SVG, PNG, HTML, TEXT = "image/svg+xml", "image/png", "text/html", "text/plain"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _seed_trace() -> convtrace.Trace:
    return convtrace.explain(input=[1, 1, 1, 1], kernel_size=3, padding=1, verify=False)


@pytest.fixture
def viz() -> None:
    """PNG needs the viz extra (cairosvg, Pillow): installed by `make test`."""
    pytest.importorskip("cairosvg")
    pytest.importorskip("PIL.Image")


def _png_size(data: str) -> tuple[int, int]:
    from PIL import Image

    raw = base64.b64decode(data)
    assert raw.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(raw)) as image:
        return image.size


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param(_seed_trace, id="conv1d"),
        pytest.param(lambda: convtrace.explain([1, 2, 3], kernel_size=3, stride=2, padding=1, output_padding=1,
                                               transposed=True, verify=False), id="conv_transpose1d"),
        pytest.param(lambda: convtrace.explain(op="max_pool1d", input=[1, 3, 2, 5, 4], kernel_size=2,
                                               ceil_mode=True, verify=False), id="max_pool1d"),
    ],
)
def test_a_trace_bundle_has_svg_png_text_and_html(trace, viz: None) -> None:
    t = trace()
    data, meta = t._repr_mimebundle_()
    assert set(data) == {SVG, PNG, HTML, TEXT}
    assert data[SVG] == render_svg(t) and data[SVG].startswith("<svg")
    assert data[TEXT] == str(t)  # what print(trace) shows: the explanation, not the one-line repr
    # the PNG is drawn at twice the figure's size and shown at the figure's size
    width, height = _png_size(data[PNG])
    assert meta[PNG]["width"] > 100 and (width, height) == (2 * meta[PNG]["width"], 2 * meta[PNG]["height"])
    # JupyterLab's sanitizer (an untrusted notebook's HTML) drops <svg> but keeps <img src="data:...">
    assert "<svg" not in data[HTML]
    assert f'<img src="data:image/png;base64,{data[PNG]}"' in data[HTML]
    assert "<table>" in data[HTML]  # the steps' tables stay


def test_without_the_viz_extra_the_bundle_has_no_png_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # `import cairosvg` raises ImportError
    with pytest.raises(convtrace.ConvtraceError, match="viz extra"):
        raster.check_available()
    data, meta = _seed_trace()._repr_mimebundle_()
    assert set(data) == {SVG, HTML, TEXT} and meta == {}
    svg_uri = "data:image/svg+xml;base64," + base64.b64encode(data[SVG].encode()).decode()
    assert f'<img src="{svg_uri}"' in data[HTML] and "<svg" not in data[HTML]


def test_include_and_exclude_are_honoured_and_nothing_unwanted_is_drawn(monkeypatch: pytest.MonkeyPatch, viz: None) -> None:
    t = _seed_trace()
    data, meta = t._repr_mimebundle_(exclude=[PNG])
    assert set(data) == {SVG, HTML, TEXT} and meta == {} and "data:image/png" in data[HTML]

    def no_raster(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a PNG was drawn that nobody asked for")

    monkeypatch.setattr(raster, "png_bytes", no_raster)
    assert set(t._repr_mimebundle_(include=[TEXT])[0]) == {TEXT}
    assert set(t._repr_mimebundle_(include=[SVG, TEXT])[0]) == {SVG, TEXT}


def test_ipython_formats_a_trace_with_every_type(viz: None) -> None:
    """What ipykernel sends: IPython's display formatter on the trace."""
    from IPython.core.formatters import DisplayFormatter

    data, meta = DisplayFormatter().format(_seed_trace())
    assert {SVG, PNG, HTML, TEXT} <= set(data)
    assert data[TEXT].startswith("Conv1d, step by step") and meta[PNG]["width"] > 0


def _reports() -> list[object]:
    layer = plan.parse_stack("conv k=10 s=5")[0]
    return [
        plan.analyse_stack("conv k=10 s=5; conv k=3 s=2", 400),
        plan.shape(layer, 16000),
        plan.solve("same", kernel_sizes=range(3, 6)),
        stream_report("conv k=4 s=2 p=causal; convT k=4 s=2 p=1", sample_rate=16000),
    ]


@pytest.mark.parametrize("index", range(4), ids=["stack", "shape", "solve", "stream"])
def test_a_report_bundle_is_its_text_and_its_table(index: int) -> None:
    report = _reports()[index]
    data, meta = report._repr_mimebundle_()  # type: ignore[attr-defined]
    assert set(data) == {TEXT, HTML} and meta == {}
    assert data[TEXT] == str(report) and "\n" in data[TEXT]
    assert data[HTML] == report._repr_html_() and data[HTML].startswith("<pre")  # type: ignore[attr-defined]
    assert set(report._repr_mimebundle_(exclude=[HTML])[0]) == {TEXT}  # type: ignore[attr-defined]


@pytest.mark.torch
def test_inspect_reports_bundle_their_table_and_an_explained_layer_its_figure(viz: None) -> None:
    torch = pytest.importorskip("torch")
    from convtrace.inspect import explain_layer

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 2, 3, stride=2), torch.nn.MaxPool1d(2))
    report = convtrace.inspect(model, (1, 1, 40))
    data, meta = report._repr_mimebundle_()
    assert set(data) == {TEXT, HTML} and data[TEXT] == str(report) and "rf so far" in data[HTML]
    explained = explain_layer(model, "0", (0, 1, 3), (1, 1, 40))
    data, meta = explained._repr_mimebundle_()
    assert set(data) == {SVG, PNG, HTML, TEXT} and data[TEXT] == str(explained)
    assert data[SVG] == render_svg(explained.trace) and meta[PNG]["width"] > 0
    assert "data:image/png;base64," in data[HTML] and explained._repr_html_() in data[HTML]


def test_show_gives_the_bundle_in_chinese_and_one_frame(viz: None) -> None:
    t = _seed_trace()
    data, _ = t.show("zh")._repr_mimebundle_()
    assert data[SVG] == render_svg(t, lang="zh") and data[TEXT] == t.render("zh") and "第 1 步" in data[HTML]
    frame, meta = t.show(step=2)._repr_mimebundle_()
    assert frame[SVG] == render_svg(t, step=2) and frame[TEXT] == "Conv1d — step 3 of 4: y3"
    assert frame[HTML].startswith('<div class="convtrace-figure"><img src="data:image/png;base64,') and meta[PNG]
    with pytest.raises(convtrace.ConvtraceError, match="step"):
        t.show(step=4)
    with pytest.raises(convtrace.ConvtraceError, match="lang"):
        t.show("fr")


def test_a_report_keeps_its_table_inside_a_notebook_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich's Console, seeing a Jupyter kernel, would send the table to the notebook as its
    own output and leave it out of the text (and of the bundle)."""
    import rich.console

    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: True)
    data, _ = plan.analyse_stack("conv k=10 s=5; conv k=3 s=2", 400)._repr_mimebundle_()
    assert "┏" in data[TEXT] and "conv k=10 s=5" in data[TEXT] and "conv k=10 s=5" in data[HTML]
