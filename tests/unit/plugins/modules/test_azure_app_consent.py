import pytest

from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_app_consent as module

from .module_runner import warning_texts
from .fake_graph import GRAPH_APP_ID, GRAPH_ROLES, GRAPH_SCOPES

KB_PERMISSIONS = [
    {"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"]}
]
KB_SCOPES = "Directory.Read.All Group.Read.All User.ReadBasic.All"


def registered_app(graph):
    """An app that requests the KB's permissions, as azure_app_registration leaves it."""
    return graph.add_application(
        "modusCloud",
        uniqueName="moduscloud-sync",
        requiredResourceAccess=[
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [
                    {"id": GRAPH_ROLES["Directory.Read.All"], "type": "Role"},
                    {"id": GRAPH_SCOPES["Directory.Read.All"], "type": "Scope"},
                    {"id": GRAPH_SCOPES["Group.Read.All"], "type": "Scope"},
                    {"id": GRAPH_SCOPES["User.ReadBasic.All"], "type": "Scope"},
                ],
            }
        ],
    )


def client_principals(graph, app):
    return [sp for sp in graph.service_principals.values() if sp["appId"] == app["appId"]]


def test_default_consents_to_what_the_registration_requests_and_a_rerun_changes_nothing(graph, run_module):
    app = registered_app(graph)
    result = run_module(module, {"app_id": app["appId"]})
    assert result["changed"] is True
    [principal] = client_principals(graph, app)
    assert result["service_principal_id"] == principal["id"]
    assert graph.granted_roles(principal["id"]) == ["Directory.Read.All"]
    [grant] = graph.grants.values()
    assert (grant["clientId"], grant["resourceId"], grant["consentType"]) == (principal["id"], "sp-graph", "AllPrincipals")
    assert grant["scope"] == KB_SCOPES
    assert result["granted"] == [
        {
            "api": "Microsoft Graph",
            "resource_app_id": GRAPH_APP_ID,
            "application": ["Directory.Read.All"],
            "delegated": ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"],
        }
    ]

    writes = len(graph.writes)
    again = run_module(module, {"app_id": app["appId"]})
    assert again["changed"] is False and len(graph.writes) == writes


def test_check_mode_for_a_planned_app_predicts_everything_with_no_write_and_no_failing_read(graph, run_module):
    result = run_module(module, {"app_id": "(known after apply)", "api_permissions": KB_PERMISSIONS}, check_mode=True)
    assert result["changed"] is True
    assert graph.writes == []
    # Only the API's permission names are read: nothing about an app that cannot exist yet.
    assert all(call["path"] == "/servicePrincipals" and "appId eq '%s'" % GRAPH_APP_ID in call["query"]["$filter"] for call in graph.calls)
    assert result["service_principal_id"] == "(known after apply)"
    assert sorted(result["diff"]["after"]) == [
        "app_role_assignments/Microsoft Graph/Directory.Read.All",
        "delegated_grants/Microsoft Graph",
        "service_principal",
    ]
    assert result["diff"]["after"]["delegated_grants/Microsoft Graph"]["scopes"] == KB_SCOPES.split()


def test_outside_check_mode_the_placeholder_application_is_refused_before_any_request(graph, run_module):
    result = run_module(module, {"app_id": "(known after apply)", "api_permissions": KB_PERMISSIONS})
    assert result["failed"] is True
    assert "the check-mode placeholder of an application" in result["msg"]
    assert graph.calls == [] and graph.writes == []


def test_check_mode_on_an_existing_app_without_principal_writes_nothing(graph, run_module):
    registered_app(graph)
    result = run_module(module, {"unique_name": "moduscloud-sync"}, check_mode=True)
    assert result["changed"] is True and graph.writes == []
    assert result["granted"][0]["application"] == ["Directory.Read.All"]


def test_existing_grant_is_adopted_and_changed_and_unrequested_consent_is_revoked(graph, run_module):
    app = registered_app(graph)
    principal = graph.client_principal(app)
    graph.assign(principal, "Directory.Read.All")
    extra = graph.assign(principal, "User.Read.All")
    grant = graph.grant(principal, ["User.Read", "Group.Read.All"])
    user_grant = graph.grant(principal, ["User.Read"], consent_type="Principal")

    result = run_module(module, {"app_id": app["appId"]})
    assert result["changed"] is True
    assert [(w["method"], w["path"]) for w in graph.writes] == [
        ("DELETE", "/servicePrincipals/%s/appRoleAssignments/%s" % (principal["id"], extra["id"])),
        ("PATCH", "/oauth2PermissionGrants/%s" % grant["id"]),
    ]
    assert graph.grants[grant["id"]]["scope"] == KB_SCOPES
    assert graph.grants[user_grant["id"]]["scope"] == "User.Read"  # a user's own consent is not admin consent
    diff = result["diff"]
    assert diff["before"]["app_role_assignments/Microsoft Graph/User.Read.All"] == {"api": "Microsoft Graph", "permission": "User.Read.All"}
    assert diff["after"]["app_role_assignments/Microsoft Graph/User.Read.All"] == {"state": "absent"}
    assert diff["before"]["delegated_grants/Microsoft Graph"]["scopes"] == ["Group.Read.All", "User.Read"]
    assert diff["after"]["delegated_grants/Microsoft Graph"]["scopes"] == KB_SCOPES.split()


def test_explicit_permissions_override_the_registration(graph, run_module):
    app = registered_app(graph)
    run_module(module, {"app_id": app["appId"], "api_permissions": [{"api": GRAPH_APP_ID, "application": ["User.Read.All"], "delegated": []}]})
    [principal] = client_principals(graph, app)
    assert graph.granted_roles(principal["id"]) == ["User.Read.All"]
    assert graph.grants == {}


def test_a_grant_created_meanwhile_is_adopted_instead_of_duplicated(graph, run_module):
    # Graph's list may not show a grant yet; its POST then answers 409 and the module merges into it.
    app = registered_app(graph)
    principal = graph.client_principal(app)
    hidden = graph.grant(principal, ["User.Read"])
    graph.answer("GET", r"^/oauth2PermissionGrants$", 200, {"value": []})
    run_module(module, {"app_id": app["appId"]})
    assert [w["method"] for w in graph.writes if "oauth2PermissionGrants" in w["path"]] == ["POST", "PATCH"]
    assert list(graph.grants) == [hidden["id"]]
    assert graph.grants[hidden["id"]]["scope"] == KB_SCOPES


def test_eventual_consistency_answers_are_retried(graph, run_module):
    app = registered_app(graph)
    graph.fail(
        "POST",
        r"^/servicePrincipals$",
        400,
        "Request_BadRequest",
        "The appId of the service principal does not reference a valid application object. NoBackingApplicationObject",
        times=2,
    )
    graph.fail("POST", r"/appRoleAssignments$", 400, "Request_BadRequest", "Not a valid reference update.")
    result = run_module(module, {"app_id": app["appId"]})
    assert result["changed"] is True
    [principal] = client_principals(graph, app)
    assert graph.granted_roles(principal["id"]) == ["Directory.Read.All"]
    assert len(graph.grants) == 1


def test_other_errors_are_not_retried_and_fail_with_graph_details(graph, run_module):
    app = registered_app(graph)
    graph.fail("POST", r"^/servicePrincipals$", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    result = run_module(module, {"app_id": app["appId"]})
    assert result["failed"] is True
    assert "create service principal for app_id %s failed: HTTP 403 Authorization_RequestDenied" % app["appId"] in result["msg"]
    assert result["request_id"] == "req-403" and result["error_code"] == "Authorization_RequestDenied"
    assert len([w for w in graph.writes if w["path"] == "/servicePrincipals"]) == 1


def test_absent_revokes_everything_but_keeps_the_principal_unless_asked(graph, run_module):
    app = registered_app(graph)
    run_module(module, {"app_id": app["appId"]})
    [principal] = client_principals(graph, app)

    revoked = run_module(module, {"app_id": app["appId"], "state": "absent"})
    assert revoked["changed"] is True and revoked["granted"] == []
    assert graph.granted_roles(principal["id"]) == [] and graph.grants == {}
    assert client_principals(graph, app) == [principal]

    removed = run_module(module, {"app_id": app["appId"], "state": "absent", "remove_service_principal": True})
    assert removed["changed"] is True and removed["service_principal_id"] is None
    assert client_principals(graph, app) == []


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_absent_says_what_it_revoked_and_deleted_or_would(graph, run_module, check_mode):
    app = registered_app(graph)
    run_module(module, {"app_id": app["appId"]})
    writes = len(graph.writes)
    result = run_module(module, {"app_id": app["appId"], "state": "absent", "remove_service_principal": True}, check_mode=check_mode)
    would = "would be" if check_mode else "was"
    assert result["msg"] == (
        "The admin consent of application %s %s revoked (Microsoft Graph: Directory.Read.All (application), Directory.Read.All, "
        "Group.Read.All, User.ReadBasic.All); its service principal %s deleted." % (app["appId"], would, would)
    )
    assert (len(graph.writes) == writes) is check_mode
    if not check_mode:
        again = run_module(module, {"app_id": app["appId"], "state": "absent"})
        assert again["changed"] is False and again["msg"] == "Application %s has no admin consent to revoke." % app["appId"]


def test_absent_with_a_list_revokes_only_those_permissions(graph, run_module):
    app = registered_app(graph)
    run_module(module, {"app_id": app["appId"]})
    result = run_module(module, {"app_id": app["appId"], "state": "absent", "api_permissions": [{"api": "Microsoft Graph", "delegated": ["Group.Read.All"]}]})
    assert result["changed"] is True
    [grant] = graph.grants.values()
    assert grant["scope"] == "Directory.Read.All User.ReadBasic.All"
    [principal] = client_principals(graph, app)
    assert graph.granted_roles(principal["id"]) == ["Directory.Read.All"]


def test_an_app_that_does_not_exist_fails_after_waiting_for_it(graph, run_module):
    result = run_module(module, {"display_name": "nobody"})
    assert result["failed"] is True and "no application with display_name nobody" in result["msg"]
    # Looked for several times (a just-created app can be invisible for seconds), wrote nothing.
    assert len([c for c in graph.calls if c["path"] == "/applications"]) == 5
    assert graph.writes == []


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_absent_for_an_app_that_does_not_exist_has_nothing_to_revoke(graph, run_module, check_mode):
    result = run_module(module, {"display_name": "nobody", "state": "absent"}, check_mode=check_mode)
    assert result.get("failed") is not True and result["changed"] is False
    assert result["service_principal_id"] is None and result["granted"] == []
    assert result["msg"] == "No application with display_name nobody exists: no admin consent to revoke."
    # Absent does not wait for an application to appear: one look, no write.
    assert len([c for c in graph.calls if c["path"] == "/applications"]) == 1 and graph.writes == []


def test_check_mode_assumes_a_missing_app_is_planned_and_says_so(graph, run_module):
    result = run_module(module, {"display_name": "modusCloud", "api_permissions": KB_PERMISSIONS}, check_mode=True)
    assert result["changed"] is True and graph.writes == []
    assert any("check mode assumes an earlier task creates it" in text for text in warning_texts(result))


KB_GRANTED = "Microsoft Graph (application Directory.Read.All; delegated Directory.Read.All, Group.Read.All, User.ReadBasic.All)"


def test_present_says_what_is_granted_per_api_and_whether_this_run_granted_it(graph, run_module):
    app = registered_app(graph)
    planned = run_module(module, {"app_id": app["appId"]}, check_mode=True)
    assert planned["msg"] == "Admin consent would be granted: %s." % KB_GRANTED
    granted = run_module(module, {"app_id": app["appId"]})
    assert granted["msg"] == "Admin consent granted: %s." % KB_GRANTED
    again = run_module(module, {"app_id": app["appId"]}, check_mode=True)
    assert again["changed"] is False and again["msg"] == "Admin consent already granted: %s." % KB_GRANTED


def test_present_for_a_planned_app_says_what_would_be_granted_or_that_it_is_not_known_yet(graph, run_module):
    listed = run_module(module, {"app_id": "(known after apply)", "api_permissions": KB_PERMISSIONS}, check_mode=True)
    assert listed["msg"] == "Admin consent would be granted: %s." % KB_GRANTED
    unlisted = run_module(module, {"app_id": "(known after apply)"}, check_mode=True)
    assert unlisted["msg"] == "No admin consent to grant yet: the permissions are known once the application exists."
