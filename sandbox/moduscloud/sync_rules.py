"""The sandbox's own copy of the sync rules (docs/sync-rules.md), applied by the emulated service's
scheduled sync to one organization under the service lock.

Kept independent of plugins/module_utils/_sync.py ON PURPOSE: the collection predicts what the
service will do, and the sandbox plays the service, so a shared implementation would make a wrong
rule agree with itself. tests/sandbox/test_sync_rules_agree.py checks that the two agree under every setting,
and tests/integration/test_user_sync_scenarios.py through the modules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .wire import SYNCED_USER_TYPES, domain_of, is_email


# The import settings (the service's keys) these rules read: only they change what a sync does. apply_directory
# hands the rules these alone, so a rule reading another fails until it is listed here (and so is varied by
# tests/sandbox/test_sync_rules_agree.py).
SETTINGS_READ = (
    "sync_active_users",
    "add_users",
    "update_users",
    "remove_deleted_users",
    "default_user_role_name",
    "sync_security_groups",
    "sync_distribution_groups",
    "add_groups",
    "update_groups",
    "remove_deleted_groups",
)


class SyncFailure(Exception):
    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass
class Directory:
    """What one scheduled sync read from Graph."""

    verified_domains: list
    users: list
    groups: list  # Graph group objects, each with "user_members": number of distinct user members


def apply_directory(org, settings, directory, new_user):
    """Check the preconditions, change org users and groups, and return the counts for the record.

    Skipped entries use the keys of plugins/module_utils/_sync.py's report (object, reason, and
    address, else upn, else id or name) so a test can compare the service with the prediction.
    """
    missing = sorted(d for d in directory.verified_domains if d not in org.domains)
    if missing:
        raise SyncFailure(
            "domains_missing",
            f"All domains of the Azure AD directory must be added to the organization; missing: {', '.join(missing)}",
            missing_domains=missing,
        )
    settings = {key: settings[key] for key in SETTINGS_READ}
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


def _user_skip_reason(org, entra_user, mail, exempt, seen):
    """Why an Entra user is out of scope, or None when it is in scope."""
    if entra_user.get("userType") != "Member":
        return "guest"
    if mail is None:
        return "no_mail"
    if mail in seen:  # Entra keeps mail unique; guard anyway: the first member with the address has it, in scope or not
        return "duplicate_mail"
    seen.add(mail)
    if domain_of(mail) not in org.domains:
        return "domain_missing"
    if mail in exempt:
        return "exempt"
    if entra_user.get("accountEnabled") is False:
        return None if mail in org.users else "disabled"  # already in the org: kept, made Not Active
    return None if entra_user.get("assignedLicenses") else "unlicensed"


def _entra_user_scope(org, entra_user, exempt, seen, skipped):
    """The wanted modusCloud fields of an Entra user, or None when out of scope (reason recorded)."""
    mail = (entra_user.get("mail") or "").strip().lower()
    mail = mail if is_email(mail) else None
    reason = _user_skip_reason(org, entra_user, mail, exempt, seen)
    if reason:
        skipped.append(_skip("user", reason, mail, entra_user))
        return None
    aliases = set()
    for proxy in entra_user.get("proxyAddresses") or []:
        if not proxy.startswith("smtp:"):  # lowercase prefix = secondary SMTP address
            continue
        alias = proxy[len("smtp:") :].strip().lower()
        if alias == mail or not is_email(alias):
            continue
        if domain_of(alias) in org.domains:
            aliases.add(alias)
        else:
            skipped.append(_skip("user", "alias_domain_missing", alias, detail=f"alias of {mail}"))
    return {
        "primary_email": mail,
        "firstname": entra_user.get("givenName") or "",
        "surname": entra_user.get("surname") or "",
        "alias_emails": sorted(aliases),
        "is_active": entra_user.get("accountEnabled") is not False,
    }


def _apply_users(org, settings, entra_users, skipped, new_user):
    exempt = set(org.exemptions)
    wanted, seen = {}, set()
    for entra_user in entra_users:
        fields = _entra_user_scope(org, entra_user, exempt, seen, skipped)
        if fields is not None:
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
            skipped.append(_skip("user", "address_in_use", fields["primary_email"], detail=f"{address} belongs to {owner['primary_email']}"))
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
        wanted = {"id": group["id"], "name": group.get("displayName") or "", "kind": kind, "address": address, "members": group["user_members"]}
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
