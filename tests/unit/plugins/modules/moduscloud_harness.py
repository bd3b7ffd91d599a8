"""The modusCloud connection of the modusCloud module tests, and main() run against scripted answers."""

from urllib.parse import urlsplit

from .module_runner import run_scripted

API_URL = "https://mc.example/api/v1"
USERNAME = "admin@example.com"
# A distinctive value, so a test can prove it never reaches the output.
PASSWORD = "Pw-0f-the-Admin-7731"
CONNECTION = {"api_url": API_URL, "username": USERNAME, "password": PASSWORD}


def run_module(module, args, answers, monkeypatch, capsys, check_mode=False, diff=False):
    """Call module.main() with `args` (+ connection options); answer its HTTP calls from `answers`.

    The result's `requests` give paths below the API root.
    """
    return run_scripted(module, dict(CONNECTION, **args), answers, monkeypatch, capsys, check_mode=check_mode, diff=diff, api_root=urlsplit(API_URL).path)
