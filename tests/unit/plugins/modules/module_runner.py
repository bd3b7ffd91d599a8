"""Running a module's main() in-process, as Ansible runs it, for every module unit test.

Arguments go through ansible-core's patch_module_args and the result is parsed from what
exit_json/fail_json print, so argument validation and no_log masking are part of what is tested.
tests/unit/conftest.py gives each test the process state of a fresh module run.
"""

import json
from urllib.parse import urlsplit

import pytest
import requests
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _http

from ..module_utils.fake_transport import ScriptedAdapter


def run_main(module, args, capsys, check_mode=False, diff=True):
    """Call module.main() with `args`; return (its result, its raw output)."""
    # A real run is a new process: a second run in one test must not report the first one's warnings.
    ansible_warnings._global_warnings.clear()
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            module.main()
    output = capsys.readouterr().out
    return json.loads(output), output


def warning_texts(result):
    """The warning messages of a module result (ansible-core 2.19 returns each as a summary object)."""
    return [warning if isinstance(warning, str) else warning["event"]["msg"] for warning in result.get("warnings", [])]


def route_requests(monkeypatch, adapter):
    """Answer every request of every requests session (HttpClient's and msal's) from `adapter`; nothing waits."""
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    # HttpClient's retry pause defaults to the time.sleep it saw at import, which the line above cannot reach.
    original_init = _http.HttpClient.__init__

    def without_retry_pauses(self, *args, **kwargs):
        kwargs["sleep"] = lambda seconds: None
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(_http.HttpClient, "__init__", without_retry_pauses)


class ScriptedRun(object):
    """One module run against scripted answers: its result, the requests it made, its raw output."""

    def __init__(self, result, calls, output, api_root=""):
        self.result = result
        self.calls = calls
        self.output = output  # for "never printed" checks
        self.api_root = api_root

    @property
    def requests(self):
        """(method, path below api_root) of every request, in order."""
        found = []
        for call in self.calls:
            path = urlsplit(call["url"]).path
            found.append((call["method"], path[len(self.api_root) :] if path.startswith(self.api_root) else path))
        return found

    @property
    def writes(self):
        """The requests that change something (a sign-in is not one)."""
        return [request for request in self.requests if request[0] != "GET" and not request[1].endswith("/token")]

    @property
    def warnings(self):
        return warning_texts(self.result)

    def body(self, index):
        raw = self.calls[index]["body"]
        return json.loads(raw) if raw else None


def run_scripted(module, args, answers, monkeypatch, capsys, check_mode=False, diff=True, api_root="", run_class=ScriptedRun):
    """run_main() with the module's HTTP requests answered in turn from `answers` ([(status, body, headers)]).

    The answers are the exact conversation: an extra request fails (no answer left), and so does a
    missing one (an answer left over).
    """
    adapter = ScriptedAdapter(answers)
    route_requests(monkeypatch, adapter)
    result, output = run_main(module, args, capsys, check_mode=check_mode, diff=diff)
    assert not adapter.answers, "scripted answers left unused: %r" % adapter.answers
    return run_class(result, adapter.calls, output, api_root)
