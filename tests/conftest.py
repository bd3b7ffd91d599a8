"""The sandbox fixture shared by every pytest suite (sandbox, integration, role).

Starts `python -m sandbox serve` (the emulator of Entra login, Graph and modusCloud, per the
contract in DESIGN.md) once per test session and worker, and stops it with SIGTERM.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 60


class Sandbox(object):
    """A running sandbox: its info document and its control API."""

    def __init__(self, process, info):
        self.process = process
        self.info = info
        self._session = requests.Session()
        self._session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify

    def control(self, method, path, json=None):
        response = self._session.request(method, self.info["control_url"] + path, json=json,
                                         verify=self.info["ca_bundle"], timeout=120)
        response.raise_for_status()
        return response.json() if response.content else None

    def stats(self):
        return self.control("GET", "/stats")

    def state(self):
        return self.control("GET", "/state")

    def reset(self, **options):
        return self.control("POST", "/reset", json=options or None)

    def faults(self, **rules):
        return self.control("POST", "/faults", json=rules)

    def advance_clock(self, hours):
        return self.control("POST", "/clock", json={"hours": hours})

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_sandbox(workdir, *args):
    """Start a sandbox writing its info into `workdir`; return a Sandbox once it is ready."""
    info_file = os.path.join(str(workdir), "sandbox.json")
    log = open(os.path.join(str(workdir), "sandbox.log"), "wb")
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--info-file", info_file] + list(args),
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(info_file):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the sandbox did not start; see %s" % log.name)
        time.sleep(0.1)
    with open(info_file) as handle:
        return Sandbox(process, json.load(handle))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield running
    running.stop()


@pytest.fixture
def fresh_sandbox(sandbox):
    """The shared sandbox, reset to its default state and with no faults."""
    sandbox.reset()
    return sandbox
