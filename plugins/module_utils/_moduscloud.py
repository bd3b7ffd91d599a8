# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""modusCloud (Proofpoint Essentials API v1) client, connection options and wire mapping.

Private to this collection: no compatibility promise outside it.

WIRE_TABLE below is the only place that spells a wire-level name (path, body key, envelope or
value encoding). Each entry says where the name comes from and how sure we are of it, with the
marks of the research notes: C confirmed, S single source, I inferred, ? unknown (our assumption).
docs/moduscloud-api.md explains the table for a user who holds the official specification;
correcting a name means changing its entry here, nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple
from datetime import datetime, timezone

from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import (
    REQUESTS_IMPORT_ERROR,
    ApiError,
    HttpClient,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._transport import Transport, env_fallback
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import UPDATABLE_FIELDS, USER_ROLES

# ---------------------------------------------------------------------------------------------
# The wire mapping: every name the API uses, with its source and confidence
# ---------------------------------------------------------------------------------------------

Wire = namedtuple("Wire", "term wire encoding confidence source")

# Settings encodings: how an option value becomes the wire value (see settings_to_wire).
TEXT = "string"
BOOLEAN = "JSON boolean"
INVERTED = "JSON boolean, inverted"
HOURS = "integer (hours)"
SECRET = "string, write-only (never returned by GET)"
DATE = "read-only date"

WIRE_TABLE = (
    # Where the API lives and how it authenticates (reference sections 2 and 3.1).
    Wire("base_url", "https://{stack}.proofpointessentials.com/api/v1", "", "C",
         "PP-DOC; PP-STATS stack list (us1-us5, eu1); usg1 and usg2 from CODIEG0's stack list [S]"),
    Wire("header.username", "X-User", "admin login email", "C", "every client (CODIEG0, PSPP, KRZY, SINGH, MSPB)"),
    Wire("header.password", "X-Password", "local Proofpoint password", "C", "every client"),
    Wire("auth.failed_status", "401", "status of a wrong X-User / X-Password (403 is read the same way)", "?",
         "CODIEG0 get_users.sh only shows a 4xx without the users key"),
    Wire("path.endpoints", "/endpoints/{domain}", "", "C", "PP-DOC via MIEARLS; MSPB"),
    Wire("envelope.endpoints", "endpoints", "list of base URLs (a bare host gets /api/v1 appended)", "S",
         "KRZY Get-ProofPointEndpoint reads .endpoints; the item format is unknown [?]"),
    Wire("path.me", "/me", "", "C", "PSPP Connect-Proofpoint; MSPB"),
    # The organization and its domains (reference 4.1, 4.2).
    Wire("path.org", "/orgs/{org}", "", "C", "MSPB; PSPP; KRZY"),
    Wire("org.primary_domain", "primary_domain", TEXT, "S", "KRZY ClassDefinition"),
    Wire("org.name", "name", TEXT, "S", "KRZY ClassDefinition"),
    Wire("path.domains", "/orgs/{org}/domains", "", "C", "MSPB; PSPP; KRZY"),
    Wire("path.domain", "/orgs/{org}/domains/{domain}", "PUT replaces the object: read-modify-write", "C",
         "MSPB; PSPP Set-ProofpointDomain"),
    Wire("envelope.domains", "domains", "GET wraps the list", "S", "KRZY"),
    Wire("domain.name", "name", TEXT, "S", "PSPP New-ProofpointDomain; KRZY"),
    Wire("domain.is_active", "is_active", BOOLEAN, "S", "PSPP New-ProofpointDomain"),
    Wire("domain.is_relay", "is_relay", BOOLEAN, "S", "PSPP New-ProofpointDomain"),
    Wire("domain.destination", "destination", "relay host name or null", "S",
         "PSPP New-ProofpointDomain (sends it wrongly as a boolean)"),
    # Users (reference 4.3). POST takes one object or a bare list (batch).
    Wire("path.users", "/orgs/{org}/users", "POST: one object, or a list for a batch", "C", "all clients; MSPB"),
    Wire("path.user", "/orgs/{org}/users/{email}", "PUT replaces the object: read-modify-write", "C",
         "PSPP; KRZY; SINGH; CODIEG0 not_billable.sh"),
    Wire("envelope.users", "users", "GET wraps the list", "C", "CODIEG0, KRZY, PSPP, SINGH"),
    Wire("user.primary_email", "primary_email", TEXT, "C", "SINGH, KRZY, CODIEG0"),
    Wire("user.alias_emails", "alias_emails", "list of addresses", "S", "SINGH, KRZY"),
    # Azure AD import settings (reference 5.1-5.3). Keys from PSPP Set-ProofpointAzureSync only.
    Wire("path.settings", "/orgs/{org}/settings/azure", "GET / PUT (whole body) / DELETE", "C",
         "MSPB essentials_settings (generated from the spec); PSPP; CODIEG0"),
    Wire("settings.delete_scope", "DELETE /orgs/{org}/settings/azure",
         "clears the settings, the key and the sync status; the exemptions and the users stay (the "
         "collection removes exemptions, and synced users when asked, itself)", "?",
         "MSPB: \"Clear and reset\"; what the reset covers is our assumption"),
    Wire("settings.absent_status", "404", "GET answer when nothing is configured; 204, and 200 with {} or "
         "without a primary_domain and application_id, are read the same way", "?", "CTG handles 404 and {}"),
    Wire("settings.put_without_key", "ad_key left out", "PUT without ad_key keeps the stored key (the role "
         "hands over a new key with every settings change all the same)", "?",
         "no source; PSPP always sends ad_key"),
    Wire("settings.booleans", "JSON boolean", "how the boolean settings travel on PUT (wire_format.booleans); "
         "\"true\"/\"false\" strings are read too", "?",
         "PSPP's first version sent JSON booleans, its current one strings"),
    Wire("settings.primary_domain", "primary_domain", TEXT, "C", "CODIEG0 get_azure_details.sh; PSPP"),
    Wire("settings.application_id", "application_id", TEXT, "C", "CODIEG0 get_azure_details.sh; PSPP"),
    Wire("settings.key", "ad_key", SECRET, "S", "PSPP Set-ProofpointAzureSync"),
    Wire("settings.allow_microsoft_sign_in", "disable_login", INVERTED, "S", "PSPP (\"switch to disable login\")"),
    Wire("settings.default_user_role", "default_user_role_name", TEXT, "S", "PSPP"),
    Wire("settings.sync_frequency_hours", "sync_frequency", HOURS, "S", "PSPP (default 1); CTG reads hours"),
    Wire("settings.sync_active_users", "sync_active_users", BOOLEAN, "S", "PSPP; CTG"),
    Wire("settings.sync_distribution_groups", "sync_distribution_groups", BOOLEAN, "S", "PSPP"),
    Wire("settings.sync_security_groups", "sync_security_groups", BOOLEAN, "S", "PSPP"),
    Wire("settings.add_users", "add_users", BOOLEAN, "S", "PSPP; CTG"),
    Wire("settings.update_users", "update_users", BOOLEAN, "S", "PSPP; CTG"),
    Wire("settings.remove_users", "remove_deleted_users", BOOLEAN, "S", "PSPP; CTG"),
    Wire("settings.add_groups", "add_groups", BOOLEAN, "S", "PSPP"),
    Wire("settings.update_groups", "update_groups", BOOLEAN, "S", "PSPP"),
    Wire("settings.remove_groups", "remove_deleted_groups", BOOLEAN, "S", "PSPP"),
    Wire("status.secret_expiry", "secret_expiry", DATE + " (YYYY-MM-DD assumed [?])", "C",
         "CODIEG0 get_azure_details.sh"),
    Wire("status.last_successful_sync", "last_successful_sync", DATE + " and time, UTC (ISO 8601 assumed [?])",
         "C", "CODIEG0 get_azure_details.sh; CTG mock"),
    # Sync exemptions (reference 5.4).
    Wire("path.exemptions", "/orgs/{org}/settings/azure/exemptions", "GET list / PUT add / DELETE all", "C",
         "MSPB essentials_sync_exemptions; CODIEG0 get_exempt_azure.sh"),
    Wire("path.exemption", "/orgs/{org}/settings/azure/exemptions/{email}", "DELETE one", "C", "MSPB"),
    Wire("exemptions.item_email", "email", "GET answers a list of objects", "S", "CODIEG0 (.[].email)"),
    Wire("exemptions.add_key", "exemptions", "PUT {\"exemptions\": \"a@x,b@x\"} (comma-separated string; "
         "wire_format.exemptions chooses another form)", "?",
         "the spec says \"list of comma separated emails\"; key and JSON type are our assumption"),
)

WIRE = dict((entry.term, entry.wire) for entry in WIRE_TABLE)

# Where a user reads about each assumption that a refused write names.
UNKNOWNS_DOC = 'docs/moduscloud-api.md, section "Known unknowns"'

# The forms a write can take where the wire format is an open question (WIRE_TABLE rows
# settings.booleans and exemptions.add_key). The first is the assumption; the others are chosen by
# the user (option wire_format), typically after the contract check (moduscloud_api_check) settled it.
# The collection never retries a refused write in another form by itself.
BOOLEAN_FORMS = ("json", "strings")
EXEMPTIONS_FORMS = ("comma_string", "json_list", "bare_list", "bare_string")
WIRE_FORMAT_SPEC = dict(
    type="dict",
    options=dict(
        booleans=dict(type="str", choices=list(BOOLEAN_FORMS), default=BOOLEAN_FORMS[0]),
        exemptions=dict(type="str", choices=list(EXEMPTIONS_FORMS), default=EXEMPTIONS_FORMS[0]),
    ),
)
DEFAULT_WIRE_FORMAT = {"booleans": BOOLEAN_FORMS[0], "exemptions": EXEMPTIONS_FORMS[0]}
_EXEMPTIONS_SHAPES = {
    "comma_string": '{"exemptions": "a@x,b@x"}',
    "json_list": '{"exemptions": ["a@x", "b@x"]}',
    "bare_list": '["a@x", "b@x"]',
    "bare_string": '"a@x,b@x"',
}

# Option name -> (wire key, encoding) for the import settings, derived from the table.
SETTINGS_FIELDS = dict((entry.term[len("settings."):], (entry.wire, entry.encoding))
                       for entry in WIRE_TABLE
                       if entry.term.startswith("settings.") and entry.encoding in (TEXT, BOOLEAN, INVERTED, HOURS))
KEY_OPTION = "key"
STATUS_FIELDS = dict((entry.term[len("status."):], entry.wire) for entry in WIRE_TABLE if entry.term.startswith("status."))

# ---------------------------------------------------------------------------------------------
# Values the collection accepts (validated before any write)
# ---------------------------------------------------------------------------------------------

STACKS = ("us1", "us2", "us3", "us4", "us5", "eu1", "usg1", "usg2")
AUTO_STACK = "auto"
# Any instance answers /endpoints/{domain} (PP-DOC), so discovery asks the first stack by default.
DISCOVERY_STACK = "us1"
# 0 = never (manual only), as the on-premises AD page offers and CTG reads it; a week at most.
SYNC_FREQUENCY_HOURS = (0, 168)

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_EMAIL_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def normalize_domain(value):
    return (value or "").strip().rstrip(".").lower()


def is_domain_name(value):
    return bool(_DOMAIN_RE.match(normalize_domain(value)))


def is_email(value):
    value = (value or "").strip().lower()
    if value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(_EMAIL_LOCAL_RE.match(local)) and is_domain_name(domain)


def is_guid(value):
    return bool(_GUID_RE.match((value or "").strip().lower()))


def invalid_settings(options, check_mode=False):
    """Problems with import settings options, each naming the option and what is allowed.

    In check mode the application id may be PLACEHOLDER: an earlier task would create the application.
    """
    problems = []
    for name in ("org", "primary_domain"):
        value = options.get(name)
        if value is not None and not is_domain_name(value):
            problems.append("%s must be a domain name such as example.com, got %r" % (name, value))
    application_id = options.get("application_id")
    if application_id == PLACEHOLDER:
        if not check_mode:
            problems.append("application_id is %s, the check-mode placeholder of an application an earlier task "
                            "would create; outside check mode it must be the application's id" % PLACEHOLDER)
    elif application_id is not None and not is_guid(application_id):
        problems.append("application_id must be the Entra application (client) id, a GUID such as "
                        "00000000-0000-0000-0000-000000000000, got %r" % application_id)
    frequency = options.get("sync_frequency_hours")
    low, high = SYNC_FREQUENCY_HOURS
    if frequency is not None and not low <= frequency <= high:
        problems.append("sync_frequency_hours must be a whole number of hours from %d (never) to %d, got %s"
                        % (low, high, frequency))
    role = options.get("default_user_role")
    if role is not None and role not in USER_ROLES:
        problems.append("default_user_role must be one of %s, got %r" % (", ".join(USER_ROLES), role))
    if options.get(KEY_OPTION) is not None and not options[KEY_OPTION].strip():
        problems.append("key must not be empty")
    bad_emails = [e for e in options.get("exemptions") or [] if not is_email(e)]
    if bad_emails:
        problems.append("exemptions must be email addresses; not valid: %s" % ", ".join(bad_emails))
    return problems


# ---------------------------------------------------------------------------------------------
# Conversions between option names and wire bodies
# ---------------------------------------------------------------------------------------------

def settings_to_wire(settings, key=None, booleans="json"):
    """PUT body for the import settings given by option name; `key` is added only when sent.

    booleans: "json" (JSON true/false) or "strings" ("true"/"false"), per wire_format.booleans.
    """
    body = {}
    for option, (wire_key, encoding) in SETTINGS_FIELDS.items():
        if option not in settings or settings[option] is None:
            continue
        value = settings[option]
        if encoding == INVERTED:
            value = not value
        elif encoding == HOURS:
            value = int(value)
        elif encoding == BOOLEAN:
            value = bool(value)
        if booleans == "strings" and encoding in (BOOLEAN, INVERTED):
            value = "true" if value else "false"
        body[wire_key] = value
    if key is not None:
        body[WIRE["settings.key"]] = key
    return body


def settings_absent(body):
    """Whether a GET /settings/azure answer means "nothing configured": no body (204), {} or an object
    without a primary_domain and an application_id (null or empty), besides the assumed 404."""
    if not isinstance(body, dict) or not body:
        return True
    return not any(body.get(WIRE["settings." + name]) not in (None, "") for name in ("primary_domain", "application_id"))


def settings_from_wire(body):
    """Import settings by option name from a GET answer: only the keys the service returned.

    The key is never returned and never read here; identifiers are lower-cased for comparison.
    """
    settings = {}
    for option, (wire_key, encoding) in SETTINGS_FIELDS.items():
        if wire_key not in body or body[wire_key] is None:
            continue
        value = body[wire_key]
        if encoding == INVERTED:
            value = not _as_bool(value)
        elif encoding == BOOLEAN:
            value = _as_bool(value)
        elif encoding == HOURS:
            value = int(value) if str(value).strip().lstrip("-").isdigit() else value
        elif option in ("primary_domain", "application_id"):
            value = str(value).strip().lower()
        settings[option] = value
    return settings


def status_from_wire(body):
    """secret_expiry (YYYY-MM-DD) and last_successful_sync (YYYY-MM-DDTHH:MM:SSZ, UTC) in one form whatever
    form the service wrote them in (None when absent); a form the collection cannot read stays as sent."""
    status = {}
    for name, wire_key in STATUS_FIELDS.items():
        value = body.get(wire_key)
        moment = parse_timestamp(value)
        if moment is not None:
            value = moment.strftime("%Y-%m-%d" if name == "secret_expiry" else "%Y-%m-%dT%H:%M:%SZ")
        status[name] = value if value not in ("", None) else None
    return status


def unreadable_status(status):
    """Names of status fields whose form the collection cannot read (their dates are then unknown)."""
    status = status or {}
    return sorted(name for name in STATUS_FIELDS
                  if status.get(name) is not None and parse_timestamp(status[name]) is None)


def sync_health(status, now=None):
    """Days until the stored key expires and hours since the last successful sync (None if unknown)."""
    now = now or datetime.now(timezone.utc)
    expiry = parse_timestamp((status or {}).get("secret_expiry"))
    last_sync = parse_timestamp((status or {}).get("last_successful_sync"))
    return {
        "secret_days_remaining": (expiry.date() - now.date()).days if expiry else None,
        "last_sync_age_hours": round((now - last_sync).total_seconds() / 3600.0, 1) if last_sync else None,
    }


def org_primary_domain(org_body):
    return normalize_domain((org_body or {}).get(WIRE["org.primary_domain"]))


def _as_bool(value):
    # Older clients sent "true"/"false" strings (reference 5.3); read either form.
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def domain_from_wire(body):
    return {
        "name": normalize_domain(body.get(WIRE["domain.name"])),
        "is_active": body.get(WIRE["domain.is_active"]),
        "is_relay": body.get(WIRE["domain.is_relay"]),
        "destination": body.get(WIRE["domain.destination"]),
    }


def domain_to_wire(domain):
    """Body for POST/PUT of a domain, from a dict with the keys of domain_from_wire (None = leave out)."""
    body = {}
    for field in ("name", "is_active", "is_relay", "destination"):
        if domain.get(field) is not None:
            body[WIRE["domain." + field]] = domain[field]
    return body


def exemptions_from_wire(body):
    """Lower-cased, sorted addresses from the GET answer (objects with an email; bare strings tolerated)."""
    if isinstance(body, dict):  # tolerate a wrapped list, as CTG does (or a wrapped comma-separated string)
        body = next((value for value in body.values() if isinstance(value, (list, str))), [])
    if isinstance(body, str):
        body = body.split(",")
    emails = []
    for item in body or []:
        email = item.get(WIRE["exemptions.item_email"]) if isinstance(item, dict) else item
        if email:
            emails.append(str(email).strip().lower())
    return sorted(set(emails))


def exemptions_to_wire(emails, form="comma_string"):
    """PUT body adding `emails`, in one of EXEMPTIONS_FORMS (wire_format.exemptions)."""
    emails = list(emails)
    if form == "json_list":
        return {WIRE["exemptions.add_key"]: emails}
    if form == "bare_list":
        return emails
    if form == "bare_string":
        return ",".join(emails)
    return {WIRE["exemptions.add_key"]: ",".join(emails)}


def parse_timestamp(value):
    """An aware UTC datetime from the service's date or date-time text, or Unix seconds (a number, or
    digits), or None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) >= 9:
        value = int(value.strip())
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if value > 10 ** 11 else value  # milliseconds, as some APIs send
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1]
    elif text.endswith("+00:00"):
        text = text[:-6]
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------------------------
# Domain preflight
# ---------------------------------------------------------------------------------------------

def missing_domains(required, org_domains):
    """Sorted names in `required` that the org does not have (case-insensitive, trailing dot ignored).

    The service's sync fails when any domain of the Entra tenant is missing from the org
    (reference section 8), so callers pass the tenant's verified domains here.
    """
    have = set(normalize_domain(name) for name in org_domains)
    return sorted(set(normalize_domain(name) for name in required) - have)


# ---------------------------------------------------------------------------------------------
# Connection options and base URL
# ---------------------------------------------------------------------------------------------

# Environment variables set but empty count as unset (AWX injects every key of a credential type).
MODUSCLOUD_CONNECTION_SPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["MODUSCLOUD_API_URL"])),
    stack=dict(type="str", choices=list(STACKS) + [AUTO_STACK], fallback=(env_fallback, ["MODUSCLOUD_STACK"])),
    # Required, but checked by client_from_module, whose message names the environment and role variables.
    username=dict(type="str", fallback=(env_fallback, ["MODUSCLOUD_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["MODUSCLOUD_PASSWORD"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["MODUSCLOUD_CA_PATH", "AZURE_SYNC_CA_PATH"])),
    validate_certs=dict(type="bool", default=True),
    proxy_url=dict(type="str", no_log=True),
)


def missing_credentials(params):
    """The message for missing modusCloud admin credentials, or None."""
    missing = [name for name in ("username", "password") if not (params.get(name) or "").strip()]
    if not missing:
        return None
    variables = dict(username="MODUSCLOUD_USERNAME", password="MODUSCLOUD_PASSWORD")
    return ("modusCloud connection: missing %s. Set the option%s %s, or the environment variable%s %s (in the role "
            "azure_user_sync: %s)" % (" and ".join(missing), "s" if len(missing) > 1 else "", " and ".join(missing),
                                      "s" if len(missing) > 1 else "",
                                      " and ".join(variables[name] for name in missing),
                                      " and ".join("azure_user_sync_moduscloud_%s" % name for name in missing)))


def moduscloud_argument_spec(**options):
    """The connection options, the organization every modusCloud module acts on (org), and a module's own.

    Documented by the doc fragments moduscloud.azure_sync.moduscloud and moduscloud.azure_sync.moduscloud.ORG.
    """
    spec = dict((name, dict(value)) for name, value in MODUSCLOUD_CONNECTION_SPEC.items())
    spec["org"] = dict(type="str", required=True)
    spec.update(options)
    return spec


class ConnectionOptionsError(ValueError):
    """Connection options that cannot work; the text says what is allowed."""


def stack_url(stack):
    if stack not in STACKS:
        raise ConnectionOptionsError("stack must be one of %s (or %s to discover it), got %r"
                                     % (", ".join(STACKS), AUTO_STACK, stack))
    return WIRE["base_url"].format(stack=stack)


def endpoint_url(value):
    """A base URL from an /endpoints answer item: a stack name, a host URL, or a full API URL."""
    value = str(value).strip().rstrip("/")
    if value.lower() in STACKS:
        return stack_url(value.lower())
    if "://" not in value:
        value = "https://" + value
    if not urlsplit(value).path:
        value += "/api/v1"
    return value


def _checked_api_url(api_url):
    parts = urlsplit(api_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ConnectionOptionsError("api_url must be an https:// URL such as "
                                     "https://us1.proofpointessentials.com/api/v1 "
                                     "(the password travels in a header), got %r" % api_url)
    return api_url.rstrip("/")


def connection_base(api_url=None, stack=None):
    """(base URL, discover?) from the connection options; discovery asks this base for the org's stack."""
    if api_url:
        return _checked_api_url(api_url), stack == AUTO_STACK
    if stack == AUTO_STACK:
        return stack_url(DISCOVERY_STACK), True
    if stack:
        return stack_url(stack), False
    raise ConnectionOptionsError("set api_url (MODUSCLOUD_API_URL) or stack (MODUSCLOUD_STACK): stack is one of "
                                 "%s, or %s to discover the organization's stack" % (", ".join(STACKS), AUTO_STACK))


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------

class CredentialsRejected(ApiError):
    """401/403: the service refused the admin's credentials (or this admin's access to the org)."""

    def __init__(self, username, operation, resource, status, message=None, request_id=None):
        self.username = username
        super(CredentialsRejected, self).__init__(operation, resource, status, None, message, request_id)

    def _describe(self):
        where = "%s%s" % (self.operation, " " + self.resource if self.resource else "")
        text = "modusCloud rejected the credentials of %s (HTTP %s on %s): check the admin's local Proofpoint " \
               "password (not the Microsoft 365 one), that the account is an organization or channel admin " \
               "that is not read-only, and that it has no 2-step login" % (self.username, self.status, where)
        if self.status == 403:
            text += "; HTTP 403 can also mean this admin may not manage that organization"
        if self.api_message:
            text += " (modusCloud said: %s)" % self.api_message
        return text


class WireAssumptionRefused(ApiError):
    """The service refused a write whose form rests on an open question about the API (a WIRE_TABLE row)."""

    def __init__(self, error, assumption, advice):
        self.assumption = assumption
        self.advice = advice
        super(WireAssumptionRefused, self).__init__(error.operation, error.resource, error.status, error.code,
                                                    error.api_message, error.request_id)

    def _describe(self):
        return ("%s. This write rests on an assumption about the modusCloud API that nobody could confirm: %s "
                "(see %s). %s" % (super(WireAssumptionRefused, self)._describe(), self.assumption, UNKNOWNS_DOC,
                                  self.advice))

    def to_result(self):
        result = super(WireAssumptionRefused, self).to_result()
        result["wire_assumption"] = self.assumption.split(":", 1)[0]
        return result


# Statuses with which a service refuses a request body it does not understand.
_REFUSED_BODY = (400, 415, 422)
_CHECK_ADVICE = ("Run playbooks/check_moduscloud_api.yml (read-only; its opt-in write probes use a test "
                 "organization) to see which form your service takes, and report it")


def _assumption(term, text):
    entry = next(row for row in WIRE_TABLE if row.term == term)
    return "%s: %s" % (entry.term, text or entry.encoding)


class ModusCloudClient(object):
    """Calls on one modusCloud stack, as one admin. Every method raises ApiError on failure.

    wire_format: the forms of the writes whose format is an open question (WIRE_FORMAT_SPEC).
    """

    def __init__(self, base_url, username, password, ca_path=None, validate_certs=True, transport=None,
                 wire_format=None,
                 **http_options):
        self.username = username
        self.wire_format = dict(DEFAULT_WIRE_FORMAT, **dict((k, v) for k, v in (wire_format or {}).items() if v))
        self._password = password
        self._transport = transport or Transport(ca_path, validate_certs)
        self._http_options = http_options
        self.http = self._connect(base_url)
        self._known = {}  # org -> what an earlier task read (see prime); dropped at the first write

    def prime(self, org, state):
        """Answer the reads of `org`'s domains, import settings and exemptions from `state` (what
        moduscloud_sync_info returned earlier in the run) instead of asking the API again. The role passes it
        only while nothing has written to the organization since; any write through this client forgets it."""
        self._known[normalize_domain(org)] = state

    def forget(self):
        """Read from the API again from now on (for polling)."""
        self._known.clear()

    def _known_part(self, org, name):
        state = self._known.get(normalize_domain(org))
        return None if state is None else state[name]

    def _connect(self, base_url):
        headers = {WIRE["header.username"]: self.username, WIRE["header.password"]: self._password}
        return HttpClient(base_url, headers=headers, transport=self._transport, **self._http_options)

    @property
    def base_url(self):
        return self.http.base_url

    def _call(self, method, path_term, operation, resource=None, json=None, **path_values):
        if method != "GET":
            self._known.clear()
        path = WIRE[path_term].format(**dict((k, quote(str(v), safe="@")) for k, v in path_values.items()))
        try:
            return self.http.json(method, path, operation, resource, json=json)
        except ApiError as error:
            raise self._explained(error)

    def _explained(self, error):
        message = error.api_message
        if message and self._password and self._password in message:
            message = message.replace(self._password, "********")
        if error.status in (401, 403):
            return CredentialsRejected(self.username, error.operation, error.resource, error.status, message,
                                       error.request_id)
        if message is not error.api_message:
            return ApiError(error.operation, error.resource, error.status, error.code, message, error.request_id)
        return error

    # -- discovery and identity

    def discover(self, domain):
        """Ask this host which stack serves `domain` and talk to that stack from now on; return its URL."""
        answer = self._call("GET", "path.endpoints", "discover the modusCloud stack of", domain, domain=domain) or {}
        endpoints = answer.get(WIRE["envelope.endpoints"]) if isinstance(answer, dict) else answer
        if not endpoints:
            raise ApiError("discover the modusCloud stack of", domain,
                           message="%s answered no endpoint for this domain" % self.base_url)
        base_url = endpoint_url(endpoints[0])
        if base_url != self.base_url:
            self.http = self._connect(base_url)
        return base_url

    def me(self):
        return self._call("GET", "path.me", "read the calling admin")

    # -- organization and domains

    def _org_call(self, path_term, operation, org):
        """GET an organization-level resource; a 404 there means this admin sees no such organization."""
        try:
            return self._call("GET", path_term, operation, org, org=org)
        except ApiError as error:
            if error.status == 404:
                raise ApiError(operation, org, 404, error.code,
                               "no organization with the domain %s is visible on %s: check org (any domain of "
                               "the organization) and api_url/stack" % (org, self.base_url), error.request_id)
            raise

    def get_org(self, org):
        return self._org_call("path.org", "read organization", org)

    def list_domains(self, org):
        """The org's domains (normalised dicts); also the cheapest check that the org exists."""
        known = self._known_part(org, "domains")
        if known is not None:
            return [dict(domain) for domain in known]
        answer = self._org_call("path.domains", "list domains of organization", org) or {}
        items = answer.get(WIRE["envelope.domains"], []) if isinstance(answer, dict) else answer
        return [domain_from_wire(item) for item in items]

    def add_domain(self, org, domain):
        return self._call("POST", "path.domains", "add domain", normalize_domain(domain["name"]),
                          json=domain_to_wire(domain), org=org)

    def update_domain(self, org, name, changes):
        """Read-modify-write: PUT replaces the whole domain object."""
        current = self._call("GET", "path.domain", "read domain", name, org=org, domain=name) or {}
        body = dict(current)
        body.update(domain_to_wire(changes))
        return self._call("PUT", "path.domain", "update domain", name, json=body, org=org, domain=name)

    def delete_domain(self, org, name):
        return self._call("DELETE", "path.domain", "remove domain", name, org=org, domain=name)

    # -- users

    def list_users(self, org):
        answer = self._call("GET", "path.users", "list users of organization", org, org=org) or {}
        return answer.get(WIRE["envelope.users"], []) if isinstance(answer, dict) else answer

    def get_user(self, org, email):
        """The user object, or None when there is no such user."""
        try:
            return self._call("GET", "path.user", "read user", email, org=org, email=email)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def create_users(self, org, users):
        """Create one user (a dict) or a batch (a list) in one request."""
        resource = users.get(WIRE["user.primary_email"]) if isinstance(users, dict) else "%d users" % len(users)
        return self._call("POST", "path.users", "create user", resource, json=users, org=org)

    def update_user(self, org, email, changes):
        """Set the fields the Azure AD sync owns (UPDATABLE_FIELDS) on a user; return the object written.

        Read-modify-write, because PUT replaces the whole user: type, uid and every other field
        go back exactly as read. Changing any other field is refused before any request.
        """
        refused = sorted(set(changes) - set(UPDATABLE_FIELDS))
        if refused:
            raise ValueError("update of user %s changes %s; only %s may change"
                             % (email, ", ".join(refused), ", ".join(UPDATABLE_FIELDS)))
        current = self._call("GET", "path.user", "read user", email, org=org, email=email)
        address = current.get(WIRE["user.primary_email"]) if isinstance(current, dict) else None
        if (address or "").lower() != email.lower():
            # Writing back anything but this user's full object would replace it with something else.
            raise ApiError("update user", email, message="reading the user answered %s instead of its object, so "
                           "nothing was written" % ("user %s" % address if address else "no user"))
        body = dict(current)
        body.update(changes)
        self._call("PUT", "path.user", "update user", email, json=body, org=org, email=email)
        return body

    def delete_user(self, org, email):
        return self._call("DELETE", "path.user", "remove user", email, org=org, email=email)

    # -- Azure AD import settings and exemptions

    def get_azure_settings(self, org):
        """The raw settings object, or None when Azure AD sync is not configured."""
        try:
            answer = self._call("GET", "path.settings", "read Azure AD settings of", org, org=org)
        except ApiError as error:
            if str(error.status) == WIRE["settings.absent_status"]:
                return None
            raise
        return None if settings_absent(answer) else answer

    def read_import_settings(self, org):
        """(settings by option name, status) or (None, None) when not configured. Never the key."""
        known = self._known.get(normalize_domain(org))
        if known is not None:
            if not known["configured"]:
                return None, None
            return dict(known["settings"]), dict((name, known[name]) for name in STATUS_FIELDS)
        body = self.get_azure_settings(org)
        if body is None:
            return None, None
        return settings_from_wire(body), status_from_wire(body)

    def put_import_settings(self, org, settings, key=None):
        booleans = self.wire_format["booleans"]
        try:
            return self._call("PUT", "path.settings", "save Azure AD settings of", org,
                              json=settings_to_wire(settings, key, booleans), org=org)
        except ApiError as error:
            if error.status not in _REFUSED_BODY:
                raise
            message = (error.api_message or "").lower()
            if key is None and WIRE["settings.key"] in message:
                raise WireAssumptionRefused(error, _assumption(
                    "settings.put_without_key", "a settings change without %s keeps the stored key"
                    % WIRE["settings.key"]), "Send the key with the change (update_key: always with a new secret's "
                    "value; the role azure_user_sync does so by itself)")
            other = [form for form in BOOLEAN_FORMS if form != booleans][0]
            sent = "JSON true/false" if booleans == "json" else "\"true\"/\"false\" strings"
            wanted = "\"true\"/\"false\" strings" if other == "strings" else "JSON true/false"
            raise WireAssumptionRefused(
                error, _assumption("settings.booleans", "booleans travel as %s" % sent),
                "If the service wants them as %s, set wire_format.booleans: %s. %s" % (wanted, other, _CHECK_ADVICE))

    def key_dropped(self, org, expiry_before):
        """After a settings write without the key: whether the service no longer reports a key expiry
        (secret_expiry) although it did before, the sign that it dropped the stored key."""
        if not expiry_before:
            return False
        body = self.get_azure_settings(org)
        return body is not None and not status_from_wire(body).get("secret_expiry")

    def delete_import_settings(self, org):
        return self._call("DELETE", "path.settings", "clear Azure AD settings of", org, org=org)

    def list_exemptions(self, org):
        known = self._known_part(org, "exemptions")
        if known is not None:
            return list(known)
        return exemptions_from_wire(self._call("GET", "path.exemptions", "list sync exemptions of", org, org=org))

    def add_exemptions(self, org, emails):
        form = self.wire_format["exemptions"]
        try:
            return self._call("PUT", "path.exemptions", "add sync exemptions to", org,
                              json=exemptions_to_wire(emails, form), org=org)
        except ApiError as error:
            if error.status not in _REFUSED_BODY:
                raise
            raise WireAssumptionRefused(error, _assumption(
                "exemptions.add_key", "the body is %s" % _EXEMPTIONS_SHAPES[form]),
                "Set wire_format.exemptions to the form your service takes (%s). %s"
                % ("; ".join("%s = %s" % item for item in sorted(_EXEMPTIONS_SHAPES.items())), _CHECK_ADVICE))

    def delete_exemption(self, org, email):
        return self._call("DELETE", "path.exemption", "remove sync exemption", email, org=org, email=email)

    def delete_all_exemptions(self, org):
        return self._call("DELETE", "path.exemptions", "remove all sync exemptions of", org, org=org)


# known_state: what moduscloud_sync_info returns, of which these keys are used.
KNOWN_STATE_KEYS = ("configured", "settings", "domains", "exemptions")


def known_state_problem(known):
    """Why a known_state cannot be used (it must be a moduscloud_sync_info result), or None."""
    missing = [key for key in KNOWN_STATE_KEYS + tuple(STATUS_FIELDS) if key not in known]
    if missing:
        return ("known_state must be the result of moduscloud.azure_sync.moduscloud_sync_info for the same "
                "organization; it lacks %s" % ", ".join(missing))
    if not isinstance(known["domains"], list) or not all(isinstance(d, dict) and "name" in d for d in known["domains"]):
        return "known_state.domains must be a list of domains with a name, as moduscloud_sync_info returns them"
    if not isinstance(known["exemptions"], list):
        return "known_state.exemptions must be a list of addresses, as moduscloud_sync_info returns them"
    if known["configured"] and not isinstance(known["settings"], dict):
        return "known_state.settings must be the settings moduscloud_sync_info returned"
    return None


def credentials_problem(params):
    """Why the admin credentials cannot sign in, found before any request, or None: missing (an empty value, as
    AWX injects for an unused credential field, counts as missing), or a username that is not an address."""
    problem = missing_credentials(params)
    if problem:
        return problem
    username = params["username"].strip()
    if not is_email(username):
        return "username must be the modusCloud admin's login email address, got %r" % username
    return None


def connection_problem(params):
    """Why the connection options cannot work, found without any request, or None."""
    try:
        connection_base(params.get("api_url"), params.get("stack"))
    except ConnectionOptionsError as error:
        return str(error)
    problems = Transport(params.get("ca_path"), params.get("validate_certs", True),
                         proxy_url=params.get("proxy_url")).problems()
    return "; ".join(problems) if problems else credentials_problem(params)


def client_from_module(module, org=None, **http_options):
    """A client for the module's connection options (fails the module with a clear message otherwise).

    With stack=auto the org's stack is discovered first, which needs `org`.
    """
    if REQUESTS_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    try:
        base_url, discover = connection_base(params.get("api_url"), params.get("stack"))
    except ConnectionOptionsError as error:
        module.fail_json(msg=str(error))
    problem = credentials_problem(params)
    if problem:
        module.fail_json(msg=problem)
    transport = Transport(params.get("ca_path"), params.get("validate_certs", True), proxy_url=params.get("proxy_url"))
    problems = transport.problems()
    if problems:
        module.fail_json(msg="; ".join(problems))
    client = ModusCloudClient(base_url, params["username"], params["password"], transport=transport,
                              wire_format=params.get("wire_format"), **http_options)
    known = params.get("known_state")
    if known is not None and org:
        problem = known_state_problem(known)
        if problem:
            module.fail_json(msg=problem)
        client.prime(org, known)
    if discover:
        if not org:
            module.fail_json(msg="stack=%s needs the organization's domain to discover its stack" % AUTO_STACK)
        try:
            client.discover(org)
        except ApiError as error:
            module.fail_json(msg=str(error), **error.to_result())
    return client


class ModusCloudModule(AnsibleModule):
    """The base of every modusCloud module: the connection options and org (added when the module's own spec
    leaves them out), check mode, the dependency check, and client(org), the one way to a ModusCloudClient."""

    def __init__(self, argument_spec, **kwargs):
        spec = moduscloud_argument_spec()
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        super(ModusCloudModule, self).__init__(argument_spec=spec, **kwargs)
        if REQUESTS_IMPORT_ERROR:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    def client(self, org=None, **http_options):
        """The client of the module's connection options (fails the module with a clear message otherwise)."""
        return client_from_module(self, org, **http_options)
