"""English text for planning and model inspection: warnings from their codes, the
``shape`` / ``solve`` / ``stack`` / ``inspect`` reports as text with tables (drawn by
``rich``, imported lazily), and JSON documents with each warning's message filled in.

>>> from convtrace.plan.report import Finding
>>> message(Finding("W101", "conv1", {"samples": 3, "length": 10}))
'3 trailing input samples of 10 are never read (dropped tail)'
>>> from convtrace.plan.stack import analyse_stack
>>> print(render_stack(analyse_stack("conv k=4 s=2 p=1; conv k=4 s=2 p=1", 100), color=False))
... # doctest: +ELLIPSIS
Stack on 100 samples (1 channel) -> 25 samples
...
receptive field 10, hop 4, offset 3: output t depends on input [4t - 3, 4t + 6]
...
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..plan.report import Finding, to_jsonable

__all__ = ["message", "to_json", "render_shape", "render_solve", "render_stack", "table", "fraction_text"]

_MESSAGES = {
    "W101": "{samples} trailing input samples of {length} are never read (dropped tail)",
    "W102": "{samples} input samples are skipped: stride {stride} is larger than the dilated kernel ({span})",
    "W103": "kernel_size {kernel_size} is not divisible by stride {stride}: uneven overlap of the "
    "transposed kernel (checkerboard risk)",
    "W104": "does not restore the length of its mirror {mirror}: {got} samples instead of {expected}",
    "W105": "padding='same' with an even kernel ({kernel_size}) is asymmetric: {left} left, {right} right",
    "W106": "reflect padding {padding} is near its limit for a {length}-sample input (PyTorch requires it "
    "below the input length: a shorter input fails)",
    "W107": "{kind} over time: every output depends on the whole input; the receptive field below counts "
    "only the convolutions",
    "W108": "{count} input lengths give an output other than the strides promise (e.g. {example} -> {got}, "
    "expected {expected})",
    "W201": "ran on real tensors (meta device could not: {reason})",
    "W202": "{op}: could not place it on the time axis; the chain figures skip it",
    "S101": "the dilated kernel is shorter than the stride: {skipped} of every {stride} samples are skipped",
    "S102": "odd total padding: {left} left, {right} right, applied with F.pad (for stride 1 the same as "
    "padding='same')",
    "S103": "needs output_padding={output_padding}",
    "S104": "restores any length L when called as layer(y, L) (default L={length})",
    "S201": "no fixed output_padding can undo this Conv1d for every length: inputs of {length_a} and "
    "{length_b} samples both give {conv_out} samples, and one ConvTranspose1d maps {conv_out} to one length; "
    "pass output_size=[L] (the rule below)",
    "S202": "PyTorch rejects padding='same' for stride {stride}: pad dilation*(kernel_size-1) in total instead, "
    "which gives ceil(L/{stride})",
    "S203": "nothing within the bounds reaches the goal '{goal}'; widen the kernel sizes or dilations",
    "S204": "the Conv1d pads asymmetrically ({left} left, {right} right): no output_size rule restores every length",
}


def message(finding: Finding) -> str:
    """The English sentence of a warning or note."""
    template = _MESSAGES.get(finding.code)
    if template is None:
        return f"{finding.code}: {finding.values}"
    try:
        return template.format(**finding.values)
    except (KeyError, IndexError):
        return f"{finding.code}: {finding.values}"


def to_json(report: Any) -> dict[str, Any]:
    """A report as a JSON-ready dict, every warning/note with its ``message``."""
    doc = report.to_dict() if hasattr(report, "to_dict") else to_jsonable(report)
    return _add_messages(doc)  # type: ignore[no-any-return]


def _add_messages(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _add_messages(v) for k, v in value.items()}
        if set(value) >= {"code", "layer", "values"} and isinstance(value.get("code"), str):
            out["message"] = message(Finding(value["code"], value["layer"], value["values"]))
        return out
    if isinstance(value, list):
        return [_add_messages(v) for v in value]
    return value


def fraction_text(value: Fraction | int | None) -> str:
    """``3``, ``1/4`` or ``-``.

    >>> fraction_text(Fraction(5, 2))
    '5/2'
    """
    if value is None:
        return "-"
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, color: bool = False, title: str = "") -> str:
    """A table as text, drawn by rich (colour only when ``color``)."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title or None, show_lines=False, header_style="bold" if color else "")
    for index, head in enumerate(headers):
        grid.add_column(head, justify="left" if index < 3 else "right", overflow="fold")
    for row in rows:
        grid.add_row(*("-" if cell is None else str(cell) for cell in row))
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system="standard" if color else None, force_terminal=color,
                      legacy_windows=False)  # fmt: skip
    console.print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _warnings(findings: Sequence[Finding], head: str = "warnings") -> list[str]:
    if not findings:
        return []
    lines = [f"{head}:"]
    for finding in findings:
        where = f" [{finding.layer}]" if finding.layer else ""
        lines.append(f"  {finding.code}{where}: {message(finding)}")
    return lines


# ---------------------------------------------------------------------- shape

def render_shape(report: Any) -> str:
    """``convtrace shape``: the length with its formula, the output_size range, the dropped
    tail and the inverse."""
    from ..plan.layers import TORCH_NAMES

    layer = report.layer
    lines = [
        f"{TORCH_NAMES[layer.kind]} ({layer.describe()}) on {report.in_length} samples -> {report.out_length}",
        f"  {report.formula}",
        f"  {report.substituted}",
    ]
    if report.output_size_range is not None:
        lo, hi = report.output_size_range
        lines.append(f"output_size may be {lo}..{hi} (output_padding 0..{hi - lo}, passed as output_size=[n])")
    if layer.kind != "convT":
        count = report.unreached_count
        if report.dropped_tail:
            first = report.in_length - report.dropped_tail
            lines.append(f"dropped tail: {report.dropped_tail} samples (indices {first}..{report.in_length - 1}) are never read")
        else:
            lines.append("dropped tail: none (the last window reaches the last sample)")
        if count is not None and count > report.dropped_tail:
            lines.append(f"unread samples in all: {count} (gaps between windows)")
    if report.want is not None:
        lines.append(_inverse_line(report))
    return "\n".join(lines + _warnings(report.warnings))


def _inverse_line(report: Any) -> str:
    if report.inverse:
        lo, hi = report.inverse[0]
        span = f"{lo}" if lo == hi else f"{lo}..{hi}"
        return f"inputs giving {report.want} samples: {span}"
    text = f"no input length gives exactly {report.want} samples"
    if report.inverse_with_output_size:
        n = report.inverse_with_output_size[0][0]
        text += f"; with output_size=[{report.want}] an input of {n} samples does"
    return text


# ---------------------------------------------------------------------- solve

def render_solve(report: Any) -> str:
    """``convtrace solve``: the goal, then each solution best first with its snippet."""
    params = ", ".join(f"{k}={v}" for k, v in report.parameters.items() if v not in (None, False))
    lines = [f"solve {report.goal} ({params}): output length {report.rule}",
             f"{report.count} configurations reach it; the best {len(report.solutions)}:"]  # fmt: skip
    lines += ["  " + line for line in _warnings(report.warnings, "note")]
    for index, sol in enumerate(report.solutions, 1):
        extra = []
        if sol.other_lengths:
            extra.append(f"other lengths: {sol.other_lengths}")
        if sol.restores and sol.restores != "all":
            extra.append(f"restores: {sol.restores}")
        lines.append(f"{index}. {sol.layer.describe()}" + (f"   ({'; '.join(extra)})" if extra else ""))
        lines += [f"   {finding.code}: {message(finding)}" for finding in sol.notes]
        lines += ["     " + code for code in sol.snippet.rstrip().splitlines()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- stack

def _depends_text(hop: Fraction, offset: Fraction, field: Fraction) -> str:
    first = _affine(hop, -offset)
    last = _affine(hop, field - 1 - offset)
    return f"[{first}, {last}]"


def _affine(hop: Fraction, constant: Fraction) -> str:
    if hop == 1:
        slope = "t"
    elif hop.denominator == 1:
        slope = f"{hop.numerator}t"
    elif hop.numerator == 1:
        slope = f"t/{hop.denominator}"
    else:
        slope = f"t*{fraction_text(hop)}"
    if constant == 0:
        return slope
    sign = "+" if constant > 0 else "-"
    return f"{slope} {sign} {fraction_text(abs(constant))}"


def stack_rows(layers: Sequence[Any]) -> list[list[Any]]:
    """One table row per layer report."""
    rows = []
    for r in layers:
        rows.append([
            r.index, r.name if r.name != str(r.index) else "", r.spec, r.in_length, r.out_length,
            r.out_channels, r.receptive_field, fraction_text(r.hop), fraction_text(r.offset),
            fraction_text(r.receptive_field_so_far), fraction_text(r.hop_so_far), fraction_text(r.offset_so_far),
            f"{r.macs:,}",
        ])  # fmt: skip
    return rows


STACK_HEADERS = ("#", "name", "layer", "in", "out", "ch", "rf", "hop", "offset", "rf so far", "hop so far",
                 "offset so far", "MACs")  # fmt: skip


def render_stack(report: Any, *, color: bool = False) -> str:
    """The stack report: the table, then the stack's figures in words."""
    channels = "channel" if report.in_channels == 1 else "channels"
    out = "an error" if report.out_length is None else f"{report.out_length} samples"
    lines = [f"Stack on {report.in_length} samples ({report.in_channels} {channels}) -> {out}"]
    lines.append(table(STACK_HEADERS, stack_rows(report.layers), color=color))
    if report.error is not None:
        lines.append(f"error at layer {report.error_layer}: {report.error}")
    lines += _figure_lines(report)
    lines.append(f"multiply-adds: {report.macs:,} (batch {report.batch}); parameters: {report.parameters:,}")
    for r in report.layers:
        if r.feeds is not None:
            a, b = r.feeds
            s = r.upsampling
            lines.append(f"layer {r.index} ({r.spec}): upsamples x{s}; output n is fed by input frames "
                         f"ceil((n {_signed(a)})/{s}) .. floor((n {_signed(b)})/{s})")  # fmt: skip
    return "\n".join(lines + _warnings(report.warnings))


def _signed(value: int) -> str:
    return f"+ {value}" if value >= 0 else f"- {-value}"


def _figure_lines(report: Any) -> list[str]:
    rf, hop, offset = report.receptive_field, report.hop, report.offset
    lines = [
        f"receptive field {fraction_text(rf)}, hop {fraction_text(hop)}, offset {fraction_text(offset)}: "
        f"output t depends on input {_depends_text(hop, offset, rf)}"
        + ("" if report.exact else f" (a bound; at most {report.max_span} samples for any one t)")
    ]
    if hop < 1:
        lines.append(f"upsampling factor {fraction_text(report.upsampling)}")
    look = report.lookahead
    if report.causal:
        lines.append(f"causal: no output depends on input after t*hop (lookahead {fraction_text(look)})")
    else:
        lines.append(f"not causal: lookahead {fraction_text(look)} samples (an output needs input up to t*hop + "
                     f"{fraction_text(look)})")  # fmt: skip
    return lines


# ---------------------------------------------------------------------- inspect

INSPECT_HEADERS = ("#", "name", "type", "parameters", "in", "out", "predicted", "rf so far", "hop so far",
                   "offset so far", "MACs")  # fmt: skip


def render_inspect(report: Any, *, color: bool = False) -> str:
    """``convtrace inspect``: every recorded call, then the model's figures and warnings."""
    rows = [
        [c.index, c.name if c.name == c.module or not c.module else f"{c.name} ({c.module})", c.type, c.layer.describe(),
         "x".join(map(str, c.in_shape)), "x".join(map(str, c.out_shape)),
         "-" if c.predicted_out_length is None else c.predicted_out_length, fraction_text(c.receptive_field),
         fraction_text(c.hop), fraction_text(c.offset), f"{c.macs:,}"]
        for c in report.calls
    ]  # fmt: skip
    shape = "x".join(map(str, report.input_shape))
    where = "on the meta device (no weights allocated)" if report.device == "meta" else f"on {report.device}"
    lines = [f"{report.model} on input {shape} (time on dim {report.time_dim}), run {where}"]
    lines.append(table(INSPECT_HEADERS, rows, color=color))
    if report.error is not None:
        lines.append(f"PyTorch raised: {report.error}")
    else:
        lines.append(f"output length: {report.output_length} (output shape {report.output_shape})")
    if report.receptive_field is not None and report.hop is not None and report.offset is not None:
        kind = "a chain" if report.chain else "branches joined (the range covers every path)"
        lines.append(f"receptive field {fraction_text(report.receptive_field)}, hop {fraction_text(report.hop)}, "
                     f"offset {fraction_text(report.offset)} ({kind}): output t depends on input "
                     f"{_depends_text(report.hop, report.offset, report.receptive_field)}")  # fmt: skip
        look = report.lookahead
        lines.append(("causal" if report.causal else "not causal") + f": lookahead {fraction_text(look)} samples")
    lines.append(f"multiply-adds: {report.macs:,}; parameters: {report.parameter_count:,}")
    return "\n".join(lines + _warnings(report.warnings))


def render_length_map(result: Any) -> str:
    """``inspect --lengths``: one line per input length."""
    lines = [f"{result.model}: output length per input length (hop {fraction_text(result.hop)})"]
    for entry in result.entries:
        if entry.error is not None:
            lines.append(f"  {entry.length:>8} -> error: {entry.error}")
            continue
        mark = "" if entry.as_promised in (True, None) else f"   <- strides promise {fraction_text(entry.promised)}"
        lines.append(f"  {entry.length:>8} -> {entry.output_length}{mark}")
    if result.off_promise:
        lines.append(f"not as the strides promise: {len(result.off_promise)} lengths")
    return "\n".join(lines + _warnings(result.warnings))


def render_layer_explanation(result: Any, lang: str = "en") -> str:
    """``inspect --explain``: convtrace's steps, then PyTorch's value beside convtrace's."""
    from .text import render_text

    n, c, t = result.at
    verdict = "equal" if result.match else "DIFFERENT"
    head = f"{result.layer} ({result.type}) of the model, its own weights and actual input; y[{n}, {c}, {t}]:"
    foot = f"convtrace: {result.value:.9g}   PyTorch: {result.torch_value:.9g}   ({verdict})"
    return "\n".join([head, render_text(result.trace, lang), foot])
