"""Scenarios an operator runs that the other role tests do not: one phase by tag, a wait on a converged tenant,
offboarding planned then done, and documented variables at their edges.

Each test drives playbooks/configure_azure_sync.yml against the sandbox and asserts what a user sees: the return
code, no write in a dry run, no change on a rerun, no secret in the output, and the message.
"""

import pytest

from playbook_harness import run_playbook
from test_role import PLAYBOOKS, assert_no_secret, failure_text, our_apps, run_role, tenant_state, tenant_vars

PHASES = ("registration", "consent", "secret", "domains", "settings", "sync", "verify")


def run_tagged(sandbox, tmp_path, tags, check=False, extra=None):
    """The main playbook with --tags, as an operator runs one phase; checked for secrets."""
    extra_vars = dict(tenant_vars(sandbox.info), **(extra or {}))
    run = run_playbook(PLAYBOOKS + "/configure_azure_sync.yml", tmp_path, check=check, diff=True, verbosity=1, extra_vars=extra_vars, tags=tags)
    assert_no_secret(run.output, sandbox.info["admin_client_secret"], sandbox.info["moduscloud_password"])
    return run


def changed_names(run):
    return [task["task"] for task in run.changed_tasks()]


def test_each_phase_alone_plans_a_new_tenant_without_writing(fresh_sandbox, tmp_path):
    # The sync phase alone has no settings to report with on a new tenant, and settings alone no application.
    for phase in ("registration", "consent", "secret", "domains", "verify"):
        run = run_tagged(fresh_sandbox, tmp_path, phase, check=True)
        assert run.returncode == 0, (phase, failure_text(run))
    assert fresh_sandbox.stats()["writes"] == 0


@pytest.mark.parametrize("check", [True, False], ids=["check", "real"])
def test_the_settings_phase_alone_before_the_application_exists_says_to_register_it_first(fresh_sandbox, tmp_path, check):
    run = run_tagged(fresh_sandbox, tmp_path, "settings", check=check)
    assert run.returncode != 0
    assert "'NoneType'" not in run.output
    assert "The application modusCloud is not registered in the tenant yet" in run.output, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == 0


def test_the_verify_phase_alone_on_a_new_tenant_says_nothing_is_configured(fresh_sandbox, tmp_path):
    run = run_tagged(fresh_sandbox, tmp_path, "verify")
    assert run.returncode != 0
    assert "modusCloud's import settings name no application, and none is registered yet." in run.output, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == 0


def test_each_phase_alone_on_a_converged_tenant_changes_nothing(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    writes = fresh_sandbox.stats()["writes"]
    for phase in PHASES:
        run = run_tagged(fresh_sandbox, tmp_path, phase)
        assert run.returncode == 0, (phase, failure_text(run))
        assert run.total("changed") == 0, (phase, changed_names(run))
    assert fresh_sandbox.stats()["writes"] == writes


def test_a_wait_on_a_converged_tenant_that_already_synced_changes_nothing(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    fresh_sandbox.advance_clock(1)
    writes = fresh_sandbox.stats()["writes"]
    extra = {"azure_user_sync_sync_mode": "wait", "azure_user_sync_wait_interval": 1, "azure_user_sync_wait_timeout": 5}
    run = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert run.returncode == 0, failure_text(run)
    # Ansible counts every background job it starts as a change; the wait itself writes nothing.
    assert run.total("changed") == 0, changed_names(run)
    assert fresh_sandbox.stats()["writes"] == writes
    assert "Sync report (wait)" in run.output


def test_offboarding_planned_then_done_then_done_again(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    writes = fresh_sandbox.stats()["writes"]
    extra = {"azure_user_sync_state": "absent"}
    plan = run_role(fresh_sandbox, tmp_path, check=True, extra=extra)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == writes
    assert plan.total("changed") > 0 and "would" in plan.output.lower()
    assert our_apps(tenant_state(fresh_sandbox)) != []
    done = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert done.returncode == 0, failure_text(done)
    assert our_apps(tenant_state(fresh_sandbox)) == []
    writes = fresh_sandbox.stats()["writes"]
    for check in (False, True):
        again = run_role(fresh_sandbox, tmp_path, check=check, extra=extra)
        assert again.returncode == 0 and again.total("changed") == 0, (check, changed_names(again))
    assert fresh_sandbox.stats()["writes"] == writes


def test_documented_variables_at_their_edges_plan_converge_and_rerun_without_change(fresh_sandbox, tmp_path):
    extra = {
        "azure_user_sync_console": "eu",
        "azure_user_sync_sync_frequency_hours": 24,
        "azure_user_sync_max_removals": 0,
        "azure_user_sync_remove_users": True,
        "azure_user_sync_default_user_role": "silent_user",
        "azure_user_sync_secret_rotate_before_days": 0,
        "azure_user_sync_secret_lifetime_days": 730,
        "azure_user_sync_exemptions": [],
        "azure_user_sync_report_limit": 0,
    }
    plan = run_role(fresh_sandbox, tmp_path, check=True, extra=extra)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == 0
    run = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert run.returncode == 0, failure_text(run)
    again = run_role(fresh_sandbox, tmp_path, extra=extra)
    assert again.returncode == 0 and again.total("changed") == 0, changed_names(again)
