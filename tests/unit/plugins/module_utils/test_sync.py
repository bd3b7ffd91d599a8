# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sync rules of docs/sync-rules.md, one small hand-made directory per rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import random

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _sync

from ..builders import entra_group as group
from ..builders import entra_user, org_user, sync_switches

DOMAIN = "contoso.com"
# Every switch on that these tests were written with (a newer one at its module default), and the default role.
ALL_ON = dict(sync_switches(), default_user_role="end_user")


def reconcile(users=(), groups=(), settings=None, exemptions=(), org_users=(), tenant_domains=(DOMAIN,), org_domains=(DOMAIN,), **overrides):
    settings = dict(ALL_ON if settings is None else settings, **overrides)
    return _sync.reconcile(
        entra_users=list(users),
        entra_groups=list(groups),
        tenant_domains=list(tenant_domains),
        settings=settings,
        exemptions=list(exemptions),
        org_domains=list(org_domains),
        org_users=list(org_users),
    )


def skips(report, reason=None):
    return [entry for entry in report["skipped"] if reason is None or entry["reason"] == reason]


def untouched(report):
    users = report["users"]
    return not (users["add"] or users["change"] or users["remove"])


# Users: who qualifies


def test_licensed_enabled_member_missing_from_the_org_is_added_with_exactly_the_create_fields():
    user = entra_user("Ann.Lee@Contoso.com", given="Ann", surname="Lee", aliases=["A.Lee@contoso.com", "ann@CONTOSO.com"])

    report = reconcile([user])

    assert report["users"]["add"] == [
        {
            "primary_email": "ann.lee@contoso.com",
            "firstname": "Ann",
            "surname": "Lee",
            "alias_emails": ["a.lee@contoso.com", "ann@contoso.com"],
            "is_active": True,
            "type": "end_user",
        }
    ]
    assert report["counts"]["add"] == 1


def test_added_users_get_the_configured_default_role():
    report = reconcile([entra_user("ann@contoso.com")], default_user_role="silent_user")

    assert report["users"]["add"][0]["type"] == "silent_user"


def test_missing_names_become_empty_strings():
    user = entra_user("ann@contoso.com")
    user["givenName"] = None
    del user["surname"]

    added = reconcile([user])["users"]["add"][0]

    assert (added["firstname"], added["surname"]) == ("", "")


def test_guests_are_skipped_even_when_licensed():
    guest = entra_user("partner@fabrikam.com", user_type="Guest", upn="partner_fabrikam.com#EXT#@contoso.onmicrosoft.com")

    report = reconcile([guest], org_domains=[DOMAIN, "fabrikam.com"])

    assert untouched(report)
    assert skips(report) == [{"object": "user", "reason": "guest", "address": "partner@fabrikam.com", "detail": "userType is Guest"}]


def test_users_without_mail_are_skipped_and_named_by_upn_or_id():
    no_mail = entra_user(None, upn="Room.101@contoso.onmicrosoft.com")
    nameless = entra_user(None, object_id="0000-1111")
    nameless["userPrincipalName"] = None
    not_an_address = entra_user("not-an-address", upn="odd@contoso.onmicrosoft.com")

    report = reconcile([no_mail, nameless, not_an_address])

    assert untouched(report)
    assert skips(report, "no_mail") == [
        {"object": "user", "reason": "no_mail", "id": "0000-1111"},
        {
            "object": "user",
            "reason": "no_mail",
            "upn": "odd@contoso.onmicrosoft.com",
            "detail": "mail 'not-an-address' is not an email address",
        },
        {"object": "user", "reason": "no_mail", "upn": "room.101@contoso.onmicrosoft.com"},
    ]


def test_a_primary_address_on_a_domain_missing_from_the_org_is_skipped():
    report = reconcile([entra_user("bob@fabrikam.com")], tenant_domains=[DOMAIN, "fabrikam.com"])

    assert untouched(report)
    assert skips(report) == [
        {
            "object": "user",
            "reason": "domain_missing",
            "address": "bob@fabrikam.com",
            "detail": "domain fabrikam.com is not on the organization",
        }
    ]


def test_enabled_but_unlicensed_users_are_skipped():
    report = reconcile([entra_user("shared@contoso.com", licensed=False)])

    assert untouched(report)
    assert skips(report) == [{"object": "user", "reason": "unlicensed", "address": "shared@contoso.com"}]


def test_a_disabled_user_not_in_the_org_is_skipped():
    report = reconcile([entra_user("gone@contoso.com", enabled=False)])

    assert untouched(report)
    assert [entry["reason"] for entry in skips(report)] == ["disabled"]


def test_a_disabled_user_already_in_the_org_is_deactivated_not_removed():
    report = reconcile([entra_user("ann@contoso.com", enabled=False, licensed=False)], org_users=[org_user("ann@contoso.com")])

    assert report["users"]["remove"] == []
    assert report["users"]["change"] == [{"primary_email": "ann@contoso.com", "changes": {"is_active": {"before": True, "after": False}}}]


def test_an_org_user_whose_entra_account_lost_its_license_is_removed():
    report = reconcile([entra_user("ann@contoso.com", licensed=False)], org_users=[org_user("ann@contoso.com")])

    assert report["users"]["remove"] == [{"primary_email": "ann@contoso.com", "type": "end_user"}]


def test_a_second_entra_user_with_the_same_mail_is_skipped_not_merged():
    first = entra_user("ann@contoso.com", given="Ann", object_id="first")
    second = entra_user("ANN@contoso.com", given="Other", object_id="second")

    report = reconcile([first, second])

    assert [user["firstname"] for user in report["users"]["add"]] == ["Ann"]
    assert [entry["reason"] for entry in skips(report)] == ["duplicate_mail"]


# Users: addresses


def test_aliases_are_the_secondary_smtp_addresses_only():
    user = entra_user("ann@contoso.com")
    user["proxyAddresses"] = [
        "SMTP:ann@contoso.com",
        "smtp:ANN@contoso.com",  # the primary again, other case
        "smtp:a.lee@contoso.com",
        "smtp:A.Lee@Contoso.com",  # duplicate, other case
        "SIP:ann@contoso.com",
        "X500:/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=ann",
        "smtp:ann@contoso.mail.onmicrosoft.com",
    ]

    report = reconcile([user], org_domains=[DOMAIN, "contoso.mail.onmicrosoft.com"])

    assert report["users"]["add"][0]["alias_emails"] == ["a.lee@contoso.com", "ann@contoso.mail.onmicrosoft.com"]


def test_an_alias_on_a_domain_missing_from_the_org_is_dropped_and_reported():
    user = entra_user("ann@contoso.com", aliases=["ann@contoso.com.au", "a.lee@contoso.com"])

    report = reconcile([user], tenant_domains=[DOMAIN, "contoso.com.au"])

    assert report["users"]["add"][0]["alias_emails"] == ["a.lee@contoso.com"]
    assert skips(report) == [
        {
            "object": "user",
            "reason": "alias_domain_missing",
            "address": "ann@contoso.com.au",
            "detail": "alias of ann@contoso.com; domain contoso.com.au is not on the organization",
        }
    ]


def test_addresses_and_domains_compare_case_insensitively():
    user = entra_user("Ann.Lee@CONTOSO.com", aliases=["A.LEE@Contoso.COM"])
    existing = org_user("ann.lee@contoso.COM", aliases=["a.lee@CONTOSO.com"])

    report = reconcile([user], org_users=[existing], org_domains=["Contoso.Com"], tenant_domains=["CONTOSO.COM"])

    assert untouched(report)
    assert report["users"]["unchanged"] == 1
    assert report["missing_domains"] == []
    assert report["skipped"] == []


def test_names_compare_exactly_so_a_case_change_is_an_update():
    report = reconcile([entra_user("ann@contoso.com", surname="McLee")], org_users=[org_user("ann@contoso.com", surname="Mclee")])

    assert report["users"]["change"][0]["changes"] == {"surname": {"before": "Mclee", "after": "McLee"}}


def test_an_update_lists_every_changed_field_and_nothing_else():
    user = entra_user("ann@contoso.com", given="Ann", surname="Lee-Smith", aliases=["ann.smith@contoso.com"])
    existing = org_user("ann@contoso.com", firstname="Ann", surname="Lee", aliases=["ann.lee@contoso.com"], active=False)

    report = reconcile([user], org_users=[existing])

    assert report["users"]["change"] == [
        {
            "primary_email": "ann@contoso.com",
            "changes": {
                "surname": {"before": "Lee", "after": "Lee-Smith"},
                "alias_emails": {"before": ["ann.lee@contoso.com"], "after": ["ann.smith@contoso.com"]},
                "is_active": {"before": False, "after": True},
            },
        }
    ]


# Users: what is never touched


@pytest.mark.parametrize(
    "entra, org",
    [
        pytest.param([entra_user("ann@contoso.com")], [], id="not-added"),
        pytest.param([entra_user("ann@contoso.com", surname="New")], [org_user("ann@contoso.com")], id="not-updated"),
        pytest.param([entra_user("ann@contoso.com", enabled=False)], [org_user("ann@contoso.com")], id="not-deactivated"),
        pytest.param([], [org_user("ann@contoso.com")], id="not-removed"),
    ],
)
def test_exempt_addresses_are_never_added_updated_or_removed(entra, org):
    report = reconcile(entra, org_users=org, exemptions=["Ann@Contoso.com"])

    assert untouched(report)
    assert [(entry["address"], entry["reason"]) for entry in skips(report)] == [("ann@contoso.com", "exempt")]


@pytest.mark.parametrize(
    "user_type",
    ["organization_admin", "channel_admin", "strategic_partner_admin", "oem_partner_admin", "functional_account"],
)
def test_admin_and_functional_accounts_are_protected_from_update_and_removal(user_type):
    entra = [entra_user("admin@contoso.com", surname="Renamed")]
    org = [org_user("admin@contoso.com", user_type=user_type), org_user("mailbox@contoso.com", user_type=user_type)]

    report = reconcile(entra, org_users=org)

    assert untouched(report)
    assert skips(report) == [
        {
            "object": "user",
            "reason": "protected",
            "address": "admin@contoso.com",
            "detail": "%s; would update surname" % user_type,
        },
        {
            "object": "user",
            "reason": "protected",
            "address": "mailbox@contoso.com",
            "detail": "%s; would otherwise be removed" % user_type,
        },
    ]


def test_protected_accounts_are_only_reported_when_the_sync_would_have_changed_them():
    entra = [entra_user("admin@contoso.com")]
    org = [
        org_user("admin@contoso.com", user_type="organization_admin"),
        org_user("helpdesk@contoso.com", user_type="functional_account"),
    ]

    report = reconcile(entra, org_users=org, remove_users=False)

    assert report["skipped"] == []
    assert report["users"]["unchanged"] == 1


def test_an_address_held_by_another_org_user_is_never_taken_from_it():
    entra = [
        entra_user("ann@contoso.com", aliases=["sales@contoso.com"]),  # new; its alias is the desk's
        entra_user("bob@contoso.com", given="Bob", aliases=["info@contoso.com"]),  # would take the scanner's alias
    ]
    org = [
        org_user("bob@contoso.com", firstname="Robert"),
        org_user("desk@contoso.com", aliases=["sales@contoso.com"]),  # not in Entra, so also removed
        org_user("scanner@contoso.com", user_type="functional_account", aliases=["info@contoso.com"]),
    ]

    report = reconcile(entra, org_users=org)

    assert skips(report, "address_in_use") == [
        {"object": "user", "address": "ann@contoso.com", "reason": "address_in_use", "detail": "sales@contoso.com belongs to desk@contoso.com"},
        {"object": "user", "address": "bob@contoso.com", "reason": "address_in_use", "detail": "info@contoso.com belongs to scanner@contoso.com"},
    ]
    assert report["users"]["add"] == [] and report["users"]["change"] == []
    # The holder the sync removes still holds the address while the users are added; bob stays.
    assert [user["primary_email"] for user in report["users"]["remove"]] == ["desk@contoso.com"]


def test_an_alias_moves_in_directory_order_as_the_service_applies_the_users():
    org = [org_user("ann@contoso.com", aliases=["sales@contoso.com"])]
    ann = entra_user("ann@contoso.com")  # gave up the alias in Entra
    bob = entra_user("bob@contoso.com", given="Bob", aliases=["sales@contoso.com"])  # and got it

    after_ann = reconcile([ann, bob], org_users=org)
    before_ann = reconcile([bob, ann], org_users=org)

    assert [user["primary_email"] for user in after_ann["users"]["add"]] == ["bob@contoso.com"]
    assert skips(after_ann, "address_in_use") == []
    assert before_ann["users"]["add"] == [] and [entry["address"] for entry in skips(before_ann)] == ["bob@contoso.com"]
    # Either way ann gives the alias up now; in the second case bob gets it at the next sync.
    assert (
        after_ann["users"]["change"]
        == before_ann["users"]["change"]
        == [{"primary_email": "ann@contoso.com", "changes": {"alias_emails": {"before": ["sales@contoso.com"], "after": []}}}]
    )


def test_removal_takes_only_end_and_silent_users_missing_from_entra():
    org = [org_user("left@contoso.com", user_type="end_user"), org_user("digest@contoso.com", user_type="silent_user")]

    report = reconcile([], org_users=org)

    assert report["users"]["remove"] == [
        {"primary_email": "digest@contoso.com", "type": "silent_user"},
        {"primary_email": "left@contoso.com", "type": "end_user"},
    ]


# Users: the settings


def test_add_users_off_adds_nobody():
    report = reconcile([entra_user("ann@contoso.com")], add_users=False)

    assert report["users"]["add"] == []


def test_update_users_off_leaves_differing_users_as_they_are():
    report = reconcile([entra_user("ann@contoso.com", surname="New")], org_users=[org_user("ann@contoso.com")], update_users=False)

    assert report["users"]["change"] == []
    assert report["users"]["unchanged"] == 1


def test_remove_users_off_removes_nobody():
    report = reconcile([], org_users=[org_user("left@contoso.com")], remove_users=False)

    assert report["users"]["remove"] == []
    assert report["skipped"] == []


def test_sync_active_users_off_touches_and_reports_no_user_but_still_syncs_groups():
    entra = [entra_user("ann@contoso.com"), entra_user("guest@fabrikam.com", user_type="Guest")]
    org = [org_user("left@contoso.com"), org_user("bob@contoso.com")]

    report = reconcile(entra, groups=[group("Staff", members=["id-ann"])], org_users=org, sync_active_users=False)

    assert report["users"] == {"add": [], "change": [], "remove": [], "unchanged": 0}
    assert report["skipped"] == []
    assert report["groups"] == [{"name": "Staff", "kind": "security", "address": None, "members": 1}]


def test_missing_switches_are_off():
    report = reconcile([entra_user("ann@contoso.com")], groups=[group("Staff")], settings={})

    assert untouched(report)
    assert report["groups"] == []


@pytest.mark.parametrize(
    "setting, value",
    [("add_users", "true"), ("remove_users", 1), ("sync_security_groups", "yes")],
)
def test_switches_must_be_booleans(setting, value):
    with pytest.raises(ValueError, match="import setting %s must be true or false" % setting):
        reconcile(**{setting: value})


def test_default_user_role_must_be_a_user_role():
    with pytest.raises(ValueError, match="default_user_role must be one of end_user, silent_user, got 'organization_admin'"):
        reconcile(default_user_role="organization_admin")


@pytest.mark.parametrize(
    "inputs, message",
    [
        (dict(org_users=[{"uid": 5}]), r"org_users\[0\] has no valid primary_email"),
        (dict(users=["ann@contoso.com"]), r"entra_users\[0\] must be a dict, got str"),
        (dict(exemptions=[{"email": "ann@contoso.com"}]), "exemptions must contain non-empty strings"),
        (dict(org_domains=[""]), "org_domains must contain non-empty strings"),
        (dict(groups=[group("Staff", members=[42])]), "members of group Staff must be ids or Graph objects"),
    ],
)
def test_bad_input_is_named_in_the_error(inputs, message):
    with pytest.raises(ValueError, match=message):
        reconcile(**inputs)


# Groups


def test_groups_are_classified_by_their_mail_and_security_flags():
    groups = [
        group("Finance", mail=None, mail_enabled=False, security_enabled=True),
        group("Managers", mail="Managers@contoso.com", mail_enabled=True, security_enabled=True),
        group("Sales", mail="sales@contoso.com", mail_enabled=True, security_enabled=False),
        group("Project X", mail="projectx@contoso.com", mail_enabled=True, security_enabled=False, unified=True),
        group("Devices", mail=None, mail_enabled=False, security_enabled=False),
    ]

    report = reconcile(groups=groups)

    assert [(entry["kind"], entry["name"], entry["address"]) for entry in report["groups"]] == [
        ("distribution", "Project X", "projectx@contoso.com"),
        ("distribution", "Sales", "sales@contoso.com"),
        ("security", "Finance", None),
        ("security", "Managers", "managers@contoso.com"),
    ]
    assert skips(report) == [{"object": "group", "reason": "not_mail_or_security", "name": "Devices"}]


@pytest.mark.parametrize(
    "distribution, security, expected",
    [(True, False, ["Sales"]), (False, True, ["Finance"]), (False, False, [])],
)
def test_only_the_enabled_group_kinds_are_synced(distribution, security, expected):
    groups = [
        group("Sales", mail="sales@contoso.com", mail_enabled=True, security_enabled=False),
        group("Finance"),
        group("Devices", security_enabled=False),
    ]

    report = reconcile(groups=groups, sync_distribution_groups=distribution, sync_security_groups=security)

    assert [entry["name"] for entry in report["groups"]] == expected
    assert bool(report["skipped"]) is bool(expected)


def test_group_members_count_only_users():
    users = [
        entra_user("ann@contoso.com"),
        entra_user("bob@contoso.com"),
        entra_user("guest@fabrikam.com", user_type="Guest"),
    ]
    by_id = group("By id", members=["id-ann", "id-guest", "group-Nested", "device-1", "id-ann"])
    by_object = group(
        "By object",
        members=[
            {"@odata.type": "#microsoft.graph.user", "id": "id-bob"},
            {"@odata.type": "#microsoft.graph.group", "id": "group-Nested"},
            {"@odata.type": "#microsoft.graph.device", "id": "device-1"},
            {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1"},
            {"id": "id-ann"},
            {"id": "unknown"},
        ],
    )
    not_read = group("Not read")
    del not_read["members"]

    report = reconcile(users, groups=[by_id, by_object, not_read])

    assert dict((entry["name"], entry["members"]) for entry in report["groups"]) == {
        "By id": 2,
        "By object": 2,
        "Not read": None,
    }


# Domains


def test_verified_tenant_domains_missing_from_the_org_are_listed():
    report = reconcile(
        tenant_domains=["contoso.com", "Fabrikam.com", "contoso.onmicrosoft.com"],
        org_domains=["contoso.com", "unused.example"],
    )

    assert report["missing_domains"] == ["contoso.onmicrosoft.com", "fabrikam.com"]
    assert report["counts"]["missing_domains"] == 2


# The report as a whole


def mixed_directory():
    users = [
        entra_user("new@contoso.com", aliases=["n@contoso.com"]),
        entra_user("ann@contoso.com", surname="Renamed"),
        entra_user("same@contoso.com"),
        entra_user("guest@fabrikam.com", user_type="Guest"),
        entra_user("unlicensed@contoso.com", licensed=False),
    ]
    org = [org_user("ann@contoso.com", uid=1), org_user("same@contoso.com", uid=2), org_user("left@contoso.com", uid=3)]
    groups = [group("Sales | EMEA", mail="sales@contoso.com", mail_enabled=True, security_enabled=False, members=["id-new"])]
    return dict(users=users, org_users=org, groups=groups, tenant_domains=[DOMAIN, "fabrikam.com"])


def test_counts_summarise_the_report():
    report = reconcile(**mixed_directory())

    assert report["counts"] == {
        "add": 1,
        "change": 1,
        "remove": 1,
        "unchanged": 1,
        "groups": 1,
        "skipped": 2,
        "missing_domains": 1,
    }


def test_the_report_is_json_and_independent_of_input_order():
    directory = mixed_directory()
    shuffled = copy.deepcopy(directory)
    for key in ("users", "org_users", "groups"):
        random.Random(7).shuffle(shuffled[key])

    report = reconcile(**directory)

    assert json.loads(json.dumps(report)) == report
    assert reconcile(**shuffled) == report


# Limits and trimming


def report_removing(count):
    return reconcile([], org_users=[org_user("user%02d@contoso.com" % number) for number in range(count)])


@pytest.mark.parametrize("max_removals, expected", [(None, 0), (5, 0), (6, 0), (4, 5), (0, 5)])
def test_removals_over_the_limit_are_returned_in_full(max_removals, expected):
    report = report_removing(5)

    over = _sync.removals_over_limit(report, max_removals)

    assert len(over) == expected
    if expected:
        assert over == report["users"]["remove"]


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_the_removal_limit_must_be_a_whole_number(bad):
    with pytest.raises(ValueError, match="max_removals must be a whole number of 0 or more"):
        _sync.removals_over_limit(report_removing(1), bad)


def test_trim_keeps_full_counts_and_the_first_entries_of_each_list():
    report = report_removing(5)

    trimmed = _sync.trim_report(report, 2)

    assert trimmed["users"]["remove"] == report["users"]["remove"][:2]
    assert trimmed["counts"] == report["counts"]
    assert trimmed["truncated"] is True
    assert _sync.trim_report(report, 5)["truncated"] is False
    assert report["counts"]["remove"] == len(report["users"]["remove"]) == 5  # the full report is not cut


def test_trim_rejects_a_negative_limit():
    with pytest.raises(ValueError, match="report limit must be a whole number"):
        _sync.trim_report(report_removing(1), -1)


# Markdown


def test_markdown_shows_counts_and_a_row_per_object():
    markdown = _sync.render_markdown(reconcile(**mixed_directory()), title="Contoso sync plan")
    lines = markdown.splitlines()

    assert lines[0] == "# Contoso sync plan"
    for row in [
        "| Users to add | 1 |",
        "| Users to change | 1 |",
        "| Users to remove | 1 |",
        "## Users to change (1)",
        "| Entra domains missing on the organization | 1 |",
        "| fabrikam.com |",
        "| new@contoso.com | Ann | Lee | n@contoso.com | yes | end_user |",
        "| ann@contoso.com | surname | Lee | Renamed |",
        "| left@contoso.com | end_user |",
        "| Sales \\| EMEA | distribution | sales@contoso.com | 1 |",
        "| user | guest@fabrikam.com | guest | userType is Guest |",
        "| user | unlicensed@contoso.com | unlicensed |  |",
    ]:
        assert row in lines


def test_markdown_of_a_trimmed_report_says_what_was_left_out():
    markdown = _sync.render_markdown(_sync.trim_report(report_removing(3), 1))

    assert "## Users to remove (3)" in markdown
    assert "First 1 of 3." in markdown
    assert "| user00@contoso.com | end_user |" in markdown
    assert "user01@contoso.com" not in markdown
    assert "## Users to add (0)\n\nNone." in markdown


def test_markdown_keeps_names_on_one_line_and_out_of_html():
    user = entra_user("ann@contoso.com", given="<b>Ann</b>\nLee", surname="A|B")

    markdown = _sync.render_markdown(reconcile([user]))

    assert "| ann@contoso.com | &lt;b&gt;Ann&lt;/b&gt; Lee | A\\|B |  | yes | end_user |" in markdown.splitlines()


def test_markdown_names_the_files_that_hold_the_whole_report():
    files = [("JSON", "contoso.json"), ("every user and action as CSV", "contoso.csv")]

    markdown = _sync.render_markdown(_sync.trim_report(report_removing(3), 1), "Plan", files)

    lines = markdown.splitlines()
    assert lines[2] == "The whole report: JSON in `contoso.json`; every user and action as CSV in `contoso.csv`."
    assert lines.index("| Users to remove | 3 |") < lines.index("## Users to remove (3)")


def test_the_markdown_of_a_huge_report_stays_short():
    report = report_removing(20000)

    markdown = _sync.render_markdown(_sync.trim_report(report, 20), "Plan", [("JSON", "plan.json")])

    assert len(markdown.splitlines()) < 80 and len(markdown) < 4000
    assert "| Users to remove | 20000 |" in markdown and "First 20 of 20000." in markdown


# CSV


def csv_rows(report):
    import csv
    import io

    return list(csv.DictReader(io.StringIO(_sync.render_csv(report))))


def test_csv_has_one_row_per_user_and_action():
    report = reconcile(**mixed_directory())

    rows = csv_rows(report)

    user_skips = [entry for entry in report["skipped"] if entry["object"] == "user"]
    counts = report["counts"]
    assert len(rows) == counts["add"] + counts["change"] + counts["remove"] + len(user_skips)
    by_action = dict((row["action"], row) for row in rows)
    assert by_action["add"]["address"] == "new@contoso.com"
    assert by_action["add"]["alias_emails"] == "n@contoso.com" and by_action["add"]["is_active"] == "true"
    assert by_action["change"]["changes"] == "surname: Lee -> Renamed"
    assert by_action["remove"] == dict(by_action["remove"], address="left@contoso.com", type="end_user")
    assert {(row["address"], row["reason"]) for row in rows if row["action"] == "skip"} == {(entry["address"], entry["reason"]) for entry in user_skips}
    assert list(rows[0]) == list(_sync.CSV_COLUMNS)


def test_csv_cells_never_run_as_spreadsheet_formulas():
    user = entra_user("ann@contoso.com", given="=HYPERLINK(\"http://x\")", surname="+1")

    row = csv_rows(reconcile([user]))[0]

    assert row["firstname"] == "'=HYPERLINK(\"http://x\")" and row["surname"] == "'+1"


# Scale


class CountingDict(dict):
    """A dict that counts reads of its fields, to measure how much work reconcile does."""

    reads = 0

    def get(self, key, default=None):
        CountingDict.reads += 1
        return dict.get(self, key, default)

    def __getitem__(self, key):
        CountingDict.reads += 1
        return dict.__getitem__(self, key)


def field_reads(size):
    users = [CountingDict(entra_user("user%06d@contoso.com" % number, aliases=["alias%06d@contoso.com" % number])) for number in range(size)]
    org = [CountingDict(org_user("user%06d@contoso.com" % number, surname="Old")) for number in range(0, size, 2)]
    groups = [CountingDict(group("group%06d" % number, members=["id-user%06d" % number, "id-user%06d" % (number + 1)])) for number in range(size // 10)]
    CountingDict.reads = 0
    report = reconcile(users, groups=groups, org_users=org)
    assert report["counts"]["add"] + report["counts"]["change"] == size
    return CountingDict.reads


def test_work_grows_linearly_with_directory_size():
    # Counting field reads instead of timing: a nested scan over users would read ~4x the fields
    # for twice the directory; a linear pass reads exactly twice as many.
    small, large = field_reads(10000), field_reads(20000)

    assert large <= 2.1 * small
