"""The control API and the process contract: reset, tenants, seeding, directory edits, state,
and `python -m sandbox serve` itself."""

import json
import os
import subprocess
import sys
import time

from graph_client import Graph, app_token, client_app, https_session

from sandbox.launch import ROOT, RunningSandbox


def admin(info):
    return Graph(info, app_token(info, info["admin_client_id"], info["admin_client_secret"]))


def test_reset_restores_the_default_tenant_and_keeps_its_credentials(fresh_sandbox):
    graph = admin(fresh_sandbox.info)
    graph.create_app("left over")
    fresh_sandbox.faults(lag=3)
    fresh_sandbox.reset()
    after = admin(fresh_sandbox.info)  # the same admin secret still signs in
    assert [a["displayName"] for a in after.all("/applications")] == ["Sandbox automation"]
    assert fresh_sandbox.control("GET", "/faults")["lag"] == 0
    assert fresh_sandbox.stats()["requests"] == 1


def test_state_dumps_everything_but_secrets(fresh_sandbox):
    info = fresh_sandbox.info
    graph = admin(info)
    app = graph.create_app("dumped")
    secret = graph.add_password(f"/applications/{app['id']}", displayName="k")
    dump = https_session(info).get(info["control_url"] + "/state").text
    state = json.loads(dump)
    assert secret["secretText"] not in dump and info["admin_client_secret"] not in dump
    tenant = state["tenants"][info["tenant_id"]]
    dumped = next(a for a in tenant["applications"] if a["id"] == app["id"])
    assert dumped["passwordCredentials"][0]["hint"] == secret["hint"]
    # The automation app's five, and the same five for each of the two secretless identities.
    assert len(tenant["appRoleAssignments"]) == 15 and tenant["directory"]["users"] == 8
    assert (state["moduscloud"] is None) != info["moduscloud_available"]


def test_another_tenant_is_separate(fresh_sandbox):
    created = fresh_sandbox.control("POST", "/tenants", {"name": "fabrikam"})
    assert created["tenant_domain"] == "fabrikam.example" and created["tenant_id"] != fresh_sandbox.info["tenant_id"]
    assert created["graph_url"] == fresh_sandbox.info["graph_url"]
    fabrikam = Graph(created, app_token(created, created["admin_client_id"], created["admin_client_secret"], tenant="fabrikam.example"))
    admin(fresh_sandbox.info).create_app("contoso only")
    assert [a["displayName"] for a in fabrikam.all("/applications")] == ["Sandbox automation"]
    # the contoso admin app does not exist in fabrikam
    result = client_app(created, fresh_sandbox.info["admin_client_id"], fresh_sandbox.info["admin_client_secret"]).acquire_token_for_client(
        scopes=[f"{created['graph_url']}/.default"]
    )
    assert result["error_codes"] == [700016]
    if created["moduscloud_available"]:
        assert "fabrikam.example" in fresh_sandbox.state()["moduscloud"]["orgs"]


def test_seeded_directory_is_deterministic_and_mixed(fresh_sandbox):
    def seeded(seed):
        fresh_sandbox.control("POST", "/seed", {"users": 2000, "groups": 40, "seed": seed})
        graph = admin(fresh_sandbox.info)
        users = graph.all("/users?$top=999&$select=id,mail,userType,accountEnabled,assignedLicenses,proxyAddresses")
        groups = graph.all("/groups?$select=id,mailEnabled,securityEnabled,groupTypes")
        return users, groups

    users, groups = seeded(5)
    assert [u["id"] for u in seeded(5)[0]] == [u["id"] for u in users]
    assert [u["id"] for u in seeded(6)[0]] != [u["id"] for u in users]
    share = {
        "guest": sum(u["userType"] == "Guest" for u in users) / len(users),
        "no mail": sum(u["mail"] is None for u in users) / len(users),
        "disabled": sum(not u["accountEnabled"] for u in users) / len(users),
        "unlicensed": sum(u["userType"] == "Member" and u["mail"] is not None and u["accountEnabled"] and not u["assignedLicenses"] for u in users)
        / len(users),
    }
    expected = {"guest": 0.02, "no mail": 0.01, "disabled": 0.05, "unlicensed": 0.05}
    for kind, value in expected.items():
        assert value / 2 < share[kind] < value * 2, (kind, share[kind])
    aliases = [a.split("@")[1] for u in users for a in u["proxyAddresses"] if a.startswith("smtp:")]
    assert {"contoso.example", "contoso.onmicrosoft.com"} <= set(aliases)
    kinds = {(g["mailEnabled"], g["securityEnabled"], tuple(g["groupTypes"])) for g in groups}
    assert kinds == {(True, False, ()), (False, True, ()), (True, True, ()), (True, False, ("Unified",))}


def test_hundred_thousand_users_seed_fast_and_page_completely(fresh_sandbox):
    try:
        started = time.monotonic()
        seeded = fresh_sandbox.control("POST", "/seed", {"users": 100_000, "groups": 20_000})
        seconds = time.monotonic() - started
        print(f"\nseeded 100,000 users and 20,000 groups in {seconds:.1f} s (server: {seeded['seconds']} s)")
        assert seconds < 30
        started = time.monotonic()
        ids = [u["id"] for u in admin(fresh_sandbox.info).all("/users?$top=999&$select=id")]
        print(f"paged all users, 999 a page, in {time.monotonic() - started:.1f} s")
        assert len(ids) == len(set(ids)) == 100_000
    finally:
        fresh_sandbox.reset()


def test_directory_edits_show_in_graph(fresh_sandbox, control):
    info = fresh_sandbox.info
    graph = admin(info)
    created = control(
        "POST",
        "/directory/users",
        {
            "userPrincipalName": "new.hire@contoso.example",
            "displayName": "New Hire",
            "mail": "new.hire@contoso.example",
            "proxyAddresses": ["SMTP:new.hire@contoso.example"],
        },
    )
    assert created.status_code == 201, created.text
    user_path = "/users/new.hire@contoso.example?$select=id,accountEnabled,mail"
    assert graph.get(user_path).json()["accountEnabled"] is True
    assert control("PATCH", f"/directory/users/{created.json()['id']}", {"accountEnabled": False}).status_code == 200
    assert graph.get(user_path).json()["accountEnabled"] is False

    sales = next(g for g in graph.all("/groups") if g["displayName"] == "Sales")
    control("PATCH", f"/directory/groups/{sales['id']}", {"members": [created.json()["id"]]})
    assert [m["id"] for m in graph.all(f"/groups/{sales['id']}/members")] == [created.json()["id"]]
    assert control("DELETE", f"/directory/users/{created.json()['id']}").status_code == 204
    assert graph.get(user_path).status_code == 404
    assert graph.all(f"/groups/{sales['id']}/members") == []
    assert control("PATCH", f"/directory/users/{created.json()['id']}", {}).status_code == 404
    assert control("POST", "/directory/users", {"userPrincipalName": "x@contoso.example", "colour": 1}).status_code == 400


def test_control_errors_say_what_is_allowed(control):
    unknown = control("GET", "/nope")
    assert unknown.status_code == 404 and "GET /stats" in unknown.json()["error"]
    assert "users" in control("POST", "/reset", {"users": -1}).json()["error"]
    assert control("PUT", "/policy", {"password_max_lifetime_days": 0}).status_code == 400


def test_cli_serves_a_generated_directory_and_stops_on_sigterm(tmp_path):
    sandbox = RunningSandbox.start(tmp_path, "--users", "30", "--groups", "6", "--seed", "3", "--page-size", "2")
    info_file = tmp_path / "sandbox.json"
    try:
        assert oct(info_file.stat().st_mode & 0o777) == "0o600"
        graph = admin(sandbox.info)
        assert len(graph.all("/users")) == 30 and len(graph.all("/groups")) == 6
        assert len(graph.get("/servicePrincipals").json()["value"]) == 2  # --page-size
    finally:
        assert sandbox.stop() == 0  # SIGTERM is a clean stop, not a kill
    assert not info_file.exists() and not os.path.exists(sandbox.info["ca_bundle"])


def test_moduscloud_variants_switch_per_service_and_per_organization(fresh_sandbox, control):
    info = fresh_sandbox.info
    listed = fresh_sandbox.control("GET", "/moduscloud/variants")
    assert "unconfigured:204" in listed["available"] and listed["orgs"][info["moduscloud_org"]][1] == "unconfigured:404"
    other = fresh_sandbox.control("POST", "/tenants", json={"name": "other", "moduscloud_variants": ["unconfigured:204"]})
    session = https_session(info)

    def settings_status(tenant):
        headers = {"X-User": tenant["moduscloud_user"], "X-Password": tenant["moduscloud_password"]}
        return session.get("%s/orgs/%s/settings/azure" % (tenant["moduscloud_url"], tenant["moduscloud_org"]), headers=headers).status_code

    assert (settings_status(info), settings_status(other)) == (404, 204)
    fresh_sandbox.control("PUT", "/moduscloud/variants", json={"variants": ["unconfigured:200-empty"]})
    assert (settings_status(info), settings_status(other)) == (200, 204)  # the org's own variant wins
    refused = control("PUT", "/moduscloud/variants", {"variants": ["unconfigured:maybe"]})
    assert refused.status_code == 400 and "unconfigured:204" in refused.json()["error"]
    assert control("PUT", "/moduscloud/variants", {"variants": [], "org": "nowhere.example"}).status_code == 404
    fresh_sandbox.reset()
    assert fresh_sandbox.control("GET", "/moduscloud/variants")["service"][1] == "unconfigured:404"


def test_cli_lists_every_variant_one_per_line_and_serve_takes_them(tmp_path):
    from sandbox.moduscloud import QUESTIONS, VARIANTS

    listed = subprocess.run([sys.executable, "-m", "sandbox", "variants"], cwd=ROOT, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.split() == list(VARIANTS)
    assert len(VARIANTS) == sum(len(answers) for answers in QUESTIONS.values())
    bad = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--info-file", str(tmp_path / "x.json"), "--moduscloud-variant", "booleans:maybe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "booleans:strings-only" in bad.stderr
    with RunningSandbox.start(tmp_path, "--moduscloud-variant", "booleans:strings", "--moduscloud-variant", "dates:epoch") as running:
        assert running.info["moduscloud_variants"] == ["booleans:strings", "dates:epoch"]
        service = running.control("GET", "/moduscloud/variants")["service"]
        assert "booleans:strings" in service and "dates:epoch" in service and "unconfigured:404" in service
