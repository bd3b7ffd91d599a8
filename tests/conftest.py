"""The sandbox fixture shared by every pytest suite (sandbox, integration, role).

Starts `python -m sandbox serve` (the emulator of Entra login, Graph and modusCloud in sandbox/)
once per test session and worker, through sandbox.launch, and stops it with SIGTERM.
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


# The longest tests, longest first. They start before everything else so that, with `--dist worksteal`
# (make test), the other worker runs the rest meanwhile instead of idling while the last one finishes.
# The fault sweep mostly waits (Retry-After, hand-over leases), so it shares the machine cheaply.
LONGEST_FIRST = ("test_fault_sweep.py", "test_role_variants.py", "test_sign_in.py", "test_awx_credentials.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every file keeps its own order
