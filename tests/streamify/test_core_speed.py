"""The speed paths of streamify's push keep it exact: calls on parameters alone (a weight
norm) are run once per stream and run again when a parameter, or the kept result, changes."""

from __future__ import annotations

import torch
from torch import nn

import convtrace
from convtrace.inspect.streamify_run import ParameterCalls


def _normed(kernel: int) -> nn.Module:
    torch.manual_seed(0)
    conv = nn.Conv1d(2, 3, kernel)
    nn.init.normal_(conv.bias)
    return nn.utils.parametrizations.weight_norm(conv).double().eval()


def _x(length: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 2, length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_a_weight_norm_is_run_once_per_stream_and_streams_exactly() -> None:
    model = _normed(3)
    sm = convtrace.streamify(model, (1, 2, 16))
    x = _x(16)
    y = torch.cat([sm.push(x[..., at : at + 4]) for at in range(0, 16, 4)], -1)
    assert sm._runner.constants is not None and sm._runner.constants.hits == 3  # 4 pushes: 1 run, 3 kept
    y = torch.cat([y, sm.flush()], -1)
    with torch.no_grad():
        torch.testing.assert_close(y, model(x), rtol=1e-12, atol=1e-12)


def test_a_parameter_changed_in_place_mid_stream_is_seen() -> None:
    model = _normed(1)  # one tap: each output reads only its own input
    sm = convtrace.streamify(model, (1, 2, 8))
    x = _x(8, 1)
    sm.push(x[..., :4])
    with torch.no_grad():
        model.parametrizations.weight.original0.mul_(2.0)  # the weight norm's g
        want = model(x)[..., 4:]
    got = torch.cat([sm.push(x[..., 4:]), sm.flush()], -1)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_a_kept_result_changed_in_place_is_made_again() -> None:
    calls, w = ParameterCalls(), nn.Parameter(torch.ones(3, dtype=torch.float64))
    with torch.no_grad():
        first = calls.call(torch.mul, (w, 2.0), {})
        first.add_(5.0)  # the caller writes into what it got
        again = calls.call(torch.mul, (w, 2.0), {})
    assert again.tolist() == [2.0, 2.0, 2.0] and calls.hits == 0


def test_only_calls_on_parameters_without_grad_are_kept() -> None:
    calls, w = ParameterCalls(), nn.Parameter(torch.ones(2))
    with torch.no_grad():
        plain = torch.ones(2)
        assert calls.call(torch.mul, (plain, 2.0), {}) is not calls.call(torch.mul, (plain, 2.0), {})
        assert calls.call(torch.mul, (w, 3.0), {}) is not calls.call(torch.mul, (w, 2.0), {})  # other values
    assert calls.call(torch.mul, (w, 2.0), {}) is not calls.call(torch.mul, (w, 2.0), {})  # grad on: not kept
    assert calls.hits == 0
