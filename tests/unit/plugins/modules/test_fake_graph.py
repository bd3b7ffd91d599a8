"""FakeGraph's own $batch: what the module tests rely on it answering the way Graph does."""

import requests

from .fake_graph import FakeGraph


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
