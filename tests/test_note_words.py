"""Every note's words against its data, in English and Chinese.

A trace's notes are codes with numbers (``note_data``); render/notes.py says each in words
(the JSON ``notes``) and render/text.py (with the i18n catalog) in the explanation. For each
code a case below produces it; the test renders it both ways in both languages and checks
that every number the words state is one the note carries, that the numbers the note
carries are stated, and that each claim the words make holds for the data (issue 16: the
gaps' words blamed the stride where the note said the dilation). A code without a case
fails, so a new note code must bring one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from convtrace import shapes
from convtrace.render import notes as note_words
from convtrace.render.notes import note_text
from convtrace.render.text import render_text
from convtrace.trace.build import Request, explain, explain_request
from convtrace.trace.model import Note, PoolTrace, Trace

TRACE_SOURCES = Path(note_words.__file__).parent.parent / "trace"


def _codes_built() -> set[str]:
    """Every note code the trace builder can make (``Note("code"`` in its source)."""
    found: set[str] = set()
    for path in TRACE_SOURCES.glob("*.py"):
        found |= set(re.findall(r'Note\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def _ints(text: str) -> list[int]:
    """The whole numbers a text states (x7 names index 6: names are read as indices + 1)."""
    return [int(v) for v in re.findall(r"(?<!\w)\d+(?!\w)", text)]


def _names(text: str) -> list[int]:
    """The 0-based indices of the sample names (x1 = index 0) a text states."""
    return [int(v) - 1 for v in re.findall(r"\bx(\d+)\b", text)]


def _warning(text: str, marker: str) -> str:
    """The paragraph of ``text`` that starts with ``marker`` (the ⚠ lines: unwrapped)."""
    paragraphs = [p.replace("\n", " ") for p in text.split("\n\n")]
    found = [p for p in paragraphs if p.lstrip().startswith(marker)]
    assert len(found) == 1, (marker, paragraphs)
    return found[0]


# --------------------------------------------------------------------------- the cases

#: code -> the explain() calls that produce it (several where the words have variants)
CASES: dict[str, list[dict[str, Any]]] = {
    "summary": [dict(input=list(range(1, 71)), weight=[1, 1])],
    "output_not_computed": [dict(input=list(range(1, 2000)), weight=[[[1] * 9]] * 1000, at=(0, 0, 0))],
    "same_split": [dict(input=[1, 2, 3, 4, 5], weight=[1, 1, 1, 1], padding="same")],
    "dropped_tail": [
        dict(input=list(range(1, 11)), kernel_size=3, stride=4),  # one window reads x7 last
        dict(input=[5], kernel_size=1, stride=2, padding=1),  # both windows lie in the padding
    ],
    "unreached": [
        dict(input=list(range(1, 11)), kernel_size=3, stride=4),  # between windows
        # issue 16: taps 2 apart, stride 2: between taps, the stride is not the cause
        dict(input=[1, 2, 3, 4, 5, 6], kernel_size=3, dilation=2, padding=2, padding_mode="reflect", stride=2),
        dict(input=list(range(1, 11)), kernel_size=1, stride=4, padding=1, padding_mode="circular"),  # all three
        dict(input=list(range(1, 9)), kernel_size=2, dilation=3, stride=5),  # taps and windows
    ],
    "unreached_transposed": [dict(input=[1, 2, 3, 4], kernel_size=1, stride=1, padding=1, transposed=True)],
    "views_skipped": [dict(input=list(range(1, 1200)), weight=[[[1] * 9] * 1000], transposed=True, at=(0, 0, 5))],
    "uneven_overlap": [dict(input=[1, 2, 3, 4], kernel_size=3, stride=2, padding=1, transposed=True)],
    "placements_skipped": [dict(input=list(range(1, 700)), kernel_size=7, stride=2, transposed=True)],
    "length_change": [dict(input=list(range(1, 9)), kernel_size=4, padding=1)],
    # -- pools (issue 17)
    "ceil_dropped_window": [
        dict(op="max_pool1d", input=[1, 2], kernel_size=2, stride=3, padding=1, ceil_mode=True),  # docs 2, torch 1
        dict(op="avg_pool1d", input=[1, 2, 3, 4, 5], kernel_size=2, stride=4, padding=1, ceil_mode=True),
    ],
    "max_padding_dilation": [dict(op="max_pool1d", input=list(range(1, 8)), kernel_size=3, padding=1, dilation=2)],
    "lp_signed": [dict(op="lp_pool1d", input=[1, -2, 3, -1], norm_type=3, kernel_size=2)],
    "lp_ceil_scale": [dict(op="lp_pool1d", input=[1, 1, 1, 1, 1], norm_type=2, kernel_size=2, ceil_mode=True)],
    "adaptive_windows": [
        dict(op="adaptive_avg_pool1d", input=[1, 2, 3, 4, 5], output_size=3),  # lengths 2, 3, 2
        dict(op="adaptive_max_pool1d", input=[1, 2], output_size=3),  # O > L
    ],
    "unpool_collision": [dict(op="max_unpool1d", input=[5, 7, 1], indices=[1, 1, 4], kernel_size=2)],
}


def _case_ids() -> list[tuple[str, int]]:
    return [(code, i) for code, calls in CASES.items() for i in range(len(calls))]


def test_every_note_code_has_a_case() -> None:
    """The codes the builder makes and the codes that have words are exactly the codes with
    a case here: a new code fails until a case (and a check) is added."""
    assert _codes_built() == set(CASES) == set(note_words._WORDS) == set(CHECKS)


def _trace_with(code: str, index: int) -> tuple[Any, Note]:
    case = CASES[code][index]
    trace = explain_request(Request(**case)) if "op" in case else explain(**case)
    found = [n for n in trace.notes if n.code == code]
    assert len(found) == 1, (code, [n.code for n in trace.notes])
    return trace, found[0]


# --------------------------------------------------------------------------- the checks
# check(trace, data, words, text): ``words`` is the note's sentence (note_text), ``text``
# the part of the explanation that says it; both in one language.

Check = Callable[[Any, dict[str, Any], str, str, str], None]


def _check_summary(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    positions = [k[2] for k in v["shown"]]
    assert v["elements"] == trace.spec.batch * trace.spec.out_channels * trace.spec.out_length
    assert len(positions) < v["elements"] and not trace.complete  # "only ... are shown"
    assert all(k[0] == 0 and k[1] == 0 for k in v["shown"])  # "channel 0 of batch item 0"
    assert _ints(words) == [v["elements"], 0, 0, *positions]
    shape = list(trace.spec.output_shape)
    assert _ints(text) == [v["elements"], *shape, *[i for k in v["shown"] for i in k]]


def _check_not_computed(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    elements = s.batch * s.out_channels * s.out_length
    assert v["multiply_adds"] == elements * s.in_per_group * s.kernel_size
    assert trace.output is None
    assert sorted(_ints(words)) == sorted([elements, v["multiply_adds"]])
    assert _ints(text) == [v["multiply_adds"]]


def _check_same_split(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    left, right = v["left"], v["right"]
    assert (left, right) == shapes.same_padding(trace.spec.kernel_size, trace.spec.dilation)
    assert right == left + 1  # "the odd one on the right"
    assert sorted(_ints(words)) == sorted([left + right, left, right])
    assert [left + right, left, right] == _ints(text)[-3:]


def _check_dropped_tail(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    length, read = trace.spec.length, v["last_read"]
    indices = v["indices"]
    assert indices == list(range(read + 1, length)) and v["count"] == len(indices)
    assert set(indices) <= set(trace.unreached)  # "read by no output"
    if read >= 0:  # "the last sample any window reads is index <read>"
        assert read not in trace.unreached
        assert _ints(words) == [v["count"], indices[0], indices[-1], read][1 if lang == "en" and v["count"] == 1 else 0 :]
        assert _names(text) == [*indices, read]
        assert str(v["count"]) in text
    else:  # "none is read": every sample is unread
        assert trace.unreached == tuple(range(length))
        assert _ints(words)[0] == v["count"] and set(_ints(words)[1:]) <= {indices[0], indices[-1]}
        assert _names(text) == indices


def _check_unreached(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    span = shapes.dilated_kernel(s.kernel_size, s.dilation)
    tail_from = s.length
    for note in trace.notes:
        if note.code == "dropped_tail":
            tail_from = note.values["indices"][0]
    gaps = [i for i in trace.unreached if i < tail_from]
    assert v["indices"] == gaps[:64] and v["count"] == len(gaps)
    assert v["between_taps"] + v["between_windows"] + v["after_windows"] == v["count"]
    assert (v["stride"], v["dilation"], v["span"]) == (s.stride, s.dilation, span)
    kinds = {"between_taps": v["between_taps"], "between_windows": v["between_windows"], "after_windows": v["after_windows"]}
    for said in (words, text):
        # a reason is given exactly when the note counts gaps of that kind
        assert (f"dilation={s.dilation}" in said) == bool(kinds["between_taps"])
        assert (f"stride={s.stride}" in said) == bool(kinds["between_windows"])
        # and each reason holds: the stride claim needs a stride longer than the span
        if kinds["between_windows"]:
            assert s.stride > span
        if kinds["between_taps"]:
            assert s.dilation > 1
        stated = _ints(said)
        for count in kinds.values():
            if count:
                assert count in stated
        assert v["count"] in stated
    expected = [v["count"], *v["indices"]]  # the words: count, the indices, then each reason's numbers
    for key, numbers in (("between_taps", [v["dilation"], v["dilation"], span]),
                         ("between_windows", [s.stride, span]), ("after_windows", [])):  # fmt: skip
        if kinds[key]:
            expected += [kinds[key], *numbers]
    assert _ints(words) == expected
    assert _names(text) == gaps


def _check_unreached_transposed(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    assert v["indices"] == list(trace.unreached) and v["count"] == len(trace.unreached)
    for i in v["indices"]:  # "every product lands on a cropped position"
        for k in range(s.kernel_size):
            j = i * s.stride - s.padding_int + k * s.dilation
            assert not 0 <= j < s.out_length
    assert _ints(words) == [v["count"], *v["indices"]]
    assert _ints(text)[0] == v["count"] and _names(text) == v["indices"]


def _check_views_skipped(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    assert trace.spec.transposed and trace.output is None and trace.views is None
    assert v == {} and _ints(words) == [] and _ints(text) == []


def _check_uneven(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    counts = sorted(set(v["overlap"]))
    assert v["overlap"] == list(shapes.overlap_counts(s.length, s.kernel_size, s.stride, s.padding_int, s.dilation, s.out_length))
    assert len(counts) > 1 and s.kernel_size % s.stride  # uneven, and the divisibility fix applies
    assert _ints(words) == counts
    assert f"stride={s.stride}" in text and f"kernel_size={s.kernel_size}" in text


def _check_placements(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    assert trace.views is not None and trace.views.scatter.placements == ()
    assert trace.spec.length * trace.spec.kernel_size > v["limit"]  # "more than <limit> taps"
    assert _ints(words) == [v["limit"]] and _ints(text) == [v["limit"]]


def _check_length_change(trace: Trace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    assert (v["length"], v["out_length"]) == (s.length, s.out_length) and s.out_length < s.length
    left, right = v["same_split"]
    assert (left, right) == shapes.same_padding(s.kernel_size, s.dilation)
    assert shapes.conv1d_length_of(s.length, left, right, s.kernel_size, 1, s.dilation) == s.length  # keeps it
    expected = [v["out_length"], v["length"], s.kernel_size, s.dilation, left, right]
    assert _ints(words) == expected and _ints(text) == expected


def _check_ceil_dropped(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    d = s.dilation if s.op == "max_pool1d" else 1
    # the docstring's formula (rounded up) counts one window more than PyTorch, which drops it
    docs = -(-(s.length + 2 * s.padding - d * (s.kernel_size - 1) - 1) // s.stride) + 1
    assert v["docs_length"] == docs == v["out_length"] + 1 == s.out_length + 1
    assert v["out_length"] == shapes.pool1d_length_of(s.length, s.kernel_size, s.stride, s.padding, d, True)
    assert v["index"] == docs - 1 and v["start"] == v["index"] * s.stride >= v["limit"] == s.length + s.padding
    stated = {v["docs_length"], v["index"], v["start"], v["limit"], v["out_length"]}
    assert set(_ints(words)) == stated
    assert set(_ints(text)) == stated | {1}  # "− 1"


def _check_max_padding_dilation(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    assert (v["padding"], v["kernel_size"], v["dilation"]) == (s.padding, s.kernel_size, s.dilation)
    assert v["span"] == s.dilation * (s.kernel_size - 1) + 1 and 2 * s.padding <= s.kernel_size < v["span"]
    assert set(_ints(words)) == {v["padding"], v["kernel_size"], 2, v["dilation"], v["span"]} and words == text


def _check_lp_signed(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    assert float(v["norm_type"]) == trace.spec.norm_type and (trace.input < 0).any()
    assert int(v["norm_type"]) in _ints(words)
    nan = [s for s in trace.steps if s.value != s.value]
    assert nan and all(s.total < 0 for s in nan)  # "a negative sum gives NaN"


def _check_lp_ceil_scale(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    step = trace.steps[v["index"]]
    assert step.pool is not None and step.pool.overhang == v["overhang"] > 0
    assert v["divisor"] == step.pool.divisor == trace.spec.kernel_size - v["overhang"]
    assert v["kernel_size"] == trace.spec.kernel_size
    assert step.pool.scale == Fraction(v["kernel_size"], v["divisor"])
    assert set(_ints(words)) == {v["index"], v["divisor"], v["kernel_size"]}
    assert {v["overhang"], v["divisor"], v["kernel_size"]} <= set(_ints(text))


def _check_adaptive(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    s = trace.spec
    starts, ends = shapes.adaptive_bounds(s.length, s.out_length)
    assert (v["length"], v["output_size"]) == (s.length, s.out_length)
    assert v["lengths"] == (ends - starts).tolist()
    assert v["overlap"] == bool((starts[1:] < ends[:-1]).any())
    for said in (words, text):
        assert _ints(said)[-len(v["lengths"]):] == v["lengths"]
        assert {v["length"], v["output_size"]} <= set(_ints(said))


def _check_unpool_collision(trace: PoolTrace, v: dict[str, Any], words: str, text: str, lang: str) -> None:
    idx = [int(i) for i in trace.indices.reshape(-1)]
    assert v["positions"] == sorted({i for i in idx if idx.count(i) > 1}) and v["count"] == len(v["positions"])
    assert _ints(words) == [v["count"], *v["positions"]] and words == text


CHECKS: dict[str, Check] = {
    "summary": _check_summary,
    "output_not_computed": _check_not_computed,
    "same_split": _check_same_split,
    "dropped_tail": _check_dropped_tail,
    "unreached": _check_unreached,
    "unreached_transposed": _check_unreached_transposed,
    "views_skipped": _check_views_skipped,
    "uneven_overlap": _check_uneven,
    "placements_skipped": _check_placements,
    "length_change": _check_length_change,
    "ceil_dropped_window": _check_ceil_dropped,
    "max_padding_dilation": _check_max_padding_dilation,
    "lp_signed": _check_lp_signed,
    "lp_ceil_scale": _check_lp_ceil_scale,
    "adaptive_windows": _check_adaptive,
    "unpool_collision": _check_unpool_collision,
}

#: how each code shows in the explanation text: the first line of its paragraph starts so
_TEXT_MARKERS = {
    "summary": ("The output has", "输出共有"),
    "output_not_computed": ("The whole output", "没有计算整个输出"),
    "same_split": ("padding='same' needs", "padding='same' 需要"),
    "dropped_tail": ("⚠", "⚠"),
    "unreached": ("⚠", "⚠"),
    "unreached_transposed": ("⚠", "⚠"),
    "views_skipped": ("The four ConvTranspose1d views", "ConvTranspose1d 的四个视角"),
    "uneven_overlap": ("⚠ uneven overlap", "⚠ 重叠不均匀"),
    "placements_skipped": ("The scatter-add placements", "散射相加的摆放"),
    "length_change": ("the output has", "输出有"),
    "ceil_dropped_window": ("− 1: rounding up", "− 1：向上取整"),
    "max_padding_dilation": ("max pooling's padding check", "最大池化的填充检查"),
    "lp_signed": ("x^p is taken without abs", "x^p 不取绝对值"),
    "lp_ceil_scale": ("the window has", "窗口有"),
    "adaptive_windows": ("adaptive window of output i", "自适应窗口（第 i 个输出）"),
    "unpool_collision": ("collisions:", "冲突："),
}


def _text_part(trace: Trace | PoolTrace, code: str, note: Note, lang: str) -> str:
    text = render_text(trace, lang, width=100_000)
    marker = _TEXT_MARKERS[code][lang == "zh"]
    if code in ("dropped_tail", "unreached", "unreached_transposed"):  # the ⚠ paragraphs, told apart
        parts = [p.replace("\n", " ") for p in text.split("\n\n") if p.lstrip().startswith("⚠")]
        tail = [p for p in parts if any(w in p for w in ("at the end", "末尾", "none of", "全都没有"))]
        if code == "dropped_tail":
            assert len(tail) == 1, parts
            return tail[0]
        rest = [p for p in parts if p not in tail]
        assert len(rest) == 1, parts
        return rest[0]
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(marker)]
    assert len(lines) == 1, (marker, text)
    return lines[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("code", "index"), _case_ids())
def test_note_words_agree_with_the_note_data(code: str, index: int, lang: str) -> None:
    trace, note = _trace_with(code, index)
    words = note_text(trace, note, lang)
    assert not words.startswith(f"{code}:")  # has words of its own, not the raw data
    assert (lang == "zh") == bool(re.search(r"[\u4e00-\u9fff]", words))  # in the asked language
    text = _text_part(trace, code, note, lang)
    assert (lang == "zh") == bool(re.search(r"[\u4e00-\u9fff]", text))
    CHECKS[code](trace, dict(note.values), words, text, lang)


def test_issue16_gaps_blame_the_dilation_not_the_stride() -> None:
    """The case of issue 16: the window spans 5 > stride 2, so no sample lies between
    windows; x2 and x4 lie between the taps of the dilated windows."""
    trace = explain([1, 2, 3, 4, 5, 6], kernel_size=3, dilation=2, padding=2, padding_mode="reflect", stride=2)
    for lang in ("en", "zh"):
        gap = _warning(render_text(trace, lang, width=100_000), "⚠ 2")
        assert "stride=2" not in gap and "dilation=2" in gap and "x2, x4" in gap
