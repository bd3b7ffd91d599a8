"""The batched directory read gives the same report, byte for byte, as the reader it replaced (one Graph
request per group for its members), on the same seeded sandbox directory, in far fewer requests."""

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sandbox"))
_COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections")
if os.path.abspath(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))

from graph_client import app_token  # noqa: E402  (tests/sandbox, on the path above)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError  # noqa: E402
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import GraphClient  # noqa: E402
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import (  # noqa: E402
    reconcile,
    render_markdown,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync_report import (  # noqa: E402
    GROUP_FIELDS,
    USER_FIELDS,
    read_directory,
)
from tests.unit.plugins import builders  # noqa: E402

SETTINGS = dict(builders.sync_switches(), default_user_role="end_user")
BIG_GROUP = 2100  # members: three pages of 999, continued from nextLinks in later batches


def per_group_reader(new_client, settings):
    """The directory read as it was before batching: one request (and its pages) per group, four at a time."""
    graph = new_client()
    domains = graph.verified_domains()
    users = graph.list_users(USER_FIELDS)
    groups = list(graph.iter_groups(GROUP_FIELDS))
    local = threading.local()

    def members_of(group):
        if not hasattr(local, "graph"):
            local.graph = new_client()
        try:
            return list(
                local.graph.http.paged("/groups/%s/members" % group["id"], "list members of group", group["id"], params={"$select": "id", "$top": "999"})
            )
        except ApiError as error:
            if error.status == 404:  # deleted since it was listed
                return None
            raise

    with ThreadPoolExecutor(max_workers=4) as pool:
        for group, members in zip(groups, list(pool.map(members_of, groups))):
            group["members"] = members
    return domains, users, [group for group in groups if group["members"] is not None]


def report_bytes(directory, info):
    domains, users, groups = directory
    org_users = [
        {"primary_email": user["mail"].lower(), "type": "end_user", "firstname": "Old", "surname": "Name", "alias_emails": [], "is_active": True}
        for user in users[::7]
        if user.get("mail")
    ]
    report = reconcile(
        entra_users=users,
        entra_groups=groups,
        tenant_domains=domains,
        settings=SETTINGS,
        exemptions=[],
        org_domains=[info["tenant_domain"]],
        org_users=org_users,
    )
    return json.dumps(report, sort_keys=True).encode(), render_markdown(report).encode()


@pytest.fixture
def seeded(fresh_sandbox):
    fresh_sandbox.reset(users=2200, groups=230, seed=3)
    info = fresh_sandbox.info
    token = app_token(info, info["admin_client_id"], info["admin_client_secret"])
    # A group with more members than a page holds: its pages must come back whole and in order.
    users = [user["id"] for user in GraphClient(token, info["graph_url"], ca_path=info["ca_bundle"]).list_users("id")][:BIG_GROUP]
    fresh_sandbox.control(
        "POST",
        "/directory/groups",
        {"displayName": "Everyone", "mail": "everyone@" + info["tenant_domain"], "mailEnabled": True, "securityEnabled": False, "members": users},
    )
    return info, token


def test_batched_read_reports_byte_for_byte_what_the_per_group_reader_did(fresh_sandbox, seeded):
    info, token = seeded

    def new_client():
        return GraphClient(token, info["graph_url"], ca_path=info["ca_bundle"])

    start = fresh_sandbox.stats()["by_service"]["graph"]
    before = per_group_reader(new_client, SETTINGS)
    middle = fresh_sandbox.stats()["by_service"]["graph"]
    after = read_directory(new_client, SETTINGS)
    end = fresh_sandbox.stats()["by_service"]["graph"]

    assert len(after[2]) == 231 and max(len(group["members"]) for group in after[2]) == BIG_GROUP
    assert after == before
    assert report_bytes(after, info) == report_bytes(before, info)
    old_requests = middle["requests"] - start["requests"]
    new_requests = end["requests"] - middle["requests"]
    # 1 domains + 3 user pages + 1 group page + ceil(231 / 20) = 12 batches + 2 for the big group's later pages.
    assert new_requests == 1 + 3 + 1 + 12 + 2
    assert old_requests == 1 + 3 + 1 + 231 + 2
    assert end["writes"] == start["writes"]
