"""Fixtures for the sandbox's own tests. The session-wide `sandbox` and `fresh_sandbox` fixtures
come from tests/conftest.py."""

import pytest

from graph_client import Graph, app_token, https_session


@pytest.fixture
def admin_graph(fresh_sandbox):
    """Graph as the default tenant's admin automation app, on a freshly reset sandbox."""
    info = fresh_sandbox.info
    return Graph(info, app_token(info, info["admin_client_id"], info["admin_client_secret"]))


@pytest.fixture
def control(sandbox):
    """Raw control API access (the shared helper raises on errors; some tests check them)."""
    session = https_session(sandbox.info)

    def call(method, path, json=None):
        return session.request(method, sandbox.info["control_url"] + path, json=json)

    return call
