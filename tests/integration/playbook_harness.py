"""Running playbooks against the sandbox: the harness for integration targets and scenarios.

Import it as `from playbook_harness import run_playbook, write_local_playbook` (pytest puts this
folder on sys.path; it is not a package, so that `tests/sandbox` never shadows the `sandbox` package).
"""

import json
import os
import subprocess
import sys

from sandbox.launch import write_local_playbook  # noqa: F401 (the harness hands it on to the tests)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


class PlaybookRun(object):
    def __init__(self, returncode, output, record):
        self.returncode = returncode
        self.output = output
        self.tasks = record.get("tasks", [])
        self.recap = record.get("recap", {})
        # What set_stats published: "_run" holds the run-wide data (AWX's job artifacts).
        self.custom_stats = record.get("custom_stats", {})

    def changed_tasks(self):
        return [task for task in self.tasks if task["changed"]]

    def total(self, key):
        return sum(host.get(key, 0) for host in self.recap.values())


def run_playbook(
    playbook,
    tmp_path,
    check=False,
    diff=False,
    verbosity=0,
    extra_vars=None,
    env=None,
    inventory="localhost,",
    tags=None,
    skip_tags=None,
    forks=None,
    timeout=900,
    ansible_playbook=None,
):
    """Run ansible-playbook on `playbook` (a path); return a PlaybookRun with the full output.

    ansible_playbook: another ansible-playbook (another ansible-core) than the one of this Python."""
    record_file = os.path.join(str(tmp_path), "record-%d.json" % len(os.listdir(str(tmp_path))))
    ansible_playbook = ansible_playbook or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    command = [ansible_playbook, "-i", inventory, playbook]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    if tags:
        command += ["--tags", tags]
    if skip_tags:
        command += ["--skip-tags", skip_tags]
    if forks:
        command += ["--forks", str(forks)]
    if extra_vars:
        vars_file = os.path.join(str(tmp_path), "extra-vars-%d.json" % len(os.listdir(str(tmp_path))))
        with open(vars_file, "w") as handle:
            json.dump(extra_vars, handle)
        command += ["-e", "@" + vars_file]
    run_env = dict(os.environ)
    run_env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "task_record",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "TASK_RECORD_FILE": record_file,
        }
    )
    run_env.update(env or {})
    completed = subprocess.run(
        command, cwd=str(tmp_path), env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout
    )
    record = {}
    if os.path.exists(record_file):
        with open(record_file) as handle:
            record = json.load(handle)
    return PlaybookRun(completed.returncode, completed.stdout, record)
