"""The HTTP client every service client uses: retries, paging, errors, TLS and proxies. The exact requests are each
test's point, so each scripts its conversation (ScriptedAdapter) rather than using a service fake."""

import pytest
import requests

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import HttpClient
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport

from .fake_transport import ScriptedAdapter, attach


def make_client_and_sleeps(**kwargs):
    sleeps = []
    client = HttpClient("https://graph.example/v1.0", sleep=sleeps.append, **kwargs)
    return client, sleeps


def make_client(**kwargs):
    return make_client_and_sleeps(**kwargs)[0]


def test_throttling_waits_for_retry_after_then_succeeds():
    client, sleeps = make_client_and_sleeps()
    adapter = attach(client, [(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "7"}), (200, {"value": []})])
    assert client.json("GET", "/applications", "list applications") == {"value": []}
    assert sleeps == [7.0]
    assert len(adapter.calls) == 2


def test_retries_stop_at_the_wait_budget_and_report_the_last_error():
    client, sleeps = make_client_and_sleeps(max_retry_wait=10)
    attach(client, [(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "6"})] * 3)
    with pytest.raises(ApiError) as caught:
        client.json("GET", "/applications", "list applications")
    assert sleeps == [6.0]
    assert caught.value.status == 429
    assert "slow down" in str(caught.value)


def test_gateway_timeout_is_not_repeated_for_a_create():
    # A 504 may hide a processed POST: repeating it could create a duplicate.
    client, sleeps = make_client_and_sleeps()
    adapter = attach(client, [(504, {"error": {"code": "GatewayTimeout", "message": "timeout"}})])
    with pytest.raises(ApiError):
        client.json("POST", "/applications", "create application", json={"displayName": "x"})
    assert sleeps == [] and len(adapter.calls) == 1


def test_gateway_timeout_is_repeated_for_a_read():
    client, sleeps = make_client_and_sleeps()
    attach(client, [(504, None), (200, {"id": "1"})])
    assert client.json("GET", "/applications/1", "read application") == {"id": "1"}
    assert len(sleeps) == 1


def test_graph_error_names_operation_resource_code_message_and_request_id():
    client = make_client()
    attach(
        client,
        [
            (
                403,
                {
                    "error": {
                        "code": "Authorization_RequestDenied",
                        "message": "Insufficient privileges to complete the operation.",
                        "innerError": {"request-id": "abc-123"},
                    }
                },
            )
        ],
    )
    with pytest.raises(ApiError) as caught:
        client.json("POST", "/applications", "create application", resource="'modusCloud'")
    text = str(caught.value)
    for part in ("create application 'modusCloud'", "HTTP 403", "Authorization_RequestDenied", "Insufficient privileges", "request-id abc-123"):
        assert part in text
    assert caught.value.to_result() == {"status": 403, "error_code": "Authorization_RequestDenied", "request_id": "abc-123"}


def test_essentials_error_list_is_readable():
    client = make_client()
    attach(client, [(400, {"errors": [{"status": 400, "error_message": "invalid type", "identifier": "jane@x.example"}]})])
    with pytest.raises(ApiError) as caught:
        client.json("POST", "/orgs/x.example/users", "create users")
    assert "jane@x.example: invalid type" in str(caught.value)


def test_request_body_never_appears_in_the_error():
    client = make_client()
    attach(client, [(400, {"error": {"code": "Request_BadRequest", "message": "bad"}})])
    with pytest.raises(ApiError) as caught:
        client.json("PUT", "/settings", "save settings", json={"ad_key": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(caught.value)


def test_paging_follows_next_links_as_given():
    client = make_client()
    adapter = attach(
        client,
        [
            (200, {"value": [1, 2], "@odata.nextLink": "https://graph.example/v1.0/applications?$skiptoken=opaque"}),
            (200, {"value": [3]}),
        ],
    )
    assert list(client.paged("/applications", "list applications", params={"$top": "2"})) == [1, 2, 3]
    assert adapter.calls[1]["url"] == "https://graph.example/v1.0/applications?$skiptoken=opaque"


def test_ca_path_is_passed_on_every_request(monkeypatch):
    # REQUESTS_CA_BUNDLE would otherwise override the session's verify setting (requests issue 3829).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    client = make_client(ca_path="/tmp/ca.pem")
    adapter = attach(client, [(200, {}), (200, {})])
    client.json("GET", "/x", "read")
    client.json("POST", "/y", "write", json={})
    assert [call["verify"] for call in adapter.calls] == ["/tmp/ca.pem", "/tmp/ca.pem"]


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"REQUESTS_CA_BUNDLE": "/env/requests.pem", "SSL_CERT_FILE": "/env/ssl.pem"}, "/env/requests.pem"),
        ({"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "/env/ssl.pem"}, "/env/ssl.pem"),
        ({"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""}, True),
    ],
)
def test_without_ca_path_the_environment_names_the_ca_bundle_and_an_empty_variable_is_unset(monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = make_client()
    adapter = attach(client, [(200, {})])
    client.json("GET", "/x", "read")
    assert adapter.calls[0]["verify"] == expected


def test_validate_certs_false_turns_verification_off_whatever_the_environment(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/requests.pem")
    client = make_client(validate_certs=False)
    adapter = attach(client, [(200, {})])
    client.json("GET", "/x", "read")
    assert adapter.calls[0]["verify"] is False


def test_proxies_are_chosen_per_request_from_the_environment_and_no_proxy_bypasses_them(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    client = make_client()
    adapter = attach(client, [(200, {}), (200, {})])
    client.json("GET", "/x", "read")
    client.json("GET", "https://direct.example/x", "read")
    assert adapter.calls[0]["proxies"]["https"] == "http://proxy.test:3128"
    assert not any(adapter.calls[1]["proxies"].values())


def test_proxy_url_wins_over_the_environment_and_its_credentials_never_reach_an_error(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://other.test:3128")
    client = HttpClient(
        "https://graph.example/v1.0", sleep=lambda seconds: None, max_retries=0, transport=Transport(proxy_url="http://user:Pr0xy-Pa55@proxy.test:3128")
    )
    adapter = attach(client, [(200, {})])
    client.json("GET", "/x", "read")
    assert adapter.calls[0]["proxies"]["https"] == "http://user:Pr0xy-Pa55@proxy.test:3128"

    class Refusing(ScriptedAdapter):
        def send(self, request, **kwargs):
            raise requests.exceptions.ProxyError("Cannot connect to proxy http://user:Pr0xy-Pa55@proxy.test:3128")

    client.session.mount("https://", Refusing([]))
    with pytest.raises(ApiError) as caught:
        client.json("GET", "/x", "read")
    assert "Pr0xy-Pa55" not in str(caught.value) and "proxy.test:3128" in str(caught.value)


def test_caller_can_retry_a_known_transient_answer():
    client, sleeps = make_client_and_sleeps()
    attach(client, [(404, {"error": {"code": "Request_ResourceNotFound"}}), (200, {"id": "new"})])
    result = client.json("GET", "/applications/new", "read application", retry_when=lambda response: response.status_code == 404)
    assert result == {"id": "new"} and len(sleeps) == 1


def test_a_4xx_other_than_429_fails_at_once_without_retrying():
    client, sleeps = make_client_and_sleeps()
    adapter = attach(client, [(403, {"error": {"code": "Authorization_RequestDenied", "message": "no"}})])
    with pytest.raises(ApiError):
        client.json("GET", "/applications", "list applications")
    assert sleeps == [] and len(adapter.calls) == 1
