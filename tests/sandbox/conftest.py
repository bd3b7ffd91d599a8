"""Fixtures for the sandbox's own tests. The session-wide `sandbox` and `fresh_sandbox` fixtures
come from tests/conftest.py."""

import os
import sys

# The unit tests' fakes and builders (tests/unit/plugins) import the collection as ansible_collections.moduscloud.azure_sync,
# which `make setup` links here (tests/unit/conftest.py does the same for the unit tests).
_COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections"))
if os.path.isdir(_COLLECTIONS) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

import pytest  # noqa: E402  (after the path set-up above, which it does not need)

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
