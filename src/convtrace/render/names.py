"""The names a teacher writes: ``x1``, ``w2``, ``y3``, ``b`` (1-based, like the post).

With one channel and one batch element the names are short (``x1``, ``w1``, ``y1``, ``b``);
with several channels (or batch elements) they carry their indices:
``x[c][i]``, ``w[o][c][k]``, ``y[o][t]``, ``b[o]`` (``x[n][c][i]`` when the batch has more
than one element). Weight indices follow the weight tensor's layout: Conv1d's weight is
(out, in/groups, k), ConvTranspose1d's is (in, out/groups, k).

>>> n = Names(multi=False, batched=False)
>>> n.x(0, 0, 1), n.w(0, 0, 2), n.y(0, 0, 0), n.b(0)
('x2', 'w3', 'y1', 'b')
>>> n = Names(multi=True, batched=True)
>>> n.x(1, 0, 3), n.w(2, 1, 0), n.y(1, 2, 4), n.b(2)
('x[2][1][4]', 'w[3][2][1]', 'y[2][3][5]', 'b[3]')
"""

from __future__ import annotations

from dataclasses import dataclass

from ..params import ConvSpec

__all__ = ["Names"]


@dataclass(frozen=True)
class Names:
    """Naming scheme of one trace. ``batched`` adds the batch index to x and y."""

    multi: bool  # several channels or batch elements: indexed names
    batched: bool  # more than one batch element: names carry the batch index

    @classmethod
    def for_spec(cls, spec: ConvSpec) -> Names:
        """The scheme that fits a configuration.

        >>> from convtrace.params import check_conv1d
        >>> import numpy as np
        >>> spec = check_conv1d(np.ones((1, 4)), np.ones((1, 1, 3)), None, 1, 0, 1, 1)[3]
        >>> Names.for_spec(spec)
        Names(multi=False, batched=False)
        """
        batched = spec.batch > 1
        multi = batched or spec.in_channels > 1 or spec.out_channels > 1
        return cls(multi=multi, batched=batched)

    def _idx(self, *ix: int) -> str:
        return "".join(f"[{i + 1}]" for i in ix)

    def x(self, n: int, c: int, i: int) -> str:
        """Input sample ``i`` of channel ``c`` (batch element ``n``)."""
        if not self.multi:
            return f"x{i + 1}"
        return "x" + (self._idx(n, c, i) if self.batched else self._idx(c, i))

    def sample(self, i: int) -> str:
        """Sample ``i`` of every channel, for the padded row's header (channel-independent)."""
        return f"x{i + 1}"

    def w(self, a: int, b: int, k: int) -> str:
        """Weight ``w[a][b][k]`` in the weight tensor's own layout."""
        return "w" + (self._idx(a, b, k) if self.multi else str(k + 1))

    def y(self, n: int, o: int, t: int) -> str:
        """Output element ``t`` of channel ``o`` (batch element ``n``)."""
        if not self.multi:
            return f"y{t + 1}"
        return "y" + (self._idx(n, o, t) if self.batched else self._idx(o, t))

    def b(self, o: int) -> str:
        """The bias of output channel ``o``."""
        return f"b[{o + 1}]" if self.multi else "b"
