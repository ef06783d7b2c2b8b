"""Where PyTorch's CPU backends disagree: the registry ``convtrace.rules.BACKEND_RULES``.

PyTorch answers some calls differently with its oneDNN backend on and off (which one a host
uses depends on its CPU, the dtype and the shape). The sweep here walks the dtype x bias
dtype x shape space around those calls (small, odd, grouped, strided, batched shapes;
float16/32/64; output lengths 0 and 1; dilation 0) asking PyTorch both ways:

* a disagreement that no rule of the registry covers fails, naming the call;
* where a rule covers a call, convtrace raises that rule's error, saying that PyTorch's answer
  depends on its backend and giving the portable call;
* elsewhere convtrace agrees with both answers, values included.

The README's list of these rules is made from the registry (``CONVTRACE_REGEN_GOLDEN=1``
rewrites it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import convtrace  # noqa: E402
import convtrace.functional as F  # noqa: E402
from backends import judge, torch_answers  # noqa: E402
from convtrace import rules  # noqa: E402
from strategies import assert_close, examples, rand, run, tt  # noqa: E402

NEEDS_TORCH = True
TF = torch.nn.functional
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same'")]
README = Path(__file__).resolve().parents[1] / "README.md"
PARAMS = {"input", "weight", "bias", "stride", "padding", "dilation", "groups", "output_padding"}


@st.composite
def edge_calls(draw: Any) -> tuple[bool, dict[str, Any], np.ndarray, np.ndarray, np.ndarray | None, str]:
    """A call near the backend-dependent corner: every argument valid but for what the
    backends may treat differently (bias dtype, output length 0 or 1, dilation 0)."""
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    batch, length = draw(st.integers(1, 4)), draw(st.integers(1, 9))
    k, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    dilation = draw(st.sampled_from([1, 1, 1, 2, 0]))
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float32, np.float16, np.float64])))
    bias_dtype = draw(st.sampled_from([None, dtype, dtype, np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)]))
    seed = draw(st.integers(0, 99))
    kw: dict[str, Any] = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        output_padding = draw(st.integers(0, max(stride, dilation) - 1))
        full = (length - 1) * stride + dilation * (k - 1) + output_padding + 1
        # paddings that give an output of 0 or 1 samples, or an ordinary one
        kw["padding"] = draw(st.sampled_from([full // 2, (full - 1) // 2, 0, 1]))
        kw["output_padding"] = output_padding
        w = rand((cin, cout // groups, k), dtype, seed + 1)
    else:
        kw["padding"] = draw(st.sampled_from([0, 1, "same", "valid"]))
        if kw["padding"] == "same":
            kw["stride"] = 1
        length = max(length, (max(dilation, 1) * (k - 1) + 1) - (2 if kw["padding"] == 1 else 0))
        w = rand((cout, cin // groups, k), dtype, seed + 1)
    x = rand((batch, cin, length), dtype, seed)
    b = None if bias_dtype is None else rand((cout,), bias_dtype, seed + 2)
    where = (
        f"{'conv_transpose1d' if transposed else 'conv1d'}(x {x.shape} {dtype}, w {w.shape}, "
        f"b {None if b is None else b.dtype}, {kw})"
    )
    return transposed, kw, x, w, b, where


def rule_for(transposed: bool, kw: dict[str, Any], x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> Any:
    out_length = None
    if transposed:
        out_length = (
            (x.shape[-1] - 1) * kw["stride"] - 2 * kw["padding"] + kw["dilation"] * (w.shape[-1] - 1)
            + kw["output_padding"] + 1
        )  # fmt: skip
    return rules.backend_rule_for(
        transposed=transposed, input_dtype=x.dtype, bias_dtype=None if b is None else b.dtype,
        string_padding=isinstance(kw["padding"], str), out_length=out_length, dilation=kw["dilation"],
    )  # fmt: skip


def _compare(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert_close(ours, theirs, np.abs(theirs).astype(np.float64) + 1.0)


@examples(400)
@given(call=edge_calls())
def test_backend_disagreements_are_all_named(call: Any) -> None:
    transposed, kw, x, w, b, where = call
    torch_op = TF.conv_transpose1d if transposed else TF.conv1d
    theirs = torch_answers(torch_op, tt(x), tt(w), tt(b), **kw)
    ours = run(F.conv_transpose1d if transposed else F.conv1d, x, w, b, **kw)
    label = judge(ours, theirs, rule_for(transposed, kw, x, w, b), where, PARAMS, _compare)
    if not theirs.agree:
        label = f"PyTorch's backends disagree: {label}"
    event(label)


# --------------------------------------------------------------------------- pinned (CPU-independent)


def test_every_rule_is_named_once_with_both_answers() -> None:
    assert list(rules.BACKEND_RULES) == [r.code for r in rules.BACKEND_RULES.values()]
    for rule in rules.BACKEND_RULES.values():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", rule.code)
        for text in (rule.calls, rule.with_onednn, rule.without_onednn, rule.convtrace, rule.portable):
            assert text and text == text.strip()
        assert rule.convtrace.startswith("raises")  # the stricter answer, always


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        (dict(transposed=True, input_dtype=np.float32, bias_dtype=np.float64), "transposed-bias-dtype"),
        (dict(transposed=True, input_dtype=np.float16, bias_dtype=np.float32), "transposed-bias-dtype"),
        (dict(transposed=True, input_dtype=np.float64, bias_dtype=np.float16), "transposed-bias-dtype"),
        (dict(transposed=True, input_dtype=np.float32, bias_dtype=np.complex64), None),  # raises everywhere
        (dict(transposed=True, input_dtype=np.complex64, bias_dtype=np.complex128), None),
        (dict(transposed=False, input_dtype=np.float32, bias_dtype=np.float64), None),  # int padding: raises
        (dict(transposed=False, input_dtype=np.float32, bias_dtype=np.float64, string_padding=True),
         "string-padding-bias-dtype"),
        (dict(transposed=False, input_dtype=np.float64, bias_dtype=np.complex128, string_padding=True),
         "string-padding-bias-dtype"),
        (dict(transposed=False, input_dtype=np.complex64, bias_dtype=np.float32, string_padding=True), None),
        (dict(transposed=True, input_dtype=np.float64, out_length=0), "transposed-empty-output"),
        (dict(transposed=True, input_dtype=np.float64, out_length=1), None),
        (dict(transposed=True, input_dtype=np.float64, out_length=-1), None),  # raises everywhere
        (dict(transposed=False, input_dtype=np.float32, out_length=0), None),
        (dict(transposed=True, input_dtype=np.float16, dilation=0), "transposed-dilation-zero"),
        (dict(transposed=True, input_dtype=np.float16, dilation=-1), None),
        (dict(transposed=False, input_dtype=np.float16, dilation=0), None),
        (dict(transposed=True, input_dtype=np.float32, bias_dtype=np.float32, out_length=3, dilation=1), None),
    ],
)  # fmt: skip
def test_rule_scope(kwargs: dict[str, Any], code: str | None) -> None:
    rule = rules.backend_rule_for(**kwargs)
    assert (None if rule is None else rule.code) == code


@pytest.mark.parametrize(
    ("call", "code", "param"),
    [
        (lambda: F.conv_transpose1d(np.ones((3, 6, 5), np.float32), np.ones((6, 3, 3), np.float32),
                                    np.ones(6), stride=3, groups=2), "transposed-bias-dtype", "bias"),
        (lambda: F.conv_transpose1d(np.ones((1, 1, 5), np.float16), np.ones((1, 1, 3), np.float16),
                                    np.ones(1, np.float32)), "transposed-bias-dtype", "bias"),
        (lambda: F.conv1d(np.ones((1, 1, 5), np.float32), np.ones((1, 1, 3), np.float32), np.ones(1),
                          padding="same"), "string-padding-bias-dtype", "bias"),
        (lambda: F.conv_transpose1d(np.ones((2, 1, 1), np.float16), np.ones((1, 1, 2), np.float16), padding=1),
         "transposed-empty-output", "padding"),
        (lambda: F.conv_transpose1d(np.ones((1, 1, 5), np.float16), np.ones((1, 1, 1), np.float16), dilation=0),
         "transposed-dilation-zero", "dilation"),
    ],
)  # fmt: skip
def test_issue_cases_raise_with_the_backend_note(call: Any, code: str, param: str) -> None:
    """The calls of the issue that PyTorch answers by backend: one error, on every machine."""
    with pytest.raises(convtrace.ConvtraceError) as info:
        call()
    err = info.value
    assert (err.code, err.param) == (code, param)
    rule = rules.BACKEND_RULES[code]
    assert "PyTorch's own answer here depends on its backend" in err.rule
    assert rule.with_onednn in err.rule and rule.without_onednn in err.rule
    assert err.hint


def test_module_and_explainer_raise_the_same_rule() -> None:
    """Every front end reaches the rule through the resolver: the module, and the explainer."""
    m = convtrace.nn.ConvTranspose1d(2, 2, 3, stride=2)
    m.bias = np.ones(2, np.float64)  # the module is float32
    with pytest.raises(convtrace.ConvtraceError) as info:
        m(np.ones((1, 2, 4), np.float32))
    assert info.value.code == "transposed-bias-dtype"
    with pytest.raises(convtrace.ConvtraceError) as info:
        convtrace.explain(input=[[1.0]], kernel_size=2, padding=1, transposed=True, verify=False)
    assert info.value.code == "transposed-empty-output"
    with pytest.raises(convtrace.ConvtraceError) as info:
        convtrace.explain(input=[[1.0, 2.0]], kernel_size=1, dilation=0, transposed=True, verify=False)
    assert info.value.code == "transposed-dilation-zero"


# --------------------------------------------------------------------------- the README's list


def _readme_block() -> tuple[str, str, str]:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- backend-rules: start (made from convtrace.rules.BACKEND_RULES) -->\n", "<!-- backend-rules: end -->"
    assert start in text and end in text, "README: the backend-rules block is missing"
    head, rest = text.split(start)
    block, tail = rest.split(end)
    return head + start, block, end + tail


def test_readme_lists_the_registry() -> None:
    head, block, tail = _readme_block()
    want = rules.backend_rules_markdown()
    if os.environ.get("CONVTRACE_REGEN_GOLDEN") and block != want:
        README.write_text(head + want + tail, encoding="utf-8")
        return
    assert block == want, "README's backend-rules block differs from the registry (CONVTRACE_REGEN_GOLDEN=1)"


# --------------------------------------------------------------------------- every front end, both languages


def test_every_rule_has_its_chinese_note() -> None:
    from convtrace.render import advice

    assert set(advice._BACKEND_ZH) == set(rules.BACKEND_RULES)
    for parts in advice._BACKEND_ZH.values():
        assert all(part and re.search(r"[\u4e00-\u9fff]", part) for part in parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_shows_the_backend_note(lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    from convtrace.cli import main

    code = main(["explain", "--input", "1", "--kernel-size", "2", "--padding", "1", "--transposed", "--no-verify",
                 "--lang", lang])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    flat = " ".join(err.split())
    assert "Output size is too small" in flat
    if lang == "en":
        assert "why convtrace raises: PyTorch's own answer here depends on its backend: with oneDNN it returns" in flat
    else:
        assert "convtrace 为什么报错：PyTorch 在这里的结果取决于它的后端：启用 oneDNN 时返回一个空张量" in flat
        assert "depends on its backend" not in flat  # the note is translated, not quoted


def test_web_api_gives_the_same_error() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from convtrace.web.app import create_app

    with TestClient(create_app()) as client:
        reply = client.post("/api/explain", json={"input": [1], "kernel_size": 2, "padding": 1, "transposed": True})
    assert reply.status_code == 422, reply.text
    body = reply.json()
    text = json_text(body)
    assert "Output size is too small" in text and "depends on its backend" in text, body
    assert body["detail"]["backend_rule"] == "transposed-empty-output"
    assert body["detail"]["backend"].startswith("PyTorch's own answer here depends on its backend")
    with TestClient(create_app()) as client:
        zh = client.post("/api/explain", json={"input": [1], "kernel_size": 2, "padding": 1, "transposed": True,
                                               "lang": "zh"}).json()["detail"]  # fmt: skip
    assert zh["backend"].startswith("PyTorch 在这里的结果取决于它的后端") and "depends on" not in zh["pytorch"]


def json_text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(json_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(json_text(v) for v in value)
    return str(value)
