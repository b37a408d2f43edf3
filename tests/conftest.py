"""Hypothesis profiles: 'ci' (the default: what `./run test` and CI run) is deterministic (derandomize)
and has no deadline; 'dev' (HYPOTHESIS_PROFILE=dev) draws new random examples on every run, to explore."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["fast", "reference"])
def backward_path(request, monkeypatch):
    """Run the test twice: with the unrolled backward loop (fastpath.py) and with the reference one (engine.backprop)."""
    from autograd import engine

    monkeypatch.setattr(engine, "FAST_PATH", request.param == "fast")
    return request.param
