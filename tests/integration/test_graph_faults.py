"""The KB's registration and consent converge while Graph throttles, fails and lags.

With 429s (Retry-After), 503s and read-after-write lag switched on (the lag makes a new application
or service principal invisible for a few requests: 404s, NoBackingApplicationObject, "Not a valid
reference update"), the play still ends with exactly one application, one service principal, one
app role assignment and one delegated grant holding exactly the KB's scopes; every fault really
fired; and a second run changes nothing.
"""

import pytest

from playbook_harness import write_local_playbook

DISPLAY_NAME = "modusCloud faults"
KB_PERMISSIONS = [
    {"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"]}
]
KB_SCOPES = ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"]
DIRECTORY_READ_ALL_ROLE = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
FAULTS = {
    "lag": 3,
    "rules": [
        {"service": "graph", "path": "applications", "status": 429, "retry_after": 1, "times": 2},
        {"service": "graph", "method": "POST", "path": "/servicePrincipals$", "status": 503, "retry_after": 1},
        {"service": "graph", "method": "POST", "path": "/appRoleAssignments$", "status": 429, "retry_after": 1},
        {"service": "graph", "method": "GET", "path": "/servicePrincipals", "status": 503, "retry_after": 1},
        {"service": "graph", "method": "POST", "path": "/oauth2PermissionGrants", "status": 429, "retry_after": 1},
    ],
}


def converge_playbook(tmp_path, info, identity):
    tasks = [
        {
            "name": "Register the KB application",
            "register": "app",
            "moduscloud.azure_sync.azure_app_registration": dict(
                identity, display_name=DISPLAY_NAME, redirect_uris=["https://us1.proofpointessentials.com/"], api_permissions=KB_PERMISSIONS
            ),
        },
        {"name": "Grant admin consent", "moduscloud.azure_sync.azure_app_consent": dict(identity, display_name=DISPLAY_NAME)},
    ]
    return write_local_playbook(tmp_path / "converge.yml", info, tasks, name="Converge with faults")


@pytest.mark.parametrize("identity", [{"unique_name": "moduscloud-faults"}, {}], ids=["unique_name", "display_name"])
def test_converge_under_faults_leaves_one_of_each_and_reruns_unchanged(fresh_sandbox, playbook_runner, tmp_path, identity):
    info = fresh_sandbox.info
    playbook = converge_playbook(tmp_path, info, identity)
    fresh_sandbox.faults(**FAULTS)

    first = playbook_runner(playbook)
    assert first.returncode == 0, first.output[-20000:]
    fired = [rule["fired"] for rule in fresh_sandbox.state()["faults"]["rules"]]
    assert all(fired), "a fault never fired, so the run did not prove it copes with it: %s" % fired
    lagged = [entry for entry in fresh_sandbox.control("GET", "/journal?service=graph")["entries"] if entry["status"] in (400, 404) and not entry["fault"]]
    assert lagged, "the lag never hid a new object, so the run did not prove it copes with it"

    tenant = fresh_sandbox.state()["tenants"][info["tenant_id"]]
    [app] = [app for app in tenant["applications"] if app["displayName"] == DISPLAY_NAME]
    [principal] = [sp for sp in tenant["servicePrincipals"] if sp["appId"] == app["appId"]]
    [graph] = [sp for sp in tenant["servicePrincipals"] if sp["appId"] == "00000003-0000-0000-c000-000000000000"]
    [assignment] = [a for a in tenant["appRoleAssignments"] if a["principalId"] == principal["id"]]
    assert (assignment["resourceId"], assignment["appRoleId"]) == (graph["id"], DIRECTORY_READ_ALL_ROLE)
    [grant] = [g for g in tenant["oauth2PermissionGrants"] if g["clientId"] == principal["id"]]
    assert (grant["consentType"], grant["resourceId"]) == ("AllPrincipals", graph["id"])
    assert sorted(grant["scope"].split()) == KB_SCOPES

    fresh_sandbox.control("DELETE", "/faults")
    writes = fresh_sandbox.stats()["writes"]
    second = playbook_runner(playbook)
    assert second.returncode == 0, second.output[-20000:]
    assert second.changed_tasks() == [] and fresh_sandbox.stats()["writes"] == writes
