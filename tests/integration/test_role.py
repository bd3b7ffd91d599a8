"""Scenario tests of the role azure_user_sync, through playbooks/configure_azure_sync.yml.

Each test drives the main playbook against the sandbox the way an operator would (role variables
from an inventory or extra-vars file, never on the command line) and checks the outcome
independently through the sandbox's control API: its request counters, its full state and its
modusCloud clock, which runs the service's own scheduled sync with the key the role handed over.
Every run is made at -vvvv and its whole output is searched for secret values.
"""

import json
import os
import re

import pytest

from playbook_harness import ROOT, run_playbook, write_local_playbook
from sandbox.launch import role_vars

PLAYBOOKS = os.path.join(ROOT, "playbooks")
# The role's defaults, restated so that a change to them shows up here.
APP_NAME = "modusCloud"
UNIQUE_NAME = "moduscloud-user-sync"
SECRET_DESCRIPTION = "modusCloud user sync"
CONSOLE_URL = "https://moduscloud.cloud-protect.net"
DELEGATED_SCOPES = {"Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"}
# Every client secret the sandbox makes has Entra's "8Q~" marker at this position.
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_.~-]{3}8Q~")
ACCESS_TOKEN_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")


# ------------------------------------------------------------------------------------ helpers


def tenant_vars(info):
    """The role's variables for one sandbox tenant, as an inventory host would carry them."""
    return role_vars(info)


def assert_no_secret(output, *known_secrets):
    """No secret value in `output`; a failure says where, never what (so no bare assert: pytest would show it)."""
    for secret in known_secrets:
        if secret in output:
            pytest.fail("a known secret appears at offset %d of the output" % output.index(secret), pytrace=False)
    for kind, shape in (("a client-secret-shaped value", SECRET_SHAPE), ("an access token", ACCESS_TOKEN_SHAPE)):
        found = shape.search(output)
        if found:
            pytest.fail("%s appears at offset %d of the output" % (kind, found.start()), pytrace=False)


def run_role(sandbox, tmp_path, playbook="configure_azure_sync", check=False, inventory=None, extra=None, forks=None, tenants=None, ansible_playbook=None):
    """Run one of the collection's playbooks at -vvvv (with --diff); check that its output holds no secret."""
    tenants = tenants or [sandbox.info]
    extra_vars = dict(extra or {})
    if inventory is None:
        extra_vars.update(tenant_vars(sandbox.info))
    run = run_playbook(
        os.path.join(PLAYBOOKS, playbook + ".yml"),
        tmp_path,
        check=check,
        diff=True,
        verbosity=4,
        extra_vars=extra_vars,
        inventory=inventory or "localhost,",
        forks=forks,
        ansible_playbook=ansible_playbook,
    )
    known = [tenant[name] for tenant in tenants for name in ("admin_client_secret", "moduscloud_password")]
    assert_no_secret(run.output, *known)
    return run


def failure_text(run):
    """The end of a run's output for an assertion message (already checked to hold no secret)."""
    return run.output[-6000:]


def tenant_state(sandbox, info=None):
    tenant_id = (info or sandbox.info)["tenant_id"]
    return sandbox.state()["tenants"][tenant_id]


def org_state(sandbox, info=None):
    return sandbox.state()["moduscloud"]["orgs"][(info or sandbox.info)["moduscloud_org"]]


def our_apps(tenant):
    return [app for app in tenant["applications"] if app.get("uniqueName") == UNIQUE_NAME]


def marked_secrets(app):
    return [secret for secret in app["passwordCredentials"] if secret["displayName"] == SECRET_DESCRIPTION]


def user_addresses(org):
    return {user["primary_email"] for user in org["users"]}


def scheduled_sync(sandbox, info=None):
    """Advance modusCloud's clock an hour; return the outcome of the organization's scheduled sync."""
    org = (info or sandbox.info)["moduscloud_org"]
    outcomes = [sync for sync in sandbox.advance_clock(1)["syncs"] if sync["org"] == org]
    assert len(outcomes) == 1, "modusCloud ran %d scheduled syncs of %s" % (len(outcomes), org)
    return outcomes[0]


def assert_sync_works(sandbox, info=None):
    outcome = scheduled_sync(sandbox, info)
    assert outcome["ok"], "modusCloud's scheduled sync failed: %s (%s)" % (outcome["error"], outcome["error_code"])


def assert_converged(sandbox, info=None, users_before=()):
    """One application, one secret that modusCloud really uses, consent, and every user kept or synced."""
    tenant = tenant_state(sandbox, info)
    apps = our_apps(tenant)
    assert len(apps) == 1, "%d applications carry the unique name" % len(apps)
    app = apps[0]
    assert len(marked_secrets(app)) == 1, "%d client secrets carry the description" % len(marked_secrets(app))
    principals = [sp["id"] for sp in tenant["servicePrincipals"] if sp["appId"] == app["appId"]]
    assert len(principals) == 1
    grants = [g for g in tenant["oauth2PermissionGrants"] if g["clientId"] == principals[0]]
    assert [set(g["scope"].split()) for g in grants] == [DELEGATED_SCOPES]
    assert [a for a in tenant["appRoleAssignments"] if a["principalId"] == principals[0]], "no app role assignment"
    org = org_state(sandbox, info)
    assert org["azure"]["application_id"] == app["appId"]
    # The service's own sync signs in with the stored key: only the one remaining secret can be it.
    assert_sync_works(sandbox, info)
    org = org_state(sandbox, info)
    missing = set(users_before) - user_addresses(org)
    assert not missing, "users lost: %s" % sorted(missing)
    return app, org


# -------------------------------------------------------------------------------------- tests


def test_plan_on_an_empty_tenant_shows_every_phase_writes_nothing_and_predicts_the_apply(fresh_sandbox, tmp_path):
    before = fresh_sandbox.stats()
    run = run_role(fresh_sandbox, tmp_path, check=True)
    assert run.returncode == 0, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == before["writes"]
    assert our_apps(tenant_state(fresh_sandbox)) == []
    predicted = {task["task"].split(" : ", 1)[-1] for task in run.changed_tasks()}
    assert {
        "Create or update the application registration",
        "Grant admin consent to the Microsoft Graph permissions",
        "Create or rotate the client secret, keeping the one modusCloud uses for now",
        "Add the tenant's domains the organization lacks",
        "Save the import settings (with the new key when there is one)",
    } <= predicted
    assert "Would create client secret" in run.output
    # The settings are predicted for the application still to be registered, its id readable in the diff.
    assert '+        "app_id": "(known after apply)",' in run.output
    # No key exists yet: the report is read with the play's token, with the settings the plan would save.
    assert "Read with the play's Graph token" in run.output
    assert "Users to add: adelev@%s" % fresh_sandbox.info["tenant_domain"] in run.output
    # The users on the domain the plan would add count as added, not skipped: the plan predicts the apply.
    assert "Sync report (apply, predicted): users to add 4," in run.output
    assert "missing domains 0" in run.output
    planned = set(re.search(r"Users to add: ([^\"\n]+)", run.output).group(1).split(", "))

    users_before = user_addresses(org_state(fresh_sandbox))
    applied = run_role(fresh_sandbox, tmp_path)
    assert applied.returncode == 0, failure_text(applied)
    assert user_addresses(org_state(fresh_sandbox)) - users_before == planned


# Graph and modusCloud requests a run may make beyond the directory pages (users, groups and the member
# batches, which grow with the directory): each thing is read once and passed on.
# The preflight's checks (registration and settings in check mode, the domains, the guard's reads) and the
# secret hand-over lease (write, read back, record) cost about ten of them; see issue 11.
CONVERGE_BUDGET = 35
RERUN_BUDGET = 15
DIRECTORY_PAGES = {("GET", "/v1.0/users"), ("GET", "/v1.0/groups"), ("POST", "/v1.0/$batch")}


def journal_mark(sandbox):
    entries = sandbox.control("GET", "/journal")["entries"]
    return entries[-1]["seq"] if entries else 0


def requests_beyond_directory_pages(sandbox, since):
    """(method, path) of the Graph and modusCloud requests since journal entry `since`, directory pages left out."""
    return [
        (entry["method"], entry["path"])
        for entry in sandbox.control("GET", "/journal?since=%d" % since)["entries"]
        if entry["service"] != "login" and not entry.get("batch") and (entry["method"], entry["path"]) not in DIRECTORY_PAGES
    ]


# Both ways the modules run (plugins/plugin_utils/_in_process.py): the other role tests run them in the worker.
@pytest.mark.parametrize("in_process", [True, False], ids=["in-worker", "module-processes"])
def test_apply_converges_and_a_second_apply_changes_nothing(fresh_sandbox, tmp_path, in_process):
    switch = {"moduscloud_azure_sync_in_process": in_process}
    users_before = user_addresses(org_state(fresh_sandbox))
    mark = journal_mark(fresh_sandbox)
    run = run_role(fresh_sandbox, tmp_path, extra=switch)
    assert run.returncode == 0, failure_text(run)
    where = "runs in the controller's worker process" if in_process else "runs as a module process: moduscloud_azure_sync_in_process is false"
    assert "moduscloud.azure_sync.azure_app_registration %s" % where in run.output
    converge = requests_beyond_directory_pages(fresh_sandbox, mark)
    assert len(converge) <= CONVERGE_BUDGET, converge
    tenant = tenant_state(fresh_sandbox)
    app = our_apps(tenant)[0]
    assert app["displayName"] == APP_NAME
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["web"]["redirectUris"] == [CONSOLE_URL]
    org = org_state(fresh_sandbox)
    assert org["azure"]["sync_frequency"] == 1
    assert {d["name"] for d in org["domains"]} >= {d["id"] for d in tenant["domains"]}
    synced = user_addresses(org) - users_before
    assert synced, "the apply added no user"

    writes = fresh_sandbox.stats()["writes"]
    mark = journal_mark(fresh_sandbox)
    again = run_role(fresh_sandbox, tmp_path, extra=switch)
    assert again.returncode == 0, failure_text(again)
    assert again.changed_tasks() == [] and again.total("changed") == 0
    assert fresh_sandbox.stats()["writes"] == writes
    rerun = requests_beyond_directory_pages(fresh_sandbox, mark)
    assert len(rerun) <= RERUN_BUDGET, rerun
    # Without a new key the rerun still computes (and would apply) the report, with the play's token.
    assert "Sync report (apply): users to add 0, change 0, remove 0, unchanged %d;" % len(synced) in again.output

    plan = run_role(fresh_sandbox, tmp_path, check=True, extra=switch)
    assert plan.returncode == 0 and plan.total("changed") == 0, failure_text(plan)
    assert_converged(fresh_sandbox, users_before=users_before | synced)


def test_a_rotation_keeps_the_service_syncing_even_when_it_stops_halfway(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    assert_sync_works(fresh_sandbox)
    held_key = org_state(fresh_sandbox)["azure"]["key_fingerprint"]

    # Stopped after the new secret exists, before modusCloud has it: the old key still works.
    fresh_sandbox.faults(rules=[{"service": "moduscloud", "method": "PUT", "path": r"/settings/azure$", "status": 500}])
    run = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_secret_force_rotate": True})
    fresh_sandbox.control("DELETE", "/faults")
    assert run.returncode != 0
    assert len(marked_secrets(our_apps(tenant_state(fresh_sandbox))[0])) == 2
    assert org_state(fresh_sandbox)["azure"]["key_fingerprint"] == held_key
    assert_sync_works(fresh_sandbox)

    # Stopped after modusCloud got a new key, before the old secrets were removed: the new key works.
    fresh_sandbox.faults(rules=[{"service": "graph", "method": "POST", "path": r"/removePassword$", "status": 500}])
    run = run_role(fresh_sandbox, tmp_path)
    fresh_sandbox.control("DELETE", "/faults")
    assert run.returncode != 0
    assert org_state(fresh_sandbox)["azure"]["key_fingerprint"] != held_key
    assert_sync_works(fresh_sandbox)

    run = run_role(fresh_sandbox, tmp_path)
    assert run.returncode == 0, failure_text(run)
    assert_converged(fresh_sandbox)
    again = run_role(fresh_sandbox, tmp_path)
    assert again.returncode == 0 and again.total("changed") == 0, failure_text(again)


# The first write (or, for the read-only verification, the first read of its own) of the phase
# after the named one fails, as if the run had stopped right after that phase.
CRASH_AFTER = {
    "registration": {"service": "graph", "method": "POST", "path": r"^/v1\.0/servicePrincipals$"},
    "consent": {"service": "graph", "method": "POST", "path": r"/addPassword$"},
    "secret": {"service": "moduscloud", "method": "POST", "path": r"/domains$"},
    "domains": {"service": "moduscloud", "method": "PUT", "path": r"/settings/azure$"},
    "settings": {"service": "moduscloud", "method": "POST", "path": r"/users$"},
    "sync": {"service": "moduscloud", "method": "GET", "path": r"/users$", "skip": 1},
}


@pytest.mark.parametrize("phase", sorted(CRASH_AFTER))
def test_a_run_that_stops_after_a_phase_is_repaired_by_the_next(fresh_sandbox, tmp_path, phase):
    users_before = user_addresses(org_state(fresh_sandbox))
    fresh_sandbox.faults(rules=[dict(CRASH_AFTER[phase], status=500)])
    crashed = run_role(fresh_sandbox, tmp_path)
    fired = [rule["fired"] for rule in fresh_sandbox.control("GET", "/faults")["rules"]]
    fresh_sandbox.control("DELETE", "/faults")
    assert fired == [1], "the injected failure was never reached"
    assert crashed.returncode != 0

    rerun = run_role(fresh_sandbox, tmp_path)
    assert rerun.returncode == 0, failure_text(rerun)
    assert_converged(fresh_sandbox, users_before=users_before)


def test_three_tenants_converge_in_one_run(fresh_sandbox, tmp_path):
    tenants = [fresh_sandbox.info] + [fresh_sandbox.control("POST", "/tenants", json={"name": name}) for name in ("fabrikam", "tailspin")]
    hosts = dict((tenant["moduscloud_org"], dict(tenant_vars(tenant), ansible_connection="local")) for tenant in tenants)
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    users_before = dict((tenant["tenant_id"], user_addresses(org_state(fresh_sandbox, tenant))) for tenant in tenants)

    run = run_role(fresh_sandbox, tmp_path, inventory=str(inventory), forks=3, tenants=tenants)
    assert run.returncode == 0, failure_text(run)
    assert sorted(run.recap) == sorted(hosts)
    for tenant in tenants:
        app, org = assert_converged(fresh_sandbox, tenant, users_before=users_before[tenant["tenant_id"]])
        assert user_addresses(org) > users_before[tenant["tenant_id"]]


def test_an_application_made_by_hand_is_adopted_not_duplicated(fresh_sandbox, tmp_path):
    # As a person following the KB would leave it: named modusCloud, without the role's unique name.
    tasks = [{"name": "Register the app by hand", "moduscloud.azure_sync.azure_app_registration": {"display_name": APP_NAME, "redirect_uris": [CONSOLE_URL]}}]
    by_hand = write_local_playbook(tmp_path / "by_hand.yml", fresh_sandbox.info, tasks)
    made_by_hand = run_playbook(by_hand, tmp_path)
    assert made_by_hand.returncode == 0, failure_text(made_by_hand)
    app_id = [app["appId"] for app in tenant_state(fresh_sandbox)["applications"] if app["displayName"] == APP_NAME]
    assert len(app_id) == 1

    refused = run_role(fresh_sandbox, tmp_path)
    assert refused.returncode != 0
    # The registration module refuses in the preflight, naming its option; the rescue names the role variable.
    named = r"Preflight refused the run before any write: .*Adopt it by setting app_id .*\[role variables: azure_user_sync_app_id, "
    assert re.search(named, refused.output), failure_text(refused)

    adopted = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_app_id": app_id[0]})
    assert adopted.returncode == 0, failure_text(adopted)
    apps = [app for app in tenant_state(fresh_sandbox)["applications"] if app["displayName"] == APP_NAME]
    assert [app["appId"] for app in apps] == app_id
    assert org_state(fresh_sandbox)["azure"]["application_id"] == app_id[0]
    assert_sync_works(fresh_sandbox)


def test_the_report_playbook_writes_nothing_and_the_rotate_playbook_replaces_the_key(fresh_sandbox, tmp_path):
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    held_key = org_state(fresh_sandbox)["azure"]["key_fingerprint"]
    writes = fresh_sandbox.stats()["writes"]

    report = run_role(fresh_sandbox, tmp_path, playbook="sync_report")
    assert report.returncode == 0 and report.total("changed") == 0, failure_text(report)
    assert fresh_sandbox.stats()["writes"] == writes
    assert "Sync report (report, predicted): users to add 0, change 0, remove 0," in report.output

    rotation = run_role(fresh_sandbox, tmp_path, playbook="rotate_secret")
    assert rotation.returncode == 0, failure_text(rotation)
    assert org_state(fresh_sandbox)["azure"]["key_fingerprint"] != held_key
    assert_converged(fresh_sandbox)


def test_the_report_playbook_plans_a_tenant_that_is_not_configured_yet(fresh_sandbox, tmp_path):
    # Check mode comes from the play here, not from --check: the role must still treat it as a plan.
    report = run_role(fresh_sandbox, tmp_path, playbook="sync_report")
    assert report.returncode == 0, failure_text(report)
    assert fresh_sandbox.stats()["writes"] == 0
    assert "would be saved" in report.output
    assert "Sync report (report, predicted):" in report.output


def run_in_check_mode_keyword_play(sandbox, tmp_path, verbosity=0, **extra):
    """The role in a play with the check_mode keyword (no --check), as a user may write it, with `extra` role
    variables; its output checked to hold no secret."""
    playbook = tmp_path / "plan.yml"
    playbook.write_text(
        "- hosts: all\n  connection: local\n  gather_facts: false\n  check_mode: true\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  roles:\n    - role: moduscloud.azure_sync.azure_user_sync\n"
    )
    run = run_playbook(str(playbook), tmp_path, verbosity=verbosity, extra_vars=dict(tenant_vars(sandbox.info), **extra))
    assert_no_secret(run.output, sandbox.info["admin_client_secret"], sandbox.info["moduscloud_password"])
    return run


def test_a_play_with_the_check_mode_keyword_plans_an_empty_tenant_as_check_does(fresh_sandbox, tmp_path):
    # Check mode from the play keyword alone (no --check): the modules see it and
    # plan, the verification checks nothing the plan only predicted, and the report counts the planned domains.
    run = run_in_check_mode_keyword_play(fresh_sandbox, tmp_path, verbosity=1)
    assert run.returncode == 0, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == 0
    assert our_apps(tenant_state(fresh_sandbox)) == []
    assert "Users to add: adelev@%s" % fresh_sandbox.info["tenant_domain"] in run.output
    assert "users to add 4," in run.output and "missing domains 0" in run.output
    # The role words its output as a plan, and its artifacts say so, though ansible_check_mode is false.
    assert "Sync report (apply, predicted)" in run.output
    [artifacts] = run.custom_stats["_run"]["azure_user_sync"].values()
    assert artifacts["planned"] is True


def test_a_play_with_the_check_mode_keyword_plans_a_wait_without_waiting(fresh_sandbox, tmp_path):
    # sync_mode wait runs the module in the background; Ansible refuses async in check mode, so a plan that only
    # the play keyword makes must still run it in the foreground, where check mode predicts and does not wait.
    run = run_in_check_mode_keyword_play(fresh_sandbox, tmp_path, azure_user_sync_sync_mode="wait")
    assert run.returncode == 0, failure_text(run)
    assert fresh_sandbox.stats()["writes"] == 0
    assert "Sync report (wait, predicted)" in run.output


def test_domains_the_organization_lacks_fail_before_any_write_when_they_are_not_to_be_added(fresh_sandbox, tmp_path):
    run = run_role(fresh_sandbox, tmp_path, extra={"azure_user_sync_add_missing_domains": False})
    assert run.returncode != 0
    assert "Preflight refused the run before any write: Organization %s lacks" % fresh_sandbox.info["moduscloud_org"] in run.output
    assert fresh_sandbox.stats()["writes"] == 0
