"""FakeGraph's own $batch, paging and $select, and the sign-in host before it: what the module tests rely on them
answering the way Graph and Entra do."""

import requests

from ..builders import entra_user
from .fake_graph import FakeGraph
from .fake_sign_in import LOGIN, FakeSignIn


def post_batch(fake, items):
    session = requests.Session()
    session.mount("https://", fake)
    return session.post(FakeGraph.BASE + "/$batch", json={"requests": items}, headers={"Authorization": "Bearer t"})


def test_each_request_of_a_batch_is_answered_by_its_own_route_with_its_id():
    fake = FakeGraph()
    fake.groups = [{"id": "g-1", "displayName": "One", "members": ["u-1"]}]
    fake.fail("GET", "^/groups/g-2/members$", 429, "TooManyRequests", "slow down", headers={"Retry-After": "7"})
    items = [{"id": "1", "method": "GET", "url": "/groups/g-1/members?$select=id"}, {"id": "2", "method": "GET", "url": "groups/g-2/members"}]
    answer = post_batch(fake, items)
    assert answer.status_code == 200
    first, second = answer.json()["responses"]
    assert (first["id"], first["status"], first["body"]["value"]) == ("1", 200, [{"@odata.type": "#microsoft.graph.user", "id": "u-1"}])
    assert (second["id"], second["status"], second["headers"]["Retry-After"]) == ("2", 429, "7")
    inner = [call for call in fake.calls if call.get("batch")]
    assert [(call["path"], call["query"], call["headers"]) for call in inner] == [
        ("/groups/g-1/members", {"$select": "id"}, {"Authorization": "Bearer t"}),
        ("/groups/g-2/members", {}, {"Authorization": "Bearer t"}),
    ]


def test_a_batch_of_more_than_20_requests_is_refused_as_a_whole():
    fake = FakeGraph()
    answer = post_batch(fake, [{"id": str(n), "method": "GET", "url": "/domains"} for n in range(21)])
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
    assert not [call for call in fake.calls if call.get("batch")]


def test_pages_keep_select_and_top_and_hold_the_selected_properties_only():
    fake = FakeGraph(page_size=2)
    fake.users = [entra_user("u%d@contoso.example" % n) for n in range(3)]
    session = requests.Session()
    session.mount("https://", fake)
    first = session.get(FakeGraph.BASE + "/users?$select=id,mail&$top=999").json()
    assert first["value"] == [{"id": "id-u0", "mail": "u0@contoso.example"}, {"id": "id-u1", "mail": "u1@contoso.example"}]
    second = session.get(first["@odata.nextLink"]).json()
    assert second == {"value": [{"id": "id-u2", "mail": "u2@contoso.example"}]}
    assert [call["query"].get("$select") for call in fake.calls] == ["id,mail", "id,mail"]


def test_a_signed_in_application_reads_with_admin_consent_only():
    fake = FakeGraph()
    fake.tenant_domains = [{"id": "contoso.example", "isVerified": True}]
    app = fake.add_application("modusCloud")
    fake.add_secret(app, "the-key")
    sign_in = FakeSignIn(fake)
    session = requests.Session()
    session.mount("https://", sign_in)

    def token(tenant, secret):
        form = {"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": secret, "scope": "https://graph.test/.default"}
        return session.post("%s/%s/oauth2/v2.0/token" % (LOGIN, tenant), data=form)

    refused = token("contoso.example", "not-the-key")
    assert refused.status_code == 401 and refused.json()["error_codes"] == [7000215]
    assert token("fabrikam.example", "the-key").json()["error_codes"] == [90002]
    issued = token("contoso.example", "the-key").json()["access_token"]
    read = session.get(FakeGraph.BASE + "/domains", headers={"Authorization": "Bearer " + issued})
    assert read.status_code == 403 and read.json()["error"]["code"] == "Authorization_RequestDenied"
    fake.consent(app)
    assert session.get(FakeGraph.BASE + "/domains", headers={"Authorization": "Bearer " + issued}).status_code == 200
    assert [call["path"].split("/")[1] for call in sign_in.token_requests()] == ["contoso.example", "fabrikam.example", "contoso.example"]
