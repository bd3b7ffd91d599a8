# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The client secret plan: which secrets exist, which to keep, create or remove and why, and how long a new one lives.

Private to this collection: no compatibility promise outside it.

Pure functions of plain data (Graph's password credentials, the tenant policy document, the options, what the
consumer holds), tested without any service; _secrets.py carries the plan out through the Graph client. A secret's
value never enters this file: views, messages and diffs hold ids, hints and dates only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from collections import namedtuple
from datetime import datetime, timedelta, timezone

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import CREDENTIAL_WIRE, CREDENTIAL_WRITTEN

DEFAULT_LIFETIME_DAYS = 730
DEFAULT_ROTATE_BEFORE_DAYS = 30
# "Never" in the old portal was a date about 99 years ahead; the API still takes it where no policy applies.
NEVER_EXPIRES_LIFETIME = timedelta(days=99 * 365)
# The longest lifetime_days taken: a longer number is more likely a slip (days for hours, an extra zero)
# than a wish; never_expires asks for the longest lifetime the tenant allows on purpose.
MAX_LIFETIME_DAYS = 3650
# Tried in turn when the tenant rejects a lifetime and its policy could not be read: the usual limits.
FALLBACK_LIFETIME_DAYS = (730, 365, 180, 90, 30, 7, 1)
POLICY_ERROR_CODE = "CredentialInvalidLifetimeAsPerAppPolicy"
# Token errors that mean "not propagated yet" right after a create: invalid secret, expired secret,
# application not found in the directory, service principal missing (checked in Graph before).
PROPAGATION_ERROR_CODES = frozenset((7000215, 7000222, 700016, 7000229))


# ---------------------------------------------------------------------------------------------
# Dates and durations
# ---------------------------------------------------------------------------------------------

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(r"^P(?=.)(?:{n}Y)?(?:{n}M)?(?:{n}W)?(?:{n}D)?(?:T(?=.)(?:{n}H)?(?:{n}M)?(?:{n}S)?)?$".format(n=_NUMBER))


def utc_now():
    return datetime.now(timezone.utc)


def parse_datetime(text):
    """An aware UTC datetime from Graph's ISO 8601 text (7-digit fractions, Z) or a plain date."""
    match = _DATETIME.match(str(text).strip())
    if not match:
        raise ValueError("%r is not an ISO 8601 date or date and time (for example 2027-01-31 or 2027-01-31T12:00:00Z)" % (text,))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    offset = timedelta(0)
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    return (value - offset).replace(tzinfo=timezone.utc)


def format_datetime(value):
    """Graph's wire form, whole seconds in UTC."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text):
    """A timedelta from an ISO 8601 duration such as P90D or P1Y6M or PT4320H.

    A year counts 365 days and a month 30, as .NET's XmlConvert (Entra's side) reads them.
    """
    match = _DURATION.match(str(text).strip().upper())
    if not match:
        raise ValueError("%r is not an ISO 8601 duration" % (text,))
    years, months, weeks, days, hours, minutes, seconds = (float(part.replace(",", ".")) if part else 0.0 for part in match.groups())
    return timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes, seconds=seconds)


def describe_lifetime(lifetime):
    days = lifetime.total_seconds() / 86400.0
    text = "%d days" % days if days == int(days) else "%.1f days" % days
    if days >= 3650:
        text += " (about %d years)" % (days // 365)
    return text


def days_remaining(end, now):
    """Whole days left until `end` (negative once expired)."""
    return int(math.floor((end - now).total_seconds() / 86400.0))


# ---------------------------------------------------------------------------------------------
# Views of the application's password credentials (never holding a value)
# ---------------------------------------------------------------------------------------------

Secret = namedtuple("Secret", "key_id description hint start end")


def secrets_of(application):
    """The application's password credentials as Secrets, oldest first."""
    found = []
    for credential in application.get("passwordCredentials") or []:
        fields = dict((field, credential.get(name)) for field, name in CREDENTIAL_WIRE)
        for date in ("start", "end"):
            fields[date] = parse_datetime(fields[date]) if fields[date] else None
        found.append(Secret(**fields))
    return sorted(found, key=_age_order)


def credential_body(description, start, end):
    """addPassword's passwordCredential for a new secret (CREDENTIAL_WRITTEN)."""
    fields = {"description": description, "start": format_datetime(start), "end": format_datetime(end)}
    return dict((name, fields[field]) for field, name in CREDENTIAL_WIRE if field in CREDENTIAL_WRITTEN)


def _age_order(secret):
    epoch = datetime(1, 1, 1, tzinfo=timezone.utc)
    return (secret.start or epoch, secret.end or epoch, secret.key_id or "")


def with_description(secrets, description):
    return [secret for secret in secrets if secret.description == description]


def public_view(secret, now):
    """What may be shown or returned about a secret: ids, hint and dates."""
    view = {
        "key_id": secret.key_id,
        "description": secret.description,
        "hint": secret.hint,
        "start_date": format_datetime(secret.start) if secret.start else None,
        "end_date": format_datetime(secret.end) if secret.end else None,
        "days_remaining": days_remaining(secret.end, now) if secret.end else None,
    }
    view["expired"] = view["days_remaining"] is not None and secret.end <= now
    return view


def secret_views(application, now):
    """public_view() of every client secret of the application, soonest expiry first."""
    views = [public_view(secret, now) for secret in secrets_of(application)]
    return sorted(views, key=lambda view: view["end_date"] or "")


def expiring(views, within_days):
    """The views of the secrets that expire within `within_days` days or have expired."""
    return [view for view in views if view["days_remaining"] is not None and view["days_remaining"] <= within_days]


# ---------------------------------------------------------------------------------------------
# Tenant policy
# ---------------------------------------------------------------------------------------------

# known: the policy was read; max_lifetime: timedelta or None (no limit); additions_blocked: the
# tenant forbids new secrets on this application.
PasswordPolicy = namedtuple("PasswordPolicy", "known max_lifetime additions_blocked")
UNKNOWN_POLICY = PasswordPolicy(False, None, False)


def password_policy(document, app_created=None):
    """What the tenant default app-management policy allows for an application's secrets.

    `document` is GET /policies/defaultAppManagementPolicy; `app_created` the application's
    createdDateTime, because a restriction can apply only to apps created after a date.
    """
    if not document or document.get("isEnabled") is False:
        return PasswordPolicy(True, None, False)
    created = parse_datetime(app_created) if app_created else None
    restrictions = (document.get("applicationRestrictions") or {}).get("passwordCredentials") or []
    max_lifetime, blocked = None, False
    for restriction in restrictions:
        if str(restriction.get("state") or "enabled").lower() != "enabled":
            continue
        after = restriction.get("restrictForAppsCreatedAfterDateTime")
        if after and created is not None and created <= parse_datetime(after):
            continue
        kind = restriction.get("restrictionType")
        if kind == "passwordLifetime" and restriction.get("maxLifetime"):
            lifetime = parse_duration(restriction["maxLifetime"])
            max_lifetime = lifetime if max_lifetime is None else min(max_lifetime, lifetime)
        elif kind == "passwordAddition":
            blocked = True
    return PasswordPolicy(True, max_lifetime, blocked)


# ---------------------------------------------------------------------------------------------
# Lifetime of a new secret
# ---------------------------------------------------------------------------------------------


def requested_end(now, lifetime_days=None, end_date=None, never_expires=False):
    """The end date the options ask for, before any policy (lifetime_days None: the default)."""
    if never_expires:
        return now + NEVER_EXPIRES_LIFETIME
    if end_date is not None:
        return end_date
    return now + timedelta(days=DEFAULT_LIFETIME_DAYS if lifetime_days is None else lifetime_days)


def fit_to_policy(now, wanted_end, policy, clamp=True, never_expires=False):
    """Return (end, warnings): `wanted_end` or, if the policy allows less, the policy maximum.

    never_expires always takes the longest lifetime allowed (that is what it asks for); otherwise
    a lifetime over the policy is clamped with a warning, or refused when clamp is off. (What
    never_expires got without a limit is said once the secret exists: see never_expires_note.)
    """
    wanted = wanted_end - now
    limit = policy.max_lifetime
    if limit is not None and wanted > limit:
        end = now + limit
        if never_expires:
            return end, [
                "never_expires: the tenant's app management policy allows secrets of at most %s, "
                "so this secret ends on %s." % (describe_lifetime(limit), format_datetime(end))
            ]
        if not clamp:
            raise SecretError(
                "The requested secret lifetime of %s exceeds the tenant's app management policy maximum "
                "of %s. Ask for at most %d days (lifetime_days or end_date), or set clamp_to_policy: true."
                % (describe_lifetime(wanted), describe_lifetime(limit), int(limit.total_seconds() // 86400))
            )
        return end, [
            "The requested secret lifetime of %s exceeds the tenant's app management policy maximum "
            "of %s; the secret ends on %s instead." % (describe_lifetime(wanted), describe_lifetime(limit), format_datetime(end))
        ]
    return wanted_end, []


def check_rotation_window(lifetime, rotate_before_days):
    """Refuse a lifetime that the next run would already rotate."""
    if lifetime <= timedelta(days=rotate_before_days):
        raise SecretError(
            "A new secret would live %s, not longer than rotate_before_days (%d), so every run would replace "
            "it. Lower rotate_before_days or ask for a longer lifetime." % (describe_lifetime(lifetime), rotate_before_days)
        )


def fallback_lifetimes(rejected):
    """Shorter lifetimes to try, longest first, after the tenant rejected `rejected` (a timedelta)."""
    return [timedelta(days=days) for days in FALLBACK_LIFETIME_DAYS if timedelta(days=days) < rejected]


# ---------------------------------------------------------------------------------------------
# What to do with the secrets that carry the description
# ---------------------------------------------------------------------------------------------

# current: the Secret kept (None when a new one is created); create: bool; reason: why a new one
# is needed (or None); rotated: the new one replaces an existing one; remove: key ids to remove
# once the run has succeeded (after the new secret proved usable).
Plan = namedtuple("Plan", "current create reason rotated remove")


def plan_present(
    secrets, now, rotate_before_days=DEFAULT_ROTATE_BEFORE_DAYS, keep_key_id=None, force_rotate=False, exclusive=True, handed_over=None, force_reason=None
):
    """Decide for the secrets that carry our description (oldest first).

    The module returns a value only for a secret it creates, so it keeps an existing secret only
    when it can tell that this is the one the caller holds: the one named by keep_key_id, or the
    only one. Several without keep_key_id mean an earlier run stopped between creating a secret
    and removing the old one; nobody can tell which value is in use, so a new one is issued.
    `handed_over`: the key id recorded as handed to the consumer; when that secret is gone, the
    consumer holds a dead key, so a new one is issued. `force_reason`: why the consumer needs a new
    secret (consumer_reason()), which forces one like force_rotate.
    """
    if keep_key_id:
        current = next((secret for secret in secrets if secret.key_id == keep_key_id), None)
    elif len(secrets) == 1:
        current = secrets[0]
    else:
        current = None

    reason = None
    if force_rotate:
        reason = "force_rotate is set"
    elif force_reason:
        reason = force_reason
    elif not secrets:
        reason = "no secret carries the description"
    elif handed_over and not keep_key_id and handed_over not in [secret.key_id for secret in secrets]:
        reason = "the secret last handed over (%s) no longer exists, so the key its consumer holds is dead" % handed_over
    elif keep_key_id and current is None:
        reason = "keep_key_id %s is not among the secrets with the description" % keep_key_id
    elif current is None:
        reason = "%d secrets carry the description and keep_key_id does not name the one in use: an earlier run stopped before removing the old one" % len(
            secrets
        )
    elif current.end is not None and current.end <= now:
        reason = "secret %s expired on %s" % (current.key_id, format_datetime(current.end))
    elif current.end is not None and current.end - now <= timedelta(days=rotate_before_days):
        reason = "secret %s expires on %s, within rotate_before_days (%d)" % (current.key_id, format_datetime(current.end), rotate_before_days)

    create = reason is not None
    if create:
        remove = [secret.key_id for secret in secrets] if exclusive else []
        return Plan(None, True, reason, bool(secrets), remove)
    remove = [secret.key_id for secret in secrets if secret is not current] if (exclusive and keep_key_id) else []
    return Plan(current, False, None, False, remove)


def plan_keep_predicted(secrets, exclusive=True):
    """Finish (in check mode) the hand-over of a secret an earlier task would create: every other one would go."""
    return Plan(None, False, None, False, [secret.key_id for secret in secrets] if exclusive else [])


def plan_absent(secrets):
    return Plan(None, False, None, False, [secret.key_id for secret in secrets])


# ---------------------------------------------------------------------------------------------
# What the consumer (modusCloud) holds
# ---------------------------------------------------------------------------------------------


def consumer_reason(consumer, app_id, rotate_before_days):
    """(why modusCloud needs a new secret of application `app_id` or None, whether it uses that application).

    `consumer` is the module's consumer option (None when not given): whether modusCloud is configured,
    the application id it uses, its key's expiry and days remaining, and the import settings this run
    changes. A secret's value exists only in the run that creates it, so whenever modusCloud does not
    hold a usable key of this application, the only way to give it one is a new secret.
    """
    if not consumer:
        return None, False
    if not consumer.get("configured"):
        return "modusCloud has no Azure AD settings yet", False
    used = consumer.get("app_id")
    if (used or "").lower() != (app_id or "").lower():
        return "modusCloud uses another application (%s)" % (used or "none"), False
    days = consumer.get("secret_days_remaining")
    if days is not None and days <= rotate_before_days:
        return "the key modusCloud holds expires on %s" % consumer.get("secret_expiry"), True
    changing = consumer.get("settings_changes") or []
    if consumer.get("new_key_with_settings_change", True) and changing:
        return (
            "the import settings change (%s), and whether modusCloud keeps its key through a change saved "
            "without it is an open question of its API (docs/moduscloud-api.md, Known unknowns)" % ", ".join(changing)
        ), True
    return None, True


# ---------------------------------------------------------------------------------------------
# Sign-in answers, messages and diff views (ids, hints and dates only)
# ---------------------------------------------------------------------------------------------


def is_propagation_error(error):
    """A TokenError Entra gives for a secret (or app) it does not know yet."""
    codes = set()
    for code in error.error_codes:
        try:
            codes.add(int(code))
        except (TypeError, ValueError):
            pass
    if codes:
        return bool(codes & PROPAGATION_ERROR_CODES)
    return error.code == "invalid_client"


def never_expires_note(end, policy, predicted=False):
    if policy.known:
        why = "no tenant lifetime policy limits it"
    elif predicted:
        why = "the tenant's lifetime policy could not be read (that needs Policy.Read.All), so applying may shorten it"
    else:
        why = "the tenant's lifetime policy could not be read, and the tenant accepted this date"
    return "never_expires: Entra ID client secrets always expire; this one %s on %s (%s)." % ("would end" if predicted else "ends", format_datetime(end), why)


def label(secret):
    return "client secret %s" % secret.key_id


def diff_view(secret):
    # Ids and dates only: the diff is printed with --diff.
    return {"description": secret.description, "end_date": format_datetime(secret.end) if secret.end else None}


def absent_message(description, removed, tense):
    """One sentence for state=absent: the secrets with the description removed (or, in check mode, to be)."""
    if not removed:
        return "No client secret carries the description %r: none to remove." % description
    count = "%d client secret%s" % (len(removed), "" if len(removed) == 1 else "s")
    return "%s %s with the description %r: %s." % (tense("Removed", "Would remove"), count, description, ", ".join(removed))


def message(plan, kept, removed, tense):
    """One sentence: its parts are lower case, joined by semicolons, and only its start is capitalised.

    tense(done, planned) words what happened (ChangeSet.tense: "created", or "would create" when predicted).
    """
    parts = []
    if plan.create:
        parts.append("%s client secret %s ending %s (%s)" % (tense("created", "would create"), kept.key_id, format_datetime(kept.end), plan.reason))
    elif kept is not None:
        parts.append("client secret %s is in place until %s" % (kept.key_id, format_datetime(kept.end) if kept.end else "no end date"))
    if removed:
        parts.append("%s %s" % (tense("removed", "would remove"), ", ".join(removed)))
    if not parts:
        parts.append("no client secret carries the description")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]
