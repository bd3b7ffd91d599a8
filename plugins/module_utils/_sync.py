# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Predict what modusCloud's Azure AD sync does with an Entra ID directory.

Private to this collection: no compatibility promise outside it.

Pure functions over plain data: Microsoft Graph user and group dicts and modusCloud user dicts
in, a JSON-able report out. No I/O and no imports of the collection or of Ansible: the one
implementation of the rules in docs/sync-rules.md that the modules use. The sandbox's emulated
sync service (sandbox/moduscloud/sync_rules.py) implements the same rules again on purpose, independently, and
tests/sandbox/test_sync_rules_agree.py checks that the two agree under every combination of the settings.
Every address is compared case-insensitively and reported in lower case. The work is linear in
the number of objects (dict and set lookups, one pass per input), then each list is sorted.

Callers applying a report through the Users API should delete first, then update, then create:
an alias can move from a removed or updated user to a new one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
from collections.abc import Mapping
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, TypedDict

# Import settings read here, all booleans; a missing or null switch is off.
SWITCHES = (
    "sync_active_users",
    "sync_distribution_groups",
    "sync_security_groups",
    "add_users",
    "update_users",
    "remove_users",
    "add_groups",
    "update_groups",
    "remove_groups",
)
# The Microsoft Graph user properties the rules read: what the users' read selects.
GRAPH_USER_FIELDS = ("id", "userPrincipalName", "givenName", "surname", "mail", "proxyAddresses", "accountEnabled", "userType", "assignedLicenses")
USER_ROLES = ("end_user", "silent_user")
DEFAULT_USER_ROLE = "end_user"

# Only these modusCloud user types belong to the sync; admins and functional accounts
# (and any type this code does not know) are never updated or removed.
MANAGED_USER_TYPES = frozenset(USER_ROLES)

# The only fields an update may change (_sync_apply.update_user refuses any other): never type, uid or anything else.
UPDATABLE_FIELDS = ("firstname", "surname", "alias_emails", "is_active")

# Reasons in report["skipped"].
GUEST = "guest"
NO_MAIL = "no_mail"
DUPLICATE_MAIL = "duplicate_mail"
DOMAIN_MISSING = "domain_missing"
EXEMPT = "exempt"
UNLICENSED = "unlicensed"
DISABLED = "disabled"
ALIAS_DOMAIN_MISSING = "alias_domain_missing"
PROTECTED = "protected"
ADDRESS_IN_USE = "address_in_use"
NOT_MAIL_OR_SECURITY = "not_mail_or_security"

# The detail of a user exempt because an exemption rule (exemption_query) selects it.
RULE_EXEMPT_DETAIL = "selected by exemption_query"

DISTRIBUTION = "distribution"
SECURITY = "security"
GRAPH_USER_TYPE = "#microsoft.graph.user"

DEFAULT_TITLE = "modusCloud Azure AD sync report"


# The report reconcile() returns (docs/sync-rules.md). Entries are plain dicts: an add is the modusCloud user to
# create (primary_email, firstname, surname, alias_emails, is_active, type), a change {primary_email, changes:
# {field: {before, after}}}, a removal {primary_email, type}, a group {name, kind, address, members}, a skip
# {object, reason, address or upn or name or id, detail?}.
class UserActions(TypedDict):
    add: List[dict]
    change: List[dict]
    remove: List[dict]
    unchanged: int


class Counts(TypedDict):
    add: int
    change: int
    remove: int
    unchanged: int
    groups: int
    skipped: int
    missing_domains: int


class Report(TypedDict):
    users: UserActions
    groups: List[dict]
    skipped: List[dict]
    missing_domains: List[str]
    counts: Counts


class TrimmedReport(Report):
    """A report whose lists trim_report() cut; `truncated` says whether it cut any."""

    truncated: bool


def reconcile(
    *,
    entra_users: Iterable[dict],
    entra_groups: Iterable[dict],
    tenant_domains: Iterable[str],
    settings: dict,
    exemptions: Iterable[str],
    org_domains: Iterable[str],
    org_users: Iterable[dict],
    rule_exemptions: Iterable[str] = (),
) -> Report:
    """Compare an Entra directory with a modusCloud organization under the given import settings.

    All arguments are keyword-only: seven lists and dicts are too easy to pass in the wrong order.

    entra_users: Graph user dicts (id, userPrincipalName, givenName, surname, mail, proxyAddresses,
      accountEnabled, userType, assignedLicenses).
    entra_groups: Graph group dicts (id, displayName, mail, mailEnabled, securityEnabled) with
      `members`: a list of member ids (strings) or Graph directoryObject dicts (with
      `@odata.type`, as /groups/{id}/members returns them). A bare id counts as a user when it is
      the id of one of `entra_users`. Without a `members` key the member count is None (not read).
    tenant_domains: names of the tenant's verified domains.
    settings: import settings keyed by the collection's option names (see SWITCHES and
      default_user_role); other keys are ignored.
    exemptions: exempt email addresses.
    rule_exemptions: addresses an exemption rule selects (see _exemption_query); exempt like `exemptions`,
      and their skip entries say that a rule exempts them.
    org_domains: names of the organization's domains.
    org_users: modusCloud user dicts (primary_email, type, firstname, surname, alias_emails,
      is_active, ...).

    Returns the report: users (add, change, remove, unchanged), groups, skipped, missing_domains
    and counts; see docs/sync-rules.md. Raises ValueError naming the bad input.
    """
    switches, default_role = _read_settings(settings)
    org_domain_names = _lowercase_set(org_domains, "org_domains")
    by_rule = _lowercase_set(rule_exemptions, "rule_exemptions")
    exempt = _lowercase_set(exemptions, "exemptions") | by_rule
    org_by_address = _index_org_users(org_users)
    entra_users = _checked_dicts(entra_users, "entra_users")
    entra_groups = _checked_dicts(entra_groups, "entra_groups")

    skipped = []
    users = {"add": [], "change": [], "remove": [], "unchanged": 0}
    if switches["sync_active_users"]:
        users = _reconcile_users(entra_users, switches, default_role, exempt, org_domain_names, org_by_address, skipped, by_rule)

    groups = []
    if switches["sync_distribution_groups"] or switches["sync_security_groups"]:
        user_ids = set(user.get("id") for user in entra_users)
        groups = _groups_in_scope(entra_groups, switches, user_ids, skipped)

    missing_domains = sorted(_lowercase_set(tenant_domains, "tenant_domains") - org_domain_names)
    skipped.sort(key=lambda entry: (entry["object"], entry["reason"], skip_identifier(entry)))
    return {
        "users": users,
        "groups": groups,
        "skipped": skipped,
        "missing_domains": missing_domains,
        "counts": {
            "add": len(users["add"]),
            "change": len(users["change"]),
            "remove": len(users["remove"]),
            "unchanged": users["unchanged"],
            "groups": len(groups),
            "skipped": len(skipped),
            "missing_domains": len(missing_domains),
        },
    }


def removals_over_limit(report: Report, max_removals: Optional[int]) -> List[dict]:
    """Return the user removals of `report` when there are more than `max_removals`, else [].

    `max_removals` None means no limit. The caller refuses to apply a report with a non-empty
    answer and can show the whole list of users that would have been deleted.
    """
    if max_removals is None:
        return []
    if isinstance(max_removals, bool) or not isinstance(max_removals, int) or max_removals < 0:
        raise ValueError("max_removals must be a whole number of 0 or more, got %r" % (max_removals,))
    removals = report["users"]["remove"]
    return list(removals) if len(removals) > max_removals else []


def trim_report(report: Report, limit: int) -> TrimmedReport:
    """Return the report with every list cut to its first `limit` entries; counts stay complete.

    `truncated` says whether anything was cut. Meant for module results, which must stay small
    for directories of any size.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError("the report limit must be a whole number of 0 or more, got %r" % (limit,))
    users = report["users"]
    lists = (
        users["add"],
        users["change"],
        users["remove"],
        report["groups"],
        report["skipped"],
        report["missing_domains"],
    )
    return {
        "users": {
            "add": users["add"][:limit],
            "change": users["change"][:limit],
            "remove": users["remove"][:limit],
            "unchanged": users["unchanged"],
        },
        "groups": report["groups"][:limit],
        "skipped": report["skipped"][:limit],
        "missing_domains": report["missing_domains"][:limit],
        "counts": dict(report["counts"]),
        "truncated": any(len(entries) > limit for entries in lists),
    }


def render_markdown(report: Report, title: str = DEFAULT_TITLE, files: Optional[Sequence[Tuple[str, str]]] = None) -> str:
    """Render a report (full or trimmed) as a Markdown document for AWX artifacts and pull requests.

    It leads with the counts; for a trimmed report each list shows its first entries. `files`, a list
    of (description, file name) pairs, names the files that hold the whole report, for the rest.
    """
    counts = report["counts"]
    users = report["users"]
    lines = ["# " + _inline(title), ""]
    if files:
        lines += ["The whole report: " + "; ".join("%s in `%s`" % (_inline(what), _inline(name).replace("`", "'")) for what, name in files) + ".", ""]
    lines += _table(
        ["", "Count"],
        [
            ["Users to add", counts["add"]],
            ["Users to change", counts["change"]],
            ["Users to remove", counts["remove"]],
            ["Users unchanged", counts["unchanged"]],
            ["Groups the service syncs", counts["groups"]],
            ["Skipped", counts["skipped"]],
            ["Entra domains missing on the organization", counts["missing_domains"]],
        ],
        align=["---", "---:"],
    )

    lines += _section(
        "Entra domains missing on the organization",
        report["missing_domains"],
        counts["missing_domains"],
        ["Domain"],
        lambda domain: [[domain]],
        note="The service's sync fails until every verified Entra domain is added to the organization.",
    )
    lines += _section(
        "Users to add",
        users["add"],
        counts["add"],
        ["Address", "First name", "Surname", "Aliases", "Active", "Role"],
        lambda user: [
            [
                user["primary_email"],
                user["firstname"],
                user["surname"],
                user["alias_emails"],
                user["is_active"],
                user["type"],
            ]
        ],
    )
    lines += _section(
        "Users to change",
        users["change"],
        counts["change"],
        ["Address", "Field", "Before", "After"],
        lambda user: [[user["primary_email"], field, change["before"], change["after"]] for field, change in user["changes"].items()],
    )
    lines += _section(
        "Users to remove",
        users["remove"],
        counts["remove"],
        ["Address", "Role"],
        lambda user: [[user["primary_email"], user["type"]]],
    )
    lines += _section(
        "Groups the service syncs",
        report["groups"],
        counts["groups"],
        ["Name", "Kind", "Address", "User members"],
        lambda group: [[group["name"], group["kind"], group["address"], group["members"]]],
    )
    lines += _section(
        "Skipped",
        report["skipped"],
        counts["skipped"],
        ["Object", "Identifier", "Reason", "Detail"],
        lambda entry: [[entry["object"], skip_identifier(entry), entry["reason"], entry.get("detail")]],
    )
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("action", "address", "firstname", "surname", "alias_emails", "is_active", "type", "changes", "reason", "detail")


def render_csv(report: Report) -> str:
    """The users of a whole report as CSV text, one row per user and action (add, change, remove, skip).

    For a spreadsheet: lists are joined with "; ", and a cell that a spreadsheet would run as a formula
    (starting with =, +, -, @ or a control character) gets a leading apostrophe.
    """
    users = report["users"]
    rows = []
    for user in users["add"]:
        rows.append(dict(user, action="add"))
    for user in users["change"]:
        changes = "; ".join(
            "%s: %s -> %s" % (field, _csv_value(change["before"]), _csv_value(change["after"])) for field, change in sorted(user["changes"].items())
        )
        rows.append({"action": "change", "address": user["primary_email"], "changes": changes})
    for user in users["remove"]:
        rows.append(dict(user, action="remove"))
    for entry in report["skipped"]:
        if entry["object"] == "user":
            rows.append({"action": "skip", "address": skip_identifier(entry), "reason": entry["reason"], "detail": entry.get("detail")})
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        if "primary_email" in row:
            row["address"] = row["primary_email"]
        writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return stream.getvalue()


def _csv_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _csv_cell(value) -> str:
    text = _csv_value(value)
    if text and (text[0] in "=+-@" or text[0] < " "):
        return "'" + text
    return text


def skip_identifier(entry: dict) -> str:
    """The best name of a skipped object: its address, else its UPN or group name, else its id."""
    for key in ("address", "upn", "name", "id"):
        if entry.get(key):
            return entry[key]
    return ""


def _reconcile_users(
    entra_users: List[dict],
    switches: Dict[str, bool],
    default_role: str,
    exempt: Set[str],
    org_domains: Set[str],
    org_by_address: Dict[str, dict],
    skipped: List[dict],
    by_rule: Iterable[str] = (),
) -> UserActions:
    adds, updates, removes = [], [], []
    unchanged = 0
    in_scope = set()
    seen = set()
    reported_exempt = set()
    holders = _address_holders(org_by_address)

    for user in entra_users:
        address = _address(user.get("mail"))
        if user.get("userType") != "Member":
            skipped.append(_user_skip(user, GUEST, address, "userType is %s" % (user.get("userType") or "not set")))
            continue
        if address is None:
            detail = "mail %r is not an email address" % user["mail"] if user.get("mail") else None
            skipped.append(_user_skip(user, NO_MAIL, None, detail))
            continue
        if address in seen:
            # Entra keeps mail unique in a tenant; this only guards against bad input.
            skipped.append(_user_skip(user, DUPLICATE_MAIL, address, "an earlier Entra user has the same mail"))
            continue
        seen.add(address)
        domain = _domain(address)
        if domain not in org_domains:
            skipped.append(_user_skip(user, DOMAIN_MISSING, address, "domain %s is not on the organization" % domain))
            continue
        if address in exempt:
            skipped.append(_user_skip(user, EXEMPT, address, RULE_EXEMPT_DETAIL if address in by_rule else None))
            reported_exempt.add(address)
            continue

        org_user = org_by_address.get(address)
        if user.get("accountEnabled") is False:
            if org_user is None:
                skipped.append(_user_skip(user, DISABLED, address, "disabled in Entra and not in the organization"))
                continue
            active = False
        elif not user.get("assignedLicenses"):
            skipped.append(_user_skip(user, UNLICENSED, address))
            continue
        else:
            active = True

        in_scope.add(address)
        desired = {
            "primary_email": address,
            "firstname": user.get("givenName") or "",
            "surname": user.get("surname") or "",
            "alias_emails": _aliases(user, address, org_domains, skipped),
            "is_active": active,
        }
        if org_user is None:
            if switches["add_users"] and not _address_in_use(desired, holders, skipped):
                desired["type"] = default_role
                adds.append(desired)
                _hold(holders, address, (), desired["alias_emails"])
            continue
        changes = _user_changes(org_user, desired)
        if not changes or not switches["update_users"]:
            unchanged += 1
        elif org_user.get("type") not in MANAGED_USER_TYPES:
            detail = "%s; would update %s" % (org_user.get("type"), ", ".join(changes))
            skipped.append({"object": "user", "address": address, "reason": PROTECTED, "detail": detail})
        elif not _address_in_use(desired, holders, skipped):
            updates.append({"primary_email": address, "changes": changes})
            if "alias_emails" in changes:
                _hold(holders, address, changes["alias_emails"]["before"], changes["alias_emails"]["after"])

    if switches["remove_users"]:
        for address, org_user in org_by_address.items():
            if address in in_scope or address in reported_exempt:
                continue
            if address in exempt:
                skipped.append({"object": "user", "address": address, "reason": EXEMPT, "detail": "would otherwise be removed"})
            elif org_user.get("type") not in MANAGED_USER_TYPES:
                detail = "%s; would otherwise be removed" % org_user.get("type")
                skipped.append({"object": "user", "address": address, "reason": PROTECTED, "detail": detail})
            else:
                removes.append({"primary_email": address, "type": org_user["type"]})

    for entries in (adds, updates, removes):
        entries.sort(key=lambda entry: entry["primary_email"])
    return {"add": adds, "change": updates, "remove": removes, "unchanged": unchanged}


def _address_holders(org_by_address: Dict[str, dict]) -> Dict[str, str]:
    """Address -> primary address of the org user holding it, as primary (first) or as alias."""
    holders = dict((address, address) for address in org_by_address)
    for address, org_user in org_by_address.items():
        for alias in org_user.get("alias_emails") or ():
            holders.setdefault(_lowercase(alias), address)
    return holders


def _hold(holders: Dict[str, str], primary: str, released: Iterable[str], taken: Iterable[str]) -> None:
    """Record that `primary` gives up the aliases `released` and holds `taken` (with itself) from now on."""
    for alias in released:
        if holders.get(alias) == primary and alias != primary:
            del holders[alias]
    for address in (primary,) + tuple(taken):
        holders.setdefault(address, primary)


def _address_in_use(desired: dict, holders: Dict[str, str], skipped: List[dict]) -> bool:
    """Whether an address of the user is held by another org user; the sync never takes one away.

    Checked as the service works through the directory in order: against the organization as
    it is (users this sync removes still hold theirs) and what earlier users of this sync took.
    """
    primary = desired["primary_email"]
    for address in [primary] + desired["alias_emails"]:
        holder = holders.get(address)
        if holder is not None and holder != primary:
            skipped.append({"object": "user", "address": primary, "reason": ADDRESS_IN_USE, "detail": "%s belongs to %s" % (address, holder)})
            return True
    return False


def _aliases(user: dict, primary: str, org_domains: Set[str], skipped: List[dict]) -> List[str]:
    """Secondary SMTP addresses (lower-case `smtp:` prefix) on the org's domains, sorted."""
    aliases = set()
    for proxy in user.get("proxyAddresses") or ():
        if not proxy.startswith("smtp:"):
            continue  # the primary (SMTP:) and non-mail addresses (SIP:, X500:, ...)
        alias = _address(proxy[len("smtp:") :])
        if alias is None or alias == primary:
            continue
        domain = _domain(alias)
        if domain in org_domains:
            aliases.add(alias)
        else:
            detail = "alias of %s; domain %s is not on the organization" % (primary, domain)
            skipped.append({"object": "user", "address": alias, "reason": ALIAS_DOMAIN_MISSING, "detail": detail})
    return sorted(aliases)


def _user_changes(org_user: dict, desired: dict) -> Dict[str, dict]:
    """Field -> {before, after} for the synced fields that differ (names exactly, aliases as sets)."""
    current = {
        "firstname": org_user.get("firstname") or "",
        "surname": org_user.get("surname") or "",
        "alias_emails": sorted(set(_lowercase(alias) for alias in org_user.get("alias_emails") or ())),
        "is_active": org_user.get("is_active"),
    }
    return dict((field, {"before": current[field], "after": desired[field]}) for field in UPDATABLE_FIELDS if current[field] != desired[field])


def _groups_in_scope(entra_groups: List[dict], switches: Dict[str, bool], user_ids: Set[str], skipped: List[dict]) -> List[dict]:
    groups = []
    for group in entra_groups:
        if group.get("securityEnabled") is True:
            kind = SECURITY  # mail-enabled security groups included
        elif group.get("mailEnabled") is True:
            kind = DISTRIBUTION  # Microsoft 365 (Unified) groups included
        else:
            skipped.append(_group_skip(group, NOT_MAIL_OR_SECURITY))
            continue
        if not switches["sync_%s_groups" % kind]:
            continue
        groups.append(
            {
                "name": group.get("displayName") or "",
                "kind": kind,
                "address": _address(group.get("mail")),
                "members": _count_user_members(group, user_ids),
            }
        )
    groups.sort(key=lambda group: (group["kind"], group["name"].lower(), group["name"], group["address"] or ""))
    return groups


def _count_user_members(group: dict, user_ids: Set[str]) -> Optional[int]:
    members = group.get("members")
    if members is None:
        return None
    users = set()
    for member in members:
        if isinstance(member, Mapping):
            member_type = member.get("@odata.type")
            is_user = member_type == GRAPH_USER_TYPE or (member_type is None and member.get("id") in user_ids)
            member_id = member.get("id")
        elif isinstance(member, str):
            is_user, member_id = member in user_ids, member
        else:
            raise ValueError("members of group %s must be ids or Graph objects, got %r" % (group.get("displayName") or group.get("id"), member))
        if is_user:
            users.add(member_id)
    return len(users)


def _user_skip(user: dict, reason: str, address: Optional[str], detail: Optional[str] = None) -> dict:
    entry = {"object": "user", "reason": reason}
    if address:
        entry["address"] = address
    elif user.get("userPrincipalName"):
        entry["upn"] = _lowercase(user["userPrincipalName"])
    else:
        entry["id"] = user.get("id")
    if detail:
        entry["detail"] = detail
    return entry


def _group_skip(group: dict, reason: str) -> dict:
    entry = {"object": "group", "reason": reason}
    address = _address(group.get("mail"))
    if address:
        entry["address"] = address
    elif group.get("displayName"):
        entry["name"] = group["displayName"]
    else:
        entry["id"] = group.get("id")
    return entry


def _read_settings(settings: dict) -> Tuple[Dict[str, bool], str]:
    if not isinstance(settings, Mapping):
        raise ValueError("settings must be a dict of import settings, got %s" % type(settings).__name__)
    switches = {}
    for name in SWITCHES:
        value = settings.get(name)
        if value is not None and not isinstance(value, bool):
            raise ValueError("import setting %s must be true or false, got %r" % (name, value))
        switches[name] = bool(value)
    role = settings.get("default_user_role")
    if role is None:
        role = DEFAULT_USER_ROLE
    if role not in USER_ROLES:
        raise ValueError("import setting default_user_role must be one of %s, got %r" % (", ".join(USER_ROLES), role))
    return switches, role


def _index_org_users(org_users: Iterable[dict]) -> Dict[str, dict]:
    """Org users by lower-case primary address."""
    by_address = {}
    for index, org_user in enumerate(_checked_dicts(org_users, "org_users")):
        address = _address(org_user.get("primary_email"))
        if address is None:
            raise ValueError("org_users[%d] has no valid primary_email: %r" % (index, org_user.get("primary_email")))
        by_address[address] = org_user
    return by_address


def _checked_dicts(items: Optional[Iterable[dict]], what: str) -> List[dict]:
    items = list(items or ())
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError("%s[%d] must be a dict, got %s" % (what, index, type(item).__name__))
    return items


def _lowercase_set(names: Optional[Iterable[str]], what: str) -> Set[str]:
    result = set()
    for name in names or ():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("%s must contain non-empty strings, got %r" % (what, name))
        result.add(_lowercase(name))
    return result


def _lowercase(text: str) -> str:
    return text.strip().lower()


def _address(value) -> Optional[str]:
    """The lower-case address, or None unless `value` looks like local@domain."""
    if not isinstance(value, str):
        return None
    address = _lowercase(value)
    local, at, domain = address.rpartition("@")
    return address if local and at and domain else None


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _section(heading: str, entries: list, total: int, header: List[str], rows_of: Callable[..., List[list]], note: Optional[str] = None) -> List[str]:
    lines = ["", "## %s (%d)" % (heading, total), ""]
    if note and entries:
        lines += [note, ""]
    if not entries:
        return lines + ["None."]
    if len(entries) < total:
        lines += ["First %d of %d." % (len(entries), total), ""]
    rows = [row for entry in entries for row in rows_of(entry)]
    return lines + _table(header, rows)


def _table(header: List[str], rows: List[list], align: Optional[List[str]] = None) -> List[str]:
    lines = ["| " + " | ".join(_cell(title) for title in header) + " |"]
    lines.append("|" + "|".join(align or ["---"] * len(header)) + "|")
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(item) for item in value)
    return _inline(str(value)).replace("|", "\\|")


def _inline(text: str) -> str:
    """Text safe on one Markdown line: no line breaks, no HTML."""
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())
