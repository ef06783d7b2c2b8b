"""Invalid configurations: a ConvtraceError (never another type), then the rule, the numbers and
the nearest valid settings — and each suggested setting really is valid."""

from __future__ import annotations

import re

import numpy as np
import pytest

import convtrace
from convtrace import ConvtraceError
from convtrace.render.advice import advise, nearest_valid

# (config, param of the error, {suggestion: override that applies it})
CASES = [
    (dict(input=[1, 1, 1, 1], kernel_size=6), "input",
     {"input length >= 6": dict(input=[1] * 6), "padding >= 1": dict(padding=1), "kernel_size <= 4": dict(kernel_size=4)}),
    (dict(input=[1, 1, 1], kernel_size=3, dilation=3), "input",
     {"input length >= 7": dict(input=[1] * 7), "padding >= 2": dict(padding=2), "kernel_size <= 1": dict(kernel_size=1),
      "dilation <= 1": dict(dilation=1)}),
    (dict(input=[1, 2], weight=[1, 1, 1], transposed=True, stride=2, output_padding=2), "output_padding",
     {"output_padding <= 1": dict(output_padding=1), "stride >= 3 (output_padding < stride)": dict(stride=3)}),
    (dict(input=[1], weight=[1], transposed=True, padding=1), "padding",
     {"padding <= 0": dict(padding=0), "input length >= 3": dict(input=[1, 1, 1])}),
    (dict(in_channels=3, out_channels=4, groups=2), "in_channels",
     {"groups in {1} (divisors of gcd(3, 4) = 1)": dict(groups=1),
      "in_channels = 2 or 4 (multiples of groups=2)": dict(in_channels=4)}),
    (dict(input=[1, 2, 3], weight=[1, 1, 1], padding=3, padding_mode="reflect"), "pad",
     {"padding <= 2": dict(padding=2), "input length >= 4": dict(input=[1, 2, 3, 4]),
      "padding_mode='replicate' or 'zeros'": dict(padding_mode="replicate")}),
    (dict(input=[1, 2], weight=[1, 1, 1, 1, 1], padding=3, padding_mode="circular"), "pad",
     {"padding <= 2": dict(padding=2), "input length >= 3": dict(input=[1, 2, 3])}),
    (dict(input=[1, 2, 3, 4], weight=[1, 1], padding="same", stride=2), "padding",
     {"stride=1": dict(stride=1)}),
    (dict(input=[1, 2, 3], weight=[1, 1], transposed=True, stride=2, output_size=9), "output_size",
     {"output_size between 6 and 7": dict(output_size=6)}),
    (dict(input=[1, 2, 3], padding_mode="mirror"), "padding_mode", {}),
    (dict(input=[1, 2, 3], transposed=True, padding_mode="reflect"), "padding_mode",
     {"padding_mode='zeros' (the only mode of ConvTranspose1d)": dict(padding_mode="zeros")}),
    (dict(input=[1, 2, 3], stride=0), "stride", {"stride >= 1": dict(stride=1)}),
]


@pytest.mark.parametrize("i", range(len(CASES)))
def test_invalid_configs_get_advice(i: int) -> None:
    cfg, param, fixes = CASES[i]
    with pytest.raises(ConvtraceError) as ei:
        convtrace.explain(**cfg, verify=False)
    err = ei.value
    assert type(err).__name__ in ("ConvtraceError", "ConvtraceTypeError")
    assert err.param == param
    adv = advise(err, cfg)
    lines = nearest_valid(err, cfg)
    assert lines[0].startswith("rule: ") and lines == adv.lines()
    assert adv.suggestions, lines
    for text, override in fixes.items():
        assert text in adv.suggestions, (text, adv.suggestions)
        fixed = {**cfg, **override}
        convtrace.explain(**fixed, verify=False)  # the suggestion is valid


def test_numbers_are_shown() -> None:
    cfg = dict(input=[1, 1, 1, 1], kernel_size=6)
    with pytest.raises(ConvtraceError) as ei:
        convtrace.explain(**cfg, verify=False)
    adv = advise(ei.value, cfg)
    assert adv.numbers == "1*(6-1) + 1 = 6 > 4 + 0 + 0 = 4"
    assert re.search(r"dilation\*\(kernel_size-1\) \+ 1 <= L \+ pad_left \+ pad_right", adv.rule)


def test_mismatched_data_and_settings() -> None:
    with pytest.raises(ConvtraceError, match="in_channels=3 but the input has 2 channels"):
        convtrace.explain(np.ones((2, 5)), in_channels=3, verify=False)
    with pytest.raises(ConvtraceError, match="kernel_size=2 but the weight has 3 taps"):
        convtrace.explain([1, 2, 3], [1, 1, 1], kernel_size=2, verify=False)
    with pytest.raises(ConvtraceError, match="out_channels=3 but the weight"):
        convtrace.explain([1, 2, 3], np.ones((2, 1, 2)), out_channels=3, verify=False)
    with pytest.raises(ConvtraceError, match="expected scalar type Double but found Float"):
        convtrace.explain(np.ones((1, 4)), np.ones((1, 1, 2), dtype=np.float32), verify=False)
    with pytest.raises(ConvtraceError, match="not a number"):
        convtrace.explain(["a", 1], verify=False)
