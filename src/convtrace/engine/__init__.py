"""The numeric engine: three primitives on validated (N, C, L) arrays.

* ``conv1d_forward``  — gather: ``y[n,o,i] = Σ_c Σ_k x[n,c,i*s - pl + k*d] · w[o,c,k]``
* ``conv1d_input_grad`` — scatter (the adjoint of the gather; also ConvTranspose1d)
* ``conv1d_weight_grad`` — correlation of the input with the output gradient

:mod:`.reference` spells each out as plain loops; :mod:`.fast` chooses an algorithm per
shape. Tests hold the two to each other and to PyTorch. Out-of-range taps read zeros, so
every zero padding is implied by ``pad_left`` and the requested output length.
"""

from __future__ import annotations

from . import fast, reference

__all__ = ["fast", "reference"]
