"""Faults limited to one tenant, counted per tenant, and the kill of a tenant's client after a request."""

from graph_client import app_token, https_session


def token(info):
    return app_token(info, info["admin_client_id"], info["admin_client_secret"])


def graph_get(info, bearer, path):
    return https_session(info).get(info["graph_url"] + "/v1.0" + path, headers={"Authorization": "Bearer " + bearer})


def test_a_fault_of_one_tenant_counts_and_answers_only_that_tenants_requests(fresh_sandbox, control):
    other = control("POST", "/tenants", {"name": "fabrikam"}).json()
    mine = fresh_sandbox.info
    my_token, other_token = token(mine), token(other)
    fresh_sandbox.faults(rules=[{"tenant": mine["tenant_id"], "service": ["graph", "moduscloud"], "skip": 2, "status": 429, "retry_after": 0}])
    statuses = []
    for _ in range(4):
        statuses.append(("other", graph_get(other, other_token, "/domains").status_code))
        statuses.append(("mine", graph_get(mine, my_token, "/domains").status_code))
    assert statuses == [("other", 200), ("mine", 200)] * 2 + [("other", 200), ("mine", 429)] + [("other", 200), ("mine", 200)]
    journal = fresh_sandbox.control("GET", "/journal?service=graph&tenant=%s" % mine["tenant_id"])["entries"]
    assert [entry["status"] for entry in journal] == [200, 200, 429, 200]
    assert {entry["tenant"] for entry in journal} == {mine["tenant_id"]}


def test_a_killed_client_has_its_request_served_and_every_later_one_refused(fresh_sandbox):
    info = fresh_sandbox.info
    bearer = token(info)
    fresh_sandbox.faults(
        rules=[{"tenant": info["tenant_id"], "service": "graph", "method": "POST", "path": "^/v1.0/applications$", "status": 400, "kill": True}]
    )
    created = https_session(info).post(info["graph_url"] + "/v1.0/applications", json={"displayName": "killed"}, headers={"Authorization": "Bearer " + bearer})
    assert created.status_code == 400  # its answer is lost ...
    names = [app["displayName"] for app in fresh_sandbox.state()["tenants"][info["tenant_id"]]["applications"]]
    assert "killed" in names  # ... but the write happened
    assert graph_get(info, bearer, "/domains").status_code == 400
    fresh_sandbox.control("DELETE", "/faults")
    assert graph_get(info, bearer, "/domains").status_code == 200
