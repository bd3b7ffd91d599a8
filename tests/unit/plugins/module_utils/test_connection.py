"""The Graph connection: options, environment, endpoints, transport and sign-in (msal at the HTTP seam)."""

import datetime
import hashlib
from urllib.parse import parse_qs

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _connection
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_certificate import (
    load_certificate_credential,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._connection import (
    GraphConnection,
    TokenError,
    acquire_token,
    endpoints,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import GraphError

from ..fake_time import FakeTime
from .fake_transport import ScriptedAdapter

DISCOVERY = {
    "authorization_endpoint": "https://login.test/t1/oauth2/v2.0/authorize",
    "token_endpoint": "https://login.test/t1/oauth2/v2.0/token",
    "issuer": "https://login.test/t1/v2.0",
}


def scripted_login(monkeypatch, answers):
    """Script the sign-in host (discovery, token, identity endpoint): the exact sign-in requests are the point."""
    adapter = ScriptedAdapter(answers)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
    return adapter


def check_connection(options):
    return GraphConnection(options, environment=False)


# Endpoints and connection options


@pytest.mark.parametrize(
    "cloud, login, graph",
    [
        ("public", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("usgovdod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ],
)
def test_one_cloud_option_sets_both_the_login_host_and_the_graph_root(cloud, login, graph):
    assert endpoints(cloud) == (login, graph)


def test_authority_host_and_graph_url_override_the_cloud():
    assert endpoints("usgov", "https://login.test/", "https://graph.test/") == ("https://login.test", "https://graph.test")


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"client_id": "c", "client_secret": "s"}, "auth=client_secret needs tenant_id (AZURE_TENANT_ID or AZURE_TENANT)"),
        ({"tenant_id": "t", "client_id": "c", "auth": "client_secret"}, "auth=client_secret needs client_secret"),
        ({"tenant_id": "t", "client_id": "c", "client_secret": "s", "client_certificate_path": "/k.pem"}, "mutually exclusive"),
        ({"tenant_id": "t", "client_id": "c", "client_secret": "s", "authority_host": "http://login.test"}, "authority_host must be an https:// URL"),
    ],
)
def test_unusable_connection_options_fail_before_any_request(params, expected):
    with pytest.raises(GraphError) as caught:
        check_connection(params)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    "cloud, authority_host, graph_url, unknown",
    [
        ("public", None, "https://graph.test", True),
        ("public", None, None, False),
        ("public", None, "https://graph.microsoft.com/", False),
        ("public", "https://login.test", "https://graph.test", False),
        ("usgov", None, "https://graph.test", False),  # the cloud chosen names its sign-in host
    ],
)
def test_the_sign_in_host_is_unknown_only_for_another_graph_of_the_default_cloud(cloud, authority_host, graph_url, unknown):
    assert _connection.sign_in_host_unknown(cloud, authority_host, graph_url) is unknown


def test_an_access_token_needs_no_other_option(monkeypatch):
    adapter = scripted_login(monkeypatch, [])
    connection = check_connection({"access_token": "token"})
    assert connection.auth == "access_token" and connection.token() == "token"
    assert adapter.calls == []  # used as given: no sign-in


# Tokens


def test_token_comes_from_msal_through_a_session_that_keeps_ca_path_despite_requests_ca_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    ca_path = tmp_path / "ca.pem"
    ca_path.write_text("")
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})])
    token = acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", ca_path=str(ca_path))
    assert token == "tok"
    assert [call["verify"] for call in adapter.calls] == [str(ca_path), str(ca_path)]
    assert adapter.calls[0]["url"] == "https://login.test/t1/v2.0/.well-known/openid-configuration"
    assert parse_qs(adapter.calls[1]["body"])["scope"] == ["https://graph.test/.default"]


def test_a_private_graph_without_its_sign_in_host_fails_before_any_request(monkeypatch):
    adapter = scripted_login(monkeypatch, [])
    with pytest.raises(GraphError) as caught:
        acquire_token("t1", "c1", "s3cret", graph_url="https://graph.test")
    assert "authority_host is not set" in str(caught.value) and adapter.calls == []


def test_a_refused_token_quotes_the_entra_error_but_never_the_secret(monkeypatch):
    scripted_login(
        monkeypatch,
        [
            (200, DISCOVERY),
            (
                401,
                {
                    "error": "invalid_client",
                    "error_codes": [7000215],
                    "correlation_id": "corr-1",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is "
                    "the client secret value (s3cret-value), not the secret ID.",
                },
            ),
        ],
    )
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
        acquire_token("t1", "c1", "Xy7~secret", authority_host="https://login.test", graph_url="https://graph.test", sleep=clock.sleep)
    assert "connection refused" in str(caught.value) and "gave up after 5 attempts" in str(caught.value)
    assert len(adapter.calls) == 5 and clock.sleeps == [1.0, 2.0, 4.0, 8.0]


# Transient answers of the token endpoint: asked again, past msal's throttle cache

TRANSIENT = {
    "error": "temporarily_unavailable",
    "error_codes": [90033],
    "correlation_id": "corr-503",
    "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
}
TOKEN = (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_failure_of_the_token_endpoint_is_asked_again(monkeypatch, status):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (status, TRANSIENT), (200, DISCOVERY), TOKEN])
    clock = FakeTime()
    assert acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", sleep=clock.sleep) == "tok"
    # The second token request really went out: msal's throttle cache would have replayed the failure.
    assert [call["method"] for call in adapter.calls] == ["GET", "POST", "GET", "POST"]
    assert clock.sleeps == [1.0]


def test_throttling_of_the_token_endpoint_waits_for_its_retry_after(monkeypatch):
    throttled = (429, {"error": "temporarily_unavailable", "error_description": "AADSTS50196: too many requests"}, {"Retry-After": "7"})
    scripted_login(monkeypatch, [(200, DISCOVERY), throttled, (200, DISCOVERY), throttled, (200, DISCOVERY), TOKEN])
    clock = FakeTime()
    assert acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", sleep=clock.sleep) == "tok"
    assert clock.sleeps == [7.0, 7.0]


def test_a_lasting_server_failure_names_client_tenant_status_and_correlation_id_never_the_secret(monkeypatch):
    failing = (503, dict(TRANSIENT, error_description=TRANSIENT["error_description"] + " (s3cret-value)"))
    scripted_login(monkeypatch, [(200, DISCOVERY), failing] * 3)
    clock = FakeTime()
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret-value", authority_host="https://login.test", graph_url="https://graph.test", max_retries=2, sleep=clock.sleep)
    error, text = caught.value, str(caught.value)
    assert text.startswith("acquire a Microsoft Graph token for client_id c1 in tenant t1 failed: HTTP 503 temporarily_unavailable: AADSTS90033")
    assert "request-id corr-503" in text and "gave up after 3 attempts" in text
    assert "s3cret-value" not in text
    assert (error.status, error.transient, error.error_codes) == (503, True, [90033])


def test_a_throttle_longer_than_the_retry_budget_fails_at_once(monkeypatch):
    scripted_login(monkeypatch, [(200, DISCOVERY), (429, b"Too Many Requests", {"Retry-After": "3600"})])
    clock = FakeTime()
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", sleep=clock.sleep)
    assert "HTTP 429" in str(caught.value) and "Too Many Requests" in str(caught.value)
    assert caught.value.retry_after == 3600 and clock.sleeps == []


def test_a_refusal_is_not_asked_again(monkeypatch):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (400, {"error": "invalid_request", "error_description": "AADSTS90002: no tenant"})])
    with pytest.raises(TokenError) as caught:
        acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", sleep=FakeTime().sleep)
    assert caught.value.transient is False and len(adapter.calls) == 2


def test_the_sign_in_requests_carry_the_timeout(monkeypatch):
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), TOKEN])
    acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test", timeout=12)
    assert [call["timeout"] for call in adapter.calls] == [12, 12]


def write_certificate(tmp_path, with_key=True):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if with_key:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) + pem
    path = tmp_path / "identity.pem"
    path.write_bytes(pem)
    return str(path), cert


def test_a_certificate_pem_gives_msal_the_key_and_the_sha1_thumbprint(tmp_path):
    path, cert = write_certificate(tmp_path)
    credential = load_certificate_credential(path)
    assert credential["thumbprint"] == hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    assert credential["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_a_certificate_login_sends_a_signed_assertion_not_a_secret(tmp_path, monkeypatch):
    path, _cert = write_certificate(tmp_path)
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY), (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})])
    assert acquire_token("t1", "c1", client_certificate_path=path, authority_host="https://login.test", graph_url="https://graph.test") == "tok"
    form = parse_qs(adapter.calls[1]["body"])
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert "client_secret" not in form


def test_a_pem_without_the_private_key_is_refused_clearly(tmp_path):
    path, _cert = write_certificate(tmp_path, with_key=False)
    with pytest.raises(GraphError) as caught:
        load_certificate_credential(path)
    assert "must be a PEM file holding both the private key and the certificate (found: CERTIFICATE)" in str(caught.value)


# The environment, as azure-identity, azure.azcollection and AWX set it

AZURE_ENV = (
    "AZURE_TENANT_ID",
    "AZURE_TENANT",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_SYNC_AUTH",
    "AZURE_SYNC_CA_PATH",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
)
WHERE = {"authority_host": "https://login.test", "graph_url": "https://graph.test"}


@pytest.fixture
def clean_env(monkeypatch):
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no az
    return monkeypatch


def test_azure_rm_names_are_accepted_and_the_azure_identity_names_win(clean_env):
    clean_env.setenv("AZURE_TENANT", "rm-tenant")
    clean_env.setenv("AZURE_SECRET", "rm-secret")
    clean_env.setenv("AZURE_CLIENT_ID", "c1")
    connection = GraphConnection(dict(WHERE))
    assert connection.auth == "client_secret"
    assert (connection.options["tenant_id"], connection.options["client_secret"]) == ("rm-tenant", "rm-secret")
    clean_env.setenv("AZURE_TENANT_ID", "identity-tenant")
    clean_env.setenv("AZURE_CLIENT_SECRET", "identity-secret")
    connection = GraphConnection(dict(WHERE))
    assert (connection.options["tenant_id"], connection.options["client_secret"]) == ("identity-tenant", "identity-secret")


def test_awx_style_empty_variables_count_as_unset(clean_env, tmp_path):
    # AWX injects every key of a credential type; a client secret credential leaves the certificate empty.
    for name in AZURE_ENV:
        clean_env.setenv(name, "")
    clean_env.setenv("AZURE_TENANT_ID", "t1")
    clean_env.setenv("AZURE_CLIENT_ID", "c1")
    clean_env.setenv("AZURE_CLIENT_SECRET", "s3cret")
    connection = GraphConnection({"client_certificate_path": "", "ca_path": "", **WHERE})
    assert connection.auth == "client_secret"
    assert connection.transport.ca_source != "ca_path"


def test_an_explicit_option_wins_over_the_environment(clean_env):
    clean_env.setenv("AZURE_CLIENT_SECRET", "from-env")
    connection = GraphConnection(dict(WHERE, tenant_id="t1", client_id="c1", client_secret="given"))
    assert connection.options["client_secret"] == "given"


def test_a_given_access_token_beats_a_method_only_the_environment_names(clean_env):
    # The managed and workload identity credential types set AZURE_SYNC_AUTH; the role still signs in once
    # per play and hands every module its token, so no module may sign in again on its own.
    clean_env.setenv("AZURE_SYNC_AUTH", "managed_identity")
    clean_env.setenv("IDENTITY_ENDPOINT", "https://identity.test/msi")
    clean_env.setenv("IDENTITY_HEADER", "h")
    assert GraphConnection(dict(WHERE, access_token="eyJ.a.b")).auth == "access_token"
    assert GraphConnection(dict(WHERE)).auth == "managed_identity"
    assert GraphConnection(dict(WHERE, access_token="eyJ.a.b", auth="managed_identity")).auth == "managed_identity"


@pytest.mark.parametrize(
    "env, options, expected",
    [
        ({}, {"access_token": "tok", "client_secret": "s"}, "access_token"),
        ({}, {"client_certificate_path": "/k.pem", "tenant_id": "t", "client_id": "c"}, "certificate"),
        ({"AZURE_FEDERATED_TOKEN_FILE": "{token}"}, {"tenant_id": "t", "client_id": "c"}, "workload_identity"),
        ({"IDENTITY_ENDPOINT": "https://127.0.0.1:1/msi", "IDENTITY_HEADER": "h"}, {}, "managed_identity"),
        ({"IDENTITY_ENDPOINT": "https://127.0.0.1:1/msi", "AZURE_FEDERATED_TOKEN_FILE": "{token}"}, {"tenant_id": "t", "client_id": "c"}, "workload_identity"),
        ({"AZURE_SYNC_AUTH": "managed_identity"}, {"client_secret": "s", "tenant_id": "t", "client_id": "c"}, "managed_identity"),
    ],
)
def test_auto_picks_the_first_possible_method_in_the_documented_order(clean_env, tmp_path, env, options, expected):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.assertion.sig")
    for name, value in env.items():
        clean_env.setenv(name, value.format(token=token_file))
    assert GraphConnection(dict(WHERE, **options)).auth == expected


def test_azure_cli_is_chosen_when_az_is_on_the_path(clean_env, tmp_path):
    (tmp_path / "az").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "az").chmod(0o700)
    clean_env.setenv("PATH", str(tmp_path))
    assert GraphConnection(dict(WHERE)).auth == "azure_cli"


def test_a_secret_and_a_certificate_together_are_refused_unless_auth_chooses(clean_env):
    options = dict(WHERE, tenant_id="t", client_id="c", client_secret="s", client_certificate_path="/k.pem")
    with pytest.raises(GraphError) as caught:
        GraphConnection(options)
    assert "mutually exclusive" in str(caught.value) and "set auth" in str(caught.value)
    assert GraphConnection(dict(options, auth="certificate")).auth == "certificate"


def test_workload_identity_rereads_its_token_file_at_every_sign_in(clean_env, tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("first-assertion")
    adapter = scripted_login(
        monkeypatch,
        [(200, DISCOVERY), (200, {"access_token": "one", "expires_in": 3600}), (200, DISCOVERY), (200, {"access_token": "two", "expires_in": 3600})],
    )
    options = dict(WHERE, tenant_id="t1", client_id="c1", federated_token_file=str(token_file))
    assert GraphConnection(options).token() == "one"
    token_file.write_text("rotated-assertion")
    assert GraphConnection(options).token() == "two"
    assertions = [parse_qs(call["body"])["client_assertion"] for call in adapter.calls if call["method"] == "POST"]
    assert assertions == [["first-assertion"], ["rotated-assertion"]]


def test_an_unreadable_federated_token_file_fails_before_any_request(clean_env, tmp_path, monkeypatch):
    adapter = scripted_login(monkeypatch, [])
    with pytest.raises(GraphError) as caught:
        GraphConnection(dict(WHERE, tenant_id="t1", client_id="c1", federated_token_file=str(tmp_path / "none")))
    assert "federated_token_file %s cannot be read" % (tmp_path / "none") in str(caught.value)
    assert adapter.calls == []


def test_managed_identity_goes_through_msal_to_the_identity_endpoint_with_its_header(clean_env, monkeypatch):
    clean_env.setenv("IDENTITY_ENDPOINT", "https://identity.test/msi/token")
    clean_env.setenv("IDENTITY_HEADER", "header-secret")
    clean_env.setenv("MSI_SECRET", "")  # AWX-style empty key: not a source msal may pick
    adapter = scripted_login(
        monkeypatch, [(200, {"access_token": "mi-token", "expires_on": "9999999999", "resource": "https://graph.test", "token_type": "Bearer"})]
    )
    connection = GraphConnection(dict(WHERE, client_id="mi-client"))
    assert connection.auth == "managed_identity" and connection.token() == "mi-token"
    query = dict(parse_qs(adapter.calls[0]["url"].split("?", 1)[1]))
    assert query["resource"] == ["https://graph.test"] and query["client_id"] == ["mi-client"]
    assert adapter.calls[0]["url"].startswith("https://identity.test/msi/token?")


def test_the_lookup_and_a_module_refuse_auth_values_they_do_not_offer(clean_env):
    with pytest.raises(GraphError) as caught:
        GraphConnection(dict(WHERE, auth="password"))
    assert "auth must be one of" in str(caught.value)
    with pytest.raises(GraphError) as caught:
        GraphConnection(dict(WHERE, auth="device_code", tenant_id="t", client_id="c"))
    assert "only possible in the moduscloud.azure_sync.graph_token lookup" in str(caught.value)
