"""Calling a module's main() in-process: arguments through ansible-core's patch_module_args, the
result parsed from what exit_json/fail_json print (so no_log masking is part of what is tested),
and Graph answered by the in-memory FakeGraph."""

import json

import pytest
import requests
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from .fake_graph import FakeGraph

GRAPH_CONNECTION = {"access_token": "unit-test-token", "graph_url": "https://graph.test"}


@pytest.fixture
def graph(monkeypatch):
    """A fresh FakeGraph answering every requests session; retries and waits do not sleep."""
    fake = FakeGraph()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: fake)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    return fake


@pytest.fixture
def run_module(capsys, monkeypatch):
    """run_module(module, args, check_mode=False, diff=True) -> the module's result dict (with `failed`)."""
    def run(module, args, check_mode=False, diff=True):
        # ansible-core keeps warnings in a process-wide store: each run starts with an empty one.
        monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
        arguments = dict(GRAPH_CONNECTION, _ansible_check_mode=check_mode, _ansible_diff=diff)
        arguments.update(args)
        with patch_module_args(arguments):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)
    return run


def warning_texts(result):
    """The warning messages of a module result (ansible-core 2.19 returns them as structured events)."""
    return [warning if isinstance(warning, str) else warning["event"]["msg"] for warning in result.get("warnings", [])]
