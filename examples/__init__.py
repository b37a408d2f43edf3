"""Runnable examples; `python -m examples` (or `./run examples`) runs them all."""
