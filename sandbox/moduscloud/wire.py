"""The emulated modusCloud API's wire vocabulary: the choices made where docs/moduscloud-api.md leaves a
point open (change them here only), the field lists and defaults of organizations, domains,
users and Azure settings, the {"errors": [...]} envelope and the small parsers every handler uses.

Shapes and status codes follow docs/moduscloud-api.md (cited as "ref N.N").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import namedtuple
from datetime import timedelta

# ---------------------------------------------------------------------------------------------
# Wire choices for points docs/moduscloud-api.md leaves open. Change them here only. The open questions
# that matter to the collection are answered every plausible way by the variants below; the
# constants here are their default answers (the collection's assumptions) and the smaller choices.
# ---------------------------------------------------------------------------------------------

# An admin asking for an org that exists but is not its own: [?]. We answer 403.
FOREIGN_ORG_STATUS = 403
# Known unknowns: GET /settings/azure when nothing is configured [?]: variant "unconfigured"
# (default 404, CTG handles it and {}); DELETE of absent settings then answers 404 too, for symmetry.
AZURE_SETTINGS_ABSENT_STATUS = 404
# PATCH on orgs is confirmed, its success status is not: we answer 204 like PUT.
ORG_PATCH_STATUS = 204
# Vircom tracks the 2-year expiry of the secret. Assumption: secret_expiry = the date the
# key was stored (first stored, or last changed) + 730 days; re-sending the same key keeps it.
SECRET_LIFETIME = timedelta(days=730)
# The formats of secret_expiry and last_successful_sync are [?]: variant "dates" (default
# ISO 8601 UTC, as in CTG's mock). The control API's own times use this form too.
LAST_SYNC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Sync exemptions: PUT /settings/azure/exemptions takes a "List of comma separated emails"; the exact JSON
# is [?]: variant "exemptions-body" (default {"exemptions": "a@x.example,b@x.example"}).
EXEMPTIONS_BODY_KEY = "exemptions"
# The key fingerprint shown by snapshot(): "sha256:" + the first 16 hex digits of SHA-256(key).
KEY_FINGERPRINT_DIGITS = 16


API_PREFIX = "/api/v1/"
# Every user type; the partner-level ones do not exist inside an organization.
ORG_USER_TYPES = ("organization_admin", "end_user", "silent_user", "functional_account")
ADMIN_USER_TYPES = ("organization_admin", "channel_admin", "strategic_partner_admin", "oem_partner_admin")
SYNCED_USER_TYPES = ("end_user", "silent_user")  # docs/sync-rules.md: the only types sync removes
SYNC_ROLES = ("end_user", "silent_user")  # default_user_role_name

# The Azure AD import settings, one row each, in the order GET answers them (ad_key handled apart: write-only):
# the wire key, the value the KB's steps save (the caller's for the first two), and the collection's option for it
# (moduscloud_import_settings; `inverted` when the option means the opposite of the key). The option names are
# written here, apart from the collection's WIRE_TABLE (plugins/module_utils/_moduscloud_wire.py), so that a test
# comparing the two can catch a wrong row there. A bool KB value makes the key a boolean the service checks.
AzureSetting = namedtuple("AzureSetting", "key kb_value option inverted", defaults=(False,))
AZURE_SETTINGS = (
    AzureSetting("primary_domain", None, "primary_domain"),
    AzureSetting("application_id", None, "app_id"),
    AzureSetting("default_user_role_name", "end_user", "default_user_role"),
    AzureSetting("sync_frequency", 1, "sync_frequency_hours"),
    AzureSetting("disable_login", False, "allow_microsoft_sign_in", inverted=True),
    AzureSetting("sync_active_users", True, "sync_active_users"),
    AzureSetting("sync_distribution_groups", True, "sync_distribution_groups"),
    AzureSetting("sync_security_groups", True, "sync_security_groups"),
    AzureSetting("add_users", True, "add_users"),
    AzureSetting("update_users", True, "update_users"),
    AzureSetting("remove_deleted_users", False, "remove_users"),
    AzureSetting("add_groups", True, "add_groups"),
    AzureSetting("update_groups", True, "update_groups"),
    AzureSetting("remove_deleted_groups", False, "remove_groups"),
)
AZURE_SETTING_KEYS = tuple(setting.key for setting in AZURE_SETTINGS)
AZURE_STRING_KEYS = ("primary_domain", "application_id")
AZURE_BOOL_KEYS = tuple(setting.key for setting in AZURE_SETTINGS if isinstance(setting.kb_value, bool))

# Organizations, domains, users: writable fields and defaults.
ORG_TEXT_FIELDS = ("name", "www", "address", "postcode", "stateprov", "country", "phone")
ORG_FLAG_FIELDS = ("is_active", "is_smtp_discovery_enabled", "send_welcome_email")
DOMAIN_DEFAULTS = {"is_active": True, "is_relay": True, "destination": None, "failovers": []}
USER_DEFAULTS = {
    "firstname": "",
    "surname": "",
    "type": "end_user",
    "is_active": True,
    "is_billable": True,
    "alias_emails": [],
    "read_only_user": False,
    "white_list_senders": [],
    "black_list_senders": [],
    "odin_settings": {"can_impersonate": False, "is_imitable": False},
}
USER_BOOL_FIELDS = ("is_active", "is_billable", "read_only_user")
USER_TEXT_FIELDS = ("firstname", "surname")
USER_SENDER_LIST_FIELDS = ("white_list_senders", "black_list_senders")
# Accepted in a request but never stored or returned: send_welcome_email is POST-only and sends no
# mail here; password is write-only .
USER_WRITE_ONLY_FIELDS = ("send_welcome_email", "password")
USER_FIELDS = ("primary_email", "uid") + tuple(USER_DEFAULTS) + USER_WRITE_ONLY_FIELDS


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_LOCAL_PART_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def utc_text(moment):
    return moment.strftime(LAST_SYNC_FORMAT)


def is_domain_name(value):
    return isinstance(value, str) and bool(_DOMAIN_RE.match(value.lower()))


def is_email(value):
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, domain = value.lower().split("@")
    return bool(_LOCAL_PART_RE.match(local)) and is_domain_name(domain)


def domain_of(email):
    return email.rsplit("@", 1)[1]


def type_name(value):
    return "null" if value is None else type(value).__name__


class ApiError(Exception):
    """One or more errors answered in the envelope {"errors": [{status, error_message, identifier}]}."""

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


def compact_json(payload) -> bytes:
    """The real service answers compact JSON (no spaces after ':' and ','): public scripts grep
    its output with patterns such as '"eid":[0-9]*' (codieg0 get_eid.sh), which spaced JSON breaks."""
    return json.dumps(payload, separators=(",", ":")).encode()


def created_response_body(created, request_was_list):
    """Users: POST takes one object or a list (batch); the 201 body is [?].

    We echo the created objects in the form they were sent: one object, or a bare list.
    """
    return created if request_was_list else created[0]


def me_body(user, org):
    """GET /me. Field shape per ISVC (synthetic) [S], plus the caller's primary_email."""
    return {
        "primary_email": user["primary_email"],
        "type": user["type"],
        "is_admin": True,
        "is_partner_admin": False,
        "read_only_user": user["read_only_user"],
        "entity_type": "organization",
        "entity_primary_domain": org.primary_domain,
    }


def parse_json(body):
    if not body:
        raise ApiError(400, "a JSON body is required", "body")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON", "body") from None


def one_or_many(body, noun):
    """POST takes a single object or a list for batch creation."""
    if isinstance(body, dict):
        return [body], False
    if isinstance(body, list) and body:
        return body, True
    raise ApiError(400, f"body must be a {noun} object or a non-empty list of them", "body")


def fingerprint(secret):
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:KEY_FINGERPRINT_DIGITS]


def kb_settings_wire(primary_domain, app_id):
    """The Azure AD import settings the KB's steps save, as modusCloud's settings API holds them (its keys,
    JSON booleans, integer hours; docs/moduscloud-api.md), without the key: what the tests that write
    settings straight to the API, or fake its answers, start from."""
    values = dict((setting.key, setting.kb_value) for setting in AZURE_SETTINGS)
    values.update(primary_domain=primary_domain, application_id=app_id)
    return values


def kb_settings(primary_domain, app_id):
    """The same settings as moduscloud_import_settings takes and returns them (its option names and values)."""
    return as_options(kb_settings_wire(primary_domain, app_id))


def as_options(wire_settings):
    """Settings in the service's keys and values (as PUT takes them) in the collection's option names and values;
    keys that are no setting (ad_key, the read-only dates) are left out."""
    return dict(
        (setting.option, (not wire_settings[setting.key]) if setting.inverted else wire_settings[setting.key])
        for setting in AZURE_SETTINGS
        if setting.key in wire_settings
    )
