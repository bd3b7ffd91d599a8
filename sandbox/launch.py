"""Start `python -m sandbox serve` as a child process, talk to its control API, stop it; and the play that runs
modules against it (connection_defaults, local_play, write_local_playbook).

The one launcher for everything that needs a running sandbox: the pytest fixtures
(tests/conftest.py), the benchmark (bench/sync_report.py) and `make demo` (sandbox/demo.py).

    with RunningSandbox.start(workdir) as sandbox:
        sandbox.reset(users=10)
        print(sandbox.info["graph_url"], sandbox.stats()["requests"])
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG_TAIL_CHARS = 3000


class SandboxStartError(RuntimeError):
    """The sandbox exited or did not write its info file in time; the message ends with its log's tail."""


class RunningSandbox:
    """A sandbox child process: its info document (Sandbox.info in sandbox/server.py) and its control API."""

    def __init__(self, process: subprocess.Popen, info: dict) -> None:
        self.process = process
        self.info = info
        self._session = requests.Session()
        self._session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify

    @classmethod
    def start(cls, workdir, *serve_args: str, timeout: float = 60) -> RunningSandbox:
        """Start a sandbox that writes sandbox.json and sandbox.log into `workdir`; return it once it is ready.

        `serve_args` go to `python -m sandbox serve` (e.g. "--users", "30"). Raises SandboxStartError if the
        sandbox exits or is not ready within `timeout` seconds.
        """
        info_file = os.path.join(str(workdir), "sandbox.json")
        log_file = os.path.join(str(workdir), "sandbox.log")
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "sandbox", "serve", "--info-file", info_file, *serve_args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while not os.path.exists(info_file):
            status = process.poll()
            if status is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                reason = "exited with status %d" % status if status is not None else "was not ready in %g s" % timeout
                with open(log_file, errors="replace") as log:
                    raise SandboxStartError("the sandbox %s; the end of %s:\n%s" % (reason, log_file, log.read()[-LOG_TAIL_CHARS:]))
            time.sleep(0.1)
        with open(info_file) as handle:
            return cls(process, json.load(handle))

    def control(self, method: str, path: str, json: dict | None = None, timeout: float = 120):
        """Call the control API (e.g. "GET", "/stats"); return the parsed answer, or None if it has no body."""
        response = self._session.request(method, self.info["control_url"] + path, json=json, verify=self.info["ca_bundle"], timeout=timeout)
        response.raise_for_status()
        return response.json() if response.content else None

    def stats(self) -> dict:
        return self.control("GET", "/stats")

    def state(self) -> dict:
        return self.control("GET", "/state")

    def reset(self, **options):
        """Back to a fresh default state; options: users, groups, seed."""
        return self.control("POST", "/reset", json=options or None)

    def faults(self, **rules):
        """Set fault injection: rules, lag, secret_delay_seconds."""
        return self.control("POST", "/faults", json=rules)

    def advance_clock(self, hours: float) -> dict:
        """Move modusCloud's clock on; the answer lists the scheduled syncs that ran."""
        return self.control("POST", "/clock", json={"hours": hours})

    def stop(self) -> int:
        """SIGTERM, then kill if it has not stopped after 15 s; return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._session.close()
        return self.process.wait()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def role_vars(info):
    """The azure_user_sync role's variables for one sandbox tenant (its info document), as an inventory host
    carries them: the tests, the fault sweep and the benchmarks all build their inventories from this."""
    return {
        "azure_user_sync_org": info["moduscloud_org"],
        "azure_user_sync_tenant_id": info["tenant_id"],
        "azure_user_sync_client_id": info["admin_client_id"],
        "azure_user_sync_client_secret": info["admin_client_secret"],
        "azure_user_sync_authority_host": info["authority_host"],
        "azure_user_sync_graph_url": info["graph_url"],
        "azure_user_sync_moduscloud_api_url": info["moduscloud_url"],
        "azure_user_sync_moduscloud_username": info["moduscloud_user"],
        "azure_user_sync_moduscloud_password": info["moduscloud_password"],
        "azure_user_sync_ca_path": info["ca_bundle"],
    }


def connection_defaults(info):
    """module_defaults pointing both action groups at one sandbox tenant's admin identities, for playbooks that
    call the modules directly (the integration targets, the scenario tests and bench/sync_report.py)."""
    return {
        "group/moduscloud.azure_sync.graph": {
            "tenant_id": info["tenant_id"],
            "client_id": info["admin_client_id"],
            "client_secret": info["admin_client_secret"],
            "authority_host": info["authority_host"],
            "graph_url": info["graph_url"],
            "ca_path": info["ca_bundle"],
        },
        "group/moduscloud.azure_sync.moduscloud": {
            "api_url": info["moduscloud_url"],
            "username": info["moduscloud_user"],
            "password": info["moduscloud_password"],
            "ca_path": info["ca_bundle"],
        },
    }


def admin_graph_session(info):
    """A requests session signed in to one sandbox tenant's Graph as its admin identity (plain HTTP, none of the
    collection's code), for tests that read or change Graph behind the collection's back."""
    session = requests.Session()
    session.trust_env = False  # a proxy or REQUESTS_CA_BUNDLE in the environment would override the sandbox's CA
    session.verify = info["ca_bundle"]
    login = session.post(
        "%s/%s/oauth2/v2.0/token" % (info["authority_host"], info["tenant_id"]),
        data={
            "grant_type": "client_credentials",
            "client_id": info["admin_client_id"],
            "client_secret": info["admin_client_secret"],
            "scope": info["graph_url"] + "/.default",
        },
        timeout=30,
    )
    login.raise_for_status()
    session.headers["Authorization"] = "Bearer " + login.json()["access_token"]
    return session


def local_play(info, tasks, name=None, **play_vars):
    """One play that runs `tasks` on the controller against one sandbox tenant: localhost, local connection, no
    facts, ansible-playbook's own Python, connection_defaults(info) as module_defaults (none when `info` is None:
    the tasks name every connection option themselves); `play_vars` join its vars."""
    play = {"name": name} if name else {}
    play.update(
        {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": dict({"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, **play_vars),
        }
    )
    if info is not None:
        play["module_defaults"] = connection_defaults(info)
    play["tasks"] = tasks
    return play


def write_local_playbook(path, info, tasks, name=None, **play_vars):
    """Write a playbook of one local_play to `path` (JSON, which is YAML); return the path as a string."""
    with open(str(path), "w") as handle:
        json.dump([local_play(info, tasks, name=name, **play_vars)], handle, indent=1)
    return str(path)
