"""One organization's modusCloud (Proofpoint Essentials API v1) in memory, behind a requests adapter, for tests that
run a module's main(): its domains, Azure AD import settings (and stored key), sync exemptions and users, answered
and changed the way the service does, in the service's own vocabulary (sandbox/moduscloud/wire.py), every request
recorded. Anything it does not know is an AssertionError, not a silent 404.
"""

import copy
import json
import re
from datetime import date
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

from requests.adapters import BaseAdapter

from sandbox.moduscloud.accounts import AccountsApi
from sandbox.moduscloud.wire import (
    AZURE_BOOL_KEYS,
    AZURE_SETTING_KEYS,
    AZURE_SETTINGS_ABSENT_STATUS,
    DOMAIN_DEFAULTS,
    EXEMPTIONS_BODY_KEY,
    SECRET_LIFETIME,
    ApiError,
    is_email,
    me_body,
    one_or_many,
)

from ..module_utils.fake_transport import JSON_HEADERS, Faults, make_response

API_ROOT = "/api/v1"
ADMIN = "admin@example.com"
# A key the service holds for settings a test starts with (what it is does not matter: GET never shows it).
STORED_KEY = "key-stored-before-the-test"


def error(status, message, identifier=""):
    """modusCloud's error envelope (sandbox/moduscloud/wire.py ApiError)."""
    return status, {"errors": ApiError(status, message, identifier).errors}


def domain_object(name, **fields):
    """A domain as GET answers it: the service's defaults, with `fields`."""
    return dict(dict({"name": name.lower()}, **copy.deepcopy(DOMAIN_DEFAULTS)), **fields)


class FakeModusCloud(BaseAdapter):
    """The organization `org` (its primary domain), reached at any host below /api/v1, for the admin `username`
    signing in with `password` (None: any credentials pass).

    State, in the service's wire form: `domains` (name -> domain object; `org_domains` gives and takes the names),
    `settings` (the Azure AD import settings as GET answers them, with secret_expiry and last_successful_sync;
    None or {}: not configured), `ad_key` (write-only on the wire), `exemptions` (addresses), `org_users`
    (primary_email -> user object). `calls` records every request; `fail`/`answer` script a fault.
    """

    def __init__(self, org, settings=None, domains=None, users=(), exemptions=(), username=ADMIN, password=None):
        super().__init__()
        self.org = org.lower()
        self.username = username
        self.password = password
        self.domains = {}
        self.org_domains = list(domains) if domains is not None else [self.org]
        self.settings = dict(settings) if settings else None
        self.ad_key = STORED_KEY if settings else None
        self.exemptions = list(exemptions)
        self.org_users = dict((user["primary_email"], user) for user in users)
        self.calls = []
        self.faults = Faults()

    # Seeding and inspection

    @property
    def org_domains(self):
        return list(self.domains)

    @org_domains.setter
    def org_domains(self, names):
        """The organization's domains by name, each a domain with the service's defaults (or a domain object)."""
        self.domains = dict((item["name"], item) if isinstance(item, dict) else (item.lower(), domain_object(item)) for item in names)

    def answer(self, method, path_pattern, status, body, times=1):
        """Answer the next `times` requests matching `method` and `path_pattern` (below /api/v1) with this."""
        self.faults.add(method, path_pattern, times, (status, body))

    def fail(self, method, path_pattern, status, message, times=1):
        """Answer the next `times` matching requests with modusCloud's error envelope."""
        self.answer(method, path_pattern, *error(status, message, self.org), times=times)

    @property
    def requests(self):
        """(method, path below /api/v1) of every request, in order."""
        return [(call["method"], call["path"]) for call in self.calls]

    @property
    def writes(self):
        """(method, path) of every request that asks for a change."""
        return [request for request in self.requests if request[0] != "GET"]

    def sent(self, method, path):
        """The JSON body of the last `method` request to `path`."""
        raw = [call["body"] for call in self.calls if (call["method"], call["path"]) == (method, path)][-1]
        return json.loads(raw) if raw else None

    # The transport

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        path = unquote(url.path)
        assert path.startswith(API_ROOT + "/"), "not a modusCloud API request: %s %s" % (request.method, request.url)
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        call = {
            "method": request.method,
            "url": request.url,
            "path": path[len(API_ROOT) :],
            "query": dict((key, values[0]) for key, values in parse_qs(url.query).items()),
            "body": body,
            "headers": dict(request.headers),
            "verify": kwargs.get("verify"),
        }
        self.calls.append(call)
        status, payload = self.faults.take(call["method"], call["path"]) or self.respond(call["method"], call["path"], body, call["headers"], url)
        return make_response(request, status, payload, JSON_HEADERS if payload is not None else {})

    def close(self):
        pass

    def respond(self, method, path, body, headers=None, url=None):
        """The service's answer (status, payload) to `method` on `path` (below /api/v1) with the raw `body`; `url` (split)
        is where the request went, which /endpoints answers."""
        headers = headers or {}
        if self.password is not None and (headers.get("X-User", "").lower() != self.username.lower() or headers.get("X-Password") != self.password):
            return error(401, "Authentication failed: X-User or X-Password is missing or wrong", "X-User")
        parts = [unquote(part) for part in path.strip("/").split("/")]
        try:
            if parts == ["me"] and method == "GET":
                caller = {"primary_email": self.username, "type": "organization_admin", "read_only_user": False}
                return 200, me_body(caller, SimpleNamespace(primary_domain=self.org))
            if parts[0] == "endpoints" and len(parts) == 2 and method == "GET":
                return self._endpoints(parts[1], url)
            if parts[0] == "orgs" and len(parts) >= 2:
                if parts[1].lower() not in self.domains:
                    raise ApiError(404, "organization %s not found" % parts[1], parts[1])
                return self._route(method, "/".join(parts[2:]), json.loads(body) if body else None)
        except ApiError as refused:
            return refused.status, {"errors": refused.errors}
        raise AssertionError("FakeModusCloud does not answer %s %s" % (method, path))

    ROUTES = [
        (r"", {"GET": "get_org"}),
        (r"domains", {"GET": "list_domains", "POST": "create_domains"}),
        (r"domains/([^/]+)", {"GET": "get_domain", "PUT": "put_domain", "DELETE": "delete_domain"}),
        (r"settings/azure", {"GET": "get_settings", "PUT": "put_settings", "DELETE": "delete_settings"}),
        (r"settings/azure/exemptions", {"GET": "list_exemptions", "PUT": "add_exemptions", "DELETE": "clear_exemptions"}),
        (r"settings/azure/exemptions/([^/]+)", {"DELETE": "delete_exemption"}),
        (r"users", {"GET": "list_users", "POST": "create_users"}),
        (r"users/([^/]+)", {"GET": "get_user", "PUT": "put_user", "DELETE": "delete_user"}),
    ]

    def _route(self, method, rest, body):
        for pattern, handlers in self.ROUTES:
            match = re.match(pattern + "$", rest)
            if match and method in handlers:
                return getattr(self, handlers[method])(*match.groups(), body=body)
        raise AssertionError("FakeModusCloud does not answer %s /orgs/%s/%s" % (method, self.org, rest))

    # Connection and organization

    def _endpoints(self, domain, url):
        if domain.lower() not in self.domains:
            raise ApiError(404, "domain %s not found" % domain, domain)
        return 200, {"endpoints": ["%s://%s" % (url.scheme, url.netloc)]}

    def get_org(self, body):
        return 200, {"name": self.org, "primary_domain": self.org, "type": "organization", "domains": copy.deepcopy(list(self.domains.values()))}

    # Domains (sandbox/moduscloud/accounts.py checks a domain object as the service does)

    def _domain(self, name):
        if name.lower() not in self.domains:
            raise ApiError(404, "domain %s not found in organization %s" % (name, self.org), name)
        return self.domains[name.lower()]

    def list_domains(self, body):
        return 200, {"domains": copy.deepcopy(list(self.domains.values()))}

    def create_domains(self, body):
        items, was_list = one_or_many(body, "domain")
        created = []
        for index, item in enumerate(items):
            domain = AccountsApi._valid_domain(item, item.get("name") if isinstance(item, dict) else "item %d" % index)
            if domain["name"] in self.domains or domain["name"] in [other["name"] for other in created]:
                raise ApiError(409, "domain %s already exists" % domain["name"], domain["name"])
            created.append(domain)
        self.domains.update((domain["name"], domain) for domain in created)
        return 201, copy.deepcopy(created if was_list else created[0])

    def get_domain(self, name, body):
        return 200, copy.deepcopy(self._domain(name))

    def put_domain(self, name, body):
        current = self._domain(name)["name"]
        self.domains[current] = AccountsApi._valid_domain(body, current, name=current)
        return 204, None

    def delete_domain(self, name, body):
        name = self._domain(name)["name"]
        if name == self.org:
            raise ApiError(409, "the primary domain cannot be removed", name)
        del self.domains[name]
        return 204, None

    # Azure AD import settings (sandbox/moduscloud/azure_settings.py, default variants)

    def get_settings(self, body):
        if not self.settings:
            raise ApiError(AZURE_SETTINGS_ABSENT_STATUS, "Azure Active Directory sync is not configured", self.org)
        return 200, copy.deepcopy(self.settings)

    def put_settings(self, body):
        """The full settings with JSON booleans; ad_key required until one is stored, else optional (= keep)."""
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object", self.org)
        unknown = sorted(set(body) - set(AZURE_SETTING_KEYS) - {"ad_key"})
        if unknown:
            raise ApiError(400, "unknown key %s" % unknown[0], unknown[0])
        missing = ([] if "ad_key" in body or self.ad_key else ["ad_key"]) + [key for key in AZURE_SETTING_KEYS if key not in body]
        if missing:
            raise ApiError(400, "missing key(s): %s" % ", ".join(missing), missing[0])
        for key in AZURE_BOOL_KEYS:
            if not isinstance(body[key], bool):
                raise ApiError(400, "%s must be a JSON boolean, got %s" % (key, type(body[key]).__name__), key)
        settings = dict((key, body[key]) for key in AZURE_SETTING_KEYS)
        status = dict((key, (self.settings or {}).get(key)) for key in ("secret_expiry", "last_successful_sync"))
        if body.get("ad_key") not in (None, self.ad_key):
            self.ad_key = body["ad_key"]
            status["secret_expiry"] = (date.today() + SECRET_LIFETIME).isoformat()
        self.settings = dict(settings, **status)
        return 204, None

    def delete_settings(self, body):
        """Clear and reset: the settings and the key go; the exemptions stay."""
        self.get_settings(body)
        self.settings = self.ad_key = None
        return 204, None

    def list_exemptions(self, body):
        return 200, [{"email": email} for email in self.exemptions]

    def add_exemptions(self, body):
        """{"exemptions": "a@x.example,b@x.example"} (the variant "exemptions-body:comma-string")."""
        value = body.get(EXEMPTIONS_BODY_KEY) if isinstance(body, dict) and set(body) == {EXEMPTIONS_BODY_KEY} else None
        if not isinstance(value, str):
            raise ApiError(400, 'body must be {"%s": "a@example.com,b@example.com"}' % EXEMPTIONS_BODY_KEY, EXEMPTIONS_BODY_KEY)
        emails = [email.strip().lower() for email in value.split(",") if email.strip()]
        invalid = [email for email in emails if not is_email(email)]
        if not emails or invalid:
            raise ApiError(400, "%s: not an email address: %s" % (EXEMPTIONS_BODY_KEY, (invalid or [value])[0]), EXEMPTIONS_BODY_KEY)
        self.exemptions.extend(email for email in dict.fromkeys(emails) if email not in self.exemptions)
        return 204, None

    def clear_exemptions(self, body):
        del self.exemptions[:]
        return 204, None

    def delete_exemption(self, email, body):
        if email.lower() not in self.exemptions:
            raise ApiError(404, "exemption %s not found" % email, email)
        self.exemptions.remove(email.lower())
        return 204, None

    # Users

    def _user(self, address):
        """The key of the user `address` in org_users (the service finds users by address in any case)."""
        found = [key for key in self.org_users if key.lower() == address.lower()]
        if not found:
            raise ApiError(404, "user %s not found" % address, address)
        return found[0]

    def list_users(self, body):
        return 200, {"users": copy.deepcopy(list(self.org_users.values()))}

    def create_users(self, body):
        items, was_list = one_or_many(body, "user")
        for user in items:
            self.org_users[user["primary_email"]] = dict(user, uid=len(self.org_users) + 1000)
        return 201, body

    def get_user(self, address, body):
        return 200, copy.deepcopy(self.org_users[self._user(address)])

    def put_user(self, address, body):
        self.org_users[self._user(address)] = body
        return 204, None

    def delete_user(self, address, body):
        del self.org_users[self._user(address)]
        return 204, None
