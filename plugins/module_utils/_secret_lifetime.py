# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How long a new client secret lives: ISO 8601 dates and durations, the tenant's app management policy, and the
lifetime the options ask for fitted to it. Pure: no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from collections import namedtuple
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError

DEFAULT_LIFETIME_DAYS = 730
# "Never" in the old portal was a date about 99 years ahead; the API still takes it where no policy applies.
NEVER_EXPIRES_LIFETIME = timedelta(days=99 * 365)
# The longest lifetime_days taken: a longer number is more likely a slip (days for hours, an extra zero)
# than a wish; never_expires asks for the longest lifetime the tenant allows on purpose.
MAX_LIFETIME_DAYS = 3650
# Tried in turn when the tenant rejects a lifetime and its policy could not be read: the usual limits.
FALLBACK_LIFETIME_DAYS = (730, 365, 180, 90, 30, 7, 1)
POLICY_ERROR_CODE = "CredentialInvalidLifetimeAsPerAppPolicy"


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


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse_datetime(text: str) -> datetime:
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


def format_datetime(value: datetime) -> str:
    """Graph's wire form, whole seconds in UTC."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str) -> timedelta:
    """A timedelta from an ISO 8601 duration such as P90D or P1Y6M or PT4320H.

    A year counts 365 days and a month 30, as .NET's XmlConvert (Entra's side) reads them.
    """
    match = _DURATION.match(str(text).strip().upper())
    if not match:
        raise ValueError("%r is not an ISO 8601 duration" % (text,))
    years, months, weeks, days, hours, minutes, seconds = (float(part.replace(",", ".")) if part else 0.0 for part in match.groups())
    return timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes, seconds=seconds)


def describe_lifetime(lifetime: timedelta) -> str:
    days = lifetime.total_seconds() / 86400.0
    text = "%d days" % days if days == int(days) else "%.1f days" % days
    if days >= 3650:
        text += " (about %d years)" % (days // 365)
    return text


def days_remaining(end: datetime, now: datetime) -> int:
    """Whole days left until `end` (negative once expired)."""
    return int(math.floor((end - now).total_seconds() / 86400.0))


# ---------------------------------------------------------------------------------------------
# Tenant policy
# ---------------------------------------------------------------------------------------------

# known: the policy was read; max_lifetime: timedelta or None (no limit); additions_blocked: the
# tenant forbids new secrets on this application.
PasswordPolicy = namedtuple("PasswordPolicy", "known max_lifetime additions_blocked")
UNKNOWN_POLICY = PasswordPolicy(False, None, False)


def password_policy(document: Optional[dict], app_created: Optional[str] = None) -> PasswordPolicy:
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


def requested_end(now: datetime, lifetime_days: Optional[int] = None, end_date: Optional[datetime] = None, never_expires: bool = False) -> datetime:
    """The end date the options ask for, before any policy (lifetime_days None: the default)."""
    if never_expires:
        return now + NEVER_EXPIRES_LIFETIME
    if end_date is not None:
        return end_date
    return now + timedelta(days=DEFAULT_LIFETIME_DAYS if lifetime_days is None else lifetime_days)


def fit_to_policy(now: datetime, wanted_end: datetime, policy: PasswordPolicy, clamp: bool = True, never_expires: bool = False) -> Tuple[datetime, List[str]]:
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


def check_rotation_window(lifetime: timedelta, rotate_before_days: int) -> None:
    """Refuse a lifetime that the next run would already rotate."""
    if lifetime <= timedelta(days=rotate_before_days):
        raise SecretError(
            "A new secret would live %s, not longer than rotate_before_days (%d), so every run would replace "
            "it. Lower rotate_before_days or ask for a longer lifetime." % (describe_lifetime(lifetime), rotate_before_days),
            options=("rotate_before_days",),
        )


def fallback_lifetimes(rejected: timedelta) -> List[timedelta]:
    """Shorter lifetimes to try, longest first, after the tenant rejected `rejected` (a timedelta)."""
    return [timedelta(days=days) for days in FALLBACK_LIFETIME_DAYS if timedelta(days=days) < rejected]


def never_expires_note(end: datetime, policy: PasswordPolicy, predicted: bool = False) -> str:
    if policy.known:
        why = "no tenant lifetime policy limits it"
    elif predicted:
        why = "the tenant's lifetime policy could not be read (that needs Policy.Read.All), so applying may shorten it"
    else:
        why = "the tenant's lifetime policy could not be read, and the tenant accepted this date"
    return "never_expires: Entra ID client secrets always expire; this one %s on %s (%s)." % ("would end" if predicted else "ends", format_datetime(end), why)
