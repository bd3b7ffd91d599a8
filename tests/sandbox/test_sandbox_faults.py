"""Scripted faults (throttling, 5xx, read-after-write lag), the journal and the request counters."""

from graph_client import Graph, graph_role_ids, https_session


def test_throttling_rule_skips_fires_and_is_journaled(admin_graph, fresh_sandbox):
    fresh_sandbox.faults(rules=[{"service": "graph", "method": "GET", "path": "^/v1.0/applications$", "status": 429, "retry_after": 2, "skip": 1, "times": 2}])
    responses = [admin_graph.get("/applications") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 429, 429, 200]
    throttled = responses[1]
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert throttled.json()["error"]["innerError"]["request-id"] == throttled.headers["request-id"]
    assert admin_graph.get("/servicePrincipals").status_code == 200  # the path did not match

    journal = fresh_sandbox.control("GET", "/journal?service=graph")["entries"]
    listed = [(e["status"], e["fault"]) for e in journal if e["path"] == "/v1.0/applications"]
    assert listed == [(200, False), (429, True), (429, True), (200, False)]
    assert journal[-1]["path"] == "/v1.0/servicePrincipals" and journal[-1]["time"].endswith("Z")
    stats = fresh_sandbox.stats()
    assert stats["faults_fired"] == 2 and stats["by_service"]["graph"]["requests"] == 5


def test_login_fault_has_aad_shape(fresh_sandbox):
    info = fresh_sandbox.info
    fresh_sandbox.faults(rules=[{"service": "login", "method": "POST", "path": "/oauth2/v2.0/token$", "status": 503, "retry_after": 1}])
    response = https_session(info).post(f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "temporarily_unavailable" and response.json()["error_codes"]


def test_read_after_write_lag(admin_graph, fresh_sandbox):
    fresh_sandbox.faults(lag=2)
    app = admin_graph.create_app("eventually consistent")
    path = f"/applications/{app['id']}"
    statuses = [admin_graph.get(path).status_code for _ in range(3)]
    assert statuses == [404, 404, 200]
    assert admin_graph.get(f"/applications(appId='{app['appId']}')").json()["id"] == app["id"]

    other = admin_graph.create_app("consistency test two")
    listed = admin_graph.get("/applications?$filter=displayName eq 'consistency test two'").json()["value"]
    assert listed == []  # not yet in the list either (one of the two lagging requests)
    first_sp = admin_graph.post("/servicePrincipals", {"appId": other["appId"]})
    assert first_sp.status_code == 400
    assert first_sp.json()["error"]["details"][0]["code"] == "NoBackingApplicationObject"
    sp = admin_graph.create_sp(other["appId"])  # the app is visible now; the new SP starts lagging

    graph_sp, role_ids = graph_role_ids(admin_graph)
    body = {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_ids["Group.Read.All"]}
    attempts = [admin_graph.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body) for _ in range(3)]
    assert [a.status_code for a in attempts] == [400, 400, 201]
    assert attempts[0].json()["error"]["message"] == "Not a valid reference update."


def test_fault_configuration_is_validated_and_cleared(fresh_sandbox, control):
    bad = control("POST", "/faults", {"rules": [{"status": 200}]})
    assert bad.status_code == 400 and "status" in bad.json()["error"]
    assert control("POST", "/faults", {"rules": [], "delay": 3}).status_code == 400
    assert control("POST", "/faults", {"rules": [{"status": 500, "path": "("}]}).status_code == 400
    fresh_sandbox.faults(rules=[{"status": 500}], lag=1)
    cleared = control("DELETE", "/faults").json()
    assert cleared["rules"] == [] and cleared["lag"] == 0


def test_stats_count_graph_and_moduscloud_writes_but_not_login(admin_graph, fresh_sandbox):
    before = fresh_sandbox.stats()  # admin_graph already signed in: login only
    assert (before["requests"], before["writes"]) == (0, 0)
    assert before["by_service"]["login"]["requests"] >= 1
    admin_graph.get("/applications")
    admin_graph.create_app("counted")
    admin_graph.post("/applications", {"displayName": ""})  # a rejected write is still a write request
    info = fresh_sandbox.info
    https_session(info).get(
        info["moduscloud_url"] + "/orgs/" + info["moduscloud_org"], headers={"X-User": info["moduscloud_user"], "X-Password": info["moduscloud_password"]}
    )
    after = fresh_sandbox.stats()
    assert after["by_service"]["graph"] == {"requests": 3, "writes": 2, "batched": 0}
    assert after["by_service"]["moduscloud"] == {"requests": 1, "writes": 0, "batched": 0}
    assert (after["requests"], after["writes"]) == (4, 2)


def test_expired_token_is_401(fresh_sandbox):
    info = fresh_sandbox.info
    fresh_sandbox.faults(token_lifetime_seconds=0)
    response = https_session(info).post(
        f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["admin_client_id"],
            "client_secret": info["admin_client_secret"],
            "scope": f"{info['graph_url']}/.default",
        },
    )
    assert response.json()["expires_in"] == 0
    error = Graph(info, response.json()["access_token"]).get("/applications").json()["error"]
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
