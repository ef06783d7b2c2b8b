"""Report building blocks shared by the planner and the model inspector: a
:class:`Finding` (a warning as a code with numbers; the English text is made by
:mod:`convtrace.render.plan_text`) and the dataclass → JSON conversion.

Warning codes (``W1xx`` layer arithmetic, ``W2xx`` model inspection):

====== ==============================================================================
W101   dropped tail: trailing input samples no window reads
W102   gaps: unread samples before the last read one (between taps, between windows, or after the last window)
W103   uneven transposed overlap: kernel_size not divisible by stride (checkerboard risk)
W104   a ConvTranspose1d does not restore the length of its mirror Conv1d
W105   'same' padding with an even (dilated) kernel: asymmetric, extra sample on the right
W106   reflect padding of at least half the input length (PyTorch requires it below the length)
W107   normalisation or attention over time: the real dependence is wider than the convs'
W108   a length the strides do not promise (output length not input length × hop)
W109   an adaptive pool: windows [floor(i*L/O), ceil((i+1)*L/O)), no fixed receptive field or hop (length-dependent)
W201   fell back to a real (non-meta) run
W202   a functional op or crop the inspector could not place on the time axis
S101   (solve) the dilated kernel is shorter than the stride: samples are skipped
S102   (solve) odd total padding: asymmetric, applied with F.pad (stride 1: as 'same')
S103   (solve) uses output_padding
S104   (solve) the per-length rule needs the original length (the snippet's default)
S201   (solve) no fixed output_padding can undo this Conv1d for every length (proof)
S202   (solve) stride > 1: PyTorch rejects padding='same'; this gives ceil(L/stride)
S203   (solve) nothing within the bounds reaches the goal
S204   (solve) asymmetric padding: no output_size rule restores every length
====== ==============================================================================

>>> Finding("W101", "conv1", {"samples": 3}).to_dict()
{'code': 'W101', 'layer': 'conv1', 'values': {'samples': 3}}
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

__all__ = ["Finding", "Shown", "ShownIn", "mime_wanted", "TEXT_VIEWS", "VIEWS_MODULE", "HTML_MODULE", "to_jsonable", "number"]

#: the text of each report class, by class name: ``view(report, lang=, width=, **options)``.
#: :data:`VIEWS_MODULE` fills it when it is imported: the words live in ``render/``, which
#: imports this module, not the other way round (a report imports it by name on first use).
TEXT_VIEWS: dict[str, Callable[..., str]] = {}
VIEWS_MODULE = "convtrace.render.plan_text"
#: the module whose ``report_html(report, lang, **options)`` makes a report's HTML view
HTML_MODULE = "convtrace.render.report_html"


class Shown:
    """A report that shows itself: ``print(report)`` gives the command line's text,
    :meth:`render` the same in Chinese (``lang="zh"``) or fitted to a width, Jupyter an
    HTML view; its ``repr`` is one short line (each report class writes its own)."""

    def render(self, lang: str = "en", width: int | None = None, **options: Any) -> str:
        """The report as text (``lang`` 'en' or 'zh'; ``width`` display columns)."""
        if type(self).__name__ not in TEXT_VIEWS:
            importlib.import_module(VIEWS_MODULE)  # registers the views (render/ is above plan/)
        view = TEXT_VIEWS.get(type(self).__name__)
        return repr(self) if view is None else view(self, lang=lang, width=width, **options)

    def __str__(self) -> str:
        return self.render()

    def to_html(self, lang: str = "en", **options: Any) -> str:
        """The report as HTML (``lang`` 'en' or 'zh'): its text's lines, escaped, and each of
        its tables an HTML ``<table>`` with the same cells (see
        :mod:`convtrace.render.report_html`).

        >>> from convtrace.plan import analyse_stack
        >>> page = analyse_stack("conv k=3", 10).to_html()
        >>> page.count("<table"), "<th" in page and "rf so far" in page
        (1, True)
        """
        view = importlib.import_module(HTML_MODULE).report_html  # render/ is above plan/
        page: str = view(self, lang, **options)
        return page

    def _repr_html_(self) -> str:
        """Jupyter's view: :meth:`to_html` in English."""
        return self.to_html()

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Jupyter's bundle: ``text/plain`` (the text of ``print(report)``, where a host shows
        no HTML) and ``text/html`` (:meth:`to_html`); only the types ``include`` and
        ``exclude`` let through. A report with a figure adds it (see
        :mod:`convtrace.draw.bundle`).

        >>> from convtrace.plan import analyse_stack
        >>> data, meta = analyse_stack("conv k=3", 10)._repr_mimebundle_()
        >>> sorted(data), data["text/plain"].splitlines()[0], meta
        (['text/html', 'text/plain'], 'Stack on 10 samples (1 channel) -> 8 samples', {})
        """
        return self.mime_bundle("en", include, exclude)

    def mime_bundle(
        self, lang: str = "en", include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """The bundle of :meth:`_repr_mimebundle_` in ``lang`` ('en' or 'zh')."""
        data: dict[str, str] = {}
        if mime_wanted("text/plain", include, exclude):
            data["text/plain"] = self.render(lang)
        if mime_wanted("text/html", include, exclude):
            data["text/html"] = self.to_html(lang)
        return data, {}

    def show(self, lang: str = "en") -> ShownIn:
        """The report as a notebook shows it, in ``lang`` ('en' or 'zh'): make it a cell's last
        expression, or ``display()`` it.

        >>> from convtrace.plan import analyse_stack
        >>> data, _ = analyse_stack("conv k=3", 10).show("zh")._repr_mimebundle_()
        >>> data["text/plain"].splitlines()[0], "<th" in data["text/html"] and "感受野" in data["text/html"]
        ('层栈作用于 10 个样本（1 个通道）-> 8 个样本', True)
        """
        return ShownIn(self, lang)


@dataclass(frozen=True)
class ShownIn:
    """A report shown in ``lang`` (:meth:`Shown.show`)."""

    report: Shown
    lang: str = "en"

    def __repr__(self) -> str:
        return f"<{self.report!r} in {self.lang!r}>"

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        return self.report.mime_bundle(self.lang, include, exclude)


def mime_wanted(mime: str, include: Collection[str] | None, exclude: Collection[str] | None) -> bool:
    """Whether IPython's ``include`` / ``exclude`` (None: no restriction) let ``mime`` through.

    >>> mime_wanted("image/png", None, ["image/png"]), mime_wanted("text/plain", ["text/plain"], None)
    (False, True)
    """
    return (include is None or mime in include) and (exclude is None or mime not in exclude)


@dataclass(frozen=True)
class Finding:
    """A warning: ``code`` (see the table above), the ``layer`` it concerns, its numbers."""

    code: str
    layer: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "layer": self.layer, "values": to_jsonable(self.values)}


def number(value: Fraction | int) -> int | float:
    """An exact number for JSON: an int when whole, else a float.

    >>> number(Fraction(1, 4)), number(Fraction(6, 3))
    (0.25, 2)
    """
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return int(value)


def to_jsonable(value: Any) -> Any:
    """Dataclasses → dicts, tuples → lists, Fractions → numbers (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if isinstance(value, Finding) and to_dict is not None:
            return to_dict()
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return number(value)
    return value
