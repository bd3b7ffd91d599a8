# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The client secret plan: which secrets exist, which to keep, create or remove and why (how long a new one lives is
_secret_lifetime.py's).

Private to this collection: no compatibility promise outside it.

Pure functions of plain data (Graph's password credentials, the options, what the consumer holds), tested without
any service; _secrets.py carries the plan out through the Graph client. A secret's value never enters this file:
views, messages and diffs hold ids, hints and dates only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional, Tuple

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import CREDENTIAL_WIRE, CREDENTIAL_WRITTEN
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import days_remaining, format_datetime, parse_datetime

DEFAULT_ROTATE_BEFORE_DAYS = 30
# Token errors that mean "not propagated yet" right after a create: invalid secret, expired secret,
# application not found in the directory, service principal missing (checked in Graph before).
PROPAGATION_ERROR_CODES = frozenset((7000215, 7000222, 700016, 7000229))


# ---------------------------------------------------------------------------------------------
# Views of the application's password credentials (never holding a value)
# ---------------------------------------------------------------------------------------------

Secret = namedtuple("Secret", "key_id description hint start end")


def secrets_of(application: dict) -> List[Secret]:
    """The application's password credentials as Secrets, oldest first."""
    found = []
    for credential in application.get("passwordCredentials") or []:
        fields = dict((field, credential.get(name)) for field, name in CREDENTIAL_WIRE)
        for date in ("start", "end"):
            fields[date] = parse_datetime(fields[date]) if fields[date] else None
        found.append(Secret(**fields))
    return sorted(found, key=_age_order)


def credential_body(description: str, start: datetime, end: datetime) -> dict:
    """addPassword's passwordCredential for a new secret (CREDENTIAL_WRITTEN)."""
    fields = {"description": description, "start": format_datetime(start), "end": format_datetime(end)}
    return dict((name, fields[field]) for field, name in CREDENTIAL_WIRE if field in CREDENTIAL_WRITTEN)


def _age_order(secret: Secret) -> tuple:
    epoch = datetime(1, 1, 1, tzinfo=timezone.utc)
    return (secret.start or epoch, secret.end or epoch, secret.key_id or "")


def with_description(secrets: List[Secret], description: str) -> List[Secret]:
    return [secret for secret in secrets if secret.description == description]


def public_view(secret: Secret, now: datetime) -> dict:
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


def secret_views(application: dict, now: datetime) -> List[dict]:
    """public_view() of every client secret of the application, soonest expiry first."""
    views = [public_view(secret, now) for secret in secrets_of(application)]
    return sorted(views, key=lambda view: view["end_date"] or "")


def expiring(views: List[dict], within_days: int) -> List[dict]:
    """The views of the secrets that expire within `within_days` days or have expired."""
    return [view for view in views if view["days_remaining"] is not None and view["days_remaining"] <= within_days]


# ---------------------------------------------------------------------------------------------
# What to do with the secrets that carry the description
# ---------------------------------------------------------------------------------------------

# current: the Secret kept (None when a new one is created); create: bool; reason: why a new one
# is needed (or None); rotated: the new one replaces an existing one; remove: key ids to remove
# once the run has succeeded (after the new secret proved usable).
Plan = namedtuple("Plan", "current create reason rotated remove")


def plan_present(
    secrets: List[Secret],
    now: datetime,
    rotate_before_days: int = DEFAULT_ROTATE_BEFORE_DAYS,
    keep_key_id: Optional[str] = None,
    force_rotate: bool = False,
    exclusive: bool = True,
    handed_over: Optional[str] = None,
    force_reason: Optional[str] = None,
) -> Plan:
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


def plan_keep_predicted(secrets: List[Secret], exclusive: bool = True) -> Plan:
    """Finish (in check mode) the hand-over of a secret an earlier task would create: every other one would go."""
    return Plan(None, False, None, False, [secret.key_id for secret in secrets] if exclusive else [])


def plan_absent(secrets: List[Secret]) -> Plan:
    return Plan(None, False, None, False, [secret.key_id for secret in secrets])


# ---------------------------------------------------------------------------------------------
# What the consumer (modusCloud) holds
# ---------------------------------------------------------------------------------------------


def consumer_reason(consumer: Optional[dict], app_id: Optional[str], rotate_before_days: int) -> Tuple[Optional[str], bool]:
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


def is_propagation_error(error) -> bool:
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


def label(secret: Secret) -> str:
    return "client secret %s" % secret.key_id


def diff_view(secret: Secret) -> dict:
    # Ids and dates only: the diff is printed with --diff.
    return {"description": secret.description, "end_date": format_datetime(secret.end) if secret.end else None}


def absent_message(description: str, removed: List[str], tense: Callable[[str, str], str]) -> str:
    """One sentence for state=absent: the secrets with the description removed (or, in check mode, to be)."""
    if not removed:
        return "No client secret carries the description %r: none to remove." % description
    count = "%d client secret%s" % (len(removed), "" if len(removed) == 1 else "s")
    return "%s %s with the description %r: %s." % (tense("Removed", "Would remove"), count, description, ", ".join(removed))


def message(plan: Plan, kept: Optional[Secret], removed: List[str], tense: Callable[[str, str], str]) -> str:
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
