"""Connection failures that retrying cannot fix fail at once, naming what to check; a refused connection
is tried again only briefly. Real sockets: the sandbox's HTTPS server (its CA is not trusted unless given),
a name under .invalid (never resolves), a port nothing listens on."""

import socket
import warnings

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import HttpClient


def client(url, **kwargs):
    sleeps = []
    return HttpClient(url, sleep=sleeps.append, timeout=5, **kwargs), sleeps


def test_an_untrusted_certificate_fails_at_once_naming_ca_path(sandbox):
    http, sleeps = client(sandbox.info["graph_url"] + "/v1.0")
    with pytest.raises(ApiError) as caught:
        http.json("GET", "/domains", "list domains of the tenant")
    assert sleeps == []
    text = str(caught.value)
    assert "list domains of the tenant failed" in text
    assert "could not be verified" in text and "ca_path" in text and "127.0.0.1" in text


def test_a_name_that_does_not_resolve_fails_at_once_naming_the_url_options():
    http, sleeps = client("https://moduscloud-sync-test.invalid/api/v1")
    with pytest.raises(ApiError) as caught:
        http.json("GET", "/me", "read the signed-in admin")
    assert sleeps == []
    assert "does not resolve" in str(caught.value) and "api_url" in str(caught.value)


def test_a_refused_connection_is_tried_again_only_briefly_even_for_a_create():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http, sleeps = client("https://127.0.0.1:%d/api/v1" % port)
    with pytest.raises(ApiError) as caught:
        http.json("POST", "/orgs/x.example/users", "create users", json=[{"primary_email": "a@x.example"}])
    assert sum(sleeps) <= 2 and len(sleeps) == 2
    assert "refused the connection" in str(caught.value) and "(3 attempts)" in str(caught.value)


def test_validate_certs_false_reaches_the_service_without_urllib3_warnings(sandbox):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        http, sleeps = client(sandbox.info["graph_url"] + "/v1.0", validate_certs=False)
        with pytest.raises(ApiError) as refused:
            http.json("GET", "/domains", "list domains of the tenant")
    assert refused.value.status == 401  # it got through TLS: the sandbox wants a token
    assert [str(w.message) for w in caught if "Unverified HTTPS request" in str(w.message)] == []
