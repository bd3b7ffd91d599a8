"""Emulated modusCloud admin API (Proofpoint Essentials API v1) and its scheduled Azure AD sync.

The HTTP servers live elsewhere in the sandbox; they hand every request under /api/v1/ to
ModusCloudService.handle() and expose advance_clock() and snapshot() through the control API.
Shapes and status codes follow shared/reference/moduscloud-api.md (cited below as "ref N.N").
Where the reference marks a point unknown ([?]) or single-sourced ([S]), the choice made here is
a constant or a small function in the "Wire choices" block, so it can be corrected in one place.

The scheduled sync really logs in to the sandbox's Entra endpoint with the stored Application ID
and Key and reads Graph, then applies .notes/sync-rules-spec.md (documented in docs/sync-rules.md).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

# ---------------------------------------------------------------------------------------------
# Wire choices for points the reference leaves open. Change them here only. The open questions
# that matter to the collection are answered every plausible way by the variants below; the
# constants here are their default answers (the collection's assumptions) and the smaller choices.
# ---------------------------------------------------------------------------------------------

# An admin asking for an org that exists but is not its own: [?]. We answer 403.
FOREIGN_ORG_STATUS = 403
# ref 10 question 2: GET /settings/azure when nothing is configured [?]: variant "unconfigured"
# (default 404, CTG handles it and {}); DELETE of absent settings then answers 404 too, for symmetry.
AZURE_SETTINGS_ABSENT_STATUS = 404
# ref 4 (PATCH on orgs is confirmed, its success status is not): we answer 204 like PUT (ref 3.3).
ORG_PATCH_STATUS = 204
# ref 5.7: Vircom tracks the 2-year expiry of the secret. Assumption: secret_expiry = the date the
# key was stored (first stored, or last changed) + 730 days; re-sending the same key keeps it.
SECRET_LIFETIME = timedelta(days=730)
# ref 5.2: formats of secret_expiry and last_successful_sync are [?]: variant "dates" (default
# ISO 8601 UTC, as in CTG's mock). The control API's own times use this form too.
LAST_SYNC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# ref 5.4: PUT /settings/azure/exemptions takes a "List of comma separated emails"; the exact JSON
# is [?]: variant "exemptions-body" (default {"exemptions": "a@x.example,b@x.example"}).
EXEMPTIONS_BODY_KEY = "exemptions"
# The key fingerprint shown by snapshot(): "sha256:" + the first 16 hex digits of SHA-256(key).
KEY_FINGERPRINT_DIGITS = 16


# ---------------------------------------------------------------------------------------------
# Variants: each open question of docs/moduscloud-api.md ("Known unknowns") answered each
# plausible way. A variant is named "<question>:<answer>"; the first answer of each question is the
# default (the collection's assumption, as the constants above). `python -m sandbox variants` lists
# them; `serve --moduscloud-variant NAME` sets them for the whole service, and the control API
# (PUT /moduscloud/variants) for the service or for one organization.
# ---------------------------------------------------------------------------------------------

QUESTIONS = {
    # PUT /settings/azure without ad_key once a key is stored: the key stays / 400 / the key is dropped.
    "put-without-key": ("keeps", "refused", "clears"),
    # GET /settings/azure when nothing is configured.
    "unconfigured": ("404", "200-empty", "200-null", "204"),
    # The body of PUT /settings/azure/exemptions.
    "exemptions-body": ("comma-string", "json-list", "bare-list", "bare-string"),
    # Booleans of the settings: JSON booleans; answered as "true"/"false" strings (both accepted on
    # PUT); or strings answered and the only form accepted on PUT.
    "booleans": ("json", "strings", "strings-only"),
    # The status of a wrong X-User / X-Password.
    "bad-password": ("401", "403"),
    # secret_expiry / last_successful_sync: "2028-01-01" / "2026-06-30T18:15:00Z"; with a space and
    # seconds; Unix seconds (JSON numbers).
    "dates": ("iso", "space", "epoch"),
}
VARIANTS = tuple(f"{question}:{answer}" for question, answers in QUESTIONS.items() for answer in answers)
DEFAULT_ANSWERS = {question: answers[0] for question, answers in QUESTIONS.items()}
EXEMPTIONS_BODY_SHAPES = {
    "comma-string": '{"exemptions": "a@example.com,b@example.com"}',
    "json-list": '{"exemptions": ["a@example.com", "b@example.com"]}',
    "bare-list": '["a@example.com", "b@example.com"]',
    "bare-string": '"a@example.com,b@example.com"',
}
DATE_FORMATS = {"iso": ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"), "space": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S")}


def parse_variants(names) -> dict:
    """{question: answer} from variant names; ValueError naming the bad name and every known one."""
    answers = {}
    for name in names or ():
        if name not in VARIANTS:
            raise ValueError(f"unknown modusCloud variant {name!r}; known: {', '.join(VARIANTS)}")
        question, answer = name.split(":", 1)
        answers[question] = answer
    return answers


def variant_names(answers: dict) -> list:
    return [f"{question}:{answers[question]}" for question in QUESTIONS if question in answers]


def _wire_date(moment, answer, *, with_time):
    if moment is None:
        return None
    if not with_time:  # a date: its midnight, UTC
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if answer == "epoch":
        return int(moment.timestamp())
    return moment.strftime(DATE_FORMATS[answer][1 if with_time else 0])


def compact_json(payload) -> bytes:
    """The real service answers compact JSON (no spaces after ':' and ','): public scripts grep
    its output with patterns such as '"eid":[0-9]*' (codieg0 get_eid.sh), which spaced JSON breaks."""
    return json.dumps(payload, separators=(",", ":")).encode()


def created_response_body(created, request_was_list):
    """ref 4.3: POST takes one object or a list (batch); the 201 body is [?].

    We echo the created objects in the form they were sent: one object, or a bare list.
    """
    return created if request_was_list else created[0]


def me_body(user, org):
    """ref 3.1: GET /me. Field shape per ISVC (synthetic) [S], plus the caller's primary_email."""
    return {
        "primary_email": user["primary_email"],
        "type": user["type"],
        "is_admin": True,
        "is_partner_admin": False,
        "read_only_user": user["read_only_user"],
        "entity_type": "organization",
        "entity_primary_domain": org.primary_domain,
    }


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

API_PREFIX = "/api/v1/"
# ref 4.3: every user type; the partner-level ones do not exist inside an organization.
ORG_USER_TYPES = ("organization_admin", "end_user", "silent_user", "functional_account")
ADMIN_USER_TYPES = ("organization_admin", "channel_admin", "strategic_partner_admin", "oem_partner_admin")
SYNCED_USER_TYPES = ("end_user", "silent_user")  # sync-rules-spec: the only types sync removes
SYNC_ROLES = ("end_user", "silent_user")  # ref 5.3 default_user_role_name

# ref 5.3: the PUT body (ad_key handled apart: write-only). Order = the GET response order.
AZURE_STRING_KEYS = ("primary_domain", "application_id")
AZURE_BOOL_KEYS = (
    "disable_login",
    "sync_active_users", "sync_distribution_groups", "sync_security_groups",
    "add_users", "update_users", "remove_deleted_users",
    "add_groups", "update_groups", "remove_deleted_groups",
)
AZURE_SETTING_KEYS = AZURE_STRING_KEYS + ("default_user_role_name", "sync_frequency") + AZURE_BOOL_KEYS

# ref 4.1 / 4.2 / 4.3: writable fields and defaults.
ORG_TEXT_FIELDS = ("name", "www", "address", "postcode", "stateprov", "country", "phone")
ORG_FLAG_FIELDS = ("is_active", "is_smtp_discovery_enabled", "send_welcome_email")
DOMAIN_DEFAULTS = {"is_active": True, "is_relay": True, "destination": None, "failovers": []}
USER_DEFAULTS = {
    "firstname": "", "surname": "", "type": "end_user", "is_active": True, "is_billable": True,
    "alias_emails": [], "read_only_user": False, "white_list_senders": [], "black_list_senders": [],
    "odin_settings": {"can_impersonate": False, "is_imitable": False},
}
USER_BOOL_FIELDS = ("is_active", "is_billable", "read_only_user")
USER_TEXT_FIELDS = ("firstname", "surname")
USER_SENDER_LIST_FIELDS = ("white_list_senders", "black_list_senders")
# Accepted in a request but never stored or returned: send_welcome_email is POST-only and sends no
# mail here; password is write-only (ref 4.3).
USER_WRITE_ONLY_FIELDS = ("send_welcome_email", "password")
USER_FIELDS = (("primary_email", "uid") + tuple(USER_DEFAULTS) + USER_WRITE_ONLY_FIELDS)

# Graph fields the sync reads (sync-rules-spec "Inputs").
GRAPH_USER_FIELDS = ("id", "userPrincipalName", "displayName", "givenName", "surname", "mail",
                     "proxyAddresses", "accountEnabled", "userType", "assignedLicenses")
GRAPH_GROUP_FIELDS = ("id", "displayName", "mail", "mailEnabled", "securityEnabled", "groupTypes",
                      "proxyAddresses")
GRAPH_USER_TYPE = "#microsoft.graph.user"
HTTP_TIMEOUT_SECONDS = 15

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_LOCAL_PART_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def _utc_text(moment):
    return moment.strftime(LAST_SYNC_FORMAT)


def _is_domain_name(value):
    return isinstance(value, str) and bool(_DOMAIN_RE.match(value.lower()))


def _is_email(value):
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, domain = value.lower().split("@")
    return bool(_LOCAL_PART_RE.match(local)) and _is_domain_name(domain)


def _domain_of(email):
    return email.rsplit("@", 1)[1]


def _type_name(value):
    return "null" if value is None else type(value).__name__


class ApiError(Exception):
    """One or more errors answered in the ref 3.3 envelope {"errors": [{status, error_message, identifier}]}."""

    def __init__(self, status, message, identifier=""):
        super().__init__(message)
        self.status = status
        self.errors = [{"status": status, "error_message": message, "identifier": identifier}]

    @classmethod
    def combined(cls, errors):
        """Several item errors (a batch): 400 if any item is malformed, else the items' status."""
        error = cls(errors[0]["status"], errors[0]["error_message"], errors[0]["identifier"])
        error.errors = errors
        error.status = 400 if any(e["status"] == 400 for e in errors) else errors[0]["status"]
        return error


class _SyncFailure(Exception):
    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass
class _Org:
    eid: int
    primary_domain: str
    profile: dict
    credentials: dict  # admin email -> local password (ref 3.1 X-User / X-Password)
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


@dataclass
class _Directory:
    """What one scheduled sync read from Graph."""

    verified_domains: list
    users: list
    groups: list  # Graph group objects, each with "user_members": number of distinct user members


class ModusCloudService:
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

    # ------------------------------------------------------------------ variants

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
            return {"available": list(VARIANTS), "service": variant_names(self._answers),
                    "orgs": {name: variant_names({**self._answers, **org.answers}) for name, org in self._orgs.items()}}

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

    # ------------------------------------------------------------------ set-up

    def add_org(self, *, domain: str, admin_user: str, admin_password: str, domains: list) -> None:
        """Create an organization whose primary domain is `domain`, with one local admin."""
        primary = domain.lower()
        names = [primary] + [d.lower() for d in domains if d.lower() != primary]
        with self._lock:
            taken = [n for n in names if self._org_owning_domain(n)]
            if taken:
                raise ValueError(f"domain(s) already belong to an organization: {', '.join(taken)}")
            if not _is_email(admin_user) or _domain_of(admin_user.lower()) not in names:
                raise ValueError("admin_user must be an address on one of the organization's domains")
            org = _Org(
                eid=next(self._next_eid),
                primary_domain=primary,
                profile={"name": primary, "is_active": True, "www": "", "address": "", "postcode": "",
                         "stateprov": "", "country": "", "phone": "", "is_smtp_discovery_enabled": False,
                         "send_welcome_email": True},
                credentials={admin_user.lower(): admin_password},
            )
            for name in dict.fromkeys(names):
                org.domains[name] = {"name": name, **copy.deepcopy(DOMAIN_DEFAULTS)}
            admin = self._new_user({"primary_email": admin_user, "type": "organization_admin"})
            org.users[admin["primary_email"]] = admin
            self._orgs[primary] = org

    # ------------------------------------------------------------------ HTTP entry point

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
        segments = [urllib.parse.unquote(s) for s in path[len(API_PREFIX):].strip("/").split("/")]
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
                args["body"] = _parse_json(body)
            return getattr(self, handler)(**args)
        raise ApiError(404, "no such resource", path)

    def _authenticate(self, headers):
        """ref 3.1: X-User / X-Password of a local org admin. The password is never echoed."""
        user_header = headers.get("X-User") or ""
        password = headers.get("X-Password") or ""
        email = user_header.strip().lower()
        for org in self._orgs.values():
            stored = org.credentials.get(email)
            user = org.users.get(email)
            if (stored is not None and user is not None and user["type"] in ADMIN_USER_TYPES
                    and hmac.compare_digest(stored.encode(), password.encode())):
                return org, user
        known = next((o for o in self._orgs.values() if email in o.credentials), None)
        raise ApiError(int(self.answer(known, "bad-password")),
                       "Authentication failed: X-User or X-Password is missing or wrong", "X-User")

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

    # ------------------------------------------------------------------ me, endpoints, orgs

    def _get_me(self, caller, caller_org, **_):
        return 200, me_body(caller, caller_org)

    def _get_endpoints(self, params, headers, **_):
        """ref 2: {"endpoints": [...]}; items are this service's base URL (scheme + Host header)."""
        if self._org_owning_domain(params["domain"]) is None:
            raise ApiError(404, f"domain {params['domain']} not found", params["domain"])
        return 200, {"endpoints": [f"https://{headers.get('Host')}"]}

    def _get_org(self, org, **_):
        return 200, self._org_body(org)

    def _org_body(self, org):
        """ref 4.1 organization object."""
        active = sum(1 for u in org.users.values() if u["is_active"])
        return {
            "name": org.profile["name"], "primary_domain": org.primary_domain, "eid": org.eid,
            "type": "organization", "organization_hierarchy": str(org.eid),
            "is_active": org.profile["is_active"], "licensing_package": "business", "is_on_trial": False,
            "user_licenses": 100, "active_users": active, "when_renewal": None,
            "is_beginner_plus": False, "is_beginner_plus_enabled": False,
            **{k: org.profile[k] for k in ORG_TEXT_FIELDS if k != "name"},
            "admin_user": [{"primary_email": e} for e in org.credentials if e in org.users],
            "domains": [copy.deepcopy(d) for d in org.domains.values()],
            "outgoing_servers": [], "safe_list_senders": [], "block_list_senders": [],
            "ldap_url": None, "ldap_username": None, "ldap_basedn": None,
            "is_smtp_discovery_enabled": org.profile["is_smtp_discovery_enabled"],
            "account_template_id": None, "send_welcome_email": org.profile["send_welcome_email"],
            "odin_capabilities": [],
        }

    def _patch_org(self, org, body, **_):
        if not isinstance(body, dict) or not body:
            raise ApiError(400, "body must be a non-empty JSON object", org.primary_domain)
        writable = ORG_TEXT_FIELDS + ORG_FLAG_FIELDS
        for key, value in body.items():
            if key not in writable:
                raise ApiError(400, f"{key} cannot be changed; writable: {', '.join(writable)}", key)
            expected = str if key in ORG_TEXT_FIELDS else bool
            if not isinstance(value, expected):
                raise ApiError(400, f"{key} must be a {expected.__name__}, got {_type_name(value)}", key)
        org.profile.update(body)
        return ORG_PATCH_STATUS, None

    # ------------------------------------------------------------------ domains (ref 4.2)

    def _list_domains(self, org, **_):
        return 200, {"domains": [copy.deepcopy(d) for d in org.domains.values()]}

    def _create_domains(self, org, body, **_):
        items, was_list = _one_or_many(body, "domain")
        errors, created, seen = [], [], set()
        for index, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            identifier = name if isinstance(name, str) else f"item {index}"
            try:
                domain = self._valid_domain(item, identifier)
                if domain["name"] in seen or self._org_owning_domain(domain["name"]):
                    raise ApiError(409, f"domain {domain['name']} already exists", domain["name"])
                seen.add(domain["name"])
                created.append(domain)
            except ApiError as error:
                errors.extend(error.errors)
        if errors:
            raise ApiError.combined(errors)
        for domain in created:
            org.domains[domain["name"]] = domain
        return 201, created_response_body(copy.deepcopy(created), was_list)

    @staticmethod
    def _valid_domain(item, identifier, name=None):
        """A full domain object from a POST/PUT body; `name` fixes the name on PUT."""
        if not isinstance(item, dict):
            raise ApiError(400, "each domain must be a JSON object", identifier)
        unknown = sorted(set(item) - {"name", *DOMAIN_DEFAULTS})
        if unknown:
            raise ApiError(400, f"unknown field {unknown[0]}; allowed: name, {', '.join(DOMAIN_DEFAULTS)}", identifier)
        if name is None:
            name = item.get("name")
            if not _is_domain_name(name):
                raise ApiError(400, f"name must be a domain name such as example.com, got {name!r}", identifier)
        elif "name" in item and str(item["name"]).lower() != name:
            raise ApiError(400, "name cannot be changed; it must match the path", identifier)
        domain = {"name": name.lower(), **copy.deepcopy(DOMAIN_DEFAULTS)}
        for key in ("is_active", "is_relay"):
            if key in item:
                if not isinstance(item[key], bool):
                    raise ApiError(400, f"{key} must be a boolean, got {_type_name(item[key])}", identifier)
                domain[key] = item[key]
        if "destination" in item:
            if item["destination"] is not None and not isinstance(item["destination"], str):
                raise ApiError(400, "destination must be a host name or null, got "
                               f"{_type_name(item['destination'])}", identifier)
            domain["destination"] = item["destination"]
        if "failovers" in item:
            if not isinstance(item["failovers"], list) or not all(isinstance(f, str) for f in item["failovers"]):
                raise ApiError(400, "failovers must be a list of host names", identifier)
            domain["failovers"] = list(item["failovers"])
        return domain

    def _org_domain(self, org, name):
        domain = org.domains.get(name.lower())
        if domain is None:
            raise ApiError(404, f"domain {name} not found in organization {org.primary_domain}", name)
        return domain

    def _get_domain(self, org, params, **_):
        return 200, copy.deepcopy(self._org_domain(org, params["name"]))

    def _put_domain(self, org, params, body, **_):
        current = self._org_domain(org, params["name"])
        org.domains[current["name"]] = self._valid_domain(body, current["name"], name=current["name"])
        return 204, None

    def _delete_domain(self, org, params, **_):
        name = self._org_domain(org, params["name"])["name"]
        if name == org.primary_domain:
            raise ApiError(409, "the primary domain cannot be removed", name)
        holders = [u["primary_email"] for u in org.users.values()
                   if any(_domain_of(a) == name for a in [u["primary_email"], *u["alias_emails"]])]
        if holders:
            raise ApiError(409, f"domain {name} is still used by {len(holders)} user(s), e.g. {holders[0]}", name)
        del org.domains[name]
        return 204, None

    # ------------------------------------------------------------------ users (ref 4.3)

    def _list_users(self, org, **_):
        return 200, {"users": [copy.deepcopy(u) for u in org.users.values()]}

    def _create_users(self, org, body, **_):
        items, was_list = _one_or_many(body, "user")
        errors, created, claimed = [], [], set()
        for index, item in enumerate(items):
            email = item.get("primary_email") if isinstance(item, dict) else None
            identifier = email if isinstance(email, str) else f"item {index}"
            try:
                fields = self._valid_user_fields(org, item, identifier)
                user = self._new_user(fields)
                addresses = [user["primary_email"], *user["alias_emails"]]
                taken = [a for a in addresses if a in claimed or org.address_owner(a)]
                if taken:
                    raise ApiError(409, f"address {taken[0]} already exists", identifier)
                claimed.update(addresses)
                created.append(user)
            except ApiError as error:
                errors.extend(error.errors)
        if errors:
            raise ApiError.combined(errors)
        for user in created:
            org.users[user["primary_email"]] = user
        return 201, created_response_body(copy.deepcopy(created), was_list)

    def _new_user(self, fields):
        user = {"primary_email": fields["primary_email"].lower(), "uid": next(self._next_uid)}
        user.update(copy.deepcopy(USER_DEFAULTS))
        user.update({k: v for k, v in fields.items() if k in USER_DEFAULTS})
        return user

    def _valid_user_fields(self, org, item, identifier, current=None):
        """Check a POST item or a PUT body (current = the stored user) and return its fields."""
        if not isinstance(item, dict):
            raise ApiError(400, "each user must be a JSON object", identifier)
        unknown = sorted(set(item) - set(USER_FIELDS))
        if unknown:
            raise ApiError(400, f"unknown field {unknown[0]}; allowed: {', '.join(USER_FIELDS)}", identifier)
        fields = dict(item)
        if current is None:
            if "uid" in fields:
                raise ApiError(400, "uid is assigned by the service", identifier)
            email = fields.get("primary_email")
            if email is None:
                raise ApiError(400, "primary_email is required", identifier)
            if not _is_email(email):
                raise ApiError(400, f"primary_email must be an email address, got {email!r}", identifier)
            if _domain_of(email.lower()) not in org.domains:
                raise ApiError(400, f"primary_email {email}: domain {_domain_of(email.lower())} is not on the "
                               f"organization; its domains: {', '.join(org.domains)}", identifier)
        else:
            # PUT replaces the object, but the key fields are fixed (read-modify-write sends them back).
            for key in ("primary_email", "uid"):
                if key in fields and str(fields[key]).lower() != str(current[key]).lower():
                    raise ApiError(400, f"{key} cannot be changed (stored: {current[key]})", identifier)
        for key in USER_TEXT_FIELDS:
            if key in fields and not isinstance(fields[key], str):
                raise ApiError(400, f"{key} must be a string, got {_type_name(fields[key])}", identifier)
        for key in USER_BOOL_FIELDS + ("send_welcome_email",):
            if key in fields and not isinstance(fields[key], bool):
                raise ApiError(400, f"{key} must be a boolean, got {_type_name(fields[key])}", identifier)
        if "type" in fields and fields["type"] not in ORG_USER_TYPES:
            raise ApiError(400, f"type {fields['type']!r} is not allowed; allowed: {', '.join(ORG_USER_TYPES)}",
                           identifier)
        if "password" in fields and not isinstance(fields["password"], str):
            raise ApiError(400, "password must be a string", identifier)
        for key in USER_SENDER_LIST_FIELDS:
            value = fields.get(key, [])
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ApiError(400, f"{key} must be a list of strings", identifier)
        if "odin_settings" in fields:
            odin = fields["odin_settings"]
            if (not isinstance(odin, dict) or set(odin) - set(USER_DEFAULTS["odin_settings"])
                    or not all(isinstance(v, bool) for v in odin.values())):
                raise ApiError(400, "odin_settings must be an object with boolean can_impersonate and is_imitable",
                               identifier)
            fields["odin_settings"] = {**USER_DEFAULTS["odin_settings"], **odin}
        if "alias_emails" in fields:
            fields["alias_emails"] = self._valid_aliases(org, fields, current, identifier)
        return fields

    @staticmethod
    def _valid_aliases(org, fields, current, identifier):
        aliases = fields["alias_emails"]
        if not isinstance(aliases, list) or not all(_is_email(a) for a in aliases):
            raise ApiError(400, "alias_emails must be a list of email addresses", identifier)
        primary = (current or fields)["primary_email"].lower()
        aliases = list(dict.fromkeys(a.lower() for a in aliases))
        for alias in aliases:
            if alias == primary:
                raise ApiError(400, f"alias_emails must not contain the primary address {alias}", identifier)
            if _domain_of(alias) not in org.domains:
                raise ApiError(400, f"alias_emails {alias}: domain {_domain_of(alias)} is not on the organization",
                               identifier)
            owner = org.address_owner(alias)
            if owner is not None and owner["primary_email"] != primary:
                raise ApiError(409, f"address {alias} already exists (held by {owner['primary_email']})", identifier)
        return aliases

    def _org_user(self, org, email):
        user = org.users.get(email.lower())
        if user is None:
            raise ApiError(404, f"user {email} not found", email)
        return user

    def _get_user(self, org, params, **_):
        return 200, copy.deepcopy(self._org_user(org, params["email"]))

    def _put_user(self, org, params, body, **_):
        current = self._org_user(org, params["email"])
        fields = self._valid_user_fields(org, body, current["primary_email"], current=current)
        replacement = {"primary_email": current["primary_email"], "uid": current["uid"]}
        replacement.update(copy.deepcopy(USER_DEFAULTS))
        replacement.update({k: v for k, v in fields.items() if k in USER_DEFAULTS})
        org.users[current["primary_email"]] = replacement
        return 204, None

    def _delete_user(self, org, params, **_):
        del org.users[self._org_user(org, params["email"])["primary_email"]]
        return 204, None

    # ------------------------------------------------------------------ Azure settings (ref 5)

    def _azure_settings(self, org):
        if org.azure is None:
            raise ApiError(AZURE_SETTINGS_ABSENT_STATUS, "Azure Active Directory sync is not configured",
                           org.primary_domain)
        return org.azure

    def _get_azure(self, org, **_):
        """ref 5.2: the PUT keys except ad_key, plus secret_expiry and last_successful_sync.

        Not configured: 404, 200 with {} or with every key null, or 204 (variant "unconfigured").
        Booleans and dates as the variants "booleans" and "dates" say.
        """
        if org.azure is None:
            absent = self.answer(org, "unconfigured")
            if absent == "404":
                self._azure_settings(org)
            if absent == "204":
                return 204, None
            if absent == "200-empty":
                return 200, {}
            return 200, dict.fromkeys(("primary_domain", "application_id", "secret_expiry", "last_successful_sync")
                                      + AZURE_SETTING_KEYS[2:])
        body = self._azure_body(org, self.answer(org, "dates"))
        if self.answer(org, "booleans") != "json":
            body.update({k: "true" if body[k] else "false" for k in AZURE_BOOL_KEYS})
        return 200, body

    def _azure_body(self, org, dates="iso"):
        settings = self._azure_settings(org)
        expiry = org.key_stored_at + SECRET_LIFETIME if org.key_stored_at else None
        return {
            "primary_domain": settings["primary_domain"],
            "application_id": settings["application_id"],
            "secret_expiry": _wire_date(expiry, dates, with_time=False),
            "last_successful_sync": _wire_date(org.last_successful_sync, dates, with_time=True),
            **{k: settings[k] for k in AZURE_SETTING_KEYS if k not in AZURE_STRING_KEYS},
        }

    def _put_azure(self, org, body, **_):
        """ref 5.3: the full body; ad_key required until one is stored, then optional (= keep)."""
        identifier = org.primary_domain
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object", identifier)
        unknown = sorted(set(body) - set(AZURE_SETTING_KEYS) - {"ad_key"})
        if unknown:
            raise ApiError(400, f"unknown key {unknown[0]}; allowed: ad_key, {', '.join(AZURE_SETTING_KEYS)}",
                           unknown[0])
        missing = [k for k in AZURE_SETTING_KEYS if k not in body]
        keep_key = self.answer(org, "put-without-key")
        if "ad_key" not in body and (org.ad_key is None or keep_key == "refused"):
            missing.insert(0, "ad_key")
        if missing:
            raise ApiError(400, f"missing key(s): {', '.join(missing)}", missing[0])
        for key in AZURE_STRING_KEYS + ("ad_key",):
            if key in body and (not isinstance(body[key], str) or not body[key].strip()):
                raise ApiError(400, f"{key} must be a non-empty string", key)
        if not _is_domain_name(body["primary_domain"]):
            raise ApiError(400, f"primary_domain must be a domain name, got {body['primary_domain']!r}",
                           "primary_domain")
        if body["default_user_role_name"] not in SYNC_ROLES:
            raise ApiError(400, f"default_user_role_name must be one of {', '.join(SYNC_ROLES)}, "
                           f"got {body['default_user_role_name']!r}", "default_user_role_name")
        frequency = body["sync_frequency"]
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 0:
            raise ApiError(400, f"sync_frequency must be a whole number of hours (0 = never), got {frequency!r}",
                           "sync_frequency")
        booleans = self.answer(org, "booleans")
        for key in AZURE_BOOL_KEYS:
            value = body[key]
            if booleans == "strings-only" and value not in ("true", "false"):
                raise ApiError(400, f'{key} must be "true" or "false", got {_type_name(value)}', key)
            if booleans == "json" and not isinstance(value, bool):
                raise ApiError(400, f"{key} must be a JSON boolean, got {_type_name(value)}", key)
            if booleans == "strings" and not isinstance(value, bool) and value not in ("true", "false"):
                raise ApiError(400, f'{key} must be a boolean or "true"/"false", got {_type_name(value)}', key)

        settings = {k: body[k] for k in AZURE_SETTING_KEYS}
        settings.update({k: settings[k] in (True, "true") for k in AZURE_BOOL_KEYS})
        settings["primary_domain"] = settings["primary_domain"].lower()
        new_key = body.get("ad_key")
        key_changed = new_key is not None and new_key != org.ad_key
        if new_key is None and keep_key == "clears" and org.ad_key is not None:
            # The service stores what it was sent: no key. Its next sync cannot sign in.
            org.ad_key = org.key_stored_at = None
            key_changed = True
        if key_changed:
            org.ad_key = new_key
            org.key_stored_at = self._now if new_key is not None else None
        if key_changed or settings != org.azure:
            org.azure = settings
            org.last_sync_attempt = None  # changed settings: the service syncs at the next run
        return 204, None

    def _delete_azure(self, org, **_):
        """ref 5.1 "Clear and reset": settings, key and sync status go; exemptions and groups stay.

        Nothing configured: 404 where GET answers 404, else 204 (nothing to clear)."""
        if org.azure is None and self.answer(org, "unconfigured") != "404":
            return 204, None
        self._azure_settings(org)
        org.azure = org.ad_key = org.key_stored_at = None
        org.last_successful_sync = org.last_sync_attempt = None
        return 204, None

    # ------------------------------------------------------------------ exemptions (ref 5.4)

    def _list_exemptions(self, org, **_):
        return 200, [{"email": e} for e in org.exemptions]

    def _add_exemptions(self, org, body, **_):
        shape = self.answer(org, "exemptions-body")
        value = body.get(EXEMPTIONS_BODY_KEY) if isinstance(body, dict) and set(body) == {EXEMPTIONS_BODY_KEY} \
            else None if isinstance(body, dict) else body
        if shape in ("comma-string", "bare-string"):
            ok = isinstance(value, str) and isinstance(body, dict) == (shape == "comma-string")
            emails = value.split(",") if ok else []
        else:
            ok = (isinstance(value, list) and all(isinstance(e, str) for e in value)
                  and isinstance(body, dict) == (shape == "json-list"))
            emails = value if ok else []
        if not ok:
            raise ApiError(400, f"body must be {EXEMPTIONS_BODY_SHAPES[shape]}", EXEMPTIONS_BODY_KEY)
        emails = [e.strip().lower() for e in emails if e.strip()]
        if not emails:
            raise ApiError(400, f"{EXEMPTIONS_BODY_KEY} holds no email address", EXEMPTIONS_BODY_KEY)
        invalid = [e for e in emails if not _is_email(e)]
        if invalid:
            raise ApiError(400, f"{EXEMPTIONS_BODY_KEY}: not an email address: {invalid[0]}", invalid[0])
        org.exemptions.extend(e for e in dict.fromkeys(emails) if e not in org.exemptions)
        return 204, None

    def _clear_exemptions(self, org, **_):
        org.exemptions.clear()
        return 204, None

    def _delete_exemption(self, org, params, **_):
        email = params["email"].lower()
        if email not in org.exemptions:
            raise ApiError(404, f"exemption {params['email']} not found", params["email"])
        org.exemptions.remove(email)
        return 204, None

    # ------------------------------------------------------------------ clock and scheduled sync

    def advance_clock(self, hours: float) -> dict:
        """Move the service clock forward and run every due scheduled sync (once per org)."""
        if hours < 0:
            raise ValueError("the clock only moves forward")
        with self._sync_lock:
            with self._lock:
                self._now = (self._now + timedelta(hours=hours)).replace(microsecond=0)
                now = self._now
                due = [(org, dict(org.azure), org.ad_key) for org in self._orgs.values()
                       if org.azure and org.azure["sync_frequency"] > 0
                       and (org.last_sync_attempt is None
                            or now - org.last_sync_attempt >= timedelta(hours=org.azure["sync_frequency"]))]
            syncs = [self._run_sync(org, settings, key, now) for org, settings, key in due]
        return {"now": _utc_text(now), "syncs": syncs}

    def _run_sync(self, org, settings, key, now):
        """One scheduled sync: read the directory (no lock held), then check and apply (locked)."""
        record = {"org": org.primary_domain, "time": _utc_text(now), "ok": False, "error": None,
                  "error_code": None, "added": 0, "updated": 0, "removed": 0,
                  "groups": {"added": 0, "updated": 0, "removed": 0}, "skipped": []}
        try:
            if key is None:  # variant put-without-key:clears dropped it
                raise _SyncFailure("no_key", "no Azure AD key is stored: save the settings with the Key (ad_key)")
            directory = self._read_directory(settings, key)
            with self._lock:
                if org.azure != settings or org.ad_key != key:
                    raise _SyncFailure("settings_changed", "the Azure settings changed during the sync")
                record.update(_apply_directory(org, settings, directory, self._new_user))
                org.last_successful_sync = now
            record["ok"] = True
        except _SyncFailure as failure:
            record.update(error=failure.message, error_code=failure.code, **failure.details)
        with self._lock:
            if org.azure == settings and org.ad_key == key:  # else a PUT already made the next run due
                org.last_sync_attempt = now
            org.sync_history.append(record)
        return copy.deepcopy(record)

    def _read_directory(self, settings, key):
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA (DESIGN "Known traps")
        try:
            token = self._acquire_token(session, settings, key)
            auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            domains = self._graph_list(session, auth, "/v1.0/domains")
            users = []
            if settings["sync_active_users"]:
                users = self._graph_list(session, auth, _graph_query("/v1.0/users", GRAPH_USER_FIELDS))
            groups = []
            if settings["sync_security_groups"] or settings["sync_distribution_groups"]:
                groups = self._graph_list(session, auth, _graph_query("/v1.0/groups", GRAPH_GROUP_FIELDS))
                for group in groups:
                    members_path = _graph_query(f"/v1.0/groups/{group['id']}/members", ["id"])
                    members = self._graph_list(session, auth, members_path)
                    # Graph types every directoryObject in a members list, even under $select.
                    group["user_members"] = len({m["id"] for m in members if m.get("@odata.type") == GRAPH_USER_TYPE})
        except OSError as exc:  # requests' errors, and a missing CA bundle
            raise _SyncFailure("connection_error",
                               f"could not reach Entra ID / Graph: {type(exc).__name__}: {exc}") from None
        finally:
            session.close()
        verified = [d["id"].lower() for d in domains if d.get("isVerified")]
        return _Directory(verified_domains=verified, users=users, groups=groups)

    def _acquire_token(self, session, settings, key):
        """Client credentials against the tenant named by primary_domain (ref 7: no tenant id is stored)."""
        response = session.post(
            f"{self._login_url}/{settings['primary_domain']}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": settings["application_id"],
                  "client_secret": key, "scope": f"{self._graph_url}/.default"},
            verify=self._ca_bundle, timeout=HTTP_TIMEOUT_SECONDS,
        )
        payload = _json_or_empty(response)
        if response.status_code == 200 and payload.get("access_token"):
            return payload["access_token"]
        codes = payload.get("error_codes") or []
        code = f"AADSTS{codes[0]}" if codes else payload.get("error") or f"HTTP {response.status_code}"
        description = (payload.get("error_description") or "").splitlines()
        message = description[0] if description else f"token request failed with HTTP {response.status_code}"
        if not message.startswith(code):
            message = f"{code}: {message}"
        raise _SyncFailure(code, message)

    def _graph_list(self, session, auth, path):
        """Every item of a Graph collection, following @odata.nextLink."""
        url, items = f"{self._graph_url}{path}", []
        while url:
            response = session.get(url, headers=auth, verify=self._ca_bundle, timeout=HTTP_TIMEOUT_SECONDS)
            payload = _json_or_empty(response)
            if response.status_code != 200:
                error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
                code = error.get("code") or f"HTTP {response.status_code}"
                raise _SyncFailure(code, f"{code}: {error.get('message') or 'Graph request failed'} "
                                   f"(HTTP {response.status_code}, {path.split('?')[0]})")
            items.extend(payload.get("value", []))
            url = payload.get("@odata.nextLink")
        return items

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict:
        """The full state, JSON-able. The key appears only as a fingerprint; passwords never."""
        with self._lock:
            return {"now": _utc_text(self._now),
                    "orgs": {name: self._org_snapshot(org) for name, org in self._orgs.items()}}

    def _org_snapshot(self, org):
        azure = None
        if org.azure is not None:
            azure = {**self._azure_body(org), "key_fingerprint": _fingerprint(org.ad_key) if org.ad_key else None,
                     "key_stored_at": _utc_text(org.key_stored_at) if org.key_stored_at else None,
                     "last_sync_attempt": _utc_text(org.last_sync_attempt) if org.last_sync_attempt else None}
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


# ---------------------------------------------------------------------------------------------
# Sync rules (.notes/sync-rules-spec.md), applied to one org under the service lock
# ---------------------------------------------------------------------------------------------

def _apply_directory(org, settings, directory, new_user):
    """Check the preconditions, change org users and groups, and return the counts for the record.

    Skipped entries use the keys of plugins/module_utils/_sync.py's report (object, reason, and
    address, else upn, else id or name) so a test can compare the service with the prediction.
    """
    missing = sorted(d for d in directory.verified_domains if d not in org.domains)
    if missing:
        raise _SyncFailure("domains_missing",
                           "All domains of the Azure AD directory must be added to the organization; "
                           f"missing: {', '.join(missing)}", missing_domains=missing)
    skipped = []
    counts = {"added": 0, "updated": 0, "removed": 0}
    if settings["sync_active_users"]:
        counts = _apply_users(org, settings, directory.users, skipped, new_user)
    counts["groups"] = _apply_groups(org, settings, directory.groups, skipped)
    counts["skipped"] = skipped
    return counts


def _skip(kind, reason, address=None, entra_object=None, **extra):
    entry = {"object": kind, "reason": reason}
    if address:
        entry["address"] = address
    elif entra_object and entra_object.get("userPrincipalName"):
        entry["upn"] = entra_object["userPrincipalName"].lower()
    elif entra_object and entra_object.get("displayName") and kind == "group":
        entry["name"] = entra_object["displayName"]
    elif entra_object:
        entry["id"] = entra_object.get("id")
    entry.update(extra)
    return entry


def _user_skip_reason(org, entra_user, mail, exempt):
    """Why an Entra user is out of scope, or None when it is in scope."""
    if entra_user.get("userType") != "Member":
        return "guest"
    if mail is None:
        return "no_mail"
    if _domain_of(mail) not in org.domains:
        return "domain_missing"
    if mail in exempt:
        return "exempt"
    if entra_user.get("accountEnabled") is False:
        return None if mail in org.users else "disabled"  # already in the org: kept, made Not Active
    return None if entra_user.get("assignedLicenses") else "unlicensed"


def _entra_user_scope(org, entra_user, exempt, skipped):
    """The wanted modusCloud fields of an Entra user, or None when out of scope (reason recorded)."""
    mail = (entra_user.get("mail") or "").strip().lower()
    mail = mail if _is_email(mail) else None
    reason = _user_skip_reason(org, entra_user, mail, exempt)
    if reason:
        skipped.append(_skip("user", reason, mail, entra_user))
        return None
    aliases = set()
    for proxy in entra_user.get("proxyAddresses") or []:
        if not proxy.startswith("smtp:"):  # lowercase prefix = secondary SMTP address
            continue
        alias = proxy[len("smtp:"):].strip().lower()
        if alias == mail or not _is_email(alias):
            continue
        if _domain_of(alias) in org.domains:
            aliases.add(alias)
        else:
            skipped.append(_skip("user", "alias_domain_missing", alias, detail=f"alias of {mail}"))
    return {"primary_email": mail, "firstname": entra_user.get("givenName") or "",
            "surname": entra_user.get("surname") or "", "alias_emails": sorted(aliases),
            "is_active": entra_user.get("accountEnabled") is not False}


def _apply_users(org, settings, entra_users, skipped, new_user):
    exempt = set(org.exemptions)
    wanted = {}
    for entra_user in entra_users:
        fields = _entra_user_scope(org, entra_user, exempt, skipped)
        if fields is None:
            continue
        if fields["primary_email"] in wanted:  # Entra keeps mail unique; guard anyway, first one wins
            skipped.append(_skip("user", "duplicate_mail", fields["primary_email"]))
        else:
            wanted[fields["primary_email"]] = fields
    counts = {"added": 0, "updated": 0, "removed": 0}
    for email, fields in wanted.items():
        current = org.users.get(email)
        if current is None:
            if settings["add_users"] and fields["is_active"] and not _address_in_use(org, fields, skipped):
                org.users[email] = new_user({**fields, "type": settings["default_user_role_name"]})
                counts["added"] += 1
            continue
        changes = {k: v for k, v in fields.items() if k != "primary_email" and _synced_value(current, k) != v}
        if not changes or not settings["update_users"]:
            continue
        if current["type"] not in SYNCED_USER_TYPES:
            skipped.append(_skip("user", "protected", email))
        elif not _address_in_use(org, fields, skipped):
            current.update(copy.deepcopy(changes))
            counts["updated"] += 1
    if settings["remove_deleted_users"]:
        reported_exempt = {s["address"] for s in skipped if s["reason"] == "exempt"}
        for email, user in list(org.users.items()):
            if email in wanted or email in reported_exempt:
                continue
            if email in exempt:
                skipped.append(_skip("user", "exempt", email, detail="would otherwise be removed"))
            elif user["type"] not in SYNCED_USER_TYPES:
                skipped.append(_skip("user", "protected", email))
            else:
                del org.users[email]
                counts["removed"] += 1
    return counts


def _synced_value(user, key):
    """A user field as the sync compares it: aliases as a sorted set, whatever order they were stored in."""
    return sorted(set(user[key])) if key == "alias_emails" else user[key]


def _address_in_use(org, fields, skipped):
    """An address of the Entra user already held by another org user: skip it (the API would 409).

    Our addition to the spec (reason `address_in_use`); it only arises from hand-made conflicts.
    """
    for address in [fields["primary_email"], *fields["alias_emails"]]:
        owner = org.address_owner(address)
        if owner is not None and owner["primary_email"] != fields["primary_email"]:
            skipped.append(_skip("user", "address_in_use", fields["primary_email"],
                                 detail=f"{address} belongs to {owner['primary_email']}"))
            return True
    return False


def _apply_groups(org, settings, entra_groups, skipped):
    counts = {"added": 0, "updated": 0, "removed": 0}
    enabled = {"security": settings["sync_security_groups"], "distribution": settings["sync_distribution_groups"]}
    for group in entra_groups:
        address = (group.get("mail") or "").strip().lower() or None
        if group.get("securityEnabled") is True:
            kind = "security"  # mail-enabled security groups included
        elif group.get("mailEnabled") is True:
            kind = "distribution"  # Microsoft 365 (Unified) groups included
        else:
            skipped.append(_skip("group", "not_mail_or_security", address, group))
            continue
        if not enabled[kind]:
            continue
        wanted = {"id": group["id"], "name": group.get("displayName") or "", "kind": kind,
                  "address": address, "members": group["user_members"]}
        current = org.groups.get(group["id"])
        if current is None and settings["add_groups"]:
            org.groups[group["id"]] = wanted
            counts["added"] += 1
        elif current is not None and current != wanted and settings["update_groups"]:
            org.groups[group["id"]] = wanted
            counts["updated"] += 1
    if settings["remove_deleted_groups"]:
        present = {g["id"] for g in entra_groups}
        for group_id in [g for g in org.groups if g not in present]:
            del org.groups[group_id]
            counts["removed"] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Request helpers and routes
# ---------------------------------------------------------------------------------------------

def _parse_json(body):
    if not body:
        raise ApiError(400, "a JSON body is required", "body")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON", "body") from None


def _one_or_many(body, noun):
    """ref 4: POST takes a single object or a list for batch creation."""
    if isinstance(body, dict):
        return [body], False
    if isinstance(body, list) and body:
        return body, True
    raise ApiError(400, f"body must be a {noun} object or a non-empty list of them", "body")


def _graph_query(path, fields):
    """A Graph list path selecting `fields`, in pages as large as Graph allows."""
    return f"{path}?$select={','.join(fields)}&$top=999"


def _json_or_empty(response):
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _fingerprint(secret):
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:KEY_FINGERPRINT_DIGITS]


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
