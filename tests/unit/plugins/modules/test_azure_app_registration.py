import pytest

from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_app_registration as module

from .module_runner import warning_texts
from .fake_graph import GRAPH_APP_ID, GRAPH_ROLES, GRAPH_SCOPES

KB_PERMISSIONS = [
    {"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"]}
]
KB_APP = {
    "unique_name": "moduscloud-sync",
    "display_name": "modusCloud",
    "redirect_uris": ["https://us1.proofpointessentials.com/"],
    "api_permissions": KB_PERMISSIONS,
}


def test_check_mode_on_an_empty_tenant_predicts_the_create_without_writing(graph, run_module):
    result = run_module(module, KB_APP, check_mode=True)
    assert result["changed"] is True
    assert graph.writes == [] and graph.applications == {}
    assert result["app_id"] == result["object_id"] == "(known after apply)"
    assert result["diff"]["before"] == {"application": {"state": "absent"}}
    assert result["diff"]["after"]["application"]["api_permissions"] == [
        {
            "api": "Microsoft Graph",
            "resource_app_id": GRAPH_APP_ID,
            "application": ["Directory.Read.All"],
            "delegated": ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"],
        }
    ]


def test_create_by_unique_name_is_an_upsert_with_resolved_ids_and_a_rerun_changes_nothing(graph, run_module):
    created = run_module(module, KB_APP)
    assert created["changed"] is True
    [write] = graph.writes
    assert (write["method"], write["path"]) == ("PATCH", "/applications(uniqueName='moduscloud-sync')")
    assert write["headers"]["Prefer"] == "create-if-missing"
    assert write["body"]["web"]["redirectUris"] == ["https://us1.proofpointessentials.com/"]
    assert write["body"]["requiredResourceAccess"] == [
        {
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccess": [
                {"id": GRAPH_ROLES["Directory.Read.All"], "type": "Role"},
                {"id": GRAPH_SCOPES["Directory.Read.All"], "type": "Scope"},
                {"id": GRAPH_SCOPES["Group.Read.All"], "type": "Scope"},
                {"id": GRAPH_SCOPES["User.ReadBasic.All"], "type": "Scope"},
            ],
        }
    ]
    [app] = graph.applications.values()
    assert created["app_id"] == app["appId"] and created["object_id"] == app["id"]

    again = run_module(module, KB_APP)
    assert again["changed"] is False
    assert len(graph.writes) == 1 and len(graph.applications) == 1
    assert again["app_id"] == created["app_id"]


def test_display_name_identity_creates_once_then_finds_the_same_app(graph, run_module):
    args = dict(KB_APP, unique_name=None)
    first = run_module(module, args)
    assert [w["method"] + " " + w["path"] for w in graph.writes] == ["POST /applications"]
    second = run_module(module, args)
    assert second["changed"] is False and second["app_id"] == first["app_id"]
    assert len(graph.applications) == 1


def test_several_apps_with_the_display_name_fail_listing_their_app_ids_without_writing(graph, run_module):
    one, two = graph.add_application("modusCloud"), graph.add_application("modusCloud")
    result = run_module(module, {"display_name": "modusCloud"})
    assert result["failed"] is True
    assert "2 applications are named 'modusCloud'" in result["msg"]
    assert one["appId"] in result["msg"] and two["appId"] in result["msg"]
    assert graph.writes == []


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_display_name_conflict_fail_refuses_a_second_application_of_the_name_without_writing(graph, run_module, check_mode):
    by_hand = graph.add_application("modusCloud")
    result = run_module(module, dict(KB_APP, display_name_conflict="fail"), check_mode=check_mode)
    assert result["failed"] is True
    assert "An application named 'modusCloud' already exists (app id %s)" % by_hand["appId"] in result["msg"]
    assert "Adopt it by setting app_id to its app id, or choose another display_name" in result["msg"]
    assert result["app_ids"] == [by_hand["appId"]]
    assert graph.writes == [] and list(graph.applications) == [by_hand["id"]]


def test_display_name_conflict_fail_names_every_application_of_the_name(graph, run_module):
    one, two = graph.add_application("modusCloud"), graph.add_application("modusCloud")
    result = run_module(module, dict(KB_APP, display_name_conflict="fail"), check_mode=True)
    assert result["failed"] is True and "2 applications named 'modusCloud' already exist" in result["msg"]
    assert result["app_ids"] == sorted([one["appId"], two["appId"]])
    assert graph.writes == []


def test_display_name_conflict_create_creates_beside_an_application_of_the_name(graph, run_module):
    graph.add_application("modusCloud")
    result = run_module(module, KB_APP)  # display_name_conflict defaults to create, as Entra ID allows
    assert result["changed"] is True and result["unique_name"] == "moduscloud-sync"
    assert sorted(app["displayName"] for app in graph.applications.values()) == ["modusCloud", "modusCloud"]


def test_display_name_conflict_fail_lets_an_application_found_by_unique_name_be(graph, run_module):
    ours = run_module(module, KB_APP)
    graph.add_application("modusCloud")
    writes = len(graph.writes)
    again = run_module(module, dict(KB_APP, display_name_conflict="fail"))
    assert again.get("failed") is not True and again["changed"] is False and again["app_id"] == ours["app_id"]
    assert len(graph.writes) == writes


def test_display_name_conflict_fail_takes_an_application_of_our_unique_name_as_ours(graph, run_module):
    # Another run made it a moment ago: the display-name read sees it, the unique-name read not yet.
    other_run = graph.add_application("modusCloud", uniqueName=KB_APP["unique_name"])
    graph.fail("GET", r"^/applications\(uniqueName=", 404, "Request_ResourceNotFound", "not found")
    result = run_module(module, dict(KB_APP, display_name_conflict="fail"))
    assert result.get("failed") is not True, result.get("msg")
    assert list(graph.applications) == [other_run["id"]]  # updated by the upsert, no second application


def test_removed_permission_and_redirect_uri_show_by_name_in_the_diff(graph, run_module):
    run_module(module, KB_APP)
    smaller = dict(
        KB_APP, redirect_uris=[], api_permissions=[{"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["User.ReadBasic.All"]}]
    )
    result = run_module(module, smaller)
    assert result["changed"] is True
    before, after = result["diff"]["before"]["application"], result["diff"]["after"]["application"]
    assert before["api_permissions"][0]["delegated"] == ["Directory.Read.All", "Group.Read.All", "User.ReadBasic.All"]
    assert after["api_permissions"][0]["delegated"] == ["User.ReadBasic.All"]
    assert (before["redirect_uris"], after["redirect_uris"]) == (["https://us1.proofpointessentials.com/"], [])
    patch = graph.writes[-1]
    assert patch["method"] == "PATCH" and patch["path"].startswith("/applications/")
    assert patch["body"]["requiredResourceAccess"][0]["resourceAccess"] == [
        {"id": GRAPH_ROLES["Directory.Read.All"], "type": "Role"},
        {"id": GRAPH_SCOPES["User.ReadBasic.All"], "type": "Scope"},
    ]
    assert "displayName" not in patch["body"]  # only what differs is written


def test_check_mode_on_an_existing_app_predicts_the_change_without_writing(graph, run_module):
    run_module(module, KB_APP)
    writes = len(graph.writes)
    result = run_module(module, dict(KB_APP, display_name="modusCloud sync"), check_mode=True)
    assert result["changed"] is True and result["display_name"] == "modusCloud sync"
    assert len(graph.writes) == writes
    assert next(iter(graph.applications.values()))["displayName"] == "modusCloud"


def test_updating_redirect_uris_keeps_other_web_settings(graph, run_module):
    graph.add_application("modusCloud", uniqueName="moduscloud-sync", web={"redirectUris": [], "homePageUrl": None, "logoutUrl": "https://example.com/out"})
    run_module(module, {"unique_name": "moduscloud-sync", "redirect_uris": ["https://eu1.proofpointessentials.com/"]})
    assert graph.writes[-1]["body"]["web"] == {
        "redirectUris": ["https://eu1.proofpointessentials.com/"],
        "homePageUrl": None,
        "logoutUrl": "https://example.com/out",
    }


def test_unknown_permission_fails_before_any_write_naming_the_closest_valid_names(graph, run_module):
    result = run_module(
        module, dict(KB_APP, api_permissions=[{"api": "Microsoft Graph", "application": ["Directory.Read.Al"], "delegated": ["group.read.all"]}])
    )
    assert result["failed"] is True
    assert "application permission 'Directory.Read.Al' does not exist on Microsoft Graph" in result["msg"]
    assert "closest: Directory.Read.All" in result["msg"]
    assert "delegated permission 'group.read.all'" in result["msg"] and "Group.Read.All" in result["msg"]
    assert graph.writes == []


def test_legacy_azure_ad_graph_warns_and_names_the_microsoft_graph_equivalents(graph, run_module):
    result = run_module(
        module, dict(KB_APP, api_permissions=[{"api": "Windows Azure Active Directory", "application": ["Directory.Read.All"], "delegated": ["User.Read"]}])
    )
    assert result["changed"] is True
    [warning] = warning_texts(result)
    assert "retired" in warning
    assert "{api: Microsoft Graph, application: [Directory.Read.All], delegated: [User.Read]}" in warning


def test_absent_deletes_the_app_and_a_second_run_changes_nothing(graph, run_module):
    created = run_module(module, KB_APP)
    removed = run_module(module, {"unique_name": "moduscloud-sync", "state": "absent"})
    assert removed["changed"] is True and removed["app_id"] == created["app_id"]
    assert removed["diff"]["after"] == {"application": {"state": "absent"}}
    assert graph.applications == {}
    again = run_module(module, {"unique_name": "moduscloud-sync", "state": "absent"})
    assert again["changed"] is False and again["app_id"] is None


def test_an_app_id_that_does_not_exist_fails_instead_of_creating(graph, run_module):
    result = run_module(module, {"app_id": "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21", "display_name": "modusCloud"})
    assert result["failed"] is True
    assert "no application has app_id 4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21" in result["msg"]
    assert graph.writes == []


def test_access_token_never_reaches_the_output(graph, run_module):
    result = run_module(module, KB_APP)
    assert result["invocation"]["module_args"]["access_token"] != "unit-test-token"
    assert "unit-test-token" not in str(result)


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_redirect_uris_and_home_page_url_that_entra_refuses_fail_before_any_request(graph, run_module, check_mode):
    bad = ["not a url", "http://insecure.example.com/", "ftp://files.example.com/", "https://" + "a" * 250 + ".com/"]
    args = dict(KB_APP, redirect_uris=bad + ["https://us1.proofpointessentials.com/"], home_page_url="us1.example")
    result = run_module(module, args, check_mode=check_mode)
    assert result["failed"] is True and graph.calls == []
    for value in bad[:3] + ["us1.example"]:
        assert repr(value) in result["msg"]
    assert "longer than 256 characters" in result["msg"] and "proofpointessentials" not in result["msg"]
    assert "http://localhost and http://127.0.0.1" in result["msg"]


def test_local_http_redirect_uris_are_allowed_for_development(graph, run_module):
    local = ["http://localhost:8400/callback", "http://127.0.0.1/", "https://us1.proofpointessentials.com/"]
    result = run_module(module, dict(KB_APP, redirect_uris=local, home_page_url="http://intranet.example/"), check_mode=True)
    assert result["changed"] is True and result["redirect_uris"] == sorted(local)


def test_app_id_known_says_whether_app_id_is_a_real_id(graph, run_module):
    assert run_module(module, KB_APP, check_mode=True)["app_id_known"] is False
    created = run_module(module, KB_APP)
    assert created["app_id_known"] is True and created["app_id"] != "(known after apply)"
    assert run_module(module, KB_APP, check_mode=True)["app_id_known"] is True


def test_up_to_date_is_the_verdict_of_a_check_mode_run_whatever_its_changed(graph, run_module):
    assert run_module(module, KB_APP, check_mode=True)["up_to_date"] is False
    created = run_module(module, KB_APP)
    assert created["changed"] is True and created["up_to_date"] is False
    again = run_module(module, KB_APP, check_mode=True)
    assert again["changed"] is False and again["up_to_date"] is True
    moved = run_module(module, dict(KB_APP, redirect_uris=["https://eu1.proofpointessentials.com/"]), check_mode=True)
    assert moved["changed"] is True and moved["up_to_date"] is False


# state=absent as a check before a removal: the identity options, the module's own identity, what it says


def token_of(app_id):
    """An access token whose appid claim says it was issued to `app_id` (the identity the module signs in as)."""
    import base64
    import json

    claims = base64.urlsafe_b64encode(json.dumps({"appid": app_id}).encode()).decode().rstrip("=")
    return "eyJhbGciOiJub25lIn0.%s.sig" % claims


@pytest.mark.parametrize("app_id, shown", [("not-a-guid", '"not-a-guid"'), ("12345", '"12345"'), ("", '""')])
def test_absent_refuses_an_app_id_that_is_not_a_guid_before_any_request(graph, run_module, app_id, shown):
    result = run_module(module, {"app_id": app_id, "state": "absent"}, check_mode=True)
    assert result["failed"] is True and graph.calls == []
    assert "app_id must be an application (client) id, a GUID" in result["msg"] and shown in result["msg"]
    assert result["msg"].endswith("Nothing was removed.")


@pytest.mark.parametrize("unique_name, shown", [("", '""'), ("  ", '"  "'), (None, "null")])
def test_absent_refuses_an_empty_unique_name_before_any_request(graph, run_module, unique_name, shown):
    result = run_module(module, {"unique_name": unique_name, "state": "absent"})
    assert result["failed"] is True and graph.calls == []
    assert "unique_name must be the application's unique name" in result["msg"] and shown in result["msg"]
    assert "Nothing was removed" in result["msg"]


def test_present_refuses_an_app_id_that_is_not_a_guid_before_any_request(graph, run_module):
    result = run_module(module, dict(KB_APP, app_id="modusCloud"))
    assert result["failed"] is True and graph.calls == [] and '"modusCloud"' in result["msg"]
    assert "Nothing was removed" not in result["msg"]


@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_absent_refuses_the_identity_it_signs_in_as_before_any_write(graph, run_module, check_mode):
    app = graph.add_application("Automation", uniqueName="automation")
    result = run_module(module, {"unique_name": "automation", "state": "absent", "access_token": token_of(app["appId"])}, check_mode=check_mode)
    assert result["failed"] is True and graph.writes == [] and graph.applications
    assert "application %s is the identity this module signs in as" % app["appId"] in result["msg"] and "Nothing was removed" in result["msg"]


def test_absent_refuses_its_own_app_id_even_when_no_application_has_it(graph, run_module):
    own = "0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84"
    result = run_module(module, {"app_id": own.upper(), "state": "absent", "access_token": token_of(own)}, check_mode=True)
    assert result["failed"] is True and "signs in as" in result["msg"] and graph.writes == []


@pytest.mark.parametrize("check_mode, expected", [(False, "Application %s was deleted."), (True, "Application %s would be deleted.")], ids=["apply", "check"])
def test_absent_says_what_it_deleted_or_would_delete(graph, run_module, check_mode, expected):
    created = run_module(module, KB_APP)
    result = run_module(module, {"unique_name": "moduscloud-sync", "state": "absent"}, check_mode=check_mode)
    assert result["msg"] == expected % created["app_id"]
    assert result["app_id"] == created["app_id"] and result["app_id_known"] is True
    assert bool(graph.applications) is check_mode


def test_absent_without_an_application_says_so_and_returns_the_app_id_given(graph, run_module):
    missing = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    result = run_module(module, {"app_id": missing, "state": "absent"}, check_mode=True)
    assert result["changed"] is False and result["app_id"] == missing and result["app_id_known"] is False
    assert result["msg"] == "No application with app_id %s exists: nothing to delete." % missing
    by_name = run_module(module, {"unique_name": "moduscloud-sync", "state": "absent"})
    assert by_name["app_id"] is None and by_name["msg"] == "No application with unique_name moduscloud-sync exists: nothing to delete."


def test_a_failure_names_the_options_it_is_about(graph, run_module):
    urls = run_module(module, dict(KB_APP, redirect_uris=["https://us1.example/#x"], home_page_url="us1.example"), check_mode=True)
    assert urls["failed"] is True and urls["invalid_options"] == ["redirect_uris", "home_page_url"]
    permissions = run_module(module, dict(KB_APP, api_permissions=[{"api": "Microsoft Graph", "delegated": ["group.read.al"]}]))
    assert permissions["failed"] is True and permissions["invalid_options"] == ["api_permissions.delegated"]
    identity = run_module(module, {"app_id": "modusCloud", "state": "absent"})
    assert identity["failed"] is True and identity["invalid_options"] == ["app_id"]
    assert graph.writes == []


def test_a_failure_no_option_caused_names_none(graph, run_module):
    graph.fail("GET", "/applications", 403, "Authorization_RequestDenied", "Insufficient privileges")
    result = run_module(module, KB_APP)
    assert result["failed"] is True and "invalid_options" not in result
