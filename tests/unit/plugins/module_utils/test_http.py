import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import ApiError, HttpClient

from .fake_transport import attach


def make_client_and_sleeps(**kwargs):
    sleeps = []
    client = HttpClient("https://graph.example/v1.0", sleep=sleeps.append, **kwargs)
    return client, sleeps


def make_client(**kwargs):
    return make_client_and_sleeps(**kwargs)[0]


def test_throttling_waits_for_retry_after_then_succeeds():
    client, sleeps = make_client_and_sleeps()
    adapter = attach(client, [(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "7"}),
                              (200, {"value": []})])
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
    attach(client, [(403, {"error": {"code": "Authorization_RequestDenied",
                                     "message": "Insufficient privileges to complete the operation.",
                                     "innerError": {"request-id": "abc-123"}}})])
    with pytest.raises(ApiError) as caught:
        client.json("POST", "/applications", "create application", resource="'modusCloud'")
    text = str(caught.value)
    for part in ("create application 'modusCloud'", "HTTP 403", "Authorization_RequestDenied",
                 "Insufficient privileges", "request-id abc-123"):
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
    adapter = attach(client, [
        (200, {"value": [1, 2], "@odata.nextLink": "https://graph.example/v1.0/applications?$skiptoken=opaque"}),
        (200, {"value": [3]}),
    ])
    assert list(client.paged("/applications", "list applications", params={"$top": "2"})) == [1, 2, 3]
    assert adapter.calls[1]["url"] == "https://graph.example/v1.0/applications?$skiptoken=opaque"


def test_ca_path_is_passed_on_every_request():
    # REQUESTS_CA_BUNDLE would otherwise override the session's verify setting (requests issue 3829).
    client = make_client(ca_path="/tmp/ca.pem")
    adapter = attach(client, [(200, {})])
    client.json("GET", "/x", "read")
    assert adapter.calls[0]["verify"] == "/tmp/ca.pem"
    assert client.session.trust_env is False


def test_caller_can_retry_a_known_transient_answer():
    client, sleeps = make_client_and_sleeps()
    attach(client, [(404, {"error": {"code": "Request_ResourceNotFound"}}), (200, {"id": "new"})])
    result = client.json("GET", "/applications/new", "read application",
                         retry_when=lambda response: response.status_code == 404)
    assert result == {"id": "new"} and len(sleeps) == 1
