from ansible_collections.moduscloud.azure_sync.plugins.modules import azure_domain_info as module

DOMAINS = [
    {"id": "Contoso.example", "isVerified": True},
    {"id": "contoso.onmicrosoft.com", "isVerified": True},
    {"id": "pending.example", "isVerified": False},
]


def test_returns_the_verified_domains_lower_case_and_sorted(graph, run_module):
    graph.tenant_domains = DOMAINS
    result = run_module(module, {})
    assert result["changed"] is False
    assert result["verified_domains"] == ["contoso.example", "contoso.onmicrosoft.com"]
    assert graph.calls[0]["query"]["$select"] == "id,isVerified"


def test_a_throttled_read_is_waited_out_not_failed(graph, run_module):
    graph.fail("GET", "^/domains$", 429, "TooManyRequests", "slow down")
    graph.tenant_domains = DOMAINS
    result = run_module(module, {})
    assert result.get("failed") is not True
    assert result["verified_domains"] == ["contoso.example", "contoso.onmicrosoft.com"]
    assert len(graph.calls) == 2


def test_a_refused_read_names_the_operation_and_status(graph, run_module):
    graph.fail("GET", "^/domains$", 403, "Authorization_RequestDenied", "Insufficient privileges")
    result = run_module(module, {})
    assert result["failed"] is True and len(graph.calls) == 1
    assert "list domains of the tenant failed: HTTP 403 Authorization_RequestDenied" in result["msg"]


def test_a_plain_http_graph_url_is_refused_before_any_request(graph, run_module):
    result = run_module(module, {"graph_url": "http://graph.test"})
    assert result["failed"] is True and graph.calls == []
    assert result["msg"] == ("graph_url must be an https:// URL (the token travels in a header), got http://graph.test")


def test_a_required_domain_that_is_verified_passes_without_regard_to_case(graph, run_module):
    graph.tenant_domains = DOMAINS
    result = run_module(module, {"required_domain": "CONTOSO.example"})
    assert result.get("failed") is not True, result.get("msg")
    assert result["verified_domains"] == ["contoso.example", "contoso.onmicrosoft.com"]


def test_a_required_domain_that_is_not_verified_fails_naming_the_verified_ones(graph, run_module):
    graph.tenant_domains = DOMAINS
    result = run_module(module, {"required_domain": "Pending.example"})
    assert result["failed"] is True
    assert result["msg"] == (
        "required_domain is pending.example, which is not a verified domain of the Entra tenant. Allowed: one of contoso.example, contoso.onmicrosoft.com."
    )
