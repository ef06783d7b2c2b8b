"""Bridges to PyTorch: the only package that imports torch (lazily, on first use)."""
