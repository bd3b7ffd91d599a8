"""Offboarding: the role with azure_user_sync_state absent, through playbooks/remove_azure_sync.yml.

A converged tenant is removed while another stays; every outcome is checked independently through
the sandbox's state (Graph's applications, service principals, grants, secrets; modusCloud's
settings, users and exemptions) and its modusCloud clock, which runs the service's scheduled sync.
"""

import json

import requests

from sandbox.launch import admin_graph_session

from test_role import (
    SECRET_DESCRIPTION,
    assert_converged,
    assert_sync_works,
    failure_text,
    org_state,
    our_apps,
    run_role,
    tenant_state,
    tenant_vars,
    user_addresses,
)


def two_tenant_inventory(sandbox, tmp_path):
    """The default tenant and a second one, as inventory hosts named by their organization."""
    tenants = [sandbox.info, sandbox.control("POST", "/tenants", json={"name": "fabrikam"})]
    hosts = dict((tenant["moduscloud_org"], dict(tenant_vars(tenant), ansible_connection="local")) for tenant in tenants)
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    return tenants, str(inventory)


def nothing_left(sandbox, info):
    """What of the procedure is still in the tenant and the organization (empty when all is gone)."""
    tenant = tenant_state(sandbox, info)
    org = org_state(sandbox, info)
    left = []
    apps = our_apps(tenant)
    left += ["application %s" % app["appId"] for app in apps]
    left += [
        "secret %s" % secret["keyId"] for app in tenant["applications"] for secret in app["passwordCredentials"] if secret["displayName"] == SECRET_DESCRIPTION
    ]
    principals = [sp["id"] for sp in tenant["servicePrincipals"] if sp["displayName"] == "modusCloud"]
    left += ["service principal %s" % sp for sp in principals]
    left += ["grant %s" % grant["id"] for grant in tenant["oauth2PermissionGrants"] if grant["clientId"] in principals]
    left += ["app role assignment %s" % assignment["id"] for assignment in tenant["appRoleAssignments"] if assignment["principalId"] in principals]
    if org["azure"] is not None:
        left.append("modusCloud settings")
    left += ["exemption %s" % email for email in org["exemptions"]]
    return left


def graph_get(info, path):
    """Read Graph directly as the tenant's admin identity (independent of the collection)."""
    answer = admin_graph_session(info).get(info["graph_url"] + path, timeout=30)
    answer.raise_for_status()
    return answer.json()


def moduscloud(info, method, path, **kwargs):
    """Call the modusCloud API directly as the organization's admin."""
    return requests.request(
        method,
        "%s/orgs/%s%s" % (info["moduscloud_url"], info["moduscloud_org"], path),
        headers={"X-User": info["moduscloud_user"], "X-Password": info["moduscloud_password"]},
        verify=info["ca_bundle"],
        timeout=30,
        **kwargs,
    )


def test_offboarding_one_tenant_leaves_nothing_behind_and_the_other_untouched(fresh_sandbox, tmp_path):
    tenants, inventory = two_tenant_inventory(fresh_sandbox, tmp_path)
    gone, kept = tenants
    exemption = "reception@%s" % gone["tenant_domain"]
    configured = run_role(fresh_sandbox, tmp_path, inventory=inventory, forks=2, tenants=tenants, extra={"azure_user_sync_exemptions": [exemption]})
    assert configured.returncode == 0, failure_text(configured)
    assert_converged(fresh_sandbox, gone)
    assert_converged(fresh_sandbox, kept)
    kept_before = (tenant_state(fresh_sandbox, kept), org_state(fresh_sandbox, kept)["azure"])
    app_id = our_apps(tenant_state(fresh_sandbox, gone))[0]["appId"]
    users = user_addresses(org_state(fresh_sandbox, gone))
    limit = {"azure_sync_hosts": gone["moduscloud_org"]}

    writes = fresh_sandbox.stats()["writes"]
    plan = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", check=True, inventory=inventory, tenants=tenants, extra=limit)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == writes, "the plan wrote"
    planned = {task["task"].split(" : ", 1)[-1] for task in plan.changed_tasks()}
    assert planned == {
        "Stop modusCloud's Azure AD sync (settings and key, then synced users if asked, then exemptions)",
        "Revoke the admin consent and delete the service principal",
        "Remove the client secrets the role made",
        "Delete the application registration",
    }
    assert "Application %s would be deleted" % app_id in plan.output
    assert "Would remove 1 client secret " in plan.output
    assert exemption in plan.output  # the diff shows the exemption going

    removed = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", inventory=inventory, tenants=tenants, extra=limit)
    assert removed.returncode == 0, failure_text(removed)
    assert "Removed 1 client secret " in removed.output and "was removed" not in removed.output
    assert nothing_left(fresh_sandbox, gone) == []
    # Independently through the APIs: Graph knows no application by the unique name, modusCloud no settings.
    assert graph_get(gone, "/v1.0/applications?$filter=appId eq '%s'" % app_id)["value"] == []
    assert graph_get(gone, "/v1.0/servicePrincipals?$filter=appId eq '%s'" % app_id)["value"] == []
    assert moduscloud(gone, "GET", "/settings/azure").status_code == 404
    assert moduscloud(gone, "GET", "/settings/azure/exemptions").json() == []
    # The users the sync imported are kept by default.
    assert user_addresses(org_state(fresh_sandbox, gone)) == users

    # The service's scheduled sync no longer runs for this organization, and nothing fails; the other goes on.
    history = org_state(fresh_sandbox, gone)["sync_history"]
    syncs = fresh_sandbox.advance_clock(2)["syncs"]
    assert [sync["org"] for sync in syncs] == [kept["moduscloud_org"]]
    assert all(sync["ok"] for sync in syncs)
    assert org_state(fresh_sandbox, gone)["sync_history"] == history
    assert tenant_state(fresh_sandbox, kept)["applications"] == kept_before[0]["applications"]
    assert tenant_state(fresh_sandbox, kept)["oauth2PermissionGrants"] == kept_before[0]["oauth2PermissionGrants"]
    assert org_state(fresh_sandbox, kept)["azure"]["application_id"] == kept_before[1]["application_id"]
    assert_sync_works(fresh_sandbox, kept)

    writes = fresh_sandbox.stats()["writes"]
    again = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", inventory=inventory, tenants=tenants, extra=limit)
    assert again.returncode == 0 and again.total("changed") == 0, failure_text(again)
    assert fresh_sandbox.stats()["writes"] == writes


# The first write of the step after the named one fails, as if the run had stopped right after it.
STOP_AFTER = (
    ("settings", {"service": "graph", "method": "DELETE", "path": r"/appRoleAssignments/"}),
    ("consent", {"service": "graph", "method": "POST", "path": r"/removePassword$"}),
    ("secrets", {"service": "graph", "method": "DELETE", "path": r"^/v1\.0/applications/"}),
)


def test_a_removal_stopped_after_each_step_is_finished_by_the_next_run(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    users = user_addresses(org_state(fresh_sandbox))
    synced = {address for address in users if address.endswith("@" + info["tenant_domain"]) and not address.startswith("admin@")}

    # The settings deletion is refused: the run fails with modusCloud's message and removes nothing else.
    fresh_sandbox.faults(
        rules=[{"service": "moduscloud", "method": "DELETE", "path": r"/settings/azure$", "status": 409, "message": "Azure sync is running, try again later"}]
    )
    refused = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", extra={"azure_user_sync_remove_synced_users": True})
    fresh_sandbox.control("DELETE", "/faults")
    assert refused.returncode != 0
    assert "Azure sync is running, try again later" in refused.output
    assert_converged(fresh_sandbox, users_before=users)

    for step, rule in STOP_AFTER:
        fresh_sandbox.faults(rules=[dict(rule, status=500)])
        stopped = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", extra={"azure_user_sync_remove_synced_users": True})
        fired = [each["fired"] for each in fresh_sandbox.control("GET", "/faults")["rules"]]
        fresh_sandbox.control("DELETE", "/faults")
        assert fired == [1], "the run never reached the step after %s" % step
        assert stopped.returncode != 0, "the run did not stop after %s" % step
        # Whatever the stop, modusCloud no longer syncs with the application that is going away.
        assert org_state(fresh_sandbox)["azure"] is None
        assert fresh_sandbox.advance_clock(2)["syncs"] == []

    finished = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", extra={"azure_user_sync_remove_synced_users": True})
    assert finished.returncode == 0, failure_text(finished)
    assert nothing_left(fresh_sandbox, info) == []
    remaining = user_addresses(org_state(fresh_sandbox))
    assert synced and not synced & remaining, "synced users left: %s" % sorted(synced & remaining)
    assert info["moduscloud_user"].lower() in remaining  # an administrator is never removed
    again = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", extra={"azure_user_sync_remove_synced_users": True})
    assert again.returncode == 0 and again.total("changed") == 0, failure_text(again)


def fatal_message(run, host):
    """The message of the task that failed on `host` last (from the -vvvv output): a rescue's, which names the
    role variables, when the role rescued the failure."""
    marker = "fatal: [%s]: FAILED! => " % host
    assert marker in run.output, "%s did not fail" % host
    text = run.output.rsplit(marker, 1)[1]
    return json.loads(text[: text.index("\n}") + 2])["msg"]


def test_offboarding_refuses_a_wrong_application_before_any_write(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    assert run_role(fresh_sandbox, tmp_path).returncode == 0
    other = fresh_sandbox.control("POST", "/tenants", json={"name": "unconfigured"})  # no modusCloud settings
    app_id = our_apps(tenant_state(fresh_sandbox, info))[0]["appId"]
    no_app = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    hosts = {
        "not-a-guid": {"azure_user_sync_app_id": "not-a-guid"},
        "digits": {"azure_user_sync_app_id": "12345"},
        "empty-app-id": {"azure_user_sync_app_id": ""},
        "no-such-app": {"azure_user_sync_app_id": no_app},
        "the-admin-identity": {"azure_user_sync_app_id": info["admin_client_id"].upper()},
        "empty-unique-name": {"azure_user_sync_app_unique_name": ""},
        "null-unique-name": {"azure_user_sync_app_unique_name": None},
        "another-unique-name": {"azure_user_sync_app_unique_name": "someone-elses-app"},
        "empty-secret-description": {"azure_user_sync_secret_description": " "},
    }
    hosts = dict((host, dict(tenant_vars(info), ansible_connection="local", **bad)) for host, bad in hosts.items())
    # A tenant whose organization has no settings to compare with: only the identity guard stands.
    hosts["own-identity-unconfigured"] = dict(tenant_vars(other), ansible_connection="local", azure_user_sync_app_id=other["admin_client_id"])
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    tenants = [info, other]
    other_before = tenant_state(fresh_sandbox, other)

    writes = fresh_sandbox.stats()["writes"]
    refused = run_role(fresh_sandbox, tmp_path, playbook="remove_azure_sync", inventory=str(inventory), forks=3, tenants=tenants)
    assert fresh_sandbox.stats()["writes"] == writes, "a refused offboarding wrote"
    assert refused.returncode != 0
    assert all(refused.recap[host]["failures"] == 1 for host in hosts), refused.recap
    messages = dict((host, fatal_message(refused, host)) for host in hosts)
    for host in ("not-a-guid", "digits", "empty-app-id"):
        assert "azure_user_sync_app_id" in messages[host] and "GUID" in messages[host], messages[host]
    assert '"not-a-guid"' in messages["not-a-guid"] and '"12345"' in messages["digits"]
    assert no_app in messages["no-such-app"] and app_id in messages["no-such-app"]
    assert info["admin_client_id"] in messages["the-admin-identity"].lower()
    for host in ("empty-unique-name", "null-unique-name"):
        assert "azure_user_sync_app_unique_name" in messages[host], messages[host]
    assert "someone-elses-app" in messages["another-unique-name"] and app_id in messages["another-unique-name"]
    assert "azure_user_sync_secret_description" in messages["empty-secret-description"] and '" "' in messages["empty-secret-description"]
    message = messages["own-identity-unconfigured"]
    assert other["admin_client_id"] in message and "signs in as" in message, message
    assert all("Nothing was removed" in text for text in messages.values()), messages

    # Both tenants as they were: the sync goes on, the admin identity keeps its application and consent.
    assert_converged(fresh_sandbox, info)
    assert tenant_state(fresh_sandbox, other) == other_before
