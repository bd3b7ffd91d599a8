"""Client secrets through ansible-playbook against the sandbox: what a person would see and what a crash leaves.

1. A playbook that creates, hands on, rotates and removes secrets, run with -vvvv and --diff, shows no
   issued secret value in its output, in Ansible's log or in any file it leaves behind. The values
   come from the registered results, written by no_log tasks to a directory outside the scanned one;
   a deliberately leaky run proves the scan finds a value when it is there.
2. A run killed right after addPassword (its value lost) is repaired by the next run, which leaves
   exactly one secret with the description.
"""

import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote, quote_plus

import pytest

from playbook_harness import COLLECTIONS, run_playbook, write_local_playbook
from sandbox.launch import admin_graph_session

DESCRIPTION = "modusCloud"
SECOND_DESCRIPTION = "second consumer"
UNIQUE_NAME = "secret-safety-app"
WAIT_LIMIT = 120  # seconds to wait for a condition (an orphan to appear); far above what it takes
# Where the modules run (plugins/plugin_utils/_in_process.py): every test runs both ways.
IN_PROCESS = {"moduscloud_azure_sync_in_process": True}


@pytest.fixture(autouse=True, params=[True, False], ids=["in-worker", "module-processes"])
def modules_in_process(request, monkeypatch):
    monkeypatch.setitem(IN_PROCESS, "moduscloud_azure_sync_in_process", request.param)


def write_playbook(path, info, tasks):
    return write_local_playbook(path, info, tasks, name="Secret safety", sandbox=info, **IN_PROCESS)


def control(info, method, path, body=None):
    return {
        "ansible.builtin.uri": {
            "url": info["control_url"] + path,
            "method": method,
            "body_format": "json",
            "body": body or {},
            "ca_path": info["ca_bundle"],
            "status_code": [200, 204],
        }
    }


APP_TASKS = [
    {
        "name": "Create the application",
        "register": "app",
        "moduscloud.azure_sync.azure_app_registration": {"unique_name": UNIQUE_NAME, "display_name": "Secret safety"},
    },
    {"name": "Give it a service principal", "moduscloud.azure_sync.azure_app_consent": {"app_id": "{{ app.app_id }}"}},
]


def keep(name, capture_dir, register):
    """A no_log task that writes a registered value where the scan does not look."""
    return {
        "name": "Keep the value of %s for the scan" % register,
        "no_log": True,
        "ansible.builtin.copy": {"content": "{{ %s.value }}" % register, "dest": os.path.join(str(capture_dir), name), "mode": "0600"},
    }


class Graph(object):
    """Independent reads of the sandbox's Graph as its admin (plain HTTP, no collection code)."""

    def __init__(self, info):
        self.info = info
        self.session = admin_graph_session(info)

    def secrets(self, description):
        """keyIds of the secrets with `description` on the test application (none if it does not exist yet)."""
        response = self.session.get(
            "%s/v1.0/applications(uniqueName='%s')" % (self.info["graph_url"], UNIQUE_NAME),
            params={"$select": "passwordCredentials"},
            verify=self.info["ca_bundle"],
            timeout=30,
        )
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return [credential["keyId"] for credential in response.json()["passwordCredentials"] if credential["displayName"] == description]


# ------------------------------------------------------------------------------------------------- -vvvv scan


def appearances(value, text):
    """Whether `value`, or a form a log could encode it in, appears in `text` (str or bytes)."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    if isinstance(text, bytes):
        return any(form.encode() in text for form in forms)
    return any(form in text for form in forms)


def leaks(values, output, directory):
    """Where any value shows up: 'output' and/or the files under `directory`."""
    found = [("output", value[:3]) for value in values if appearances(value, output)]
    for root, _dirs, files in os.walk(str(directory)):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                content = handle.read()
            found += [(path, value[:3]) for value in values if appearances(value, content)]
    return found


def test_a_verbose_diff_run_never_shows_a_secret_value(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    run_dir, capture_dir = tmp_path / "run", tmp_path / "capture"
    run_dir.mkdir()
    capture_dir.mkdir()
    secret = {"app_id": "{{ app.app_id }}", "description": DESCRIPTION}
    tasks = APP_TASKS + [
        {"name": "Create the secret", "register": "first", "no_log": True, "moduscloud.azure_sync.azure_app_secret": dict(secret)},
        keep("first", capture_dir, "first"),
        {
            "name": "Give the value to modusCloud (its key option is no_log; the task is not)",
            "moduscloud.azure_sync.moduscloud_import_settings": {
                "org": info["moduscloud_org"],
                "primary_domain": info["tenant_domain"],
                "application_id": "{{ app.app_id }}",
                "key": "{{ first.value }}",
                "update_key": "always",
            },
        },
        {"name": "Run again: nothing to do, shown in full", "register": "again", "moduscloud.azure_sync.azure_app_secret": dict(secret)},
        {"name": "The tenant limits secrets to 180 days", **control(info, "PUT", "/policy", {"password_max_lifetime_days": 180})},
        {
            "name": "Rotate to the longest lifetime allowed, keeping the old secret for the hand-over",
            "register": "second",
            "no_log": True,
            "moduscloud.azure_sync.azure_app_secret": dict(secret, force_rotate=True, never_expires=True, exclusive=False),
        },
        keep("second", capture_dir, "second"),
        {
            "name": "Hand the new value to modusCloud",
            "moduscloud.azure_sync.moduscloud_import_settings": {
                "org": info["moduscloud_org"],
                "primary_domain": info["tenant_domain"],
                "application_id": "{{ app.app_id }}",
                "key": "{{ second.value }}",
                "update_key": "always",
            },
        },
        {
            "name": "Finish the hand-over: remove the old secret, shown in full",
            "register": "handed_over",
            "moduscloud.azure_sync.azure_app_secret": dict(secret, keep_key_id="{{ second.key_id }}"),
        },
        {
            "name": "A lifetime over the policy without clamping fails, shown in full",
            "ignore_errors": True,
            "moduscloud.azure_sync.azure_app_secret": dict(secret, force_rotate=True, lifetime_days=365, clamp_to_policy=False),
        },
        {"name": "Report the app's secrets", "moduscloud.azure_sync.azure_app_registration_info": {"app_id": "{{ app.app_id }}"}},
        {
            "name": "Show what the role would log",
            "ansible.builtin.debug": {"msg": "secret {{ second.key_id }} ends {{ second.end_date }}; warnings: {{ second.warnings }}"},
        },
        {"name": "Remove the secrets", "moduscloud.azure_sync.azure_app_secret": dict(secret, state="absent")},
    ]
    playbook = write_playbook(run_dir / "safety.yml", info, tasks)
    run = run_playbook(
        playbook,
        run_dir,
        diff=True,
        verbosity=4,
        env={
            "ANSIBLE_LOG_PATH": str(run_dir / "ansible.log"),
            "ANSIBLE_LOCAL_TEMP": str(run_dir / "local-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(run_dir / "remote-tmp"),
        },
    )
    assert run.returncode == 0, run.output[-6000:]
    values = [(capture_dir / name).read_text() for name in ("first", "second")]
    assert all(len(value) >= 16 for value in values) and values[0] != values[1]
    # The run did show what it did: without these the scan would prove little.
    assert "180 days" in run.output and "client secret" in run.output
    assert leaks(values, run.output, run_dir) == []

    # The scan itself: a run that does print a value is caught.
    leaky = write_playbook(
        tmp_path / "leaky.yml",
        info,
        [{"name": "Print a value", "ansible.builtin.debug": {"msg": "{{ lookup('ansible.builtin.file', '%s') }}" % (capture_dir / "second")}}],
    )
    caught = run_playbook(leaky, run_dir)
    assert [where for where, _hint in leaks(values, caught.output, run_dir)] == ["output"]


def test_a_new_value_stays_hidden_even_when_the_task_forgot_no_log(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    run_dir, capture_dir = tmp_path / "run", tmp_path / "capture"
    run_dir.mkdir()
    capture_dir.mkdir()
    tasks = APP_TASKS + [
        {
            "name": "Create the secret without no_log",
            "register": "created",
            "moduscloud.azure_sync.azure_app_secret": {"app_id": "{{ app.app_id }}", "description": DESCRIPTION},
        },
        keep("created", capture_dir, "created"),
    ]
    run = run_playbook(write_playbook(run_dir / "forgetful.yml", info, tasks), run_dir, diff=True, verbosity=4)
    assert run.returncode == 0, run.output[-6000:]
    value = (capture_dir / "created").read_text()
    # The registered result still carries the value for the next task; only the display is censored.
    assert len(value) >= 16
    assert "output has been hidden" in run.output
    assert leaks([value], run.output, run_dir) == []


# ------------------------------------------------------------------------------------------------- crash recovery


def start_playbook(playbook, workdir):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    log = open(os.path.join(str(workdir), os.path.basename(playbook) + ".log"), "w")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", playbook]
    return subprocess.Popen(command, cwd=str(workdir), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def descendants(pid):
    """Ids of every process below `pid` (ansible's workers and the module they run), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_when(process, condition):
    """SIGKILL `process` and everything it started as soon as condition() holds: a crash at that point."""
    deadline = time.monotonic() + WAIT_LIMIT
    while not condition():
        assert process.poll() is None, "the playbook ended before the crash point"
        assert time.monotonic() < deadline, "the crash point was never reached"
        time.sleep(0.2)
    for pid in [process.pid] + descendants(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def test_a_run_killed_after_add_password_is_repaired_by_the_next_run(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    graph = Graph(info)
    secret = {"app_id": "{{ app.app_id }}", "description": DESCRIPTION}
    # New secrets are refused for ten minutes, so each killed run is waiting (wait_usable) right after
    # addPassword, holding a value nobody else ever sees.
    slow_secrets = {"name": "New secrets take ten minutes to work", **control(info, "POST", "/faults", {"secret_delay_seconds": 600})}

    # A secret in use (the consumer holds it), then a rotation that dies after addPassword.
    rotation = write_playbook(
        tmp_path / "rotation.yml",
        info,
        APP_TASKS
        + [
            {"name": "The secret in use", "register": "in_use", "no_log": True, "moduscloud.azure_sync.azure_app_secret": dict(secret)},
            {"name": "Record its key id", "ansible.builtin.copy": {"content": "{{ in_use.key_id }}", "dest": str(tmp_path / "in_use")}},
            slow_secrets,
            {
                "name": "Rotate (killed while waiting)",
                "no_log": True,
                "moduscloud.azure_sync.azure_app_secret": dict(secret, force_rotate=True, wait_timeout=900),
            },
        ],
    )
    kill_when(start_playbook(rotation, tmp_path), lambda: len(graph.secrets(DESCRIPTION)) == 2)
    in_use = (tmp_path / "in_use").read_text()
    (orphan,) = set(graph.secrets(DESCRIPTION)) - {in_use}

    # A consumer's very first secret, dying the same way: the orphan is then the only secret.
    first = write_playbook(
        tmp_path / "first.yml",
        info,
        APP_TASKS
        + [
            {
                "name": "First secret (killed while waiting)",
                "no_log": True,
                "moduscloud.azure_sync.azure_app_secret": dict(secret, description=SECOND_DESCRIPTION, wait_timeout=900),
            },
        ],
    )
    kill_when(start_playbook(first, tmp_path), lambda: len(graph.secrets(SECOND_DESCRIPTION)) == 1)
    (lone_orphan,) = graph.secrets(SECOND_DESCRIPTION)
    fresh_sandbox.control("DELETE", "/faults")

    # The next runs: plain for the first case (two secrets are ambiguous), force_rotate for the second
    # (the consumer has no value, so the lone secret cannot be the one it holds).
    recovery = write_playbook(
        tmp_path / "recovery.yml",
        info,
        APP_TASKS
        + [
            {"name": "Rerun after the crashed rotation", "register": "repaired", "no_log": True, "moduscloud.azure_sync.azure_app_secret": dict(secret)},
            {
                "name": "Rerun after the crashed first creation",
                "register": "repaired_first",
                "no_log": True,
                "moduscloud.azure_sync.azure_app_secret": dict(secret, description=SECOND_DESCRIPTION, force_rotate=True),
            },
            {
                "name": "Both reruns created a secret, returned its value and removed the others",
                "ansible.builtin.assert": {
                    "that": [
                        "repaired is changed and repaired.rotated and repaired.value is defined",
                        "repaired.removed_key_ids | sort == %s" % json.dumps(sorted([in_use, orphan])),
                        "repaired_first is changed and repaired_first.value is defined",
                        "repaired_first.removed_key_ids == ['%s']" % lone_orphan,
                    ]
                },
            },
            {
                "name": "Record the key ids in use",
                "ansible.builtin.copy": {"content": "{{ [repaired.key_id, repaired_first.key_id] | to_json }}", "dest": str(tmp_path / "key_ids.json")},
            },
        ],
    )
    run = run_playbook(recovery, tmp_path)
    assert run.returncode == 0, run.output[-6000:]
    repaired, repaired_first = json.loads((tmp_path / "key_ids.json").read_text())
    assert graph.secrets(DESCRIPTION) == [repaired]
    assert graph.secrets(SECOND_DESCRIPTION) == [repaired_first]
    assert {repaired, repaired_first}.isdisjoint({in_use, orphan, lone_orphan})


def test_the_azure_modules_never_remove_the_application_they_sign_in_as(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    own = {"app_id": info["admin_client_id"], "state": "absent"}
    tasks = [
        {"name": "Delete it", "moduscloud.azure_sync.azure_app_registration": own, "ignore_errors": True, "register": "app"},
        {
            "name": "Revoke it",
            "moduscloud.azure_sync.azure_app_consent": dict(own, remove_service_principal=True),
            "ignore_errors": True,
            "register": "consent",
        },
        {
            "name": "Remove its secrets",
            "moduscloud.azure_sync.azure_app_secret": dict(own, description=DESCRIPTION),
            "ignore_errors": True,
            "register": "secret",
        },
        {"name": "Show", "ansible.builtin.debug": {"msg": "{{ [app.msg, consent.msg, secret.msg] | to_json }}"}},
    ]
    writes = fresh_sandbox.stats()["writes"]
    run = run_playbook(write_playbook(tmp_path / "own.yml", info, tasks), tmp_path)
    assert run.returncode == 0, run.output
    assert fresh_sandbox.stats()["writes"] == writes, "a refused removal wrote"
    assert run.output.count("is the identity this module signs in as") >= 3, run.output
    assert run.output.count("Nothing was removed") >= 3, run.output
