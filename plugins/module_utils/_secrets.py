# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Client secret lifecycle of an Entra ID application: which secret to keep, create or remove.

Private to this collection: no compatibility promise outside it.

The decisions (rotation window, lifetime and tenant policy, which keys to remove) are pure
functions of plain data, so they are tested without any service. The calls at the end go
through the Graph client. A secret's value (`secretText`) exists only in the addPassword
answer: it is handed back to the caller once and never put into a view, a message or a diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import time
from collections import namedtuple
from datetime import datetime, timedelta, timezone

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph import (
    GraphError,
    TokenError,
    sign_in_host_unknown,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import GUID
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import ApiError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, SECRET_VALUE_PLACEHOLDER

DAY = timedelta(days=1)
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


class SecretError(GraphError):
    """A request that cannot be met, explained for the person who wrote the task."""


# ---------------------------------------------------------------------------------------------
# Dates and durations
# ---------------------------------------------------------------------------------------------

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    r"^P(?=.)(?:{n}Y)?(?:{n}M)?(?:{n}W)?(?:{n}D)?(?:T(?=.)(?:{n}H)?(?:{n}M)?(?:{n}S)?)?$".format(n=_NUMBER)
)


def utc_now():
    return datetime.now(timezone.utc)


def parse_datetime(text):
    """An aware UTC datetime from Graph's ISO 8601 text (7-digit fractions, Z) or a plain date."""
    match = _DATETIME.match(str(text).strip())
    if not match:
        raise ValueError("%r is not an ISO 8601 date or date and time (for example 2027-01-31 or "
                         "2027-01-31T12:00:00Z)" % (text,))
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
    years, months, weeks, days, hours, minutes, seconds = (
        float(part.replace(",", ".")) if part else 0.0 for part in match.groups())
    return timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes,
                     seconds=seconds)


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
        end = credential.get("endDateTime")
        start = credential.get("startDateTime")
        found.append(Secret(
            key_id=credential.get("keyId"),
            description=credential.get("displayName"),
            hint=credential.get("hint"),
            start=parse_datetime(start) if start else None,
            end=parse_datetime(end) if end else None,
        ))
    return sorted(found, key=_age_order)


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
    never_expires got without a limit is said once the secret exists: see _never_expires_note.)
    """
    wanted = wanted_end - now
    limit = policy.max_lifetime
    if limit is not None and wanted > limit:
        end = now + limit
        if never_expires:
            return end, ["never_expires: the tenant's app management policy allows secrets of at most %s, "
                         "so this secret ends on %s." % (describe_lifetime(limit), format_datetime(end))]
        if not clamp:
            raise SecretError(
                "The requested secret lifetime of %s exceeds the tenant's app management policy maximum "
                "of %s. Ask for at most %d days (lifetime_days or end_date), or set clamp_to_policy: true."
                % (describe_lifetime(wanted), describe_lifetime(limit), int(limit.total_seconds() // 86400)))
        return end, ["The requested secret lifetime of %s exceeds the tenant's app management policy maximum "
                     "of %s; the secret ends on %s instead."
                     % (describe_lifetime(wanted), describe_lifetime(limit), format_datetime(end))]
    return wanted_end, []


def check_rotation_window(lifetime, rotate_before_days):
    """Refuse a lifetime that the next run would already rotate."""
    if lifetime <= timedelta(days=rotate_before_days):
        raise SecretError(
            "A new secret would live %s, not longer than rotate_before_days (%d), so every run would replace "
            "it. Lower rotate_before_days or ask for a longer lifetime." % (describe_lifetime(lifetime),
                                                                            rotate_before_days))


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


def plan_present(secrets, now, rotate_before_days=DEFAULT_ROTATE_BEFORE_DAYS, keep_key_id=None,
                 force_rotate=False, exclusive=True, handed_over=None):
    """Decide for the secrets that carry our description (oldest first).

    The module returns a value only for a secret it creates, so it keeps an existing secret only
    when it can tell that this is the one the caller holds: the one named by keep_key_id, or the
    only one. Several without keep_key_id mean an earlier run stopped between creating a secret
    and removing the old one; nobody can tell which value is in use, so a new one is issued.
    `handed_over`: the key id recorded as handed to the consumer; when that secret is gone, the
    consumer holds a dead key, so a new one is issued.
    """
    if keep_key_id == PLACEHOLDER:
        # Check mode, finishing a hand-over of a secret an earlier task would create: all others would go.
        return Plan(None, False, None, False, [secret.key_id for secret in secrets] if exclusive else [])
    if keep_key_id:
        current = next((secret for secret in secrets if secret.key_id == keep_key_id), None)
    elif len(secrets) == 1:
        current = secrets[0]
    else:
        current = None

    reason = None
    if force_rotate:
        reason = "force_rotate is set"
    elif not secrets:
        reason = "no secret carries the description"
    elif handed_over and not keep_key_id and handed_over not in [secret.key_id for secret in secrets]:
        reason = "the secret last handed over (%s) no longer exists, so the key its consumer holds is dead" % handed_over
    elif keep_key_id and current is None:
        reason = "keep_key_id %s is not among the secrets with the description" % keep_key_id
    elif current is None:
        reason = ("%d secrets carry the description and keep_key_id does not name the one in use: an earlier "
                  "run stopped before removing the old one" % len(secrets))
    elif current.end is not None and current.end <= now:
        reason = "secret %s expired on %s" % (current.key_id, format_datetime(current.end))
    elif current.end is not None and current.end - now <= timedelta(days=rotate_before_days):
        reason = "secret %s expires on %s, within rotate_before_days (%d)" % (
            current.key_id, format_datetime(current.end), rotate_before_days)

    create = reason is not None
    if create:
        remove = [secret.key_id for secret in secrets] if exclusive else []
        return Plan(None, True, reason, bool(secrets), remove)
    remove = [secret.key_id for secret in secrets if secret is not current] if (exclusive and keep_key_id) else []
    return Plan(current, False, None, False, remove)


def plan_absent(secrets):
    return Plan(None, False, None, False, [secret.key_id for secret in secrets])


# ---------------------------------------------------------------------------------------------
# The hand-over lease and record, kept as tags of the application
# ---------------------------------------------------------------------------------------------
# Two runs that hand a new secret to a consumer (modusCloud) at the same time would each remove the
# other's secret, leaving the consumer with a dead key. So a run takes a lease before it creates a
# secret, holds it while the consumer gets the value, checks it again before removing the older
# secrets, and then replaces it with a record of the key id handed over. A later run that finds the
# recorded key gone knows the consumer holds a dead key and hands over a new one.
#
# Graph has no compare-and-set for an application, so the lease is written, then read back after
# LEASE_SETTLE_SECONDS: of two runs that both wrote, only the last writer still finds its own lease,
# as long as a run writes within LEASE_SETTLE_SECONDS of reading (one module run: milliseconds).

LEASE_TAG = "moduscloud.azure_sync/lease="  # + holder + "," + expiry (ISO 8601, UTC)
HANDED_OVER_TAG = "moduscloud.azure_sync/key="  # + key id of the secret last handed over
LEASE_SETTLE_SECONDS = 2.0
DEFAULT_LEASE_SECONDS = 600
LEASE_POLL_SECONDS = 5.0
Lease = namedtuple("Lease", "holder expires")


def lease_of(application):
    """The lease recorded on the application, or None."""
    for tag in application.get("tags") or ():
        if tag.startswith(LEASE_TAG):
            holder, _comma, expires = tag[len(LEASE_TAG):].rpartition(",")
            try:
                return Lease(holder, parse_datetime(expires))
            except ValueError:
                return Lease(holder, None)
    return None


def handed_over_key_id(application):
    """The key id of the secret last handed over, as recorded on the application, or None."""
    for tag in application.get("tags") or ():
        if tag.startswith(HANDED_OVER_TAG):
            return tag[len(HANDED_OVER_TAG):] or None
    return None


def _other_tags(application):
    return [tag for tag in application.get("tags") or () if not tag.startswith((LEASE_TAG, HANDED_OVER_TAG))]


def _write_tags(graph, application, lease=None, key_id=None):
    tags = _other_tags(application)
    if lease is not None:
        tags.append("%s%s,%s" % (LEASE_TAG, lease.holder, format_datetime(lease.expires)))
    if key_id:
        tags.append(HANDED_OVER_TAG + key_id)
    graph.update_application(application["id"], {"tags": tags})


def take_lease(graph, application, holder, seconds, wait_timeout, sleep=None, clock=None, now=utc_now):
    """Hold the hand-over lease of the application for `seconds`; wait up to wait_timeout seconds while another
    run holds an unexpired one, then fail naming it. Returns (the application as read last, the other run
    waited for or None)."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + wait_timeout
    waited_for = None
    while True:
        current = lease_of(application)
        held = current is not None and current.holder != holder and (current.expires is None
                                                                     or current.expires > now())
        if held:
            waited_for = current.holder
        else:
            _write_tags(graph, application, Lease(holder, now() + timedelta(seconds=seconds)),
                        handed_over_key_id(application))
            sleep(LEASE_SETTLE_SECONDS)
            application = graph.find_application(app_id=application["appId"]) or application
            current = lease_of(application)
            if current is not None and current.holder == holder:
                return application, waited_for
            waited_for = current.holder if current is not None else waited_for
        if clock() >= deadline:
            raise SecretError("Another run (%s) is handing a new client secret of application %s over%s; waited %d "
                              "seconds (wait_timeout). Run again once it has finished; its lease ends by itself if "
                              "that run stopped." % (current.holder if current else "unknown", application["appId"],
                                                     " until %s" % format_datetime(current.expires)
                                                     if current and current.expires else "", wait_timeout))
        sleep(LEASE_POLL_SECONDS)
        application = graph.find_application(app_id=application["appId"]) or application


def check_lease(application, holder):
    """Fail unless this run still holds the lease (another run took it over after it expired)."""
    current = lease_of(application)
    if current is None or current.holder != holder:
        raise SecretError("The hand-over lease of application %s is no longer held by this run (%s) but by %s: "
                          "another run took it over, so the older client secrets are left for that run to remove."
                          % (application["appId"], holder, current.holder if current else "nobody"))


def release_lease(graph, application, holder, check_mode=False):
    """Give up the lease if `holder` holds it (the hand-over record stays); whether anything changed."""
    current = lease_of(application)
    if application.get("id") in (None, PLACEHOLDER) or current is None or current.holder != holder:
        return False
    if not check_mode:
        _write_tags(graph, application, None, handed_over_key_id(application))
    return True


def finish_hand_over(graph, application, holder, key_id):
    """Release the lease and record key_id as the secret handed over (one write)."""
    check_lease(application, holder)
    _write_tags(graph, application, None, key_id)


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------

def check_options(params, now, check_mode=False):
    """Refuse contradictory or impossible options before any request; return end_date parsed (or None)."""
    if not (params.get("description") or "").strip():
        raise SecretError("description must not be empty: it is the marker that tells this module's secrets apart")
    if params["state"] == "absent":
        given = [name for name in ("keep_key_id", "force_rotate") if params.get(name)]
        if given:
            raise SecretError("%s only apply to state=present; state=absent removes every secret with the "
                              "description" % " and ".join(given))
        return None
    if params.get("wait_usable") and sign_in_host_unknown(params.get("cloud"), params.get("authority_host"),
                                                          params.get("graph_url")):
        raise SecretError("wait_usable proves a new secret by signing in with it, but graph_url %s is not Microsoft "
                          "Graph and authority_host is not set, so the sign-in host that issues tokens for it is "
                          "unknown: set authority_host (or AZURE_AUTHORITY_HOST) to it, or set wait_usable: false"
                          % params["graph_url"])
    if params.get("keep_key_id") == PLACEHOLDER and not check_mode:
        raise SecretError("keep_key_id is the check mode placeholder %r: pass the key_id a real run returned"
                          % PLACEHOLDER)
    if params.get("keep_key_id") not in (None, PLACEHOLDER) and not GUID.match(params["keep_key_id"]):
        raise SecretError("keep_key_id %r is not a key id: expected a GUID such as the key_id this module returned"
                          % params["keep_key_id"])
    # Checked here rather than by mutually_exclusive, which also counts never_expires: false.
    chosen = [name for name in ("lifetime_days", "end_date") if params.get(name) is not None]
    chosen += ["never_expires"] if params.get("never_expires") else []
    if len(chosen) > 1:
        raise SecretError("%s are mutually exclusive: set one way of choosing the lifetime of a new secret"
                          % " and ".join(chosen))
    for name, lowest in (("rotate_before_days", 0), ("lifetime_days", 1), ("wait_timeout", 0)):
        if params.get(name) is not None and params[name] < lowest:
            raise SecretError("%s must be %d or more, got %d" % (name, lowest, params[name]))
    if params.get("lease_seconds") is not None and params["lease_seconds"] < 1:
        raise SecretError("lease_seconds must be 1 or more, got %d" % params["lease_seconds"])
    if params.get("lifetime_days") is not None and params["lifetime_days"] > MAX_LIFETIME_DAYS:
        raise SecretError("lifetime_days must be at most %d (10 years; the Entra portal offers at most 730), got %d: "
                          "set never_expires: true for the longest lifetime the tenant allows"
                          % (MAX_LIFETIME_DAYS, params["lifetime_days"]))
    end_date = None
    if params.get("end_date"):
        try:
            end_date = parse_datetime(params["end_date"])
        except ValueError as err:
            raise SecretError("end_date: %s" % err)
        if end_date <= now:
            raise SecretError("end_date %s is not in the future" % format_datetime(end_date))
    if not params.get("never_expires"):
        check_rotation_window(requested_end(now, params["lifetime_days"], end_date) - now,
                              params["rotate_before_days"])
    return end_date


# ---------------------------------------------------------------------------------------------
# Proving a new secret works
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


def wait_until_usable(acquire, timeout, sleep=None, clock=None, first_delay=1.0, max_delay=15.0):
    """Call acquire() until it returns a token; return the number of attempts.

    Entra rejects a new secret for seconds to minutes (invalid_client), and its sign-in host may
    throttle or fail for a while (429, 5xx, no answer); those TokenErrors are retried with doubling
    delays (at least the Retry-After Entra asked for) until `timeout` seconds have passed. Any other
    error ends the wait.
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + timeout
    delay = first_delay
    attempts = 0
    while True:
        attempts += 1
        try:
            acquire()
            return attempts
        except TokenError as err:
            if not (err.transient or is_propagation_error(err)):
                raise SecretError("it does not obtain a token: %s" % err)
            remaining = deadline - clock()
            if remaining <= 0:
                raise SecretError("it was still rejected after %d attempts in %d seconds (wait_timeout): %s"
                                  % (attempts, timeout, err))
            pause = max(delay, err.retry_after or 0)
        sleep(min(pause, remaining))
        delay = min(delay * 2, max_delay)


# ---------------------------------------------------------------------------------------------
# Graph calls
# ---------------------------------------------------------------------------------------------

def read_password_policy(graph, application):
    """The tenant default policy for this app's secrets; UNKNOWN_POLICY when it may not be read."""
    try:
        document = graph.get_default_app_management_policy()
    except ApiError as err:
        if err.status in (401, 403, 404):  # reading needs Policy.Read.All; addPassword's answer still tells
            return UNKNOWN_POLICY
        raise
    return password_policy(document, application.get("createdDateTime"))


def add_secret(graph, object_id, description, start, end, shorten=True, policy_known=False):
    """addPassword; returns (credential with secretText, warnings).

    When the tenant refuses the lifetime (CredentialInvalidLifetimeAsPerAppPolicy: a policy we
    could not read, or one assigned to the app), `shorten` retries with the usual shorter limits.
    A refused call creates nothing, so retrying cannot leave an orphan.
    """
    try:
        return graph.add_password(object_id, _credential_body(description, start, end)), []
    except ApiError as err:
        if err.code != POLICY_ERROR_CODE:
            raise
        refusal = err
    rejected = end - start
    if not shorten:
        raise SecretError("The tenant's app management policy refuses a secret lifetime of %s (%s). Ask for a "
                          "shorter lifetime_days or end_date, or set clamp_to_policy: true."
                          % (describe_lifetime(rejected), refusal))
    for lifetime in fallback_lifetimes(rejected):
        try:
            credential = graph.add_password(object_id, _credential_body(description, start, start + lifetime))
        except ApiError as err:
            if err.code != POLICY_ERROR_CODE:
                raise
            continue
        unread = ("a policy assigned to the application, stricter than the tenant default" if policy_known
                  else "the tenant's app management policy, which could not be read (that needs Policy.Read.All)")
        return credential, ["A secret lifetime of %s was refused by %s; the secret got %s, the longest of the usual "
                            "limits (%s days) that was accepted."
                            % (describe_lifetime(rejected), unread, describe_lifetime(lifetime),
                               ", ".join(str(days) for days in FALLBACK_LIFETIME_DAYS))]
    raise SecretError("The tenant's app management policy refuses every secret lifetime down to 1 day (%s)." % refusal)


def _credential_body(description, start, end):
    # startDateTime is sent so that the lifetime the policy measures is exactly end - start.
    return {"displayName": description, "startDateTime": format_datetime(start), "endDateTime": format_datetime(end)}


# ---------------------------------------------------------------------------------------------
# One run of the module
# ---------------------------------------------------------------------------------------------

def ensure_secret(graph, application, params, end_date, changes, now, prove=None, hide=None):
    """Bring the secrets that carry params["description"] to the state the options ask for.

    prove(value) raises when a new value obtains no token; None skips the proof. Whatever fails once
    a secret was created removes it again (SecretError with changed=True if that fails too).
    hide(value) is called as soon as a value exists, so that any failure afterwards is masked (the
    caller stops masking once it returns the value). Returns (result, warnings).
    """
    description = params["description"]
    holder = params.get("lease_holder")

    def planned(application):
        ours = with_description(secrets_of(application), description)
        if params["state"] == "absent":
            return ours, plan_absent(ours)
        return ours, plan_present(ours, now, params["rotate_before_days"], params.get("keep_key_id"),
                                  params.get("force_rotate"), params["exclusive"], handed_over_key_id(application))

    ours, plan = planned(application)
    lease_notes = []
    if plan.create and holder and not changes.check_mode:
        # Another run may be handing over a secret of this application: wait for it, then plan again.
        application, waited_for = take_lease(graph, application, holder,
                                             params.get("lease_seconds") or DEFAULT_LEASE_SECONDS,
                                             params.get("wait_timeout") or 0, sleep=getattr(graph, "_sleep", None))
        if waited_for is not None:
            # The other run has just handed over a new secret: the reasons this run had to force one are stale.
            params = dict(params, force_rotate=False)
        ours, plan = planned(application)
        if waited_for is not None and not plan.create:
            release_lease(graph, application, holder)
            lease_notes.append("Another run (%s) handed over a new client secret of this application while this run "
                               "waited for its lease, so this run keeps that secret instead of creating one."
                               % waited_for)
    hand_over = holder and params.get("keep_key_id") and not changes.check_mode and params["state"] == "present"
    if hand_over:
        check_lease(application, holder)

    warnings, value, kept = lease_notes, None, plan.current
    if kept is not None:
        changes.ensure(_label(kept), _diff_view(kept), _diff_view(kept))
    if plan.create:
        kept, value, notes = _create(graph, application, params, end_date, changes, now, prove, hide)
        warnings.extend(notes)

    by_id = dict((secret.key_id, secret) for secret in ours)
    removed = []
    for key_id in plan.remove:
        try:
            changes.run(graph.remove_password, application["id"], key_id)
        except ApiError as err:
            if err.status != 404:  # 404: removed meanwhile by another run, so gone as asked
                if value is None and removed:
                    raise SecretError("%s; client secret%s %s had been removed before" % (
                        err, "s" if len(removed) > 1 else "", ", ".join(removed)),
                        changed=True, removed_key_ids=removed, **err.to_result())
                if value is None:
                    raise
                # The new secret exists and works: return it; the next run with keep_key_id finishes the cleanup.
                warnings.append("Could not remove the older client secret %s (%s); pass keep_key_id: %s on the "
                                "next run to remove it." % (key_id, err, kept.key_id))
                continue
        changes.record(_label(by_id[key_id]), _diff_view(by_id[key_id]), None)
        removed.append(key_id)

    if hand_over and kept is not None:
        finish_hand_over(graph, application, holder, kept.key_id)

    remaining = [secret for secret in ours if secret.key_id not in removed and secret is not kept]
    remaining += [kept] if kept is not None else []
    result = {
        "key_id": kept.key_id if kept else None,
        "end_date": format_datetime(kept.end) if kept and kept.end else None,
        "hint": kept.hint if kept else None,
        "days_remaining": days_remaining(kept.end, now) if kept and kept.end else None,
        "rotated": plan.rotated,
        "removed_key_ids": removed,
        "secrets": [public_view(secret, now) for secret in remaining],
        "msg": _message(plan, kept, removed, changes.check_mode),
    }
    if value is not None:
        result["value"] = value
    return result, warnings


def _create(graph, application, params, end_date, changes, now, prove, hide):
    description = params["description"]
    never_expires = params.get("never_expires")
    policy = read_password_policy(graph, application)
    if policy.additions_blocked:
        raise SecretError("The tenant's app management policy forbids new client secrets on application %s "
                          "(passwordAddition restriction); use a certificate credential instead."
                          % application.get("appId"))
    wanted = requested_end(now, params["lifetime_days"], end_date, never_expires)
    end, warnings = fit_to_policy(now, wanted, policy, params["clamp_to_policy"], never_expires)
    check_rotation_window(end - now, params["rotate_before_days"])
    if prove is not None and graph.get_service_principal(application["appId"]) is None:
        raise SecretError("Application %s has no service principal (enterprise application) in the tenant, and Entra "
                          "issues no token to an application without one, so a new secret could not be proven: run "
                          "moduscloud.azure_sync.azure_app_consent first (it creates the service principal), or set "
                          "wait_usable: false." % application["appId"])

    if changes.check_mode:
        predicted = Secret(PLACEHOLDER, description, None, now, end)
        changes.record(_label(predicted), None, _diff_view(predicted))
        if never_expires and not warnings:
            warnings.append(_never_expires_note(end, policy, predicted=True))
        return predicted, SECRET_VALUE_PLACEHOLDER, warnings

    credential, notes = add_secret(graph, application["id"], description, now, end,
                                   shorten=params["clamp_to_policy"] or never_expires, policy_known=policy.known)
    value = credential.pop("secretText", None)
    if value and hide is not None:
        hide(value)
    try:
        created = secrets_of({"passwordCredentials": [credential]})[0]
        warnings.extend(notes)
        if never_expires and not warnings:
            warnings.append(_never_expires_note(created.end, policy))
        # The lifetime was checked against the window before the write; a shortened one may still fall inside it.
        if notes and created.end - now <= timedelta(days=params["rotate_before_days"]):
            warnings.append("The new secret lives %s, not longer than rotate_before_days (%d): the next run will "
                            "replace it. Lower rotate_before_days."
                            % (describe_lifetime(created.end - now), params["rotate_before_days"]))
        changes.record(_label(created), None, _diff_view(created))
        if not value:
            raise SecretError("Graph returned no secret text")
        if prove is not None:
            prove(value)
    except BaseException as err:
        # Whatever stops the run now, the new secret must not stay behind as an orphan whose value nobody holds.
        removed, outcome = _discard(graph, application, credential.get("keyId"))
        if not isinstance(err, Exception):  # interrupted: cleaned up, and the interruption goes on
            raise
        reason = err if isinstance(err, (ApiError, GraphError)) else "%s: %s" % (type(err).__name__, err)
        raise SecretError("Client secret %s was created but %s; %s" % (credential.get("keyId"), reason, outcome),
                          changed=not removed)
    return created, value, warnings


def _discard(graph, application, key_id):
    """Remove a secret this run created: (whether it is gone, what happened, for the message)."""
    try:
        graph.remove_password(application["id"], key_id)
    except ApiError as err:
        return False, "removing it again failed too (%s): remove it, or run again with force_rotate: true." % err
    return True, "it was removed again, and the secrets in place are untouched."


def _never_expires_note(end, policy, predicted=False):
    if policy.known:
        why = "no tenant lifetime policy limits it"
    elif predicted:
        why = ("the tenant's lifetime policy could not be read (that needs Policy.Read.All), so applying may "
               "shorten it")
    else:
        why = "the tenant's lifetime policy could not be read, and the tenant accepted this date"
    return "never_expires: Entra ID client secrets always expire; this one %s on %s (%s)." % (
        "would end" if predicted else "ends", format_datetime(end), why)


def _label(secret):
    return "client secret %s" % secret.key_id


def _diff_view(secret):
    # Ids and dates only: the diff is printed with --diff.
    return {"description": secret.description, "end_date": format_datetime(secret.end) if secret.end else None}


def _message(plan, kept, removed, check_mode):
    """One sentence: its parts are lower case, joined by semicolons, and only its start is capitalised."""
    parts = []
    if plan.create:
        parts.append("%s client secret %s ending %s (%s)" % (
            "would create" if check_mode else "created", kept.key_id, format_datetime(kept.end), plan.reason))
    elif kept is not None:
        parts.append("client secret %s is in place until %s" % (kept.key_id, format_datetime(kept.end)
                                                                if kept.end else "no end date"))
    if removed:
        parts.append("%s %s" % ("would remove" if check_mode else "removed", ", ".join(removed)))
    if not parts:
        parts.append("no client secret carries the description")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]
