# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modusCloud (Proofpoint Essentials API v1) client: where the API lives (stacks, discovery), its
resources as methods, and the errors that explain a refused request.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from typing import Iterable, List, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import HttpClient
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    BOOLEAN_FORMS,
    DEFAULT_WIRE_FORMAT,
    STATUS_FIELDS,
    UNKNOWNS_DOC,
    WIRE,
    WIRE_TABLE,
    _EXEMPTIONS_SHAPES,
    domain_from_wire,
    domain_to_wire,
    exemptions_from_wire,
    exemptions_to_wire,
    normalize_domain,
    settings_absent,
    settings_from_wire,
    settings_to_wire,
    status_from_wire,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport

STACKS = ("us1", "us2", "us3", "us4", "us5", "eu1", "usg1", "usg2")
AUTO_STACK = "auto"
# Any instance answers /endpoints/{domain} (PP-DOC), so discovery asks the first stack by default.
DISCOVERY_STACK = "us1"


class ConnectionOptionsError(ValueError):
    """Connection options that cannot work; the text says what is allowed, `options` names them."""

    def __init__(self, message: str, options: Sequence[str] = ("api_url", "stack")) -> None:
        super(ConnectionOptionsError, self).__init__(message)
        self.options = options


def stack_url(stack: str) -> str:
    if stack not in STACKS:
        raise ConnectionOptionsError("stack must be one of %s (or %s to discover it), got %r" % (", ".join(STACKS), AUTO_STACK, stack), options=("stack",))
    return WIRE["base_url"].format(stack=stack)


def endpoint_url(value) -> str:
    """A base URL from an /endpoints answer item: a stack name, a host URL, or a full API URL."""
    value = str(value).strip().rstrip("/")
    if value.lower() in STACKS:
        return stack_url(value.lower())
    if "://" not in value:
        value = "https://" + value
    if not urlsplit(value).path:
        value += "/api/v1"
    return value


def _checked_api_url(api_url: str) -> str:
    parts = urlsplit(api_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ConnectionOptionsError(
            "api_url must be an https:// URL such as https://us1.proofpointessentials.com/api/v1 (the password travels in a header), got %r" % api_url,
            options=("api_url",),
        )
    return api_url.rstrip("/")


def connection_base(api_url: Optional[str] = None, stack: Optional[str] = None) -> Tuple[str, bool]:
    """(base URL, discover?) from the connection options; discovery asks this base for the org's stack."""
    if api_url:
        return _checked_api_url(api_url), stack == AUTO_STACK
    if stack == AUTO_STACK:
        return stack_url(DISCOVERY_STACK), True
    if stack:
        return stack_url(stack), False
    raise ConnectionOptionsError(
        "set api_url (MODUSCLOUD_API_URL) or stack (MODUSCLOUD_STACK): stack is one of "
        "%s, or %s to discover the organization's stack" % (", ".join(STACKS), AUTO_STACK)
    )


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class CredentialsRejected(ApiError):
    """401/403: the service refused the admin's credentials (or this admin's access to the org)."""

    def __init__(
        self, username: str, operation: str, resource: Optional[str], status: int, message: Optional[str] = None, request_id: Optional[str] = None
    ) -> None:
        self.username = username
        super(CredentialsRejected, self).__init__(operation, resource, status, None, message, request_id)

    def _describe(self) -> str:
        where = "%s%s" % (self.operation, " " + self.resource if self.resource else "")
        text = (
            "modusCloud rejected the credentials of %s (HTTP %s on %s): check the admin's local Proofpoint "
            "password (not the Microsoft 365 one), that the account is an organization or channel admin "
            "that is not read-only, and that it has no 2-step login" % (self.username, self.status, where)
        )
        if self.status == 403:
            text += "; HTTP 403 can also mean this admin may not manage that organization"
        if self.api_message:
            text += " (modusCloud said: %s)" % self.api_message
        return text


class WireAssumptionRefused(ApiError):
    """The service refused a write whose form rests on an open question about the API (a WIRE_TABLE row)."""

    def __init__(self, error: ApiError, assumption: str, advice: str) -> None:
        self.assumption = assumption
        self.advice = advice
        super(WireAssumptionRefused, self).__init__(error.operation, error.resource, error.status, error.code, error.api_message, error.request_id)

    def _describe(self) -> str:
        return "%s. This write rests on an assumption about the modusCloud API that nobody could confirm: %s (see %s). %s" % (
            super(WireAssumptionRefused, self)._describe(),
            self.assumption,
            UNKNOWNS_DOC,
            self.advice,
        )

    def to_result(self) -> dict:
        result = super(WireAssumptionRefused, self).to_result()
        result["wire_assumption"] = self.assumption.split(":", 1)[0]
        return result


# Statuses with which a service refuses a request body it does not understand.
_REFUSED_BODY = (400, 415, 422)
# The paths whose writes change the organization's users only (not its domains, import settings or exemptions).
USER_PATHS = ("path.users", "path.user")
_CHECK_ADVICE = (
    "Run playbooks/check_moduscloud_api.yml (read-only; its opt-in write probes use a test organization) to see which form your service takes, and report it"
)


def _assumption(term: str, text: Optional[str]) -> str:
    entry = next(row for row in WIRE_TABLE if row.term == term)
    return "%s: %s" % (entry.term, text or entry.encoding)


class ModusCloudClient(object):
    """Calls on one modusCloud stack, as one admin. Every method raises ApiError on failure.

    wire_format: the forms of the writes whose format is an open question (WIRE_FORMAT_SPEC).
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        ca_path: Optional[str] = None,
        validate_certs: bool = True,
        transport: Optional[Transport] = None,
        wire_format: Optional[dict] = None,
        **http_options,
    ) -> None:
        self.username = username
        self.wire_format = dict(DEFAULT_WIRE_FORMAT, **dict((k, v) for k, v in (wire_format or {}).items() if v))
        self._password = password
        self._transport = transport or Transport(ca_path, validate_certs)
        self._http_options = http_options
        self.http = self._connect(base_url)
        # Two per-org caches on purpose: _primed answers reads, so it holds only what an earlier task read (prime) and
        # any write drops it, while _seen answers none (a poll must reach the API) and only records what this task
        # read or was primed with, for seen(), so only a write to what it holds (anything but users) drops it.
        self._primed = {}  # org -> the state prime() was given
        self._seen = {}  # org -> {part: value}

    def with_password(self, password: str) -> "ModusCloudClient":
        """A client of the same service, admin, TLS trust and proxy signing in with `password` (the contract
        check's wrong-password probe)."""
        return ModusCloudClient(self.base_url, self.username, password, transport=self._transport, wire_format=self.wire_format, **self._http_options)

    def prime(self, org: str, state: dict) -> None:
        """Answer the reads of `org`'s domains, import settings and exemptions from `state` (what
        moduscloud_sync_info returned earlier in the run) instead of asking the API again. The role passes it
        only while nothing has written to the organization since; any write through this client forgets it."""
        self._primed[normalize_domain(org)] = state

    def forget(self) -> None:
        """Read from the API again from now on (for polling)."""
        self._primed.clear()
        self._seen.clear()

    def _primed_part(self, org: str, name: str):
        state = self._primed.get(normalize_domain(org))
        return None if state is None else state[name]

    def _saw(self, org: str, part: str, value):
        self._seen.setdefault(normalize_domain(org), {})[part] = copy.deepcopy(value)
        return value

    def seen(self, org: str) -> Optional[dict]:
        """{"domains", "settings" (settings, status), "exemptions"}: what this client read of the organization (or was
        primed with), none of it changed since by a write through it (writing users changes none of it); None unless
        all three are known. Reads are never answered from it: a later task may take it as its known_state."""
        seen = self._seen.get(normalize_domain(org), {})
        return dict(seen) if len(seen) == 3 else None

    def _connect(self, base_url: str) -> HttpClient:
        headers = {WIRE["header.username"]: self.username, WIRE["header.password"]: self._password}
        return HttpClient(base_url, headers=headers, transport=self._transport, **self._http_options)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def _call(self, method: str, path_term: str, operation: str, resource: Optional[str] = None, json=None, **path_values):
        if method != "GET":
            self._primed.clear()
            if path_term not in USER_PATHS:
                self._seen.clear()
        path = WIRE[path_term].format(**dict((k, quote(str(v), safe="@")) for k, v in path_values.items()))
        try:
            return self.http.json(method, path, operation, resource, json=json)
        except ApiError as error:
            raise self._explained(error)

    def _explained(self, error: ApiError) -> ApiError:
        message = error.api_message
        if message and self._password and self._password in message:
            message = message.replace(self._password, "********")
        if error.status in (401, 403):
            return CredentialsRejected(self.username, error.operation, error.resource, error.status, message, error.request_id)
        if message is not error.api_message:
            return ApiError(error.operation, error.resource, error.status, error.code, message, error.request_id)
        return error

    # -- discovery and identity

    def discover(self, domain: str) -> str:
        """Ask this host which stack serves `domain` and talk to that stack from now on; return its URL."""
        answer = self._call("GET", "path.endpoints", "discover the modusCloud stack of", domain, domain=domain) or {}
        endpoints = answer.get(WIRE["envelope.endpoints"]) if isinstance(answer, dict) else answer
        if not endpoints:
            raise ApiError("discover the modusCloud stack of", domain, message="%s answered no endpoint for this domain" % self.base_url)
        base_url = endpoint_url(endpoints[0])
        if base_url != self.base_url:
            self.http = self._connect(base_url)
        return base_url

    def me(self):
        return self._call("GET", "path.me", "read the calling admin")

    # -- organization and domains

    def _org_call(self, path_term: str, operation: str, org: str):
        """GET an organization-level resource; a 404 there means this admin sees no such organization."""
        try:
            return self._call("GET", path_term, operation, org, org=org)
        except ApiError as error:
            if error.status == 404:
                raise ApiError(
                    operation,
                    org,
                    404,
                    error.code,
                    "no organization with the domain %s is visible on %s: check org (any domain of the organization) and api_url/stack" % (org, self.base_url),
                    error.request_id,
                )
            raise

    def get_org(self, org: str) -> Optional[dict]:
        return self._org_call("path.org", "read organization", org)

    def list_domains(self, org: str) -> List[dict]:
        """The org's domains (normalised dicts); also the cheapest check that the org exists."""
        known = self._primed_part(org, "domains")
        if known is not None:
            return self._saw(org, "domains", [dict(domain) for domain in known])
        answer = self._org_call("path.domains", "list domains of organization", org) or {}
        items = answer.get(WIRE["envelope.domains"], []) if isinstance(answer, dict) else answer
        return self._saw(org, "domains", [domain_from_wire(item) for item in items])

    def add_domain(self, org: str, domain: dict):
        return self._call("POST", "path.domains", "add domain", normalize_domain(domain["name"]), json=domain_to_wire(domain), org=org)

    def update_domain(self, org: str, name: str, changes: dict):
        """Read-modify-write: PUT replaces the whole domain object."""
        current = self._call("GET", "path.domain", "read domain", name, org=org, domain=name) or {}
        body = dict(current)
        body.update(domain_to_wire(changes))
        return self._call("PUT", "path.domain", "update domain", name, json=body, org=org, domain=name)

    def delete_domain(self, org: str, name: str):
        return self._call("DELETE", "path.domain", "remove domain", name, org=org, domain=name)

    # -- users

    def list_users(self, org: str) -> List[dict]:
        answer = self._call("GET", "path.users", "list users of organization", org, org=org) or {}
        return answer.get(WIRE["envelope.users"], []) if isinstance(answer, dict) else answer

    def get_user(self, org: str, email: str) -> Optional[dict]:
        """The user object, or None when there is no such user."""
        try:
            return self._call("GET", "path.user", "read user", email, org=org, email=email)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def create_users(self, org: str, users: Union[dict, List[dict]]):
        """Create one user (a dict) or a batch (a list) in one request."""
        resource = users.get(WIRE["user.primary_email"]) if isinstance(users, dict) else "%d users" % len(users)
        return self._call("POST", "path.users", "create user", resource, json=users, org=org)

    def update_user(self, org: str, email: str, changes: dict) -> dict:
        """Set `changes` on a user; return the object written.

        Read-modify-write, because PUT replaces the whole user: type, uid and every other field
        go back exactly as read. Which fields may change is the caller's rule (_sync.UPDATABLE_FIELDS).
        """
        current = self._call("GET", "path.user", "read user", email, org=org, email=email)
        address = current.get(WIRE["user.primary_email"]) if isinstance(current, dict) else None
        if (address or "").lower() != email.lower():
            # Writing back anything but this user's full object would replace it with something else.
            raise ApiError(
                "update user",
                email,
                message="reading the user answered %s instead of its object, so nothing was written" % ("user %s" % address if address else "no user"),
            )
        body = dict(current)
        body.update(changes)
        self._call("PUT", "path.user", "update user", email, json=body, org=org, email=email)
        return body

    def delete_user(self, org: str, email: str):
        return self._call("DELETE", "path.user", "remove user", email, org=org, email=email)

    # -- Azure AD import settings and exemptions

    def get_azure_settings(self, org: str) -> Optional[dict]:
        """The raw settings object, or None when Azure AD sync is not configured."""
        try:
            answer = self._call("GET", "path.settings", "read Azure AD settings of", org, org=org)
        except ApiError as error:
            if str(error.status) == WIRE["settings.absent_status"]:
                return None
            raise
        return None if settings_absent(answer) else answer

    def read_import_settings(self, org: str) -> Tuple[Optional[dict], Optional[dict]]:
        """(settings by option name, status) or (None, None) when not configured. Never the key."""
        settings, status = self._read_import_settings(org)
        self._saw(org, "settings", (settings, status))
        return settings, status

    def _read_import_settings(self, org: str) -> Tuple[Optional[dict], Optional[dict]]:
        known = self._primed.get(normalize_domain(org))
        if known is not None:
            if not known["configured"]:
                return None, None
            return dict(known["settings"]), dict((name, known[name]) for name in STATUS_FIELDS)
        body = self.get_azure_settings(org)
        if body is None:
            return None, None
        return settings_from_wire(body), status_from_wire(body)

    def put_import_settings(self, org: str, settings: dict, key: Optional[str] = None):
        booleans = self.wire_format["booleans"]
        try:
            return self._call("PUT", "path.settings", "save Azure AD settings of", org, json=settings_to_wire(settings, key, booleans), org=org)
        except ApiError as error:
            if error.status not in _REFUSED_BODY:
                raise
            message = (error.api_message or "").lower()
            if key is None and WIRE["settings.key"] in message:
                raise WireAssumptionRefused(
                    error,
                    _assumption("settings.put_without_key", "a settings change without %s keeps the stored key" % WIRE["settings.key"]),
                    "Send the key with the change (update_key: always with a new secret's value; the role azure_user_sync does so by itself)",
                )
            other = [form for form in BOOLEAN_FORMS if form != booleans][0]
            sent = "JSON true/false" if booleans == "json" else "\"true\"/\"false\" strings"
            wanted = "\"true\"/\"false\" strings" if other == "strings" else "JSON true/false"
            raise WireAssumptionRefused(
                error,
                _assumption("settings.booleans", "booleans travel as %s" % sent),
                "If the service wants them as %s, set wire_format.booleans: %s. %s" % (wanted, other, _CHECK_ADVICE),
            )

    def key_dropped(self, org: str, expiry_before: Optional[str]) -> bool:
        """After a settings write without the key: whether the service no longer reports a key expiry
        (secret_expiry) although it did before, the sign that it dropped the stored key."""
        if not expiry_before:
            return False
        body = self.get_azure_settings(org)
        return body is not None and not status_from_wire(body).get("secret_expiry")

    def delete_import_settings(self, org: str):
        return self._call("DELETE", "path.settings", "clear Azure AD settings of", org, org=org)

    def list_exemptions(self, org: str) -> List[str]:
        known = self._primed_part(org, "exemptions")
        if known is not None:
            return self._saw(org, "exemptions", list(known))
        return self._saw(org, "exemptions", exemptions_from_wire(self._call("GET", "path.exemptions", "list sync exemptions of", org, org=org)))

    def add_exemptions(self, org: str, emails: Iterable[str]):
        form = self.wire_format["exemptions"]
        try:
            return self._call("PUT", "path.exemptions", "add sync exemptions to", org, json=exemptions_to_wire(emails, form), org=org)
        except ApiError as error:
            if error.status not in _REFUSED_BODY:
                raise
            raise WireAssumptionRefused(
                error,
                _assumption("exemptions.add_key", "the body is %s" % _EXEMPTIONS_SHAPES[form]),
                "Set wire_format.exemptions to the form your service takes (%s). %s"
                % ("; ".join("%s = %s" % item for item in sorted(_EXEMPTIONS_SHAPES.items())), _CHECK_ADVICE),
            )

    def delete_exemption(self, org: str, email: str):
        return self._call("DELETE", "path.exemption", "remove sync exemption", email, org=org, email=email)

    def delete_all_exemptions(self, org: str):
        return self._call("DELETE", "path.exemptions", "remove all sync exemptions of", org, org=org)
