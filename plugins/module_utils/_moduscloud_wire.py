# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The modusCloud wire mapping: WIRE_TABLE, the one table of every name the Essentials API uses, and the
pure conversions between option values and wire bodies.

Private to this collection: no compatibility promise outside it.

WIRE_TABLE below is the only place that spells a wire-level name (path, body key, envelope or
value encoding). Each entry says where the name comes from and how sure we are of it, with the
marks C confirmed, S single source, I inferred, ? unknown (our assumption).
docs/moduscloud-api.md explains the table for a user who holds the official specification;
correcting a name means changing its entry here, nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple
from datetime import datetime, timezone
from typing import Iterable, List, Optional, Union

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
    # Where the API lives and how it authenticates (docs/moduscloud-api.md, Connection).
    Wire(
        "base_url",
        "https://{stack}.proofpointessentials.com/api/v1",
        "",
        "C",
        "PP-DOC; PP-STATS stack list (us1-us5, eu1); usg1 and usg2 from CODIEG0's stack list [S]",
    ),
    Wire("header.username", "X-User", "admin login email", "C", "every client (CODIEG0, PSPP, KRZY, SINGH, MSPB)"),
    Wire("header.password", "X-Password", "local Proofpoint password", "C", "every client"),
    Wire(
        "auth.failed_status",
        "401",
        "status of a wrong X-User / X-Password (403 is read the same way)",
        "?",
        "CODIEG0 get_users.sh only shows a 4xx without the users key",
    ),
    Wire("path.endpoints", "/endpoints/{domain}", "", "C", "PP-DOC via MIEARLS; MSPB"),
    Wire(
        "envelope.endpoints",
        "endpoints",
        "list of base URLs (a bare host gets /api/v1 appended)",
        "S",
        "KRZY Get-ProofPointEndpoint reads .endpoints; the item format is unknown [?]",
    ),
    Wire("path.me", "/me", "", "C", "PSPP Connect-Proofpoint; MSPB"),
    # The organization and its domains (docs/moduscloud-api.md, Endpoints).
    Wire("path.org", "/orgs/{org}", "", "C", "MSPB; PSPP; KRZY"),
    Wire("org.primary_domain", "primary_domain", TEXT, "S", "KRZY ClassDefinition"),
    Wire("org.name", "name", TEXT, "S", "KRZY ClassDefinition"),
    Wire("path.domains", "/orgs/{org}/domains", "", "C", "MSPB; PSPP; KRZY"),
    Wire("path.domain", "/orgs/{org}/domains/{domain}", "PUT replaces the object: read-modify-write", "C", "MSPB; PSPP Set-ProofpointDomain"),
    Wire("envelope.domains", "domains", "GET wraps the list", "S", "KRZY"),
    Wire("domain.name", "name", TEXT, "S", "PSPP New-ProofpointDomain; KRZY"),
    Wire("domain.is_active", "is_active", BOOLEAN, "S", "PSPP New-ProofpointDomain"),
    Wire("domain.is_relay", "is_relay", BOOLEAN, "S", "PSPP New-ProofpointDomain"),
    Wire("domain.destination", "destination", "relay host name or null", "S", "PSPP New-ProofpointDomain (sends it wrongly as a boolean)"),
    # Users (docs/moduscloud-api.md, List envelopes and objects). POST takes one object or a bare list (batch).
    Wire("path.users", "/orgs/{org}/users", "POST: one object, or a list for a batch", "C", "all clients; MSPB"),
    Wire("path.user", "/orgs/{org}/users/{email}", "PUT replaces the object: read-modify-write", "C", "PSPP; KRZY; SINGH; CODIEG0 not_billable.sh"),
    Wire("envelope.users", "users", "GET wraps the list", "C", "CODIEG0, KRZY, PSPP, SINGH"),
    Wire("user.primary_email", "primary_email", TEXT, "C", "SINGH, KRZY, CODIEG0"),
    Wire("user.alias_emails", "alias_emails", "list of addresses", "S", "SINGH, KRZY"),
    # Azure AD import settings (docs/moduscloud-api.md, Azure AD import settings). Keys from PSPP Set-ProofpointAzureSync only.
    Wire(
        "path.settings",
        "/orgs/{org}/settings/azure",
        "GET / PUT (whole body) / DELETE",
        "C",
        "MSPB essentials_settings (generated from the spec); PSPP; CODIEG0",
    ),
    Wire(
        "settings.delete_scope",
        "DELETE /orgs/{org}/settings/azure",
        "clears the settings, the key and the sync status; the exemptions and the users stay (the "
        "collection removes exemptions, and synced users when asked, itself)",
        "?",
        "MSPB: \"Clear and reset\"; what the reset covers is our assumption",
    ),
    Wire(
        "settings.absent_status",
        "404",
        "GET answer when nothing is configured; 204, and 200 with {} or without a primary_domain and application_id, are read the same way",
        "?",
        "CTG handles 404 and {}",
    ),
    Wire(
        "settings.put_without_key",
        "ad_key left out",
        "PUT without ad_key keeps the stored key (the role hands over a new key with every settings change all the same)",
        "?",
        "no source; PSPP always sends ad_key",
    ),
    Wire(
        "settings.booleans",
        "JSON boolean",
        "how the boolean settings travel on PUT (wire_format.booleans); \"true\"/\"false\" strings are read too",
        "?",
        "PSPP's first version sent JSON booleans, its current one strings",
    ),
    Wire("settings.primary_domain", "primary_domain", TEXT, "C", "CODIEG0 get_azure_details.sh; PSPP"),
    Wire("settings.app_id", "application_id", TEXT, "C", "CODIEG0 get_azure_details.sh; PSPP"),
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
    Wire("status.secret_expiry", "secret_expiry", DATE + " (YYYY-MM-DD assumed [?])", "C", "CODIEG0 get_azure_details.sh"),
    Wire("status.last_successful_sync", "last_successful_sync", DATE + " and time, UTC (ISO 8601 assumed [?])", "C", "CODIEG0 get_azure_details.sh; CTG mock"),
    # Sync exemptions (docs/moduscloud-api.md, Sync exemptions).
    Wire(
        "path.exemptions",
        "/orgs/{org}/settings/azure/exemptions",
        "GET list / PUT add / DELETE all",
        "C",
        "MSPB essentials_sync_exemptions; CODIEG0 get_exempt_azure.sh",
    ),
    Wire("path.exemption", "/orgs/{org}/settings/azure/exemptions/{email}", "DELETE one", "C", "MSPB"),
    Wire("exemptions.item_email", "email", "GET answers a list of objects", "S", "CODIEG0 (.[].email)"),
    Wire(
        "exemptions.add_key",
        "exemptions",
        "PUT {\"exemptions\": \"a@x,b@x\"} (comma-separated string; wire_format.exemptions chooses another form)",
        "?",
        "the spec says \"list of comma separated emails\"; key and JSON type are our assumption",
    ),
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
SETTINGS_FIELDS = dict(
    (entry.term[len("settings.") :], (entry.wire, entry.encoding))
    for entry in WIRE_TABLE
    if entry.term.startswith("settings.") and entry.encoding in (TEXT, BOOLEAN, INVERTED, HOURS)
)
KEY_OPTION = "key"
STATUS_FIELDS = dict((entry.term[len("status.") :], entry.wire) for entry in WIRE_TABLE if entry.term.startswith("status."))


def normalize_domain(value: Optional[str]) -> str:
    """A domain name as the service compares it: lower case, without spaces or a trailing dot."""
    return (value or "").strip().rstrip(".").lower()


# ---------------------------------------------------------------------------------------------
# Conversions between option names and wire bodies
# ---------------------------------------------------------------------------------------------


def settings_to_wire(settings: dict, key: Optional[str] = None, booleans: str = "json") -> dict:
    """PUT body for the import settings given by option name; `key` is added only when sent.

    booleans: "json" (JSON true/false) or "strings" ("true"/"false"), per wire_format.booleans.
    A name outside the table is a caller's mistake: dropping it would save settings without it.
    """
    unknown = sorted(set(settings) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValueError("not an import setting: %s; the settings are %s" % (", ".join(unknown), ", ".join(SETTINGS_FIELDS)))
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


def settings_absent(body) -> bool:
    """Whether a GET /settings/azure answer means "nothing configured": no body (204), {} or an object
    without a primary_domain and an application_id (null or empty), besides the assumed 404."""
    if not isinstance(body, dict) or not body:
        return True
    return not any(body.get(WIRE["settings." + name]) not in (None, "") for name in ("primary_domain", "app_id"))


def settings_from_wire(body: dict) -> dict:
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
        elif option in ("primary_domain", "app_id"):
            value = str(value).strip().lower()
        settings[option] = value
    return settings


def status_from_wire(body: dict) -> dict:
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


def unreadable_status(status: Optional[dict]) -> List[str]:
    """Names of status fields whose form the collection cannot read (their dates are then unknown)."""
    status = status or {}
    return sorted(name for name in STATUS_FIELDS if status.get(name) is not None and parse_timestamp(status[name]) is None)


def sync_health(status: Optional[dict], now: Optional[datetime] = None) -> dict:
    """Days until the stored key expires and hours since the last successful sync (None if unknown)."""
    now = now or datetime.now(timezone.utc)
    expiry = parse_timestamp((status or {}).get("secret_expiry"))
    last_sync = parse_timestamp((status or {}).get("last_successful_sync"))
    return {
        "secret_days_remaining": (expiry.date() - now.date()).days if expiry else None,
        "last_sync_age_hours": round((now - last_sync).total_seconds() / 3600.0, 1) if last_sync else None,
    }


def org_primary_domain(org_body: Optional[dict]) -> str:
    return normalize_domain((org_body or {}).get(WIRE["org.primary_domain"]))


def _as_bool(value) -> bool:
    # Older clients sent "true"/"false" strings (docs/moduscloud-api.md); read either form.
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def domain_from_wire(body: dict) -> dict:
    return {
        "name": normalize_domain(body.get(WIRE["domain.name"])),
        "is_active": body.get(WIRE["domain.is_active"]),
        "is_relay": body.get(WIRE["domain.is_relay"]),
        "destination": body.get(WIRE["domain.destination"]),
    }


def domain_to_wire(domain: dict) -> dict:
    """Body for POST/PUT of a domain, from a dict with the keys of domain_from_wire (None = leave out)."""
    body = {}
    for field in ("name", "is_active", "is_relay", "destination"):
        if domain.get(field) is not None:
            body[WIRE["domain." + field]] = domain[field]
    return body


def exemptions_from_wire(body) -> List[str]:
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


def exemptions_to_wire(emails: Iterable[str], form: str = "comma_string") -> Union[dict, list, str]:
    """PUT body adding `emails`, in one of EXEMPTIONS_FORMS (wire_format.exemptions)."""
    emails = list(emails)
    if form == "json_list":
        return {WIRE["exemptions.add_key"]: emails}
    if form == "bare_list":
        return emails
    if form == "bare_string":
        return ",".join(emails)
    return {WIRE["exemptions.add_key"]: ",".join(emails)}


# The UTC date and time the collection writes (report files, messages, the since option's example).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_timestamp(value) -> Optional[datetime]:
    """An aware UTC datetime from the service's date or date-time text, or Unix seconds (a number, or
    digits), or None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) >= 9:
        value = int(value.strip())
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if value > 10**11 else value  # milliseconds, as some APIs send
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
