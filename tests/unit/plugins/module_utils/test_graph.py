import datetime
import hashlib
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _graph
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import (
    GraphClient,
    GraphError,
    TokenError,
    acquire_token,
    backing_application_not_yet_visible,
    check_connection,
    endpoints,
    reference_not_yet_visible,
)

from ..fake_time import FakeTime
from .fake_transport import ScriptedAdapter, attach

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
DISCOVERY = {"authorization_endpoint": "https://login.test/t1/oauth2/v2.0/authorize",
             "token_endpoint": "https://login.test/t1/oauth2/v2.0/token",
             "issuer": "https://login.test/t1/v2.0"}
GRAPH_PRINCIPAL = {"id": "sp-graph", "appId": GRAPH_APP_ID, "displayName": "Microsoft Graph",
                   "appRoles": [{"id": "role-dir", "value": "Directory.Read.All", "allowedMemberTypes": ["Application"]},
                                {"id": "role-user", "value": "User.Read.All", "allowedMemberTypes": ["Application"]},
                                {"id": "role-users-only", "value": "Tasks.Review", "allowedMemberTypes": ["User"]}],
                   "oauth2PermissionScopes": [{"id": "scope-dir", "value": "Directory.Read.All"},
                                              {"id": "scope-group", "value": "Group.Read.All"},
                                              {"id": "scope-basic", "value": "User.ReadBasic.All"}]}


def make_client(answers):
    client = GraphClient("token", "https://graph.test/", sleep=lambda seconds: None)
    return client, attach(client.http, answers)


def query(call):
    return dict((key, values[0]) for key, values in parse_qs(urlsplit(call["url"]).query).items())


def scripted_login(monkeypatch, answers):
    adapter = ScriptedAdapter(answers)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
    return adapter


# Endpoints and connection options

@pytest.mark.parametrize("cloud, login, graph", [
    ("public", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    ("usgovdod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
])
def test_one_cloud_option_sets_both_the_login_host_and_the_graph_root(cloud, login, graph):
    assert endpoints(cloud) == (login, graph)


def test_authority_host_and_graph_url_override_the_cloud():
    assert endpoints("usgov", "https://login.test/", "https://graph.test/") == ("https://login.test", "https://graph.test")


@pytest.mark.parametrize("params, expected", [
    ({"client_id": "c", "client_secret": "s"}, "missing tenant_id"),
    ({"tenant_id": "t", "client_id": "c"}, "missing client_secret or client_certificate_path"),
    ({"tenant_id": "t", "client_id": "c", "client_secret": "s", "client_certificate_path": "/k.pem"},
     "mutually exclusive"),
    ({"tenant_id": "t", "client_id": "c", "client_secret": "s", "authority_host": "http://login.test"},
     "authority_host must be an https:// URL"),
])
def test_unusable_connection_options_fail_before_any_request(params, expected):
    with pytest.raises(GraphError) as caught:
        check_connection(params)
    assert expected in str(caught.value)


@pytest.mark.parametrize("cloud, authority_host, graph_url, unknown", [
    ("public", None, "https://graph.test", True),
    ("public", None, None, False),
    ("public", None, "https://graph.microsoft.com/", False),
    ("public", "https://login.test", "https://graph.test", False),
    ("usgov", None, "https://graph.test", False),  # the cloud chosen names its sign-in host
])
def test_the_sign_in_host_is_unknown_only_for_another_graph_of_the_default_cloud(cloud, authority_host, graph_url,
                                                                                 unknown):
    assert _graph.sign_in_host_unknown(cloud, authority_host, graph_url) is unknown


def test_an_access_token_needs_no_other_option():
    check_connection({"access_token": "token"})


# Tokens

def test_token_comes_from_msal_through_a_session_that_keeps_ca_path_despite_requests_ca_bundle(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY),
                                           (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})])
    token = acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                          ca_path="/sandbox/ca.pem")
    assert token == "tok"
    assert [call["verify"] for call in adapter.calls] == ["/sandbox/ca.pem", "/sandbox/ca.pem"]
    assert adapter.calls[0]["url"] == "https://login.test/t1/v2.0/.well-known/openid-configuration"
    assert parse_qs(adapter.calls[1]["body"])["scope"] == ["https://graph.test/.default"]


def test_a_private_graph_without_its_sign_in_host_fails_before_any_request(monkeypatch):
    adapter = scripted_login(monkeypatch, [])
    with pytest.raises(GraphError) as caught:
        acquire_token("t1", "c1", "s3cret", graph_url="https://graph.test")
    assert "authority_host is not set" in str(caught.value) and adapter.calls == []


def test_a_refused_token_quotes_the_entra_error_but_never_the_secret(monkeypatch):
    scripted_login(monkeypatch, [(200, DISCOVERY), (401, {
        "error": "invalid_client", "error_codes": [7000215], "correlation_id": "corr-1",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is "
                             "the client secret value (s3cret-value), not the secret ID."})])
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret-value", authority_host="https://login.test", graph_url="https://graph.test")
    text = str(caught.value)
    assert "acquire a Microsoft Graph token for client_id c1 in tenant t1 failed: HTTP 401 invalid_client" in text
    assert "AADSTS7000215: Invalid client secret provided" in text and "request-id corr-1" in text
    assert "s3cret-value" not in text
    assert caught.value.error_codes == [7000215]


def test_an_unreachable_login_host_is_asked_a_bounded_number_of_times_then_a_token_error(monkeypatch):
    class Refusing(ScriptedAdapter):
        def send(self, request, **kwargs):
            self.calls.append({"method": request.method, "url": request.url})
            raise requests.exceptions.ConnectionError("connection refused")
    adapter = Refusing([])
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
    clock = FakeTime()
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "Xy7~secret", authority_host="https://login.test", graph_url="https://graph.test",
                      sleep=clock.sleep)
    assert "connection refused" in str(caught.value) and "gave up after 5 attempts" in str(caught.value)
    assert len(adapter.calls) == 5 and clock.sleeps == [1.0, 2.0, 4.0, 8.0]


# Transient answers of the token endpoint: asked again, past msal's throttle cache

TRANSIENT = {"error": "temporarily_unavailable", "error_codes": [90033], "correlation_id": "corr-503",
             "error_description": "AADSTS90033: A transient error has occurred. Please try again."}
TOKEN = (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_failure_of_the_token_endpoint_is_asked_again(monkeypatch, status):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (status, TRANSIENT), (200, DISCOVERY), TOKEN])
    clock = FakeTime()
    assert acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                         sleep=clock.sleep) == "tok"
    # The second token request really went out: msal's throttle cache would have replayed the failure.
    assert [call["method"] for call in adapter.calls] == ["GET", "POST", "GET", "POST"]
    assert clock.sleeps == [1.0]


def test_throttling_of_the_token_endpoint_waits_for_its_retry_after(monkeypatch):
    throttled = (429, {"error": "temporarily_unavailable", "error_description": "AADSTS50196: too many requests"},
                 {"Retry-After": "7"})
    scripted_login(monkeypatch, [(200, DISCOVERY), throttled, (200, DISCOVERY), throttled, (200, DISCOVERY), TOKEN])
    clock = FakeTime()
    assert acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                         sleep=clock.sleep) == "tok"
    assert clock.sleeps == [7.0, 7.0]


def test_a_lasting_server_failure_names_client_tenant_status_and_correlation_id_never_the_secret(monkeypatch):
    failing = (503, dict(TRANSIENT, error_description=TRANSIENT["error_description"] + " (s3cret-value)"))
    scripted_login(monkeypatch, [(200, DISCOVERY), failing] * 3)
    clock = FakeTime()
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret-value", authority_host="https://login.test", graph_url="https://graph.test",
                      max_retries=2, sleep=clock.sleep)
    error, text = caught.value, str(caught.value)
    assert text.startswith("acquire a Microsoft Graph token for client_id c1 in tenant t1 failed: HTTP 503 "
                           "temporarily_unavailable: AADSTS90033")
    assert "request-id corr-503" in text and "gave up after 3 attempts" in text
    assert "s3cret-value" not in text
    assert (error.status, error.transient, error.error_codes) == (503, True, [90033])


def test_a_throttle_longer_than_the_retry_budget_fails_at_once(monkeypatch):
    scripted_login(monkeypatch, [(200, DISCOVERY), (429, b"Too Many Requests", {"Retry-After": "3600"})])
    clock = FakeTime()
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                      sleep=clock.sleep)
    assert "HTTP 429" in str(caught.value) and "Too Many Requests" in str(caught.value)
    assert caught.value.retry_after == 3600 and clock.sleeps == []


def test_a_refusal_is_not_asked_again(monkeypatch):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (400, {"error": "invalid_request",
                                                                    "error_description": "AADSTS90002: no tenant"})])
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                      sleep=FakeTime().sleep)
    assert caught.value.transient is False and len(adapter.calls) == 2


def test_the_sign_in_requests_carry_the_timeout(monkeypatch):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), TOKEN])
    acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", timeout=12)
    assert [call["timeout"] for call in adapter.calls] == [12, 12]


def write_certificate(tmp_path, with_key=True):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if with_key:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()) + pem
    path = tmp_path / "identity.pem"
    path.write_bytes(pem)
    return str(path), cert


def test_a_certificate_pem_gives_msal_the_key_and_the_sha1_thumbprint(tmp_path):
    path, cert = write_certificate(tmp_path)
    credential = _graph.load_certificate_credential(path)
    assert credential["thumbprint"] == hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    assert credential["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_a_certificate_login_sends_a_signed_assertion_not_a_secret(tmp_path, monkeypatch):
    path, _cert = write_certificate(tmp_path)
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (200, {"access_token": "tok", "token_type": "Bearer",
                                                                    "expires_in": 3600})])
    assert acquire_token("t1", "c1", client_certificate_path=path, authority_host="https://login.test",
                         graph_url="https://graph.test") == "tok"
    form = parse_qs(adapter.calls[1]["body"])
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert "client_secret" not in form


def test_a_pem_without_the_private_key_is_refused_clearly(tmp_path):
    path, _cert = write_certificate(tmp_path, with_key=False)
    with pytest.raises(GraphError) as caught:
        _graph.load_certificate_credential(path)
    assert "must be a PEM file holding both the private key and the certificate (found: CERTIFICATE)" in str(
        caught.value)


# Finding applications

def test_a_tenant_answers_to_its_id_and_its_verified_domains_in_lower_case():
    client, adapter = make_client([(200, {"value": [{
        "id": "8D2B4E8A-61F1-4C3E-9A4E-0F8F3D6B2C10", "displayName": "Contoso",
        "verifiedDomains": [{"name": "Contoso.example", "isDefault": True}, {"name": "contoso.onmicrosoft.com"}]}]})])
    assert client.tenant_names() == {"8d2b4e8a-61f1-4c3e-9a4e-0f8f3d6b2c10", "contoso.example",
                                     "contoso.onmicrosoft.com"}
    assert urlsplit(adapter.calls[0]["url"]).path == "/v1.0/organization"


def test_display_name_filter_doubles_quotes():
    client, adapter = make_client([(200, {"value": []})])
    assert client.find_application(display_name="O'Brien's app") is None
    assert query(adapter.calls[0])["$filter"] == "displayName eq 'O''Brien''s app'"


def test_several_apps_with_one_display_name_fail_listing_their_app_ids():
    client = make_client([(200, {"value": [{"appId": "b-app", "id": "2"}, {"appId": "a-app", "id": "1"}]})])[0]
    with pytest.raises(GraphError) as caught:
        client.find_application(display_name="modusCloud")
    assert "2 applications are named 'modusCloud' (app ids: a-app, b-app)" in str(caught.value)
    assert caught.value.to_result() == {"app_ids": ["a-app", "b-app"]}


def test_display_name_matches_are_collected_across_pages():
    client, adapter = make_client([
        (200, {"value": [{"appId": "a", "id": "1"}], "@odata.nextLink": "https://graph.test/v1.0/applications?$skiptoken=x"}),
        (200, {"value": [{"appId": "b", "id": "2"}]})])
    with pytest.raises(GraphError):
        client.find_application(display_name="twice")
    assert adapter.calls[1]["url"] == "https://graph.test/v1.0/applications?$skiptoken=x"


def test_app_id_wins_over_unique_name_and_display_name():
    client, adapter = make_client([(200, {"value": [{"appId": "a", "id": "1"}]})])
    assert client.find_application(app_id="a", unique_name="u", display_name="d")["id"] == "1"
    assert query(adapter.calls[0])["$filter"] == "appId eq 'a'"


def test_unique_name_is_an_escaped_alternate_key_and_404_means_absent():
    client, adapter = make_client([(404, {"error": {"code": "Request_ResourceNotFound", "message": "gone"}})])
    assert client.find_application(unique_name="sync app's") is None
    path = urlsplit(adapter.calls[0]["url"]).path
    assert path == "/v1.0/applications(uniqueName='sync%20app''s')"
    assert unquote(path).endswith("(uniqueName='sync app''s')")


def test_an_upsert_of_an_existing_app_reads_it_back_for_its_ids():
    client, adapter = make_client([(204, None), (200, {"id": "1", "appId": "a"})])
    assert client.upsert_application("sync", {"displayName": "x"}) == {"id": "1", "appId": "a"}
    assert adapter.calls[0]["method"] == "PATCH"


# Permission names

def test_permission_names_resolve_to_role_and_scope_ids():
    client, adapter = make_client([(200, {"value": [GRAPH_PRINCIPAL]})])
    resolved, warnings = client.resolve_permissions([
        {"api": "Microsoft Graph", "application": ["Directory.Read.All"], "delegated": ["Directory.Read.All"]},
        {"api": GRAPH_APP_ID, "application": [], "delegated": ["Group.Read.All"]}])
    assert resolved == {GRAPH_APP_ID: {"application": {"Directory.Read.All": "role-dir"},
                                       "delegated": {"Directory.Read.All": "scope-dir", "Group.Read.All": "scope-group"}}}
    assert warnings == [] and len(adapter.calls) == 1  # the API is read once
    assert _graph.required_resource_access(resolved) == [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [
        {"id": "role-dir", "type": "Role"}, {"id": "scope-dir", "type": "Scope"}, {"id": "scope-group", "type": "Scope"}]}]


def test_every_unknown_name_is_reported_at_once_with_the_closest_valid_names():
    client = make_client([(200, {"value": [GRAPH_PRINCIPAL]})])[0]
    with pytest.raises(GraphError) as caught:
        client.resolve_permissions([{"api": "Microsoft Graph", "application": ["Directory.ReadAll", "Tasks.Review"],
                                     "delegated": ["user.readbasic.all"]}])
    text = str(caught.value)
    assert "application permission 'Directory.ReadAll' does not exist on Microsoft Graph (closest: Directory.Read.All" in text
    # An app role only users can hold is not an application permission.
    assert "application permission 'Tasks.Review' does not exist" in text
    assert "delegated permission 'user.readbasic.all' does not exist on Microsoft Graph (closest: User.ReadBasic.All" in text


def test_an_api_named_by_its_service_principal_display_name_is_found():
    other = dict(GRAPH_PRINCIPAL, appId="11111111-2222-3333-4444-555555555555", displayName="Sync API")
    client, adapter = make_client([(200, {"value": [other]}), (200, {"value": [other]})])
    resolved = client.resolve_permissions([{"api": "Sync API", "application": ["User.Read.All"]}])[0]
    assert list(resolved) == ["11111111-2222-3333-4444-555555555555"]
    assert query(adapter.calls[0])["$filter"] == "displayName eq 'Sync API'"


def test_an_api_missing_from_the_tenant_fails_clearly():
    client = make_client([(200, {"value": []})])[0]
    with pytest.raises(GraphError) as caught:
        client.resolve_permissions([{"api": "22222222-2222-3333-4444-555555555555", "application": ["X"]}])
    assert "no service principal for app id 22222222-2222-3333-4444-555555555555" in str(caught.value)


def test_the_retired_azure_ad_graph_warns_and_names_microsoft_graph_equivalents():
    legacy = {"id": "sp-aad", "appId": "00000002-0000-0000-c000-000000000000", "displayName": "Windows Azure Active Directory",
              "appRoles": [{"id": "r1", "value": "Directory.Read.All", "allowedMemberTypes": ["Application"]}],
              "oauth2PermissionScopes": [{"id": "s1", "value": "User.Read"}]}
    client = make_client([(200, {"value": [legacy]}), (200, {"value": [GRAPH_PRINCIPAL]})])[0]
    legacy_request = {"api": "Windows Azure Active Directory", "application": ["Directory.Read.All"],
                      "delegated": ["User.Read"]}
    resolved, [warning] = client.resolve_permissions([legacy_request])
    assert "retired" in warning
    assert "{api: Microsoft Graph, application: [Directory.Read.All]}" in warning
    assert "no Microsoft Graph permission of the same name for delegated User.Read" in warning
    assert resolved["00000002-0000-0000-c000-000000000000"]["application"] == {"Directory.Read.All": "r1"}


# Eventual consistency

def graph_error(status, code, message):
    response = requests.Response()
    response.status_code = status
    response._content = ('{"error": {"code": "%s", "message": "%s"}}' % (code, message)).encode()
    return response


def test_only_the_known_eventual_consistency_answers_are_retried():
    assert backing_application_not_yet_visible(graph_error(
        400, "Request_BadRequest", "The appId 'x' of the service principal does not reference a valid application object."))
    assert backing_application_not_yet_visible(graph_error(400, "NoBackingApplicationObject", "x"))
    assert not backing_application_not_yet_visible(graph_error(400, "Request_BadRequest", "Invalid value for appId"))
    assert reference_not_yet_visible(graph_error(400, "Request_BadRequest", "Not a valid reference update."))
    assert reference_not_yet_visible(graph_error(404, "Request_ResourceNotFound", "gone"))
    assert not reference_not_yet_visible(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges"))


def test_creating_a_service_principal_waits_for_its_application_then_succeeds():
    client, adapter = make_client([
        (400, {"error": {"code": "Request_BadRequest", "message": "NoBackingApplicationObject"}}),
        (201, {"id": "sp-1", "appId": "a"})])
    assert client.create_service_principal("a")["id"] == "sp-1"
    assert len(adapter.calls) == 2


def test_a_service_principal_that_already_exists_is_adopted():
    client, adapter = make_client([
        (409, {"error": {"code": "Request_MultipleObjectsWithSameKeyValue", "message": "already in use"}}),
        (200, {"value": [{"id": "sp-1", "appId": "a"}]})])
    assert client.create_service_principal("a")["id"] == "sp-1"
