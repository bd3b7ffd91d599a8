"""A small in-memory modusCloud (Proofpoint Essentials API v1) organization, for tests that run a
module's main() and need state across runs: the Azure import settings, the exemptions, the
organization's domains and its users. It answers what moduscloud_user_sync calls; anything else
is an AssertionError. Tests that check an exact conversation script it instead (module_runner.run_scripted).
"""

import copy
import json


class FakeModusCloud(object):
    def __init__(self, org, settings=None, domains=(), users=()):
        self.org = org
        self.settings = dict(settings or {})
        self.org_domains = list(domains)
        self.exemptions = []
        self.org_users = dict((user["primary_email"], user) for user in users)

    def answer(self, method, path, body):
        """(status, payload) for `method` on `path` (below /api/v1) with the raw request `body`."""
        parts = path.strip("/").split("/")
        assert parts[:2] == ["orgs", self.org], path
        rest = "/".join(parts[2:])
        body = json.loads(body) if body else None
        if (method, rest) == ("GET", "settings/azure"):
            return (200, dict(self.settings)) if self.settings else (404, {"errors": [{"error_message": "not set"}]})
        if (method, rest) == ("GET", "settings/azure/exemptions"):
            return 200, [{"email": email} for email in self.exemptions]
        if (method, rest) == ("GET", "domains"):
            return 200, {"domains": [{"name": name, "is_active": True} for name in self.org_domains]}
        if (method, rest) == ("GET", "users"):
            return 200, {"users": copy.deepcopy(list(self.org_users.values()))}
        if (method, rest) == ("POST", "users"):
            for user in body:
                self.org_users[user["primary_email"]] = dict(user, uid=len(self.org_users) + 1000)
            return 201, body
        if rest.startswith("users/"):
            address = rest[len("users/") :]
            if method == "GET":
                return 200, copy.deepcopy(self.org_users[address])
            if method == "PUT":
                self.org_users[address] = body
                return 204, None
            if method == "DELETE":
                del self.org_users[address]
                return 204, None
        raise AssertionError("unexpected modusCloud request %s %s" % (method, path))
