"""The sandbox fixture shared by every pytest suite (sandbox, integration, role).

Starts `python -m sandbox serve` (the emulator of Entra login, Graph and modusCloud, per the
contract in DESIGN.md) once per test session and worker, through sandbox.launch, and stops it
with SIGTERM.
"""

import pytest

from sandbox.launch import RunningSandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    with RunningSandbox.start(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox):
    """The shared sandbox, reset to its default state and with no faults."""
    sandbox.reset()
    return sandbox
