"""Microsoft Graph v1.0 as the collection's modules meet it: shapes, status codes, error bodies."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

from graph_client import Graph, graph_role_ids

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MISSING_ID = "00000000-1111-2222-3333-444444444444"


def error_of(response, status):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["innerError"]["date"]
    return error


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ----------------------------------------------------------------------------------- authentication


def test_missing_or_forged_token_is_401(fresh_sandbox):
    info = fresh_sandbox.info
    anonymous = Graph(info, "")
    del anonymous.session.headers["Authorization"]
    error = error_of(anonymous.get("/applications"), 401)
    assert error["code"] == "InvalidAuthenticationToken"
    forged = Graph(info, "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.")
    assert error_of(forged.get("/applications"), 401)["code"] == "InvalidAuthenticationToken"


# ----------------------------------------------------------------------------------- applications


def test_create_returns_full_object_and_validates_input(admin_graph):
    app = admin_graph.create_app(
        "modusCloud",
        signInAudience="AzureADMyOrg",
        web={"redirectUris": ["https://us1.proofpointessentials.com/"], "homePageUrl": "https://us1.proofpointessentials.com"},
        requiredResourceAccess=[{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"}]}],
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", app["id"]) and re.fullmatch(r"[0-9a-f-]{36}", app["appId"])
    assert app["web"]["implicitGrantSettings"] == {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}
    assert app["passwordCredentials"] == [] and app["identifierUris"] == [] and app["uniqueName"] is None
    assert admin_graph.get(f"/applications/{app['id']}").json()["web"]["redirectUris"] == ["https://us1.proofpointessentials.com/"]

    cases = [
        ({"signInAudience": "Everyone"}, "Request_BadRequest"),
        ({"web": {"redirectUris": ["http://portal.example/callback"]}}, "Request_BadRequest"),
        ({"identifierUris": ["https://unverified.example/app"]}, "HostNameNotOnVerifiedDomain"),
        (
            {
                "requiredResourceAccess": [
                    {"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Application"}]}
                ]
            },
            "Request_BadRequest",
        ),
        ({"passwordCredentials": [{"displayName": "x", "secretText": "mine"}]}, "Request_BadRequest"),
        ({"colour": "blue"}, "Request_BadRequest"),
    ]
    for fields, code in cases:
        assert error_of(admin_graph.post("/applications", {"displayName": "bad", **fields}), 400)["code"] == code
    ok = admin_graph.create_app("api", identifierUris=["api://modus-test", "https://api.contoso.example/x"])
    assert ok["identifierUris"] == ["api://modus-test", "https://api.contoso.example/x"]
    assert len([a for a in admin_graph.all("/applications") if a["displayName"] == "bad"]) == 0


def test_patch_replaces_collections_and_rejects_passwords(admin_graph):
    app = admin_graph.create_app("patched", web={"redirectUris": ["https://a.example/", "https://b.example/"], "homePageUrl": "https://home.example"})
    assert admin_graph.patch(f"/applications/{app['id']}", {"web": {"redirectUris": ["https://c.example/"]}}).status_code == 204
    web = admin_graph.get(f"/applications/{app['id']}").json()["web"]
    assert web["redirectUris"] == ["https://c.example/"] and web["homePageUrl"] == "https://home.example"
    sp = admin_graph.create_sp(app["appId"])
    admin_graph.patch(f"/applications/{app['id']}", {"displayName": "renamed", "identifierUris": ["api://renamed"]})
    mirrored = admin_graph.get(f"/servicePrincipals/{sp['id']}").json()
    assert (mirrored["appDisplayName"], mirrored["displayName"]) == ("renamed", "patched")
    assert mirrored["servicePrincipalNames"] == [app["appId"], "api://renamed"]
    assert mirrored["replyUrls"] == ["https://c.example/"]
    error = error_of(admin_graph.patch(f"/applications/{app['id']}", {"passwordCredentials": []}), 400)
    assert "addPassword" in error["message"]
    assert (
        error_of(admin_graph.patch(f"/applications/{app['id']}", {"appId": MISSING_ID}), 400)["message"] == "Property 'appId' is read-only and cannot be set."
    )


def test_duplicate_display_names_are_allowed_and_alternate_keys_work(admin_graph):
    first = admin_graph.create_app("twin")
    second = admin_graph.create_app("twin")
    assert first["id"] != second["id"]
    found = admin_graph.get("/applications?$filter=displayName eq 'twin'").json()["value"]
    assert sorted(a["id"] for a in found) == sorted([first["id"], second["id"]])
    by_app_id = admin_graph.get(f"/applications(appId='{second['appId']}')?$select=id,displayName").json()
    assert by_app_id["id"] == second["id"] and set(by_app_id) == {"@odata.context", "id", "displayName"}
    assert admin_graph.delete(f"/applications/{first['id']}").status_code == 204
    assert error_of(admin_graph.get(f"/applications/{first['id']}"), 404)["code"] == "Request_ResourceNotFound"


def test_upsert_by_unique_name(admin_graph):
    path = "/applications(uniqueName='modus-cloud-sync')"
    assert error_of(admin_graph.patch(path, {"displayName": "modusCloud"}), 404)["code"] == "Request_ResourceNotFound"
    created = admin_graph.patch(path, {"displayName": "modusCloud"}, headers={"Prefer": "create-if-missing"})
    assert created.status_code == 201, created.text
    assert created.json()["uniqueName"] == "modus-cloud-sync" and created.json()["displayName"] == "modusCloud"
    again = admin_graph.patch(path, {"displayName": "modusCloud sync"}, headers={"Prefer": "create-if-missing"})
    assert again.status_code == 204 and not again.content
    current = admin_graph.get(path).json()
    assert current["id"] == created.json()["id"] and current["displayName"] == "modusCloud sync"
    assert len(admin_graph.get("/applications?$filter=uniqueName eq 'modus-cloud-sync'").json()["value"]) == 1


def test_filter_quoting_and_unsupported_queries(admin_graph):
    admin_graph.create_app("O'Brien app")
    admin_graph.create_app("Other")
    match = admin_graph.get("/applications", params={"$filter": "displayName eq 'O''Brien app'"}).json()["value"]
    assert [a["displayName"] for a in match] == ["O'Brien app"]
    starts = admin_graph.get("/applications", params={"$filter": "startsWith(displayName,'o')"}).json()["value"]
    assert sorted(a["displayName"] for a in starts) == ["O'Brien app", "Other"]

    error = error_of(admin_graph.get("/applications", params={"$filter": "displayName ne 'Other'"}), 400)
    assert error["code"] == "Request_UnsupportedQuery" and "'ne'" in error["message"]
    error = error_of(admin_graph.get("/applications", params={"$filter": "notes eq 'x'"}), 400)
    assert error["code"] == "Request_UnsupportedQuery" and "'notes'" in error["message"]
    error = error_of(admin_graph.get("/applications", params={"$orderby": "displayName"}), 400)
    assert "$orderby" in error["message"]
    for top in ("0", "1000", "ten"):
        assert error_of(admin_graph.get("/applications", params={"$top": top}), 400)["code"] == "Request_BadRequest"


def test_paging_crosses_pages_and_rejects_forged_skiptokens(admin_graph):
    created = {admin_graph.create_app(f"paged {n}")["id"] for n in range(11)}
    first = admin_graph.get("/applications")
    assert len(first.json()["value"]) == 5  # the sandbox's small default page
    link = first.json()["@odata.nextLink"]
    assert link.startswith(admin_graph.base + "/applications?") and "$skiptoken=" in link

    ids = [a["id"] for a in admin_graph.all("/applications")]
    assert len(ids) == len(set(ids)) == 12 and created <= set(ids)
    filtered = admin_graph.all("/applications?$filter=startsWith(displayName,'paged')&$top=4&$select=id")
    assert {a["id"] for a in filtered} == created

    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for forged in (tampered, "RFNwdAIAAQAAACM6", token.split(".")[0]):
        error = error_of(admin_graph.get("/applications", params={"$skiptoken": forged}), 400)
        assert "skiptoken" in error["message"]
    # a real token only serves the query it was issued for
    error_of(admin_graph.get("/applications", params={"$skiptoken": token, "$top": "2"}), 400)
    # deleting an object already served does not shift the next page
    second_page_ids = [a["id"] for a in admin_graph.get(link).json()["value"]]
    admin_graph.delete(f"/applications/{first.json()['value'][0]['id']}")
    assert [a["id"] for a in admin_graph.get(link).json()["value"]] == second_page_ids


# ----------------------------------------------------------------------------------- secrets and policy


def test_add_password_shapes_and_secret_never_read_back(admin_graph):
    app = admin_graph.create_app("secrets")
    secret = admin_graph.add_password(f"/applications(appId='{app['appId']}')", displayName="modusCloud key")
    assert len(secret["secretText"]) == 40 and secret["hint"] == secret["secretText"][:3]
    assert secret["displayName"] == "modusCloud key" and re.fullmatch(r"[0-9a-f-]{36}", secret["keyId"])
    start, end = parse_time(secret["startDateTime"]), parse_time(secret["endDateTime"])
    assert (end.year - start.year, end.month, end.day) == (2, start.month, start.day)

    listed = admin_graph.get(f"/applications/{app['id']}").json()["passwordCredentials"]
    assert listed == [
        {
            "customKeyIdentifier": None,
            "displayName": "modusCloud key",
            "endDateTime": secret["endDateTime"],
            "hint": secret["hint"],
            "keyId": secret["keyId"],
            "secretText": None,
            "startDateTime": secret["startDateTime"],
        }
    ]
    assert secret["secretText"] not in admin_graph.get("/applications").text

    for field in ("keyId", "secretText"):
        response = admin_graph.post(f"/applications/{app['id']}/addPassword", {"passwordCredential": {field: MISSING_ID}})
        assert f"'{field}'" in error_of(response, 400)["message"]
    remove = f"/applications/{app['id']}/removePassword"
    assert admin_graph.post(remove, {"keyId": secret["keyId"]}).status_code == 204
    assert admin_graph.get(f"/applications/{app['id']}").json()["passwordCredentials"] == []
    assert error_of(admin_graph.post(remove, {"keyId": secret["keyId"]}), 404)
    assert error_of(admin_graph.post(remove, {"keyId": "not-a-guid"}), 400)


def test_password_lifetime_policy(admin_graph, fresh_sandbox):
    policy = admin_graph.get("/policies/defaultAppManagementPolicy").json()
    assert policy["applicationRestrictions"]["passwordCredentials"] == [] and policy["isEnabled"] is False

    fresh_sandbox.control("PUT", "/policy", {"password_max_lifetime_days": 180})
    restriction = admin_graph.get("/policies/defaultAppManagementPolicy").json()["applicationRestrictions"]
    assert restriction["passwordCredentials"] == [
        {"restrictionType": "passwordLifetime", "maxLifetime": "P180D", "restrictForAppsCreatedAfterDateTime": "2015-01-01T00:00:00Z", "state": "enabled"}
    ]
    app = admin_graph.create_app("limited")
    error = error_of(admin_graph.post(f"/applications/{app['id']}/addPassword", {"passwordCredential": {}}), 400)
    assert error["code"] == "CredentialInvalidLifetimeAsPerAppPolicy"
    assert [(d["code"], d["target"]) for d in error["details"]] == [("InvalidKeyEndDate", "EndDate")]
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=179)
    assert admin_graph.add_password(f"/applications/{app['id']}", endDateTime=end.isoformat())["secretText"]


# ----------------------------------------------------------------------------------- service principals and consent


def test_service_principal_create_conflict_and_upsert(admin_graph):
    app = admin_graph.create_app("enterprise")
    sp = admin_graph.create_sp(app["appId"])
    assert sp["appId"] == app["appId"] and sp["servicePrincipalType"] == "Application"
    duplicate = error_of(admin_graph.post("/servicePrincipals", {"appId": app["appId"]}), 409)
    assert duplicate["code"] == "Request_MultipleObjectsWithSameKeyValue"
    orphan = error_of(admin_graph.post("/servicePrincipals", {"appId": MISSING_ID}), 400)
    assert "does not reference a valid application object" in orphan["message"]
    assert orphan["details"][0]["code"] == "NoBackingApplicationObject"

    other = admin_graph.create_app("upserted")
    path = f"/servicePrincipals(appId='{other['appId']}')"
    assert error_of(admin_graph.patch(path, {"tags": ["x"]}), 404)
    assert admin_graph.patch(path, {"tags": ["x"]}, headers={"Prefer": "create-if-missing"}).status_code == 201
    assert admin_graph.patch(path, {"tags": ["y"]}, headers={"Prefer": "create-if-missing"}).status_code == 204
    assert admin_graph.get(path).json()["tags"] == ["y"]


def test_app_role_assignments(admin_graph):
    app = admin_graph.create_app("consented")
    sp = admin_graph.create_sp(app["appId"])
    graph_sp, role_ids = graph_role_ids(admin_graph)
    assert role_ids["Directory.Read.All"] == "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
    body = {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_ids["Directory.Read.All"]}
    created = admin_graph.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body)
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert (assignment["principalType"], assignment["resourceDisplayName"]) == ("ServicePrincipal", "Microsoft Graph")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", assignment["id"])

    duplicate = error_of(admin_graph.post(f"/servicePrincipals/{sp['id']}/appRoleAssignments", body), 400)
    assert "already exists" in duplicate["message"]
    error_of(admin_graph.post(f"/servicePrincipals/{sp['id']}/appRoleAssignments", {**body, "appRoleId": MISSING_ID}), 400)
    error_of(admin_graph.post(f"/servicePrincipals/{sp['id']}/appRoleAssignments", {**body, "principalId": MISSING_ID}), 400)

    held = admin_graph.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert [a["id"] for a in held] == [assignment["id"]]
    delete = f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo/{assignment['id']}"
    assert admin_graph.delete(delete).status_code == 204
    assert error_of(admin_graph.delete(delete), 404)
    assert admin_graph.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"] == []


def test_delegated_permission_grants(admin_graph):
    app = admin_graph.create_app("delegated")
    sp = admin_graph.create_sp(app["appId"])
    graph_sp, _ = graph_role_ids(admin_graph)
    body = {"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": graph_sp["id"], "scope": "User.ReadBasic.All Group.Read.All"}
    created = admin_graph.post("/oauth2PermissionGrants", body)
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["principalId"] is None and grant["scope"] == "User.ReadBasic.All Group.Read.All"
    assert error_of(admin_graph.post("/oauth2PermissionGrants", body), 409)
    assert "Nope.Read" in error_of(admin_graph.post("/oauth2PermissionGrants", {**body, "scope": "Nope.Read"}), 400)["message"]

    query = f"clientId eq '{sp['id']}' and consentType eq 'AllPrincipals' and resourceId eq '{graph_sp['id']}'"
    assert [g["id"] for g in admin_graph.get("/oauth2PermissionGrants", params={"$filter": query}).json()["value"]] == [grant["id"]]
    path = f"/oauth2PermissionGrants/{grant['id']}"
    assert admin_graph.patch(path, {"scope": "Directory.Read.All"}).status_code == 204
    assert admin_graph.get(path).json()["scope"] == "Directory.Read.All"
    assert admin_graph.delete(path).status_code == 204
    assert error_of(admin_graph.get(path), 404)


# ----------------------------------------------------------------------------------- directory


def test_directory_shapes(admin_graph):
    users = admin_graph.get("/users").json()["value"]
    assert len(users) == 8 and "accountEnabled" not in users[0]  # Graph's default property set
    fields = "id,userPrincipalName,mail,proxyAddresses,accountEnabled,userType,assignedLicenses"
    detailed = {u["userPrincipalName"]: u for u in admin_graph.get(f"/users?$select={fields}").json()["value"]}
    assert detailed["DiegoS@contoso.example"]["accountEnabled"] is False
    assert detailed["IsaiahL@contoso.example"]["assignedLicenses"] == []
    assert "smtp:adele.vance@contoso.example" in detailed["AdeleV@contoso.example"]["proxyAddresses"]
    assert [u["userType"] for u in detailed.values()].count("Guest") == 1
    assert [u["mail"] for u in detailed.values()].count(None) == 1

    groups = {g["displayName"]: g for g in admin_graph.get("/groups").json()["value"]}
    kinds = {name: (g["mailEnabled"], g["securityEnabled"], g["groupTypes"]) for name, g in groups.items()}
    assert kinds == {
        "Sales": (True, False, []),
        "IT Admins": (False, True, []),
        "Finance Secure": (True, True, []),
        "Project Falcon": (True, False, ["Unified"]),
    }
    members = admin_graph.get(f"/groups/{groups['Finance Secure']['id']}/members?$select=id").json()["value"]
    assert sorted(m["@odata.type"] for m in members) == ["#microsoft.graph.group", "#microsoft.graph.user", "#microsoft.graph.user"]
    domains = {d["id"]: d for d in admin_graph.get("/domains").json()["value"]}
    assert domains["contoso.example"]["isDefault"] and domains["contoso.onmicrosoft.com"]["isInitial"]
    assert all(d["isVerified"] for d in domains.values())


def test_redirect_uri_settings_follow_the_redirect_uris_as_graph_returns_them(admin_graph):
    app = admin_graph.create_app("uri settings", web={"redirectUris": ["https://a.example/", "https://b.example/"]})
    assert app["web"]["redirectUriSettings"] == [{"uri": "https://a.example/", "index": None}, {"uri": "https://b.example/", "index": None}]
    admin_graph.patch(f"/applications/{app['id']}", {"web": {"redirectUris": ["https://b.example/"]}})
    web = admin_graph.get(f"/applications/{app['id']}").json()["web"]
    assert web["redirectUriSettings"] == [{"uri": "https://b.example/", "index": None}]
