"""Golden SVGs of the drawing model: the figures a teacher would show, byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import convtrace
from convtrace.draw import render_svg

DEMO: dict[str, Any] = dict(input=[1, 1, 1, 1], weight=[1, 1, 1], padding=1)
TRANSPOSED: dict[str, Any] = dict(input=[1, 1, 1, 1], weight=[1, 1, 1], stride=2, padding=1, output_padding=1,
                                  transposed=True)

CASES: dict[str, tuple[dict[str, Any], int | None, str]] = {
    "demo_overview.svg": (DEMO, None, "en"),
    "demo_step0.svg": (DEMO, 0, "en"),
    "demo_step3_zh.svg": (DEMO, 3, "zh"),
    "transposed_overview.svg": (TRANSPOSED, None, "en"),
    "transposed_frame2.svg": (TRANSPOSED, 2, "en"),
    "transposed_overview_zh.svg": (TRANSPOSED, None, "zh"),
    "reflect_step1.svg": (dict(input=[1, 2, 3, 4, 5], weight=[1, 0, -1], padding=2, padding_mode="reflect"), 1, "en"),
    "circular_dilation.svg": (dict(input=[1, 2, 3, 4, 5, 6], weight=[1, 2, 3], padding=2, dilation=2,
                                   padding_mode="circular"), 2, "en"),
    "groups_step5.svg": (dict(input=[[1, 2, 3, 4, 5], [0, 1, 0, 1, 0], [2, 2, 2, 2, 2], [1, -1, 1, -1, 1]],
                              out_channels=4, kernel_size=2, groups=2, bias=[1, 0, 0, 2]), 5, "en"),
    "long_input_overview.svg": (dict(input=list(range(60)), weight=[1, 2, 1], stride=3, padding=1), None, "en"),
    "decimals_step1.svg": (dict(input=["0.125", "-1.75", "2.5", "3.375", "1/3"], weight=["0.5", "-0.25", "1"],
                                padding=1, bias=["0.0625"]), 1, "en"),
    "batch2_step2.svg": (dict(input=[[[0, 1, 2, 3, 4, 5]], [[6, 7, 8, 9, 10, 11]]], kernel_size=3, stride=2), 2, "en"),
    "transposed_dilation_frame1.svg": (dict(input=[1, 2, 3], weight=[1, -1], stride=3, padding=2, dilation=2,
                                            output_padding=1, transposed=True), 1, "en"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_svg(name: str, golden: Callable[[str, str], None]) -> None:
    config, step, lang = CASES[name]
    trace = convtrace.explain(**config, verify=False)
    svg = render_svg(trace, step=step, lang=lang)
    assert svg == render_svg(trace, step=step, lang=lang)  # deterministic
    golden(name, svg)
