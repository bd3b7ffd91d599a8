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
    GraphError,
    TokenError,
    acquire_token,
    endpoints,
)

from ..fake_time import FakeTime
from .fake_transport import ScriptedAdapter

DISCOVERY = {"authorization_endpoint": "https://login.test/t1/oauth2/v2.0/authorize",
             "token_endpoint": "https://login.test/t1/oauth2/v2.0/token",
             "issuer": "https://login.test/t1/v2.0"}


def scripted_login(monkeypatch, answers):
    adapter = ScriptedAdapter(answers)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
    return adapter


def check_connection(options):
    return GraphConnection(options, environment=False)

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
    ({"client_id": "c", "client_secret": "s"}, "auth=client_secret needs tenant_id (AZURE_TENANT_ID or AZURE_TENANT)"),
    ({"tenant_id": "t", "client_id": "c", "auth": "client_secret"}, "auth=client_secret needs client_secret"),
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
    assert _connection.sign_in_host_unknown(cloud, authority_host, graph_url) is unknown


def test_an_access_token_needs_no_other_option():
    check_connection({"access_token": "token"})


# Tokens

def test_token_comes_from_msal_through_a_session_that_keeps_ca_path_despite_requests_ca_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    ca_path = tmp_path / "ca.pem"
    ca_path.write_text("")
    adapter = scripted_login(monkeypatch, [(200, DISCOVERY),
                                           (200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})])
    token = acquire_token("t1", "c1", "s3cret", authority_host="https://login.test", graph_url="https://graph.test",
                          ca_path=str(ca_path))
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
    credential = load_certificate_credential(path)
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
        load_certificate_credential(path)
    assert "must be a PEM file holding both the private key and the certificate (found: CERTIFICATE)" in str(
        caught.value)


