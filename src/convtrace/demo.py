"""``convtrace demo``: the teaching post's worked examples, then its stated aim.

The post (see ``docs``/SEED) explains Conv1d on the input 1,1,1,1 with a kernel of ones and
no bias, in three cases, each checked against PyTorch:

====  ======  =======  =======
case  stride  padding  output
====  ======  =======  =======
1     1       0        3, 3
2     1       1        2, 3, 3, 2
3     2       1        2, 3
====  ======  =======  =======

Its aim is to explain ConvTranspose1d from Conv1d, so the demo ends with the same input
through ``ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=1)`` in its four
views, and then that output recomputed as the plain stride-1 Conv1d of view 2, step by step.

>>> sections = demo_sections(verify=False)
>>> [(key, trace.output.tolist()) for key, _, trace in sections[:3]]  # doctest: +NORMALIZE_WHITESPACE
[('demo_case', [[3.0, 3.0]]), ('demo_case', [[2.0, 3.0, 3.0, 2.0]]), ('demo_case', [[2.0, 3.0]])]
>>> [key for key, _, _ in sections[3:]]
['demo_transposed', 'demo_equivalent']
"""

from __future__ import annotations

from typing import Any

from .explainer import Trace, explain, explain_transposed

__all__ = ["POST_CASES", "TRANSPOSED_CASE", "demo_sections"]

#: the post's three cases: (stride, padding)
POST_CASES = ((1, 0), (1, 1), (2, 1))
#: the ConvTranspose1d that follows: stride 2 makes the overlap uneven (checkerboard)
TRANSPOSED_CASE = dict(stride=2, padding=1, output_padding=1)

_X = [1, 1, 1, 1]
_W = [1, 1, 1]

Section = tuple[str, dict[str, Any], Trace]


def demo_sections(verify: bool = True) -> list[Section]:
    """The demo as (title key of :mod:`convtrace.render.i18n`, its values, trace) triples."""
    sections: list[Section] = []
    for number, (stride, padding) in enumerate(POST_CASES, 1):
        trace = explain(_X, _W, stride=stride, padding=padding, verify=verify)
        outputs = ", ".join(str(v) for v in trace.exact_output.reshape(-1)) if trace.exact_output is not None else ""
        sections.append(("demo_case", dict(n=number, stride=stride, padding=padding, output=outputs), trace))
    tt = explain_transposed(_X, _W, verify=verify, **TRANSPOSED_CASE)
    sections.append(("demo_transposed", dict(TRANSPOSED_CASE), tt))
    assert tt.views is not None  # the whole output is small: the views are built
    zi = tt.views.zero_insertion
    conv = explain(zi.upsampled, zi.weight, dilation=tt.spec.dilation, verify=verify)
    sections.append(("demo_equivalent", {}, conv))
    return sections
