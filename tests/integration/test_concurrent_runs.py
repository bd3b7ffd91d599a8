"""Two runs on one tenant at once, and a key modusCloud holds that no longer exists.

Two runs of the main job started together must not leave modusCloud holding a removed secret: the
secret hand-over is serialised by a lease on the application, so right after both, and again after a
rerun, the service's scheduled sync signs in with the key it holds. A key removed behind the role's back
(the secret last handed over is gone) is noticed by the next run, which hands over a new one.
"""

import json
import os
import subprocess
import sys

from playbook_harness import COLLECTIONS, run_playbook, write_local_playbook
from test_role import (
    PLAYBOOKS,
    SECRET_DESCRIPTION,
    assert_converged,
    assert_no_secret,
    assert_sync_works,
    failure_text,
    marked_secrets,
    org_state,
    our_apps,
    run_role,
    scheduled_sync,
    tenant_state,
    tenant_vars,
    user_addresses,
)


def start_run(sandbox, tmp_path, name):
    """Start the main job as its own ansible-playbook process; return (process, output path)."""
    vars_file = tmp_path / ("%s-vars.json" % name)
    vars_file.write_text(json.dumps(tenant_vars(sandbox.info)))
    output = open(str(tmp_path / ("%s.log" % name)), "w")
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            "localhost,",
            os.path.join(PLAYBOOKS, "configure_azure_sync.yml"),
            "-e",
            "@" + str(vars_file),
        ],
        cwd=str(tmp_path),
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return process, output


def test_two_runs_at_once_leave_a_working_key_and_a_rerun_keeps_it(fresh_sandbox, tmp_path):
    users_before = user_addresses(org_state(fresh_sandbox))
    runs = [start_run(fresh_sandbox, tmp_path, name) for name in ("first", "second")]
    codes = []
    for process, output in runs:
        codes.append(process.wait(timeout=900))
        output.close()
    outputs = [open(output.name).read() for _, output in runs]
    for text in outputs:
        assert_no_secret(text, fresh_sandbox.info["admin_client_secret"], fresh_sandbox.info["moduscloud_password"])
    assert 0 in codes, "neither run succeeded:\n%s" % outputs[0][-4000:]
    for code, text in zip(codes, outputs):  # a run that lost the race says why
        assert code == 0 or "Another run" in text, text[-4000:]
    # Right after both: modusCloud's key is a live secret of the one application.
    assert len(our_apps(tenant_state(fresh_sandbox))) == 1
    assert_sync_works(fresh_sandbox)

    rerun = run_role(fresh_sandbox, tmp_path)
    assert rerun.returncode == 0, failure_text(rerun)
    assert_converged(fresh_sandbox, users_before=users_before)


def test_a_rerun_replaces_a_handed_over_key_that_was_removed(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    [handed] = [secret["keyId"] for secret in marked_secrets(our_apps(tenant_state(fresh_sandbox))[0])]
    app_id = our_apps(tenant_state(fresh_sandbox))[0]["appId"]
    # Behind the role's back: a second secret with the description, then the one modusCloud holds removed.
    tasks = [
        {
            "name": "Add a secret",
            "register": "added",
            "no_log": True,
            "moduscloud.azure_sync.azure_app_secret": {
                "app_id": app_id,
                "description": SECRET_DESCRIPTION,
                "force_rotate": True,
                "exclusive": False,
                "wait_usable": False,
            },
        },
        {
            "name": "Remove the others",
            "moduscloud.azure_sync.azure_app_secret": {"app_id": app_id, "description": SECRET_DESCRIPTION, "keep_key_id": "{{ added.key_id }}"},
        },
    ]
    behind = write_local_playbook(tmp_path / "behind.yml", fresh_sandbox.info, tasks)
    assert run_playbook(behind, tmp_path).returncode == 0
    remaining = [secret["keyId"] for secret in marked_secrets(our_apps(tenant_state(fresh_sandbox))[0])]
    assert handed not in remaining and len(remaining) == 1
    assert not scheduled_sync(fresh_sandbox)["ok"], "the removed key still signs in"

    rerun = run_role(fresh_sandbox, tmp_path)
    assert rerun.returncode == 0, failure_text(rerun)
    assert "the secret last handed over (%s) no longer exists" % handed in rerun.output
    assert_converged(fresh_sandbox)
