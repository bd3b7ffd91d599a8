# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the modusCloud options accept (domain names, addresses, GUIDs, import settings, known_state),
checked before any request. Pure: no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from typing import Iterable, List, Optional

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import Problem
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import (
    KEY_OPTION,
    STATUS_FIELDS,
    normalize_domain,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import USER_ROLES

# 0 = never (manual only), as the on-premises AD page offers and CTG reads it; a week at most.
SYNC_FREQUENCY_HOURS = (0, 168)

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_EMAIL_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_domain_name(value: Optional[str]) -> bool:
    return bool(_DOMAIN_RE.match(normalize_domain(value)))


def is_email(value: Optional[str]) -> bool:
    value = (value or "").strip().lower()
    if value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(_EMAIL_LOCAL_RE.match(local)) and is_domain_name(domain)


def is_guid(value: Optional[str]) -> bool:
    return bool(_GUID_RE.match((value or "").strip().lower()))


def invalid_settings(options: dict) -> List[Problem]:
    """Problems with import settings options, as (option, message) pairs, each message naming the option and
    what is allowed.

    Check-mode placeholders are taken out before (ModusCloudModule.run): whether one may stand is not a question
    of the value.
    """
    problems = []
    for name in ("org", "primary_domain"):
        value = options.get(name)
        if value is not None and not is_domain_name(value):
            problems.append((name, "%s must be a domain name such as example.com, got %r" % (name, value)))
    app_id = options.get("app_id")
    if app_id is not None and not is_guid(app_id):
        problems.append(("app_id", "app_id must be the Entra application (client) id, a GUID such as 00000000-0000-0000-0000-000000000000, got %r" % app_id))
    frequency = options.get("sync_frequency_hours")
    low, high = SYNC_FREQUENCY_HOURS
    if frequency is not None and not low <= frequency <= high:
        problems.append(("sync_frequency_hours", "sync_frequency_hours must be a whole number of hours from %d (never) to %d, got %s" % (low, high, frequency)))
    role = options.get("default_user_role")
    if role is not None and role not in USER_ROLES:
        problems.append(("default_user_role", "default_user_role must be one of %s, got %r" % (", ".join(USER_ROLES), role)))
    if options.get(KEY_OPTION) is not None and not options[KEY_OPTION].strip():
        problems.append((KEY_OPTION, "key must not be empty"))
    bad_emails = [e for e in options.get("exemptions") or [] if not is_email(e)]
    if bad_emails:
        problems.append(("exemptions", "exemptions must be email addresses; not valid: %s" % ", ".join(bad_emails)))
    return problems


def missing_domains(required: Iterable[str], org_domains: Iterable[str]) -> List[str]:
    """Sorted names in `required` that the org does not have (case-insensitive, trailing dot ignored).

    The service's sync fails when any domain of the Entra tenant is missing from the org
    (docs/moduscloud-api.md), so callers pass the tenant's verified domains here.
    """
    have = set(normalize_domain(name) for name in org_domains)
    return sorted(set(normalize_domain(name) for name in required) - have)


def missing_domains_message(org: str, missing: List[str]) -> str:
    """The failure for an organization that lacks the Entra tenant's domains `missing` (a non-empty list)."""
    return (
        "Organization %s lacks %d domain(s) of the Entra tenant, so modusCloud's Azure AD sync "
        "would fail: %s. Add them (moduscloud.azure_sync.moduscloud_domain with domains) before "
        "enabling the sync." % (org, len(missing), ", ".join(missing))
    )


# known_state: what moduscloud_sync_info returns, of which these keys are used.
KNOWN_STATE_KEYS = ("configured", "settings", "domains", "exemptions")


def known_state_problem(known: dict) -> Optional[str]:
    """Why a known_state cannot be used (it must be a moduscloud_sync_info result), or None."""
    missing = [key for key in KNOWN_STATE_KEYS + tuple(STATUS_FIELDS) if key not in known]
    if missing:
        return "known_state must be the result of moduscloud.azure_sync.moduscloud_sync_info for the same organization; it lacks %s" % ", ".join(missing)
    if not isinstance(known["domains"], list) or not all(isinstance(d, dict) and "name" in d for d in known["domains"]):
        return "known_state.domains must be a list of domains with a name, as moduscloud_sync_info returns them"
    if not isinstance(known["exemptions"], list):
        return "known_state.exemptions must be a list of addresses, as moduscloud_sync_info returns them"
    if known["configured"] and not isinstance(known["settings"], dict):
        return "known_state.settings must be the settings moduscloud_sync_info returned"
    return None
