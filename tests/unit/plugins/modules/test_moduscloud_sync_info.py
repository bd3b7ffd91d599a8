"""moduscloud_sync_info through main(), against FakeModusCloud: the organization's state in, the report out."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_sync_info as module
from sandbox.moduscloud.wire import kb_settings_wire

from .moduscloud_harness import organization, run_on

ORG = "contoso.example"
EXEMPTIONS = ["keep@contoso.example"]
STORED_WIRE = kb_settings_wire(ORG, "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21")


def stored(expires_in_days, synced_hours_ago=None):
    """The saved settings as GET answers them: the key expires in `expires_in_days`, the last sync `synced_hours_ago`."""
    now = datetime.now(timezone.utc)
    body = dict(STORED_WIRE, secret_expiry=(now + timedelta(days=expires_in_days)).strftime("%Y-%m-%d"), last_successful_sync=None)
    if synced_hours_ago is not None:
        body["last_successful_sync"] = (now - timedelta(hours=synced_hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


@pytest.fixture
def moduscloud():
    """The organization: its primary domain, settings saved with a key good for 400 days, one exemption."""
    return organization(ORG, settings=stored(400), exemptions=EXEMPTIONS)


@pytest.fixture
def run(moduscloud, monkeypatch, capsys):
    def runner(args, **kwargs):
        return run_on(moduscloud, module, dict({"org": ORG}, **args), monkeypatch, capsys, **kwargs)

    return runner


def test_reports_settings_by_option_name_with_expiry_and_sync_age(run, moduscloud):
    moduscloud.settings = stored(400, synced_hours_ago=3)
    outcome = run({}, check_mode=True)
    result = outcome.result
    assert result["changed"] is False and result["configured"] is True
    assert result["settings"]["sync_frequency_hours"] == 1
    assert result["settings"]["allow_microsoft_sign_in"] is True and result["settings"]["remove_users"] is False
    assert result["secret_days_remaining"] == 400
    assert 2.9 <= result["last_sync_age_hours"] <= 3.1
    assert result["exemptions"] == ["keep@contoso.example"]
    assert [d["name"] for d in result["domains"]] == [ORG]
    assert "users" not in result and outcome.warnings == []


def test_the_key_is_never_returned_even_if_the_service_sent_one(run, moduscloud):
    moduscloud.answer("GET", "/settings/azure$", 200, dict(stored(400), ad_key="should-not-show"))
    outcome = run({})
    assert "should-not-show" not in outcome.output


def test_a_key_close_to_expiry_warns_with_what_to_do(run, moduscloud):
    moduscloud.settings = stored(10)
    outcome = run({"warn_secret_expiry_days": 30})
    assert outcome.result["secret_days_remaining"] == 10
    assert any("expires on" in w and "in 10 days" in w and "update_key: always" in w for w in outcome.warnings)


def test_an_expired_key_says_the_sync_has_stopped(run, moduscloud):
    moduscloud.settings = stored(-3)
    outcome = run({})
    assert any("expired" in w and "3 days ago" in w and "stopped" in w for w in outcome.warnings)


def test_unconfigured_sync_reads_as_not_configured(run, moduscloud):
    moduscloud.settings, moduscloud.exemptions = None, []
    outcome = run({})
    result = outcome.result
    assert result["configured"] is False and result["settings"] is None
    assert result["secret_days_remaining"] is None and result["last_successful_sync"] is None
    assert outcome.warnings == []


def test_users_come_with_their_aliases_when_asked(run, moduscloud):
    moduscloud.org_users = {
        "zed@contoso.example": {"primary_email": "zed@contoso.example", "alias_emails": []},
        "amy@contoso.example": {"primary_email": "amy@contoso.example", "alias_emails": ["a@contoso.example"]},
    }
    outcome = run({"include_users": True})
    assert [u["primary_email"] for u in outcome.result["users"]] == ["amy@contoso.example", "zed@contoso.example"]
    assert outcome.result["users"][0]["alias_emails"] == ["a@contoso.example"]


def test_awx_style_empty_environment_variables_count_as_unset(run, monkeypatch):
    # AWX injects every key of the modusCloud credential type: an empty stack next to an api_url is no stack.
    monkeypatch.setenv("MODUSCLOUD_STACK", "")
    monkeypatch.setenv("MODUSCLOUD_CA_PATH", "")
    outcome = run({})
    assert outcome.result.get("failed") is not True, outcome.result.get("msg")


def test_missing_credentials_name_the_options_the_environment_and_the_role_variables(run, monkeypatch):
    for name in ("MODUSCLOUD_USERNAME", "MODUSCLOUD_PASSWORD"):
        monkeypatch.setenv(name, "")
    outcome = run({"username": None, "password": None})
    message = outcome.result["msg"]
    assert outcome.result["failed"] is True and outcome.calls == []
    for named in (
        "username and password",
        "MODUSCLOUD_USERNAME",
        "MODUSCLOUD_PASSWORD",
        "azure_user_sync_moduscloud_username",
        "azure_user_sync_moduscloud_password",
    ):
        assert named in message


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"username": ""}, "modusCloud connection: missing username"),
        ({"username": "   "}, "modusCloud connection: missing username"),
        ({"username": "admin"}, "username must be the modusCloud admin's login email address, got 'admin'"),
        ({"password": ""}, "modusCloud connection: missing password"),
    ],
)
def test_empty_or_malformed_credentials_are_refused_before_any_request(run, options, expected):
    outcome = run(options)
    assert outcome.result["failed"] is True and outcome.requests == []
    assert outcome.result["msg"].startswith(expected)


APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
AMY = {"primary_email": "Amy@contoso.example", "alias_emails": []}


@pytest.fixture
def amy(moduscloud):
    """The organization's one user."""
    moduscloud.org_users = {AMY["primary_email"]: dict(AMY)}


def test_the_expected_application_and_users_pass_without_regard_to_case(run, amy):
    outcome = run({"expected_app_id": APP_ID.upper(), "expected_users": ["amy@CONTOSO.example"]})
    assert outcome.result.get("failed") is not True, outcome.result.get("msg")
    assert outcome.result["changed"] is False
    # The users are read (and returned) for the check, as with include_users.
    assert [u["primary_email"] for u in outcome.result["users"]] == ["Amy@contoso.example"]


def test_settings_that_name_another_application_fail_naming_both(run):
    other = "00000000-0000-0000-0000-000000000001"
    outcome = run({"expected_app_id": other})
    assert outcome.result["failed"] is True
    assert outcome.result["msg"] == "modusCloud's import settings do not name application %s (they name %s)." % (other, APP_ID)


def test_an_organization_without_settings_names_no_application(run, moduscloud):
    moduscloud.settings, moduscloud.exemptions = None, []
    outcome = run({"expected_app_id": APP_ID})
    assert outcome.result["failed"] is True
    assert outcome.result["msg"] == "modusCloud's import settings do not name application %s (they name nothing)." % APP_ID


def test_users_the_organization_does_not_list_are_named_once_each(run, amy):
    outcome = run({"expected_users": ["amy@contoso.example", "Bob@contoso.example", "bob@contoso.example"]})
    assert outcome.result["failed"] is True
    assert outcome.result["msg"] == "These users were added but modusCloud does not list them: bob@contoso.example"


def test_no_expected_users_reads_no_users(run):
    outcome = run({"expected_users": None, "expected_app_id": None})
    assert outcome.result.get("failed") is not True and "users" not in outcome.result
    assert outcome.result["dry_run"] is False


def test_check_mode_reads_but_checks_no_expectation(run, amy):
    # A dry run's earlier tasks only predicted the settings and the users: nothing to hold the service to.
    other = "00000000-0000-0000-0000-000000000001"
    outcome = run({"expected_app_id": other, "expected_users": ["bob@contoso.example"]}, check_mode=True)
    assert outcome.result.get("failed") is not True, outcome.result.get("msg")
    assert outcome.result["changed"] is False and outcome.result["dry_run"] is True
    assert [u["primary_email"] for u in outcome.result["users"]] == ["Amy@contoso.example"]


def test_required_domains_the_organization_lacks_fail_naming_them_in_check_mode_too(run):
    outcome = run({"required_domains": ["CONTOSO.example.", "fabrikam.example"]}, check_mode=True)
    assert outcome.result["failed"] is True
    assert outcome.result["msg"] == (
        "Organization contoso.example lacks 1 domain(s) of the Entra tenant, so modusCloud's Azure AD sync would fail: "
        "fabrikam.example. Add them (moduscloud.azure_sync.moduscloud_domain with domains) before enabling the sync."
    )


def test_required_domains_the_organization_has_pass(run):
    outcome = run({"required_domains": ["contoso.example"]})
    assert outcome.result.get("failed") is not True, outcome.result.get("msg")
