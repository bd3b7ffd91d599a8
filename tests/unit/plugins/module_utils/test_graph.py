"""GraphClient against Graph: the in-memory FakeGraph where Graph only has to answer as Graph does, a scripted
conversation (ScriptedAdapter) where the exact requests are the test's point; each of those says why."""

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _graph
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_access_token import token_client_id
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import GraphClient
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consistency import (
    backing_application_not_yet_visible,
    reference_not_yet_visible,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import required_resource_access

from ..modules.fake_graph import AAD_GRAPH_APP_ID, GRAPH_APP_ID, GRAPH_ROLES, GRAPH_SCOPES, TENANT_ID, FakeGraph, client_of, resource_principal
from .fake_transport import attach


def make_client(answers):
    """A GraphClient whose requests get the scripted `answers` in turn, and the adapter that records them."""
    client = GraphClient("token", "https://graph.test/", sleep=lambda seconds: None)
    return client, attach(client.http, answers)


def query(call):
    return dict((key, values[0]) for key, values in parse_qs(urlsplit(call["url"]).query).items())


def fake_client(fake=None):
    """A FakeGraph (a new one unless given) and a GraphClient over it."""
    fake = fake or FakeGraph()
    return fake, client_of(fake)


# Finding applications


def test_a_tenant_answers_to_its_id_and_its_verified_domains_in_lower_case():
    fake = FakeGraph()
    fake.tenant_id = TENANT_ID.upper()
    fake.tenant_domains = [{"id": "Contoso.example", "isVerified": True}, {"id": "contoso.onmicrosoft.com", "isVerified": True}]
    client = fake_client(fake)[1]
    assert client.tenant_names() == {"8d2b4e8a-61f1-4c3e-9a4e-0f8f3d6b2c10", "contoso.example", "contoso.onmicrosoft.com"}
    assert [call["path"] for call in fake.calls] == ["/organization"]


def test_display_name_filter_doubles_quotes():
    fake, client = fake_client()
    assert client.find_application(display_name="O'Brien's app") is None
    assert fake.calls[0]["query"]["$filter"] == "displayName eq 'O''Brien''s app'"
    fake.add_application("O'Brien's app")
    assert client.find_application(display_name="O'Brien's app")["displayName"] == "O'Brien's app"


def test_several_apps_with_one_display_name_fail_listing_their_app_ids():
    fake, client = fake_client()
    fake.add_application("modusCloud", appId="b-app")
    fake.add_application("modusCloud", appId="a-app")
    with pytest.raises(GraphError) as caught:
        client.find_application(display_name="modusCloud")
    assert "2 applications are named 'modusCloud' (app ids: a-app, b-app)" in str(caught.value)
    assert caught.value.to_result() == {"app_ids": ["a-app", "b-app"]}


def test_display_name_matches_are_collected_across_pages():
    # Scripted: the point is paging, the nextLink Graph gives followed exactly as given.
    client, adapter = make_client(
        [
            (200, {"value": [{"appId": "a", "id": "1"}], "@odata.nextLink": "https://graph.test/v1.0/applications?$skiptoken=x"}),
            (200, {"value": [{"appId": "b", "id": "2"}]}),
        ]
    )
    with pytest.raises(GraphError):
        client.find_application(display_name="twice")
    assert adapter.calls[1]["url"] == "https://graph.test/v1.0/applications?$skiptoken=x"


def test_app_id_wins_over_unique_name_and_display_name():
    fake, client = fake_client()
    fake.add_application("d", uniqueName="u")
    fake.add_application("another", id="1", appId="a")
    assert client.find_application(app_id="a", unique_name="u", display_name="d")["id"] == "1"
    assert fake.calls[0]["query"]["$filter"] == "appId eq 'a'"


def test_unique_name_is_an_escaped_alternate_key_and_404_means_absent():
    # Scripted: the point is the exact URL on the wire (FakeGraph records paths decoded).
    client, adapter = make_client([(404, {"error": {"code": "Request_ResourceNotFound", "message": "gone"}})])
    assert client.find_application(unique_name="sync app's") is None
    path = urlsplit(adapter.calls[0]["url"]).path
    assert path == "/v1.0/applications(uniqueName='sync%20app''s')"
    assert unquote(path).endswith("(uniqueName='sync app''s')")


def test_an_upsert_of_an_existing_app_reads_it_back_for_its_ids():
    # Scripted: the point is the conversation, a PATCH answered 204 without a body, then the read back.
    client, adapter = make_client([(204, None), (200, {"id": "1", "appId": "a"})])
    assert client.upsert_application("sync", {"displayName": "x"}) == {"id": "1", "appId": "a"}
    upsert, read_back = adapter.calls
    assert upsert["method"] == "PATCH" and upsert["headers"]["Prefer"] == "create-if-missing"
    assert json.loads(upsert["body"]) == {"displayName": "x"}
    # Graph answered 204 without a body: the ids come from reading the same application back.
    assert read_back["method"] == "GET"
    assert urlsplit(read_back["url"]).path == urlsplit(upsert["url"]).path == "/v1.0/applications(uniqueName='sync')"


def test_an_upsert_that_creates_the_app_takes_its_ids_from_the_answer():
    # Scripted: the point is that a 201 with a body is the one request, with no read back.
    client, adapter = make_client([(201, {"id": "2", "appId": "b"})])
    assert client.upsert_application("sync", {"displayName": "x"}) == {"id": "2", "appId": "b"}
    assert len(adapter.calls) == 1


# Permission names


def test_permission_names_resolve_to_role_and_scope_ids():
    fake, client = fake_client()
    resolved, warnings = client.resolve_permissions(
        [
            {"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["Directory.Read.All"]},
            {"api": GRAPH_APP_ID, "application": [], "delegated": ["Group.Read.All"]},
        ]
    )
    role_dir, scope_dir, scope_group = GRAPH_ROLES["Directory.Read.All"], GRAPH_SCOPES["Directory.Read.All"], GRAPH_SCOPES["Group.Read.All"]
    assert resolved == {
        GRAPH_APP_ID: {"application": {"Directory.Read.All": role_dir}, "delegated": {"Directory.Read.All": scope_dir, "Group.Read.All": scope_group}}
    }
    assert warnings == [] and len(fake.calls) == 1  # the API is read once
    assert required_resource_access(resolved) == [
        {
            "resourceAppId": GRAPH_APP_ID,
            "resourceAccess": [{"id": role_dir, "type": "Role"}, {"id": scope_dir, "type": "Scope"}, {"id": scope_group, "type": "Scope"}],
        }
    ]


def test_every_unknown_name_is_reported_at_once_with_the_closest_valid_names():
    fake, client = fake_client()
    fake.graph_sp["appRoles"].append({"id": "role-users-only", "value": "Tasks.Review", "allowedMemberTypes": ["User"], "isEnabled": True})
    with pytest.raises(GraphError) as caught:
        client.resolve_permissions([{"api": "Microsoft Graph", "application": ["Directory.ReadAll", "Tasks.Review"], "delegated": ["user.readbasic.all"]}])
    text = str(caught.value)
    assert "application permission 'Directory.ReadAll' does not exist on Microsoft Graph (closest: Directory.Read.All" in text
    # An app role only users can hold is not an application permission.
    assert "application permission 'Tasks.Review' does not exist" in text
    assert "delegated permission 'user.readbasic.all' does not exist on Microsoft Graph (closest: User.ReadBasic.All" in text


def test_an_api_named_by_its_service_principal_display_name_is_found():
    fake, client = fake_client()
    fake.add_service_principal(resource_principal("sp-sync", "11111111-2222-3333-4444-555555555555", "Sync API", [("User.Read.All", "role-user", "Read")], []))
    resolved = client.resolve_permissions([{"api": "Sync API", "application": ["User.Read.All"]}])[0]
    assert list(resolved) == ["11111111-2222-3333-4444-555555555555"]
    assert fake.calls[0]["query"]["$filter"] == "displayName eq 'Sync API'"


def test_an_api_missing_from_the_tenant_fails_clearly():
    client = fake_client()[1]
    with pytest.raises(GraphError) as caught:
        client.resolve_permissions([{"api": "22222222-2222-3333-4444-555555555555", "application": ["X"]}])
    assert "no service principal for app id 22222222-2222-3333-4444-555555555555" in str(caught.value)


def test_the_retired_azure_ad_graph_warns_and_names_microsoft_graph_equivalents():
    fake, client = fake_client()
    # A permission only the legacy API offers (Microsoft Graph has no namesake).
    fake.aad_sp["oauth2PermissionScopes"].append({"id": "legacy-only", "value": "Legacy.Only", "type": "User", "isEnabled": True})
    legacy_request = {"api": "Windows Azure Active Directory", "application": ["Directory.Read.All"], "delegated": ["Legacy.Only"]}
    resolved, [warning] = client.resolve_permissions([legacy_request])
    assert "retired" in warning
    assert "{api: Microsoft Graph, application: [Directory.Read.All]}" in warning
    assert "no Microsoft Graph permission of the same name for delegated Legacy.Only" in warning
    legacy_role = fake.aad_sp["appRoles"][0]
    assert legacy_role["value"] == "Directory.Read.All"
    assert resolved[AAD_GRAPH_APP_ID]["application"] == {"Directory.Read.All": legacy_role["id"]}


# Eventual consistency


def graph_error(status, code, message):
    response = requests.Response()
    response.status_code = status
    response._content = ('{"error": {"code": "%s", "message": "%s"}}' % (code, message)).encode()
    return response


def test_only_the_known_eventual_consistency_answers_are_retried():
    assert backing_application_not_yet_visible(
        graph_error(400, "Request_BadRequest", "The appId 'x' of the service principal does not reference a valid application object.")
    )
    assert backing_application_not_yet_visible(graph_error(400, "NoBackingApplicationObject", "x"))
    assert not backing_application_not_yet_visible(graph_error(400, "Request_BadRequest", "Invalid value for appId"))
    assert reference_not_yet_visible(graph_error(400, "Request_BadRequest", "Not a valid reference update."))
    assert reference_not_yet_visible(graph_error(404, "Request_ResourceNotFound", "gone"))
    assert not reference_not_yet_visible(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges"))


def test_creating_a_service_principal_waits_for_its_application_then_succeeds():
    # Scripted: the point is the retry, one refusal then the create.
    client, adapter = make_client(
        [(400, {"error": {"code": "Request_BadRequest", "message": "NoBackingApplicationObject"}}), (201, {"id": "sp-1", "appId": "a"})]
    )
    assert client.create_service_principal("a")["id"] == "sp-1"
    assert len(adapter.calls) == 2


def test_a_service_principal_that_already_exists_is_adopted():
    fake, client = fake_client()
    fake.add_service_principal({"id": "sp-1", "appId": fake.add_application("sync", appId="a")["appId"], "displayName": "sync"})
    assert client.create_service_principal("a")["id"] == "sp-1"
    assert [(call["method"], call["path"]) for call in fake.calls] == [("POST", "/servicePrincipals"), ("GET", "/servicePrincipals")]
    assert len(fake.service_principals) == 3  # Microsoft Graph's, Azure AD Graph's and the one adopted


def _jwt(claims):
    import base64
    import json

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return "%s.%s.signature" % (part({"alg": "RS256", "typ": "JWT"}), part(claims))


@pytest.mark.parametrize(
    "token, client_id",
    [
        (_jwt({"appid": "0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84", "tid": "t"}), "0b5a2e48-7c1d-4b7e-9a63-5f2d1c0e9b84"),
        (_jwt({"azp": "1c6b3f59-8d2e-4c8f-8b74-6a3e2d1f0cab", "ver": "2.0"}), "1c6b3f59-8d2e-4c8f-8b74-6a3e2d1f0cab"),
        (_jwt({"sub": "someone"}), None),
        (_jwt(["not", "claims"]), None),
        ("an-opaque-token", None),
        ("a.!!!.c", None),
        (None, None),
    ],
)
def test_the_signed_in_client_is_read_from_the_tokens_claims_when_it_says(token, client_id):
    assert token_client_id(token) == client_id
    if token:
        assert _graph.GraphClient(token, "https://graph.example").signed_in_app_id == client_id


def test_graph_errors_are_service_errors_carrying_their_result_fields():
    from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError

    error = GraphError("two apps", app_ids=["a", "b"])
    assert isinstance(error, ServiceError) and str(error) == "two apps"
    assert error.to_result() == {"app_ids": ["a", "b"]}
    assert ServiceError("options").to_result() == {}
