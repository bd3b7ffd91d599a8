"""Scenarios an operator runs that the other role tests do not: one phase by tag or all but some, each sync mode on a
converged tenant, offboarding a tenant never configured, a move to the EU console, and variables at their edges.

Each test drives playbooks/configure_azure_sync.yml against the sandbox and asserts what a user sees: the return
code, no write in a dry run, no change on a rerun, no secret in the output, and the message.
"""

import json

import pytest

from playbook_harness import run_playbook
from test_role import (
    PLAYBOOKS,
    assert_converged,
    assert_no_secret,
    run_in_check_mode_keyword_play,
    failure_text,
    org_state,
    our_apps,
    run_role,
    tenant_state,
    tenant_vars,
    user_addresses,
)

EU_CONSOLE_URL = "https://moduscloudeu.cloud-protect.net"
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


def test_offboarding_a_tenant_that_was_never_configured_plans_and_changes_nothing(fresh_sandbox, tmp_path):
    extra = {"azure_user_sync_state": "absent"}
    for check in (True, False):
        run = run_role(fresh_sandbox, tmp_path, check=check, extra=extra)
        assert run.returncode == 0, (check, failure_text(run))
        assert run.total("changed") == 0, (check, changed_names(run))
    assert fresh_sandbox.stats()["writes"] == 0


def test_skipping_the_sync_and_verify_phases_leaves_a_tenant_the_next_full_run_finishes(fresh_sandbox, tmp_path):
    users_before = user_addresses(org_state(fresh_sandbox))
    extra_vars = tenant_vars(fresh_sandbox.info)
    first = run_playbook(PLAYBOOKS + "/configure_azure_sync.yml", tmp_path, verbosity=1, extra_vars=extra_vars, skip_tags="sync,verify")
    assert_no_secret(first.output, fresh_sandbox.info["admin_client_secret"], fresh_sandbox.info["moduscloud_password"])
    assert first.returncode == 0, failure_text(first)
    assert user_addresses(org_state(fresh_sandbox)) == users_before
    full = run_role(fresh_sandbox, tmp_path)
    assert full.returncode == 0, failure_text(full)
    assert user_addresses(org_state(fresh_sandbox)) > users_before
    again = run_role(fresh_sandbox, tmp_path)
    assert again.returncode == 0 and again.total("changed") == 0, changed_names(again)


def test_moving_a_converged_tenant_to_the_eu_console_is_planned_then_made_once(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    writes = fresh_sandbox.stats()["writes"]
    eu = {"azure_user_sync_console": "eu"}
    plan = run_role(fresh_sandbox, tmp_path, check=True, extra=eu)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == writes
    assert [name.split(" : ", 1)[-1] for name in changed_names(plan)] == ["Create or update the application registration"]
    moved = run_role(fresh_sandbox, tmp_path, extra=eu)
    assert moved.returncode == 0, failure_text(moved)
    assert our_apps(tenant_state(fresh_sandbox))[0]["web"]["redirectUris"] == [EU_CONSOLE_URL]
    again = run_role(fresh_sandbox, tmp_path, extra=eu)
    assert again.returncode == 0 and again.total("changed") == 0, changed_names(again)


def test_a_play_in_check_mode_plans_a_wait_on_a_converged_tenant_as_no_change(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    writes = fresh_sandbox.stats()["writes"]
    run = run_in_check_mode_keyword_play(fresh_sandbox, tmp_path, azure_user_sync_sync_mode="wait")
    assert run.returncode == 0, failure_text(run)
    assert run.total("changed") == 0, changed_names(run)
    assert fresh_sandbox.stats()["writes"] == writes


def test_fleet_health_right_after_onboarding_does_not_call_the_tenant_critical(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    folder = tmp_path / "health"
    folder.mkdir()
    run = run_role(fresh_sandbox, tmp_path, playbook="fleet_health", extra={"fleet_health_dir": str(folder)})
    assert run.returncode == 0, failure_text(run)
    rows = json.loads((folder / "fleet_health.json").read_text())
    assert [row["status"] for row in rows] != ["critical"], rows


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


@pytest.mark.parametrize("check", [True, False], ids=["check", "real"])
def test_a_wait_with_the_scheduled_sync_turned_off_is_refused_before_any_write(fresh_sandbox, tmp_path, check):
    extra = {"azure_user_sync_sync_mode": "wait", "azure_user_sync_sync_frequency_hours": 0, "azure_user_sync_wait_timeout": 15}
    run = run_role(fresh_sandbox, tmp_path, check=check, extra=extra)
    assert run.returncode != 0
    assert fresh_sandbox.stats()["writes"] == 0
    assert "Preflight refused the run before any write: azure_user_sync_sync_mode wait waits for" in run.output, failure_text(run)
    assert "[role variables: azure_user_sync_sync_mode, azure_user_sync_sync_frequency_hours]" in run.output


def test_the_azure_side_first_then_the_moduscloud_side_as_many_tenants_md_shows(fresh_sandbox, tmp_path):
    # docs/many-tenants.md, "Selecting phases": --tags registration,consent,secret, then --skip-tags registration,consent.
    extra_vars = tenant_vars(fresh_sandbox.info)
    playbook = PLAYBOOKS + "/configure_azure_sync.yml"
    known = (fresh_sandbox.info["admin_client_secret"], fresh_sandbox.info["moduscloud_password"])
    azure = run_playbook(playbook, tmp_path, verbosity=1, extra_vars=extra_vars, tags="registration,consent,secret")
    assert_no_secret(azure.output, *known)
    assert azure.returncode == 0, failure_text(azure)
    assert our_apps(tenant_state(fresh_sandbox)) != [] and not org_state(fresh_sandbox).get("azure")
    writes = fresh_sandbox.stats()["writes"]
    plan = run_playbook(playbook, tmp_path, check=True, verbosity=1, extra_vars=extra_vars, skip_tags="registration,consent")
    assert_no_secret(plan.output, *known)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == writes
    moduscloud_side = run_playbook(playbook, tmp_path, verbosity=1, extra_vars=extra_vars, skip_tags="registration,consent")
    assert_no_secret(moduscloud_side.output, *known)
    assert moduscloud_side.returncode == 0, failure_text(moduscloud_side)
    assert_converged(fresh_sandbox)
    again = run_role(fresh_sandbox, tmp_path)
    assert again.returncode == 0 and again.total("changed") == 0, changed_names(again)
