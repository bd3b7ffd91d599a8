import pytest

from playbook_harness import run_playbook


@pytest.fixture
def playbook_runner(tmp_path):
    """run_playbook bound to this test's temporary directory."""

    def runner(playbook, **kwargs):
        return run_playbook(playbook, tmp_path, **kwargs)

    return runner
