from datetime import datetime, timedelta, timezone

from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_app_registration_info as module

from .module_runner import warning_texts
from .fake_graph import GRAPH_APP_ID, GRAPH_ROLES, GRAPH_SCOPES


def graph_date(days_from_now):
    moment = datetime.now(timezone.utc) + timedelta(days=days_from_now, hours=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.1234567Z")


def kb_app(graph, **fields):
    return graph.add_application(
        "modusCloud",
        uniqueName="moduscloud-sync",
        requiredResourceAccess=[
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [
                    {"id": GRAPH_ROLES["Directory.Read.All"], "type": "Role"},
                    {"id": GRAPH_SCOPES["Group.Read.All"], "type": "Scope"},
                    {"id": GRAPH_SCOPES["User.ReadBasic.All"], "type": "Scope"},
                ],
            }
        ],
        web={"redirectUris": ["https://us1.proofpointessentials.com/"], "homePageUrl": None},
        **fields,
    )


def test_reports_permissions_by_name_and_what_consent_is_missing_or_extra(graph, run_module):
    app = kb_app(graph)
    principal = graph.client_principal(app)
    graph.assign(principal, "Directory.Read.All")
    graph.assign(principal, "User.Read.All")
    graph.grant(principal, ["User.ReadBasic.All"])

    result = run_module(module, {"unique_name": "moduscloud-sync"})
    assert result["changed"] is False
    [info] = result["applications"]
    assert info["app_id"] == app["appId"] and info["service_principal_id"] == principal["id"]
    assert info["redirect_uris"] == ["https://us1.proofpointessentials.com/"]
    assert info["api_permissions"] == [
        {
            "api": "Microsoft Graph",
            "resource_app_id": GRAPH_APP_ID,
            "application": ["Directory.Read.All"],
            "delegated": ["Group.Read.All", "User.ReadBasic.All"],
        }
    ]
    consent = info["consent"]
    assert consent["complete"] is False
    assert consent["missing"] == [{"api": "Microsoft Graph", "resource_app_id": GRAPH_APP_ID, "application": [], "delegated": ["Group.Read.All"]}]
    assert consent["extra"] == [{"api": "Microsoft Graph", "resource_app_id": GRAPH_APP_ID, "application": ["User.Read.All"], "delegated": []}]


def test_consent_is_complete_when_everything_requested_is_granted(graph, run_module):
    app = kb_app(graph)
    principal = graph.client_principal(app)
    graph.assign(principal, "Directory.Read.All")
    graph.grant(principal, ["Group.Read.All", "User.ReadBasic.All"])
    [info] = run_module(module, {"app_id": app["appId"]})["applications"]
    assert info["consent"]["complete"] is True and info["consent"]["missing"] == []


def test_an_app_without_service_principal_has_no_consent(graph, run_module):
    kb_app(graph)
    [info] = run_module(module, {"display_name": "modusCloud"})["applications"]
    assert info["service_principal_id"] is None
    assert info["consent"]["complete"] is False and info["consent"]["granted"] == []


def test_secrets_show_dates_and_days_left_never_values_and_warn_when_expiring(graph, run_module):
    kb_app(
        graph,
        passwordCredentials=[
            {
                "keyId": "key-soon",
                "displayName": "modusCloud sync",
                "startDateTime": graph_date(-700),
                "endDateTime": graph_date(10),
                "hint": "abc",
                "secretText": None,
            },
            {"keyId": "key-later", "displayName": None, "startDateTime": graph_date(-1), "endDateTime": graph_date(400), "hint": "xyz", "secretText": None},
        ],
    )
    result = run_module(module, {"unique_name": "moduscloud-sync", "expiring_within_days": 30})
    secrets = result["applications"][0]["secrets"]
    assert [(s["key_id"], s["days_remaining"]) for s in secrets] == [("key-soon", 10), ("key-later", 400)]
    assert set(secrets[0]) == {"key_id", "description", "hint", "start_date", "end_date", "days_remaining", "expired"}
    [warning] = warning_texts(result)
    assert "key-soon (modusCloud sync)" in warning and "expires in 10 days" in warning


def test_without_an_identity_every_application_is_read_across_pages(graph, run_module):
    graph.page_size = 2
    for name in ("c", "a", "e", "b", "d"):
        graph.add_application(name)
    result = run_module(module, {"include_consent": False})
    assert [info["display_name"] for info in result["applications"]] == ["a", "b", "c", "d", "e"]
    assert [call["path"] for call in graph.calls] == ["/applications"] * 3  # three pages, no consent reads
    assert "consent" not in result["applications"][0]


def test_without_permissions_only_the_applications_are_read(graph, run_module):
    app = kb_app(graph)
    result = run_module(module, {"display_name": "modusCloud", "include_consent": False, "include_permissions": False})
    [info] = result["applications"]
    assert info["app_id"] == app["appId"] and info["unique_name"] == "moduscloud-sync"
    assert "api_permissions" not in info and "consent" not in info
    assert [call["path"] for call in graph.calls] == ["/applications"]  # no API service principal read


def test_consent_without_permissions_is_refused_before_any_request(graph, run_module):
    result = run_module(module, {"display_name": "modusCloud", "include_permissions": False})
    assert result["failed"] is True and "include_consent needs include_permissions" in result["msg"]
    assert graph.calls == []


def test_display_name_quotes_are_doubled_and_several_matches_are_all_returned(graph, run_module):
    graph.add_application("Bob's app")
    graph.add_application("Bob's app")
    result = run_module(module, {"display_name": "Bob's app", "include_consent": False})
    assert len(result["applications"]) == 2
    assert graph.calls[0]["query"]["$filter"] == "displayName eq 'Bob''s app'"


def test_an_unknown_app_gives_an_empty_list(graph, run_module):
    result = run_module(module, {"app_id": "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"})
    assert result["applications"] == [] and result.get("failed") is not True


def test_a_ca_path_that_does_not_exist_fails_before_any_request(graph, run_module, tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    result = run_module(module, {"unique_name": "moduscloud-sync", "ca_path": missing})
    assert result["failed"] is True and graph.calls == []
    assert result["msg"].startswith("ca_path %s does not exist (or is not readable): give the CA bundle file" % missing)


def test_it_says_which_application_it_signed_in_as_when_the_token_does(graph, run_module):
    import base64
    import json

    claims = base64.urlsafe_b64encode(json.dumps({"appid": "0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84"}).encode())
    token = "eyJhbGciOiJub25lIn0.%s.sig" % claims.decode().rstrip("=")
    assert run_module(module, {"unique_name": "nothing", "access_token": token})["signed_in_app_id"] == "0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84"
    assert run_module(module, {"unique_name": "nothing"})["signed_in_app_id"] is None  # an opaque token


def test_the_application_id_of_the_kb_article_names_the_app_id(graph, run_module):
    app = kb_app(graph)
    [info] = run_module(module, {"application_id": app["appId"], "include_consent": False})["applications"]
    assert info["app_id"] == app["appId"]
