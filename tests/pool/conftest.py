"""Pooling tests: PyTorch is the oracle (helpers in pool_torch.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
