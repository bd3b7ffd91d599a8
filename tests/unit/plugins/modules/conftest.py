"""Fixtures for the Graph module tests: an in-memory Graph, and main() run against it."""

import pytest

from .fake_graph import FakeGraph
from .module_runner import route_requests, run_main

GRAPH_CONNECTION = {"access_token": "unit-test-token", "graph_url": "https://graph.test"}


@pytest.fixture
def graph(monkeypatch):
    """A fresh FakeGraph answering every requests session; retries and waits do not sleep."""
    fake = FakeGraph()
    route_requests(monkeypatch, fake)
    return fake


@pytest.fixture
def run_module(capsys):
    """run_module(module, args, check_mode=False, diff=True) -> the module's result dict (with `failed`)."""

    def run(module, args, check_mode=False, diff=True):
        return run_main(module, dict(GRAPH_CONNECTION, **args), capsys, check_mode=check_mode, diff=diff)[0]

    return run
