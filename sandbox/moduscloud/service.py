"""Emulated modusCloud admin API (Proofpoint Essentials API v1): the service's state, its
authentication, its routes and its snapshot.

The HTTP servers live elsewhere in the sandbox; they hand every request under /api/v1/ to
ModusCloudService.handle() and expose advance_clock() and snapshot() through the control API.
The handlers are in accounts.py and azure_settings.py, the scheduled sync in scheduled_sync.py
(with its own copy of the rules in sync_rules.py), the open questions in variants.py and the wire
vocabulary in wire.py. Shapes and status codes follow docs/moduscloud-api.md (cited as "ref N.N").
"""

from __future__ import annotations

import copy
import hmac
import itertools
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .accounts import AccountsApi
from .azure_settings import AzureSettingsApi
from .scheduled_sync import ScheduledSync
from .variants import DEFAULT_ANSWERS, VARIANTS, parse_variants, variant_names
from .wire import (
    ADMIN_USER_TYPES,
    API_PREFIX,
    DOMAIN_DEFAULTS,
    FOREIGN_ORG_STATUS,
    ApiError,
    compact_json,
    domain_of,
    fingerprint,
    is_email,
    parse_json,
    utc_text,
)


@dataclass
class _Org:
    eid: int
    primary_domain: str
    profile: dict
    credentials: dict  # admin email -> local password (X-User / X-Password, docs/moduscloud-api.md, Connection)
    domains: dict = field(default_factory=dict)  # lowercase name -> domain object
    users: dict = field(default_factory=dict)  # lowercase primary_email -> user object
    azure: dict | None = None  # stored settings, wire names, without ad_key
    ad_key: str | None = None
    key_stored_at: datetime | None = None
    last_successful_sync: datetime | None = None
    last_sync_attempt: datetime | None = None  # None = due at the next clock advance
    exemptions: list = field(default_factory=list)  # lowercase addresses, in insertion order
    groups: dict = field(default_factory=dict)  # Entra group id -> imported group
    sync_history: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)  # per-org variant answers, over the service's

    def address_owner(self, address):
        """The user holding address as primary or alias, or None."""
        address = address.lower()
        if address in self.users:
            return self.users[address]
        return next((u for u in self.users.values() if address in u["alias_emails"]), None)


class ModusCloudService(AccountsApi, AzureSettingsApi, ScheduledSync):
    """State and behaviour of the emulated modusCloud service. Thread-safe."""

    def __init__(self, *, login_url: str, graph_url: str, ca_bundle: str, clock_start=None, variants=()) -> None:
        self._login_url = login_url.rstrip("/")
        self._graph_url = graph_url.rstrip("/")
        self._ca_bundle = ca_bundle
        self._now = self._initial_clock(clock_start)
        self._orgs = {}  # primary domain -> _Org
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()  # one clock advance at a time; state lock not held on I/O
        self._next_uid = itertools.count(100001)
        self._next_eid = itertools.count(500001)
        self._answers = {**DEFAULT_ANSWERS, **parse_variants(variants)}

    def answer(self, org, question):
        """How this service (or this org, when it has its own variant) answers an open question."""
        return (org.answers.get(question) if org is not None else None) or self._answers[question]

    def set_variants(self, names, org=None) -> dict:
        """Switch variants: for the whole service (the others back to their defaults) or for one org
        (its own answers replaced; the rest follow the service). ValueError for unknown names/orgs."""
        answers = parse_variants(names)
        with self._lock:
            if org is None:
                self._answers = {**DEFAULT_ANSWERS, **answers}
            else:
                found = self._org_owning_domain(org)
                if found is None:
                    raise ValueError(f"no organization with the domain {org!r}; organizations: {', '.join(self._orgs)}")
                found.answers = answers
        return self.variants()

    def variants(self) -> dict:
        with self._lock:
            return {
                "available": list(VARIANTS),
                "service": variant_names(self._answers),
                "orgs": {name: variant_names({**self._answers, **org.answers}) for name, org in self._orgs.items()},
            }

    @staticmethod
    def _initial_clock(clock_start):
        if clock_start is None:
            moment = datetime.now(timezone.utc)
        elif isinstance(clock_start, str):
            moment = datetime.fromisoformat(clock_start.replace("Z", "+00:00"))
        else:
            moment = clock_start
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).replace(microsecond=0)

    def add_org(self, *, domain: str, admin_user: str, admin_password: str, domains: list) -> None:
        """Create an organization whose primary domain is `domain`, with one local admin."""
        primary = domain.lower()
        names = [primary] + [d.lower() for d in domains if d.lower() != primary]
        with self._lock:
            taken = [n for n in names if self._org_owning_domain(n)]
            if taken:
                raise ValueError(f"domain(s) already belong to an organization: {', '.join(taken)}")
            if not is_email(admin_user) or domain_of(admin_user.lower()) not in names:
                raise ValueError("admin_user must be an address on one of the organization's domains")
            org = _Org(
                eid=next(self._next_eid),
                primary_domain=primary,
                profile={
                    "name": primary,
                    "is_active": True,
                    "www": "",
                    "address": "",
                    "postcode": "",
                    "stateprov": "",
                    "country": "",
                    "phone": "",
                    "is_smtp_discovery_enabled": False,
                    "send_welcome_email": True,
                },
                credentials={admin_user.lower(): admin_password},
            )
            for name in dict.fromkeys(names):
                org.domains[name] = {"name": name, **copy.deepcopy(DOMAIN_DEFAULTS)}
            admin = self._new_user({"primary_email": admin_user, "type": "organization_admin"})
            org.users[admin["primary_email"]] = admin
            self._orgs[primary] = org

    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple:
        """Answer one API request: (status, headers, body bytes)."""
        try:
            with self._lock:
                status, payload = self._dispatch(method.upper(), path, headers, body)
        except ApiError as error:
            status, payload = error.status, {"errors": error.errors}
        if status == 204 or payload is None:
            return status, {}, b""
        return status, {"Content-Type": "application/json"}, compact_json(payload)

    def _dispatch(self, method, path, headers, body):
        if not path.startswith(API_PREFIX):
            raise ApiError(404, "not an API v1 path", path)
        segments = [urllib.parse.unquote(s) for s in path[len(API_PREFIX) :].strip("/").split("/")]
        caller_org, caller = self._authenticate(headers)
        for pattern, handlers in _ROUTES:
            params = _match(pattern, segments)
            if params is None:
                continue
            handler = handlers.get(method)
            if handler is None:
                raise ApiError(405, f"{method} is not allowed here; allowed: {', '.join(handlers)}", path)
            args = {"caller": caller, "caller_org": caller_org, "params": params, "headers": headers}
            if "org" in params:
                args["org"] = self._reachable_org(params["org"], caller_org)
            if method in ("POST", "PUT", "PATCH"):
                args["body"] = parse_json(body)
            return getattr(self, handler)(**args)
        raise ApiError(404, "no such resource", path)

    def _authenticate(self, headers):
        """docs/moduscloud-api.md, Connection: X-User / X-Password of a local org admin. The password is never echoed."""
        user_header = headers.get("X-User") or ""
        password = headers.get("X-Password") or ""
        email = user_header.strip().lower()
        for org in self._orgs.values():
            stored = org.credentials.get(email)
            user = org.users.get(email)
            if stored is not None and user is not None and user["type"] in ADMIN_USER_TYPES and hmac.compare_digest(stored.encode(), password.encode()):
                return org, user
        known = next((o for o in self._orgs.values() if email in o.credentials), None)
        raise ApiError(int(self.answer(known, "bad-password")), "Authentication failed: X-User or X-Password is missing or wrong", "X-User")

    def _org_owning_domain(self, name):
        name = name.lower()
        return next((o for o in self._orgs.values() if name in o.domains), None)

    def _reachable_org(self, name, caller_org):
        org = self._org_owning_domain(name)
        if org is None:
            raise ApiError(404, f"organization {name} not found", name)
        if org is not caller_org:
            raise ApiError(FOREIGN_ORG_STATUS, f"not allowed to manage organization {name}", name)
        return org

    def snapshot(self) -> dict:
        """The full state, JSON-able. The key appears only as a fingerprint; passwords never."""
        with self._lock:
            return {"now": utc_text(self._now), "orgs": {name: self._org_snapshot(org) for name, org in self._orgs.items()}}

    def _org_snapshot(self, org):
        azure = None
        if org.azure is not None:
            azure = {
                **self._azure_body(org),
                "key_fingerprint": fingerprint(org.ad_key) if org.ad_key else None,
                "key_stored_at": utc_text(org.key_stored_at) if org.key_stored_at else None,
                "last_sync_attempt": utc_text(org.last_sync_attempt) if org.last_sync_attempt else None,
            }
        return {
            "org": self._org_body(org),
            "domains": [copy.deepcopy(d) for d in org.domains.values()],
            "users": [copy.deepcopy(u) for u in org.users.values()],
            "azure": azure,
            "exemptions": list(org.exemptions),
            "groups": [copy.deepcopy(g) for g in org.groups.values()],
            "sync_history": copy.deepcopy(org.sync_history),
            "variants": variant_names({**self._answers, **org.answers}),
        }


def _match(pattern, segments):
    """Path parameters if segments fit pattern ("{name}" matches any one segment), else None."""
    if len(pattern) != len(segments):
        return None
    params = {}
    for expected, actual in zip(pattern, segments):
        if expected.startswith("{"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


_AZURE = ("orgs", "{org}", "settings", "azure")
# (path pattern, {method: ModusCloudService method name})
_ROUTES = (
    (("me",), {"GET": "_get_me"}),
    (("endpoints", "{domain}"), {"GET": "_get_endpoints"}),
    (("orgs", "{org}"), {"GET": "_get_org", "PATCH": "_patch_org"}),
    (("orgs", "{org}", "domains"), {"GET": "_list_domains", "POST": "_create_domains"}),
    (("orgs", "{org}", "domains", "{name}"), {"GET": "_get_domain", "PUT": "_put_domain", "DELETE": "_delete_domain"}),
    (("orgs", "{org}", "users"), {"GET": "_list_users", "POST": "_create_users"}),
    (("orgs", "{org}", "users", "{email}"), {"GET": "_get_user", "PUT": "_put_user", "DELETE": "_delete_user"}),
    (_AZURE, {"GET": "_get_azure", "PUT": "_put_azure", "DELETE": "_delete_azure"}),
    (_AZURE + ("exemptions",), {"GET": "_list_exemptions", "PUT": "_add_exemptions", "DELETE": "_clear_exemptions"}),
    (_AZURE + ("exemptions", "{email}"), {"DELETE": "_delete_exemption"}),
)
