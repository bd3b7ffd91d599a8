"""The modusCloud connection of the modusCloud module tests, and main() run against FakeModusCloud (the service's
state) or against scripted answers (a test whose point is the exact conversation, or an answer the fake does not give)."""

from urllib.parse import urlsplit

from requests.adapters import BaseAdapter

from .fake_moduscloud import FakeModusCloud
from .module_runner import ScriptedRun, route_requests, run_main, run_scripted

API_URL = "https://mc.example/api/v1"
USERNAME = "admin@example.com"
# A distinctive value, so a test can prove it never reaches the output.
PASSWORD = "Pw-0f-the-Admin-7731"
CONNECTION = {"api_url": API_URL, "username": USERNAME, "password": PASSWORD}


def organization(org, **state):
    """The organization `org` in FakeModusCloud, for the admin of CONNECTION; `state` as FakeModusCloud takes it."""
    return FakeModusCloud(org, username=USERNAME, password=PASSWORD, **state)


class Hosts(BaseAdapter):
    """Each host's requests answered by its own fake (FakeModusCloud, FakeGraph), one record of every request in order."""

    def __init__(self, fakes):
        super().__init__()
        self.fakes = fakes  # host name -> requests adapter
        self.calls = []

    def send(self, request, **kwargs):
        self.calls.append({"method": request.method, "url": request.url, "body": request.body})
        return self.fakes[urlsplit(request.url).hostname].send(request, **kwargs)

    def close(self):
        pass


def run_on(fake, module, args, monkeypatch, capsys, check_mode=False, diff=False):
    """Call module.main() with `args` (+ connection options) against `fake` (a requests adapter: FakeModusCloud, or a
    router in front of it) and return the run; its `requests` and `calls` are the ones this run made."""
    route_requests(monkeypatch, fake)
    start = len(fake.calls)
    result, output = run_main(module, dict(CONNECTION, **args), capsys, check_mode=check_mode, diff=diff)
    return ScriptedRun(result, fake.calls[start:], output, urlsplit(API_URL).path)


def run_module(module, args, answers, monkeypatch, capsys, check_mode=False, diff=False):
    """Call module.main() with `args` (+ connection options); answer its HTTP calls from `answers`.

    The result's `requests` give paths below the API root.
    """
    return run_scripted(module, dict(CONNECTION, **args), answers, monkeypatch, capsys, check_mode=check_mode, diff=diff, api_root=urlsplit(API_URL).path)
