"""Run a modusCloud module's main() against scripted HTTP answers and return its JSON result.

The real exit_json/fail_json run (so no_log masking of the output is exercised); the scripted
transport (fake_transport) answers at the requests seam, and every call is recorded.
"""

import json
from urllib.parse import urlsplit

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _http

from ..module_utils.fake_transport import ScriptedAdapter

API_URL = "https://mc.example/api/v1"
USERNAME = "admin@example.com"
# A distinctive value, so a test can prove it never reaches the output.
PASSWORD = "Pw-0f-the-Admin-7731"
CONNECTION = {"api_url": API_URL, "username": USERNAME, "password": PASSWORD}


class RecordingAdapter(ScriptedAdapter):
    """ScriptedAdapter that also keeps each request's headers."""

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        self.calls[-1]["headers"] = dict(request.headers)
        return response


class ModuleRun(object):
    def __init__(self, result, calls, output):
        self.result = result
        self.calls = calls
        self.output = output  # the module's raw stdout, for "never printed" checks

    @property
    def requests(self):
        """(method, path below the API root) of every call, in order."""
        return [(call["method"], urlsplit(call["url"]).path[len(urlsplit(API_URL).path):]) for call in self.calls]

    @property
    def writes(self):
        return [request for request in self.requests if request[0] != "GET"]

    @property
    def warnings(self):
        """Warning texts (ansible-core 2.19 returns each as a summary object, older cores as a string)."""
        return [w["event"]["msg"] if isinstance(w, dict) else w for w in self.result.get("warnings", [])]

    def body(self, index):
        raw = self.calls[index]["body"]
        return json.loads(raw) if raw else None


def run_module(module, args, answers, monkeypatch, capsys, check_mode=False, diff=False):
    """Call module.main() with `args` (+ connection options); answer its HTTP calls from `answers`."""
    adapter = RecordingAdapter(answers)
    original_init = _http.HttpClient.__init__

    def init_with_scripted_transport(self, *a, **kw):
        kw["sleep"] = lambda seconds: None
        original_init(self, *a, **kw)
        self.session.mount("https://", adapter)

    monkeypatch.setattr(_http.HttpClient, "__init__", init_with_scripted_transport)
    # Warnings are collected process-wide; start each run with none.
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    module_args = dict(CONNECTION)
    module_args.update(args)
    module_args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(module_args):
        with pytest.raises(SystemExit):
            module.main()
    output = capsys.readouterr().out
    assert not adapter.answers, "scripted answers left unused: %r" % adapter.answers
    return ModuleRun(json.loads(output), adapter.calls, output)
