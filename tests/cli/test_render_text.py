"""The text renderer and its pieces: numbers, names, the catalog, the no-torch line."""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

import pytest

from convtrace.demo import demo_sections
from convtrace.explainer import explain
from convtrace.render.i18n import CATALOG, LANGUAGES, translator
from convtrace.render.numfmt import fmt
from convtrace.render.text import render_text
from convtrace.trace.model import TorchCheck


def test_catalog_complete():
    for key, texts in CATALOG.items():
        assert len(texts) == len(LANGUAGES), key
        en, zh = texts
        assert en and zh, key
        placeholders = [set(re.findall(r"{(\w+)}", t)) for t in texts]
        assert placeholders[0] == placeholders[1], key
        if re.search(r"[A-Za-z]{4,} [a-z]{3,}", en):  # a sentence: it must be translated
            assert en != zh and re.search(r"[\u4e00-\u9fff]", zh), key


def _fragments(template: str) -> list[str]:
    """Literal English phrases of a template (two words or more)."""
    out = []
    for part in re.split(r"{\w+}", template):
        part = re.sub(r"\S*[_=·]\S*", " ", part)  # identifiers and formulas are not English
        for phrase in re.findall(r"[A-Za-z][A-Za-z ,'’\-]{8,}[A-Za-z]", part):
            if " " in phrase:
                out.append(phrase)
    return out


def test_zh_output_has_no_english_sentences():
    text = "\n".join(render_text(t, "zh") for _, _, t in demo_sections(verify=False))
    text += render_text(explain([1, 2, 3, 4, 5], [1, 1], stride=3, bias=[1], verify=False), "zh")
    for key, (en, _) in CATALOG.items():
        for phrase in _fragments(en):
            assert phrase not in text, (key, phrase)


def test_numbers_exact_and_clean():
    assert fmt(Fraction(1, 3)) == "1/3" and fmt(Fraction(1, 10)) == "0.1"
    assert fmt(0.1 + 0.2) == "0.3" and fmt(2.0) == "2" and fmt(-0.0) == "0"
    text = render_text(explain(["0.1", "0.2", "0.3"], ["1/3", "1/3"], verify=False))
    assert "0.1 × 1/3 = 1/30" in text and "y1 = 0.1" in text
    assert "0000000" not in text


def test_without_torch_one_line_says_how():
    trace = explain([1, 1, 1, 1], [1, 1, 1], padding=1, verify=False)
    plain = render_text(trace)
    trace = dataclasses.replace(trace, check=TorchCheck(available=False, call="torch.nn.Conv1d(in_channels=1, ...)"))
    text = render_text(trace)
    assert text.startswith(plain.rsplit("PyTorch check:", 1)[0])
    assert "pip install 'convtrace[torch]'" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_padding_sources_named(lang):
    t = translator(lang)
    for mode, key, name in [("reflect", "pad_reflect_cell", "x2"), ("replicate", "pad_replicate_cell", "x1"),
                            ("circular", "pad_circular_cell", "x4")]:
        text = render_text(explain([1, 2, 3, 4], [1, 1, 1], padding=1, padding_mode=mode, verify=False), lang)
        assert t(key, x=name) in text, mode
    text = render_text(explain([1, 2, 3, 4], [1, 1, 1], padding=1, verify=False), lang)
    assert t("pad_zero_cell") in text


def test_symbolic_formula_like_the_post():
    text = render_text(explain([1, 1, 1, 1], [1, 1, 1], padding=1, bias=True, verify=False), symbolic=True)
    assert "y1 = 0·w1 + x1·w2 + x2·w3 + b" in text
    text = render_text(explain([[1, 2], [3, 4]], [[[1, 1], [1, 1]]], verify=False), symbolic=True)
    assert "y[1][1] = x[1][1]·w[1][1][1] + x[1][2]·w[1][1][2] + x[2][1]·w[1][2][1] + x[2][2]·w[1][2][2]" in text


def test_each_output_rederived_from_the_rendered_trace():
    for _, _, trace in demo_sections(verify=False):
        for step in trace:
            assert sum(t.product for t in step.terms) + (step.bias or 0) == step.value
        assert [float(s.value) for s in trace] == trace.output.reshape(-1).tolist()
