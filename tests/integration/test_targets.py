"""Runs every integration target (tests/integration/targets/<name>/tasks/main.yml) against a
freshly reset sandbox, in a play whose module_defaults point both action groups at it, with the variables
`sandbox` (its info document) and `sandbox_kb_settings` (the KB's import settings, sandbox/moduscloud/wire.py).

The targets keep ansible-test's layout; this runner replaces `ansible-test integration` because
the targets need the sandbox running beside them.
"""

import os

import pytest

from playbook_harness import HERE, run_playbook, write_local_playbook
from sandbox.moduscloud.wire import kb_settings

TARGETS_DIR = os.path.join(HERE, "targets")


def discover_targets():
    found = []
    for name in sorted(os.listdir(TARGETS_DIR)) if os.path.isdir(TARGETS_DIR) else []:
        tasks = os.path.join(TARGETS_DIR, name, "tasks", "main.yml")
        aliases = os.path.join(TARGETS_DIR, name, "aliases")
        if not os.path.exists(tasks):
            continue
        flags = open(aliases).read().split() if os.path.exists(aliases) else []
        if "disabled" in flags or "unsupported" in flags:
            continue
        found.append(name)
    return found


@pytest.mark.parametrize("target", discover_targets())
def test_target(fresh_sandbox, target, tmp_path):
    info = fresh_sandbox.info
    tasks = [{"name": "Run the target", "ansible.builtin.include_tasks": os.path.join(TARGETS_DIR, target, "tasks", "main.yml")}]
    # The KB's import settings as moduscloud_import_settings returns them, for the sandbox's tenant.
    expected = kb_settings(info["tenant_domain"], info["admin_client_id"].lower())
    playbook = write_local_playbook(tmp_path / "target.yml", info, tasks, name="Integration target %s" % target, sandbox=info, sandbox_kb_settings=expected)
    run = run_playbook(playbook, tmp_path)
    assert run.returncode == 0, run.output[-20000:]
    assert run.tasks, "the target ran no task"
