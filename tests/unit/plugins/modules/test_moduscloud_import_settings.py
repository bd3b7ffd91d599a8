"""moduscloud_import_settings through main(), against FakeModusCloud (the organization's settings, exemptions and users)
and FakeGraph (the rule's directory); scripted where a test's point is the exact requests. The open questions of the
API are in test_moduscloud_import_settings_unknowns.py."""

from datetime import datetime, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, SECRET_VALUE_PLACEHOLDER
from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_import_settings as module
from sandbox.moduscloud.wire import kb_settings_wire

from ..builders import entra_user
from .fake_graph import FakeGraph
from .moduscloud_harness import PASSWORD, Hosts, organization, run_module, run_on

ORG = "contoso.example"
APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
KEY = "Key~Value.0f-the-Secret_42"
DOMAINS = (200, {"domains": [{"name": ORG, "is_active": True, "is_relay": True, "destination": None}]})
KB_ARGS = {"org": ORG, "primary_domain": ORG, "application_id": APP_ID, "key": KEY}
# The PUT body the KB's values make (the keys of docs/moduscloud-api.md, real JSON booleans, integer hours), as the
# sandbox spells it (sandbox/moduscloud/wire.py): the KB's values are the options' defaults, so KB_ARGS send it.
KB_WIRE = kb_settings_wire(ORG, APP_ID)
STORED = (200, dict(KB_WIRE, secret_expiry="2028-07-01", last_successful_sync="2026-07-01T10:00:00Z"))
SETTINGS = "/orgs/%s/settings/azure" % ORG
EXEMPTIONS = SETTINGS + "/exemptions"


@pytest.fixture
def moduscloud():
    """The organization with the KB's settings saved (and a key), no exemptions and no users."""
    return organization(ORG, settings=STORED[1])


@pytest.fixture
def unconfigured(moduscloud):
    """The organization has no Azure AD import settings."""
    moduscloud.settings = moduscloud.ad_key = None


@pytest.fixture
def run(moduscloud, monkeypatch, capsys):
    def runner(args, **kwargs):
        return run_on(moduscloud, module, args, monkeypatch, capsys, **kwargs)

    return runner


@pytest.fixture
def scripted(monkeypatch, capsys):
    def runner(args, answers, **kwargs):
        return run_module(module, args, answers, monkeypatch, capsys, **kwargs)

    return runner


def test_check_mode_predicts_the_creation_and_writes_nothing(run, unconfigured):
    outcome = run(KB_ARGS, check_mode=True, diff=True)
    result = outcome.result
    assert result["changed"] is True and outcome.writes == []
    assert result["diff"]["before"] == {"azure_ad_import": {"state": "absent"}}
    assert result["diff"]["after"]["azure_ad_import"]["key"] == "(sent)"
    assert result["diff"]["after"]["azure_ad_import"]["sync_frequency_hours"] == 1
    assert result["key_sent"] is True
    assert KEY not in outcome.output


def test_the_result_says_when_the_task_started_before_it_saved(run, unconfigured):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    outcome = run(KB_ARGS, check_mode=True)
    started = datetime.strptime(outcome.result["started"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= started <= datetime.now(timezone.utc)


def test_first_run_saves_the_kb_values_with_the_key(run, moduscloud, unconfigured):
    outcome = run(KB_ARGS, diff=True)
    assert outcome.result["changed"] is True
    assert outcome.requests == [("GET", "/orgs/%s/domains" % ORG), ("GET", SETTINGS), ("PUT", SETTINGS)]
    assert moduscloud.sent("PUT", SETTINGS) == dict(KB_WIRE, ad_key=KEY)
    assert moduscloud.ad_key == KEY and dict((key, moduscloud.settings[key]) for key in KB_WIRE) == KB_WIRE
    assert outcome.result["settings"]["app_id"] == APP_ID
    assert "key" not in outcome.result["settings"]
    assert KEY not in outcome.output and PASSWORD not in outcome.output


def test_second_run_with_the_same_values_changes_nothing(run):
    outcome = run(KB_ARGS, diff=True)
    assert outcome.result["changed"] is False and outcome.writes == []
    assert outcome.result["key_sent"] is False
    assert outcome.result["diff"]["before"] == outcome.result["diff"]["after"]


def test_a_changed_setting_is_written_whole_without_the_key_and_shown_in_the_diff(scripted):
    # Scripted: the point is the exact PUT body (every setting, no key), then the read that checks the key was kept.
    outcome = scripted(dict(KB_ARGS, sync_frequency_hours=24, allow_microsoft_sign_in=False), [DOMAINS, STORED, (204, None), STORED], diff=True)
    assert outcome.writes == [("PUT", SETTINGS)]
    assert outcome.result["changed"] is True and "failed" not in outcome.result
    assert outcome.body(2) == dict(KB_WIRE, sync_frequency=24, disable_login=True)  # no ad_key: it is kept
    before, after = outcome.result["diff"]["before"]["azure_ad_import"], outcome.result["diff"]["after"]["azure_ad_import"]
    assert (before["sync_frequency_hours"], after["sync_frequency_hours"]) == (1, 24)
    assert (before["allow_microsoft_sign_in"], after["allow_microsoft_sign_in"]) == (True, False)
    assert "key" not in after


def test_update_key_always_sends_the_rotated_key_and_marks_it_in_the_diff(run, moduscloud):
    outcome = run(dict(KB_ARGS, update_key="always"), diff=True)
    assert outcome.result["changed"] is True and outcome.result["key_sent"] is True
    assert moduscloud.sent("PUT", SETTINGS)["ad_key"] == KEY and moduscloud.ad_key == KEY
    assert "key" not in outcome.result["diff"]["before"]["azure_ad_import"]
    assert outcome.result["diff"]["after"]["azure_ad_import"]["key"] == "(sent)"
    assert KEY not in outcome.output


def test_creating_without_a_key_fails_before_writing(run, unconfigured):
    args = dict(KB_ARGS)
    del args["key"]
    outcome = run(args)
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "key is required" in outcome.result["msg"]


def test_invalid_input_fails_naming_what_is_allowed_before_any_request(run):
    outcome = run(dict(KB_ARGS, application_id="modusCloud", sync_frequency_hours=500))
    assert outcome.result["failed"] is True and outcome.calls == []
    assert "app_id must be the Entra application (client) id, a GUID" in outcome.result["msg"]
    assert "from 0 (never) to 168, got 500" in outcome.result["msg"]


def test_an_app_id_given_as_nothing_fails_naming_app_id_before_any_request(run):
    # A role variable that rendered to nothing reaches the module as None, which required_if counts as given.
    outcome = run(dict(KB_ARGS, application_id=None))
    assert outcome.result["failed"] is True and outcome.calls == []
    assert "app_id must be the Application ID of the registered application" in outcome.result["msg"]
    assert "NoneType" not in outcome.result["msg"]


def test_a_primary_domain_missing_from_the_org_is_named_before_writing(run):
    outcome = run(dict(KB_ARGS, primary_domain="fabrikam.example"))
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "primary_domain fabrikam.example is not a domain of organization %s" % ORG in outcome.result["msg"]


def test_exemptions_are_a_full_list_and_extras_are_removed_visibly(run, moduscloud):
    moduscloud.exemptions = ["old@contoso.example", "keep@contoso.example"]
    outcome = run(dict(KB_ARGS, exemptions=["Keep@contoso.example", "new@contoso.example"]), diff=True)
    assert outcome.writes == [("DELETE", EXEMPTIONS + "/old@contoso.example"), ("PUT", EXEMPTIONS)]
    assert moduscloud.sent("PUT", EXEMPTIONS) == {"exemptions": "new@contoso.example"}
    assert moduscloud.exemptions == ["keep@contoso.example", "new@contoso.example"]
    diff = outcome.result["diff"]
    assert diff["before"]["sync_exemptions"] == {"emails": ["keep@contoso.example", "old@contoso.example"]}
    assert diff["after"]["sync_exemptions"] == {"emails": ["keep@contoso.example", "new@contoso.example"]}
    assert outcome.result["exemptions"] == ["keep@contoso.example", "new@contoso.example"]


def test_state_absent_clears_the_settings_and_the_exemptions(run, moduscloud):
    moduscloud.exemptions = ["a@contoso.example"]
    outcome = run({"org": ORG, "state": "absent"}, diff=True)
    assert outcome.result["changed"] is True
    assert outcome.writes == [("DELETE", SETTINGS), ("DELETE", EXEMPTIONS)]
    assert moduscloud.settings is None and moduscloud.ad_key is None and moduscloud.exemptions == []
    assert outcome.result["diff"]["after"]["azure_ad_import"] == {"state": "absent"}


def test_state_absent_on_nothing_changes_nothing(run, unconfigured):
    outcome = run({"org": ORG, "state": "absent"})
    assert outcome.result["changed"] is False and outcome.writes == []


def test_a_setting_the_service_does_not_return_is_not_compared_and_a_warning_says_so(scripted):
    # Scripted: an answer the service might give (an open question of the API), not the one the fake gives.
    stored = dict(STORED[1])
    del stored["disable_login"]
    outcome = scripted(KB_ARGS, [DOMAINS, (200, stored)])
    assert outcome.result["changed"] is False and outcome.writes == []
    assert any("does not return allow_microsoft_sign_in" in warning for warning in outcome.warnings)


def test_bad_credentials_fail_clearly_without_the_password(run, moduscloud):
    moduscloud.password = "another-password"
    outcome = run(KB_ARGS)
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "modusCloud rejected the credentials of admin@example.com" in outcome.result["msg"]
    assert PASSWORD not in outcome.output


def test_an_invalid_stack_fails_listing_the_stacks_before_any_request(run):
    outcome = run(dict(KB_ARGS, api_url=None, stack="us9"))
    assert outcome.result["failed"] is True and outcome.calls == []
    assert "us1, us2, us3, us4, us5, eu1" in outcome.result["msg"]


def test_in_check_mode_a_missing_primary_domain_only_warns_so_a_dry_run_of_a_play_can_chain(run, unconfigured):
    # An earlier task of the same dry run may "add" the domain without really adding it.
    outcome = run(dict(KB_ARGS, primary_domain="fabrikam.example"), check_mode=True)
    assert outcome.result["changed"] is True and outcome.writes == []
    assert any("primary_domain fabrikam.example is not a domain" in warning for warning in outcome.warnings)


# What a dry run of a whole play hands on: the application and its secret exist only after apply.
PLANNED_ARGS = dict(KB_ARGS, application_id=PLACEHOLDER, key=SECRET_VALUE_PLACEHOLDER, update_key="always")


def test_in_check_mode_the_placeholder_application_predicts_the_creation_and_stays_readable(run, unconfigured):
    outcome = run(PLANNED_ARGS, check_mode=True, diff=True)
    result = outcome.result
    assert result["changed"] is True and result["key_sent"] is True and outcome.writes == []
    # The key is a no_log option, so its value is masked wherever it appears in the result: with the same
    # placeholder text as the application id, these would read VALUE_SPECIFIED_IN_NO_LOG_PARAMETER.
    assert result["settings"]["app_id"] == PLACEHOLDER
    assert result["diff"]["after"]["azure_ad_import"]["app_id"] == PLACEHOLDER


def test_in_check_mode_the_placeholder_application_shows_as_a_change_of_application(run):
    outcome = run(PLANNED_ARGS, check_mode=True, diff=True)
    diff = outcome.result["diff"]
    assert outcome.result["changed"] is True and outcome.writes == []
    assert diff["before"]["azure_ad_import"]["app_id"] == APP_ID
    assert diff["after"]["azure_ad_import"]["app_id"] == PLACEHOLDER


def test_outside_check_mode_the_placeholder_application_fails_before_any_request(run):
    outcome = run(dict(KB_ARGS, application_id=PLACEHOLDER))
    assert outcome.result["failed"] is True and outcome.calls == []
    assert "application_id is (known after apply), the check-mode placeholder" in outcome.result["msg"]


# -- offboarding: the synced users ------------------------------------------------------------------

ORG_USERS = (
    200,
    {
        "users": [
            {"primary_email": "admin@contoso.example", "type": "organization_admin"},
            {"primary_email": "Adele@contoso.example", "type": "end_user"},
            {"primary_email": "quiet@contoso.example", "type": "silent_user"},
            {"primary_email": "keep@contoso.example", "type": "end_user"},
            {"primary_email": "partner@other.example", "type": "end_user"},
            {"primary_email": "printer@contoso.example", "type": "functional_account"},
        ]
    },
)
OFFBOARD = {"org": ORG, "state": "absent", "remove_synced_users": True, "synced_domains": [ORG]}


@pytest.fixture
def org_users(moduscloud):
    """The organization's users (ORG_USERS), for the offboarding."""
    moduscloud.org_users = dict((user["primary_email"], dict(user)) for user in ORG_USERS[1]["users"])


def test_state_absent_stops_the_sync_first_then_removes_only_the_synced_users_then_the_exemptions(scripted):
    # Scripted: the point is the order of the writes.
    outcome = scripted(
        OFFBOARD, [DOMAINS, STORED, (200, [{"email": "keep@contoso.example"}]), ORG_USERS, (204, None), (204, None), (204, None), (204, None)], diff=True
    )
    assert outcome.result["changed"] is True
    # Not the admin, the exempt user, a user on another domain or another account type.
    assert outcome.result["removed_users"] == ["adele@contoso.example", "quiet@contoso.example"]
    assert outcome.writes == [
        ("DELETE", SETTINGS),
        ("DELETE", "/orgs/%s/users/adele@contoso.example" % ORG),
        ("DELETE", "/orgs/%s/users/quiet@contoso.example" % ORG),
        ("DELETE", EXEMPTIONS),
    ]
    assert outcome.result["diff"]["after"]["users/adele@contoso.example"] == {"state": "absent"}


def test_state_absent_in_check_mode_lists_the_users_it_would_remove_and_writes_nothing(run, org_users):
    outcome = run(OFFBOARD, check_mode=True, diff=True)
    assert outcome.writes == [] and outcome.result["changed"] is True
    assert outcome.result["removed_users"] == ["adele@contoso.example", "keep@contoso.example", "quiet@contoso.example"]


def test_state_absent_refuses_settings_naming_another_application_before_any_write(run):
    other = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    outcome = run(dict(OFFBOARD, app_id=other))
    assert outcome.result["failed"] is True and outcome.writes == []
    assert other in outcome.result["msg"] and APP_ID in outcome.result["msg"] and "Nothing was removed" in outcome.result["msg"]


def test_state_absent_with_the_saved_application_clears_the_settings(run):
    outcome = run({"org": ORG, "state": "absent", "app_id": APP_ID.upper()})
    assert outcome.result["changed"] is True and outcome.writes == [("DELETE", SETTINGS)]


def test_state_absent_for_an_application_not_in_the_tenant_refuses_saved_settings_before_any_write(run):
    outcome = run({"org": ORG, "state": "absent", "app_unique_name": "someone-elses-app"})
    assert outcome.result["failed"] is True and outcome.writes == []
    message = outcome.result["msg"]
    assert "someone-elses-app" in message and "not in the tenant" in message and APP_ID in message and "Nothing was removed" in message


def test_state_absent_for_an_application_not_in_the_tenant_goes_on_when_nothing_is_saved(run, unconfigured):
    outcome = run({"org": ORG, "state": "absent", "app_unique_name": "moduscloud-user-sync"})
    assert outcome.result["changed"] is False and outcome.writes == []
    assert outcome.result["msg"] == "The organization %s has no Azure AD import settings; the synced users are kept." % ORG


def test_state_absent_app_id_wins_over_app_unique_name(run):
    outcome = run({"org": ORG, "state": "absent", "app_id": APP_ID, "app_unique_name": "moduscloud-user-sync"})
    assert outcome.result["changed"] is True and outcome.writes == [("DELETE", SETTINGS)]


def test_an_empty_app_unique_name_fails_before_any_request(run):
    outcome = run({"org": ORG, "state": "absent", "app_unique_name": " "})
    assert outcome.result["failed"] is True and "app_unique_name must be" in outcome.result["msg"] and outcome.requests == []


@pytest.mark.parametrize(
    "check_mode, expected",
    [
        (False, "The Azure AD import settings of %s were cleared (its scheduled sync stops); removed 2 synced users; removed 1 sync exemption." % ORG),
        (
            True,
            "The Azure AD import settings of %s would be cleared (its scheduled sync would stop); would remove 2 synced users; "
            "would remove 1 sync exemption." % ORG,
        ),
    ],
    ids=["apply", "check"],
)
def test_state_absent_says_what_it_removed_or_would_remove(run, moduscloud, org_users, check_mode, expected):
    moduscloud.exemptions = ["keep@contoso.example"]
    outcome = run(OFFBOARD, check_mode=check_mode)
    assert outcome.result["msg"] == expected


def test_state_absent_says_the_synced_users_are_kept_unless_asked(run):
    outcome = run({"org": ORG, "state": "absent"})
    assert outcome.result["msg"] == "The Azure AD import settings of %s were cleared (its scheduled sync stops); the synced users are kept." % ORG


def test_a_refused_settings_deletion_fails_with_the_service_message_and_removes_nothing_else(run, moduscloud, org_users):
    moduscloud.fail("DELETE", "/settings/azure$", 409, "sync in progress")
    outcome = run(OFFBOARD)
    assert outcome.result["failed"] is True and "sync in progress" in outcome.result["msg"]
    assert outcome.writes == [("DELETE", SETTINGS)]


def test_removing_synced_users_needs_their_domains_and_valid_names_before_any_request(run):
    outcome = run({"org": ORG, "state": "absent", "remove_synced_users": True})
    assert outcome.result["failed"] is True and "synced_domains" in outcome.result["msg"]
    outcome = run(dict(OFFBOARD, synced_domains=["not a domain"]))
    assert "synced_domains must be domain names" in outcome.result["msg"] and "not a domain" in outcome.result["msg"]
    assert outcome.requests == []


# Exemptions by rule (exemption_query)

GRAPH_URL = "https://graph.example"
TOKEN = "eyJ0eXAiOiJKV1Qi.graph-token-of-contoso.c2ln"


def graph(*users, domain=ORG):
    """The tenant of `domain` in FakeGraph, at GRAPH_URL, with `users` (builders.entra_user)."""
    fake = FakeGraph(base=GRAPH_URL + "/v1.0")
    fake.tenant_domains = [{"id": domain, "isVerified": True}]
    fake.users = list(users)
    return fake


DIRECTORY = (
    entra_user("svc-scanner@" + ORG, department="IT"),
    entra_user("shared.sales@" + ORG, department="Shared mailboxes"),
    entra_user("Adele@" + ORG, department="Retail"),
    entra_user(None, upn="nomail@" + ORG, department="Shared mailboxes"),
)
RULE = "[?starts_with(userPrincipalName, 'svc-') || department == 'Shared mailboxes']"
RULE_ARGS = dict(KB_ARGS, exemption_query=RULE, access_token=TOKEN, graph_url=GRAPH_URL)


@pytest.fixture
def with_graph(moduscloud, monkeypatch, capsys):
    """run(args, graph, **kwargs): main() against the organization and the tenant `graph` (a FakeGraph)."""

    def runner(args, tenant, **kwargs):
        return run_on(Hosts({"mc.example": moduscloud, "graph.example": tenant}), module, args, monkeypatch, capsys, **kwargs)

    return runner


def test_a_rule_saves_the_addresses_it_selects_beside_the_listed_ones_and_removes_the_rest(with_graph, moduscloud):
    moduscloud.exemptions = ["old.rule.match@" + ORG, "reception@" + ORG]
    outcome = with_graph(dict(RULE_ARGS, exemptions=["reception@" + ORG]), graph(*DIRECTORY), diff=True)
    result = outcome.result
    assert result["query_exemptions"] == ["shared.sales@" + ORG, "svc-scanner@" + ORG]
    assert result["exemptions"] == ["reception@" + ORG, "shared.sales@" + ORG, "svc-scanner@" + ORG]
    assert outcome.writes == [("DELETE", EXEMPTIONS + "/old.rule.match@" + ORG), ("PUT", EXEMPTIONS)]
    assert moduscloud.sent("PUT", EXEMPTIONS) == {"exemptions": "shared.sales@%s,svc-scanner@%s" % (ORG, ORG)}
    assert result["diff"]["before"]["sync_exemptions"]["emails"] == ["old.rule.match@" + ORG, "reception@" + ORG]
    users_read = next(call for call in outcome.calls if "/v1.0/users" in call["url"])
    assert users_read["url"].startswith(GRAPH_URL + "/v1.0/users?")
    assert "department" in users_read["url"] and "jobTitle" in users_read["url"]
    assert TOKEN not in outcome.output
    assert moduscloud.exemptions == ["reception@" + ORG, "shared.sales@" + ORG, "svc-scanner@" + ORG]


def test_a_rule_in_check_mode_predicts_the_list_and_writes_nothing(with_graph):
    outcome = with_graph(RULE_ARGS, graph(*DIRECTORY), check_mode=True, diff=True)
    assert outcome.result["changed"] is True and outcome.writes == []
    assert outcome.result["exemptions"] == ["shared.sales@" + ORG, "svc-scanner@" + ORG]


def test_a_rule_that_selects_what_it_already_saved_changes_nothing(with_graph, moduscloud):
    moduscloud.exemptions = ["svc-scanner@" + ORG, "shared.sales@" + ORG]
    outcome = with_graph(RULE_ARGS, graph(*DIRECTORY))
    assert outcome.result["changed"] is False and outcome.writes == []


@pytest.mark.parametrize(
    "query, expected",
    [
        (5, "got 5 (int)."),
        (["[?jobTitle]"], 'got ["[?jobTitle]"] (list).'),
        ({"department": "x"}, 'got {"department": "x"} (dict).'),
    ],
)
def test_a_rule_that_is_not_text_fails_before_any_request_rather_than_being_converted(run, query, expected):
    outcome = run(dict(RULE_ARGS, exemption_query=query))
    assert outcome.result["failed"] is True and outcome.requests == []
    assert "exemption_query must be a JMESPath expression, as text (quote it in YAML)" in outcome.result["msg"]
    assert expected in outcome.result["msg"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("[?department == 'IT'", "exemption_query \"[?department == 'IT'\" is not a valid JMESPath expression: "),
        ("[?department = 'IT']", "is not a valid JMESPath expression"),
    ],
)
def test_a_bad_rule_fails_with_jmespaths_message_before_any_request(run, query, expected):
    outcome = run(dict(RULE_ARGS, exemption_query=query))
    assert outcome.result["failed"] is True and outcome.requests == []
    assert expected in outcome.result["msg"]
    assert "[?starts_with(userPrincipalName, 'svc-')]" in outcome.result["msg"]  # what is allowed


@pytest.mark.parametrize(
    "query, expected",
    [
        ("[?contains(department, 'Shared')]", "failed on the directory's users: In function contains()"),
        ("length(@)", "must select a list of users or addresses, got a number"),
        ("[].accountEnabled", "must select users or addresses, got a boolean"),
    ],
)
def test_a_rule_that_fails_on_the_directory_writes_nothing(with_graph, query, expected):
    outcome = with_graph(dict(RULE_ARGS, exemption_query=query), graph(entra_user("a@" + ORG, department=None)))
    assert outcome.result["failed"] is True and outcome.writes == []
    assert expected in outcome.result["msg"]


def test_a_rule_needs_a_token_and_a_token_of_another_tenant_is_refused(run, with_graph):
    outcome = run(dict(KB_ARGS, exemption_query=RULE))
    assert outcome.result["failed"] is True and "exemption_query needs access_token" in outcome.result["msg"]
    outcome = with_graph(RULE_ARGS, graph(domain="fabrikam.example"))
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "belongs to another tenant" in outcome.result["msg"]


def test_changed_settings_names_what_differs_from_the_saved_settings_in_check_mode_too(run, moduscloud):
    args = dict(KB_ARGS, sync_frequency_hours=24, allow_microsoft_sign_in=False, update_key="always")
    for check_mode in (True, False):
        outcome = run(args, check_mode=check_mode)
        assert outcome.result["changed_settings"] == ["allow_microsoft_sign_in", "sync_frequency_hours"]
    moduscloud.settings = dict(STORED[1])  # the saved settings again
    assert run(KB_ARGS).result["changed_settings"] == []


def test_changed_settings_of_a_first_save_are_every_setting_and_app_id_is_the_option(run, unconfigured):
    args = dict(KB_ARGS, app_id=APP_ID.upper())
    del args["application_id"]
    outcome = run(args, check_mode=True)
    assert outcome.writes == [] and "key" not in outcome.result["changed_settings"]
    assert "app_id" in outcome.result["changed_settings"] and "sync_frequency_hours" in outcome.result["changed_settings"]
    assert outcome.result["settings"]["app_id"] == APP_ID


@pytest.mark.parametrize(
    "args, options",
    [
        ({"application_id": "modusCloud", "sync_frequency_hours": 500}, ["app_id", "sync_frequency_hours"]),
        ({"exemptions": ["nobody"], "primary_domain": "not a domain"}, ["primary_domain", "exemptions"]),
        # Both names of the option hold the placeholder (application_id is an alias), and the message names both.
        ({"application_id": PLACEHOLDER}, ["app_id", "application_id"]),
        ({"username": ""}, ["username"]),
        ({"api_url": "http://us1.example/api/v1"}, ["api_url"]),
    ],
)
def test_a_failure_names_the_options_it_is_about(run, args, options):
    outcome = run(dict(KB_ARGS, **args))
    assert outcome.result["failed"] is True and outcome.calls == []
    assert outcome.result["invalid_options"] == options
