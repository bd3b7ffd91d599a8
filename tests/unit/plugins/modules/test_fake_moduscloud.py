"""FakeModusCloud against the sandbox's modusCloud (sandbox/moduscloud/service.py): the same requests get the same
statuses and, where the fake keeps the state, the same bodies. What the module tests rely on it answering as the
service does."""

import json
from urllib.parse import urlsplit

import pytest

from sandbox.moduscloud.service import ModusCloudService
from sandbox.moduscloud.wire import kb_settings_wire

from .fake_moduscloud import FakeModusCloud

ORG = "contoso.example"
ADMIN = "admin@" + ORG
PASSWORD = "Pw-0f-the-Admin-7731"
HEADERS = {"X-User": ADMIN, "X-Password": PASSWORD, "Host": "mc.test"}
SETTINGS = "/orgs/%s/settings/azure" % ORG
EXEMPTIONS = SETTINGS + "/exemptions"
DOMAINS = "/orgs/%s/domains" % ORG
KB = kb_settings_wire(ORG, "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21")
STRING_BOOLEANS = dict((key, str(value).lower()) if isinstance(value, bool) else (key, value) for key, value in KB.items())

# (method, path below /api/v1, body, what to compare: "status", "body", or a function of the answer's body)
CONVERSATION = [
    ("GET", SETTINGS, None, "body"),
    ("DELETE", SETTINGS, None, "body"),
    ("PUT", SETTINGS, KB, "body"),  # no key stored yet: ad_key is required
    ("PUT", SETTINGS, dict(STRING_BOOLEANS, ad_key="k-1"), "status"),  # JSON booleans only
    ("PUT", SETTINGS, dict(KB, ad_key="k-1", colour="blue"), "status"),
    ("PUT", SETTINGS, dict(KB, ad_key="k-1"), "body"),
    ("GET", SETTINGS, None, lambda body: (sorted(body), dict((key, body[key]) for key in KB), body["secret_expiry"] is not None)),
    ("PUT", SETTINGS, dict(KB, sync_frequency=24), "body"),  # the key is kept
    ("GET", SETTINGS, None, lambda body: (body["sync_frequency"], body["secret_expiry"] is not None)),
    ("GET", EXEMPTIONS, None, "body"),
    ("PUT", EXEMPTIONS, {"exemptions": "a@contoso.example,B@contoso.example"}, "body"),
    ("PUT", EXEMPTIONS, {"exemptions": ["c@contoso.example"]}, "status"),
    ("PUT", EXEMPTIONS, {"exemptions": "not an address"}, "status"),
    ("GET", EXEMPTIONS, None, "body"),
    ("DELETE", EXEMPTIONS + "/x@contoso.example", None, "status"),
    ("DELETE", EXEMPTIONS + "/A@contoso.example", None, "body"),
    ("GET", EXEMPTIONS, None, "body"),
    ("DELETE", EXEMPTIONS, None, "body"),
    ("GET", EXEMPTIONS, None, "body"),
    ("GET", DOMAINS, None, "body"),
    ("POST", DOMAINS, {"name": "fabrikam.example", "is_relay": True, "destination": "mx.fabrikam.example"}, "body"),
    ("POST", DOMAINS, {"name": "Fabrikam.example"}, "body"),
    ("POST", DOMAINS, {"name": "not a domain"}, "body"),
    ("POST", DOMAINS, [{"name": "one.example"}, {"name": "two.example"}], "body"),
    ("GET", DOMAINS + "/fabrikam.example", None, "body"),
    ("PUT", DOMAINS + "/fabrikam.example", {"name": "fabrikam.example", "is_relay": False}, "body"),
    ("GET", DOMAINS, None, "body"),
    ("DELETE", DOMAINS + "/" + ORG, None, "body"),
    ("DELETE", DOMAINS + "/fabrikam.example", None, "body"),
    ("GET", DOMAINS + "/fabrikam.example", None, "body"),
    ("GET", "/orgs/" + ORG, None, lambda body: body["primary_domain"]),
    ("GET", "/orgs/unknown.example/domains", None, "status"),
    ("GET", "/me", None, lambda body: (body["primary_email"], body["type"], body["entity_primary_domain"])),
    ("GET", "/endpoints/" + ORG, None, "body"),
    ("GET", "/endpoints/unknown.example", None, "status"),
    ("DELETE", SETTINGS, None, "body"),
    ("GET", SETTINGS, None, "body"),
]


def sandbox_answer(service, method, path, body, headers=None):
    headers = HEADERS if headers is None else headers
    raw = None if body is None else json.dumps(body).encode()
    status, _headers, payload = service.handle(method, "/api/v1" + path, {}, headers, raw)
    return status, json.loads(payload) if payload else None


def fake_answer(fake, method, path, body, headers=None):
    headers = HEADERS if headers is None else headers
    url = urlsplit("https://%s/api/v1%s" % (headers["Host"], path))
    return fake.respond(method, path, None if body is None else json.dumps(body), headers, url)


@pytest.fixture
def both():
    """The organization in the sandbox's service and in the fake, each with only its primary domain and its admin."""
    service = ModusCloudService(login_url="http://127.0.0.1:9/login", graph_url="http://127.0.0.1:9/graph", ca_bundle="/nonexistent/ca.pem")
    service.add_org(domain=ORG, admin_user=ADMIN, admin_password=PASSWORD, domains=[ORG])
    return service, FakeModusCloud(ORG, username=ADMIN, password=PASSWORD)


@pytest.mark.parametrize("step", range(len(CONVERSATION)), ids=["%d-%s %s" % (n, step[0], step[1]) for n, step in enumerate(CONVERSATION)])
def test_the_fake_answers_each_request_as_the_sandbox_service_does(both, step):
    service, fake = both
    for method, path, body, _compare in CONVERSATION[:step]:  # the state the conversation has built so far
        sandbox_answer(service, method, path, body)
        fake_answer(fake, method, path, body)
    method, path, body, compare = CONVERSATION[step]
    expected, got = sandbox_answer(service, method, path, body), fake_answer(fake, method, path, body)
    assert got[0] == expected[0], (expected, got)
    if compare == "body":
        assert got[1] == expected[1]
    elif callable(compare):
        assert compare(got[1]) == compare(expected[1])


def test_a_wrong_password_is_refused_by_both(both):
    service, fake = both
    wrong = dict(HEADERS, **{"X-Password": "not-it"})
    assert sandbox_answer(service, "GET", DOMAINS, None, wrong) == fake_answer(fake, "GET", DOMAINS, None, wrong)
