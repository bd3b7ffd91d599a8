import json
import os
from datetime import datetime, timezone

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _moduscloud_client as mc_client
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _moduscloud_values as mc_values
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _moduscloud_wire as mc_wire
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _sync_apply as sync_apply
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError
from sandbox.moduscloud.wire import kb_settings, kb_settings_wire

from .fake_transport import attach

BASE = "https://mc.example/api/v1"
PASSWORD = "S3cret-Local-Pw!"
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "moduscloud-api.md")

APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
# The KB's settings in option names and values, as the sandbox spells them (sandbox/moduscloud/wire.py), like their
# wire form in the tests below: never taken from WIRE_TABLE, which those tests check.
KB_SETTINGS = kb_settings("contoso.example", APP_ID)


class Scripted(object):
    """A client whose HTTP calls are answered from `answers`; records calls and retry pauses."""

    def __init__(self, answers):
        self.sleeps = []
        self.client = mc_client.ModusCloudClient(BASE, "admin@contoso.example", PASSWORD, sleep=self.sleeps.append)
        self.adapter = attach(self.client.http, answers)


# -- connection options --------------------------------------------------------------------------


def test_stack_names_the_documented_host():
    assert mc_client.connection_base(stack="eu1") == ("https://eu1.proofpointessentials.com/api/v1", False)


def test_api_url_overrides_the_stack_for_branded_hosts_and_test_services():
    assert mc_client.connection_base("https://moduscloud.cloud-protect.net/api/v1/", "us2") == ("https://moduscloud.cloud-protect.net/api/v1", False)


@pytest.mark.parametrize("stack", ["us9", "au1", "US1"])
def test_an_invalid_stack_is_refused_listing_the_allowed_ones(stack):
    with pytest.raises(mc_client.ConnectionOptionsError) as caught:
        mc_client.connection_base(stack=stack)
    assert repr(stack) in str(caught.value)
    assert "us1, us2, us3, us4, us5, eu1" in str(caught.value)


def test_neither_api_url_nor_stack_is_refused_naming_both_and_the_stacks():
    with pytest.raises(mc_client.ConnectionOptionsError) as caught:
        mc_client.connection_base()
    for part in ("api_url", "MODUSCLOUD_API_URL", "stack", "MODUSCLOUD_STACK", "us1, us2, us3, us4, us5, eu1"):
        assert part in str(caught.value)


def test_plain_http_is_refused_because_the_password_travels_in_a_header():
    with pytest.raises(mc_client.ConnectionOptionsError, match="https://"):
        mc_client.connection_base("http://mc.example/api/v1")


# -- authentication and errors --------------------------------------------------------------------


def test_every_request_carries_the_admin_headers():
    api = Scripted([(200, {"primary_email": "admin@contoso.example"})])
    captured = {}
    original = api.adapter.send

    def send(request, **kwargs):
        captured.update(request.headers)
        return original(request, **kwargs)

    api.adapter.send = send
    api.client.me()
    assert captured["X-User"] == "admin@contoso.example"
    assert captured["X-Password"] == PASSWORD
    assert "Authorization" not in captured  # literal headers, not HTTP Basic


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_say_so_without_the_password(status):
    # A careless service might even echo the password; it must still not reach the message.
    body = {"errors": [{"status": status, "error_message": "bad password %s" % PASSWORD, "identifier": "X-User"}]}
    api = Scripted([(status, body)])
    with pytest.raises(ApiError) as caught:
        api.client.list_domains("contoso.example")
    text = str(caught.value)
    assert "modusCloud rejected the credentials of admin@contoso.example" in text
    assert "local Proofpoint password (not the Microsoft 365 one)" in text
    assert PASSWORD not in text
    assert caught.value.status == status


def test_an_unknown_org_is_named_with_what_to_check():
    not_found = {"errors": [{"status": 404, "error_message": "organization not found", "identifier": "nope.example"}]}
    api = Scripted([(404, not_found)])
    with pytest.raises(ApiError) as caught:
        api.client.list_domains("nope.example")
    text = str(caught.value)
    assert "no organization with the domain nope.example is visible on %s" % BASE in text
    assert "api_url/stack" in text


def test_throttling_is_retried_after_the_advertised_wait():
    api = Scripted([(429, None, {"Retry-After": "3"}), (200, [{"email": "a@x.example"}])])
    assert api.client.list_exemptions("x.example") == ["a@x.example"]
    assert api.sleeps == [3.0] and len(api.adapter.calls) == 2


# -- wire mapping ---------------------------------------------------------------------------------


def test_settings_map_to_the_wire_keys_of_the_wire_table():
    body = mc_wire.settings_to_wire(KB_SETTINGS, key="the-key")
    assert body == dict(kb_settings_wire("contoso.example", APP_ID), ad_key="the-key")
    assert isinstance(body["sync_frequency"], int) and not isinstance(body["sync_frequency"], bool)


def test_a_setting_name_outside_the_wire_table_is_refused_rather_than_dropped():
    # Dropped, it would be a PUT without that setting (the contract probe once sent application_id so).
    with pytest.raises(ValueError, match="not an import setting: application_id"):
        mc_wire.settings_to_wire(dict(KB_SETTINGS, application_id=APP_ID))


def test_settings_round_trip_through_the_wire_including_the_inverted_switch():
    settings = dict(KB_SETTINGS, allow_microsoft_sign_in=False, remove_users=True, sync_frequency_hours=24)
    wire = mc_wire.settings_to_wire(settings)
    assert wire["disable_login"] is True and "ad_key" not in wire
    assert mc_wire.settings_from_wire(wire) == settings


def test_reading_settings_never_keeps_a_key_and_skips_what_the_service_omits():
    # String booleans (older clients) are read too; an omitted key stays absent rather than guessed.
    wire = {
        "primary_domain": "Contoso.Example",
        "application_id": "4F1C0A7E-3B1D-4C55-9A61-2F7D0C5E8B21",
        "ad_key": "leaked?",
        "sync_active_users": "true",
        "disable_login": "false",
        "secret_expiry": "2027-05-01",
        "last_successful_sync": None,
    }
    assert mc_wire.settings_from_wire(wire) == {
        "primary_domain": "contoso.example",
        "app_id": "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21",
        "sync_active_users": True,
        "allow_microsoft_sign_in": True,
    }
    assert mc_wire.status_from_wire(wire) == {"secret_expiry": "2027-05-01", "last_successful_sync": None}


def test_unconfigured_settings_read_as_none():
    api = Scripted([(404, {"errors": [{"status": 404, "error_message": "not configured"}]})])
    assert api.client.read_import_settings("contoso.example") == (None, None)


def test_exemptions_are_added_as_one_comma_separated_string():
    api = Scripted([(204, None)])
    api.client.add_exemptions("contoso.example", ["a@contoso.example", "b@contoso.example"])
    call = api.adapter.calls[0]
    assert (call["method"], call["url"]) == ("PUT", BASE + "/orgs/contoso.example/settings/azure/exemptions")
    assert json.loads(call["body"]) == {"exemptions": "a@contoso.example,b@contoso.example"}


def test_exemptions_are_read_from_objects_or_bare_strings_lowercased_and_sorted():
    assert mc_wire.exemptions_from_wire([{"email": "B@x.example"}, "a@x.example"]) == ["a@x.example", "b@x.example"]


def test_user_update_sends_back_the_whole_object():
    stored = {"primary_email": "jd@contoso.example", "uid": 7, "firstname": "J", "alias_emails": ["j@contoso.example"]}
    api = Scripted([(200, stored), (204, None)])
    api.client.update_user("contoso.example", "jd@contoso.example", {"firstname": "Jane"})
    assert api.adapter.calls[1]["method"] == "PUT"
    assert json.loads(api.adapter.calls[1]["body"]) == dict(stored, firstname="Jane")


def test_user_update_changes_only_the_given_fields_of_the_full_user():
    stored = {
        "primary_email": "ann@contoso.com",
        "uid": 77,
        "type": "silent_user",
        "firstname": "Ann",
        "surname": "Lee",
        "alias_emails": ["old@contoso.com"],
        "is_active": True,
        "white_list_senders": ["partner@fabrikam.com"],
        "odin_settings": {"is_imitable": False},
    }
    api = Scripted([(200, stored), (204, None)])
    written = api.client.update_user("contoso.com", "Ann@contoso.com", {"surname": "Smith", "alias_emails": ["new@contoso.com"]})
    expected = dict(stored, surname="Smith", alias_emails=["new@contoso.com"])
    assert written == expected
    assert json.loads(api.adapter.calls[1]["body"]) == expected


def test_user_update_refuses_another_user_or_a_field_the_sync_does_not_own():
    api = Scripted([(200, {"primary_email": "bob@contoso.com", "uid": 8})])
    with pytest.raises(
        ApiError, match="update user ann@contoso.com failed: reading the user answered user bob@contoso.com instead of its object, so nothing was written"
    ):
        api.client.update_user("contoso.com", "ann@contoso.com", {"surname": "Smith"})
    with pytest.raises(ValueError, match="changes type; only firstname, surname, alias_emails, is_active may change"):
        sync_apply.update_user(api.client, "contoso.com", "ann@contoso.com", {"type": "organization_admin"})
    assert [call["method"] for call in api.adapter.calls] == ["GET"]  # no PUT, and no request for the refused field


def test_user_listing_is_unwrapped_and_a_missing_user_is_none():
    api = Scripted([(200, {"users": [{"primary_email": "a@x.example"}]}), (404, None)])
    assert api.client.list_users("x.example") == [{"primary_email": "a@x.example"}]
    assert api.client.get_user("x.example", "ghost@x.example") is None


def test_addresses_in_paths_are_escaped():
    api = Scripted([(204, None)])
    api.client.delete_exemption("x.example", "o'neil+test@x.example")
    assert api.adapter.calls[0]["url"] == BASE + "/orgs/x.example/settings/azure/exemptions/o%27neil%2Btest@x.example"


def test_discovery_moves_the_client_to_the_stack_the_service_names():
    api = Scripted([(200, {"endpoints": ["https://us3.proofpointessentials.com"]})])
    assert api.client.discover("contoso.example") == "https://us3.proofpointessentials.com/api/v1"
    assert api.adapter.calls[0]["url"] == BASE + "/endpoints/contoso.example"
    assert api.client.base_url == "https://us3.proofpointessentials.com/api/v1"


@pytest.mark.parametrize(
    "item, url",
    [
        ("eu1", "https://eu1.proofpointessentials.com/api/v1"),
        ("us2.proofpointessentials.com", "https://us2.proofpointessentials.com/api/v1"),
        ("https://127.0.0.1:8443/api/v1/", "https://127.0.0.1:8443/api/v1"),
    ],
)
def test_endpoint_items_of_any_plausible_form_become_base_urls(item, url):
    assert mc_client.endpoint_url(item) == url


def test_discovery_without_an_endpoint_fails_clearly():
    api = Scripted([(200, {"endpoints": []})])
    with pytest.raises(ApiError, match="answered no endpoint"):
        api.client.discover("contoso.example")


def test_every_wire_name_is_documented_for_users_holding_the_specification():
    with open(DOCS) as handle:
        docs = handle.read()
    undocumented = [entry.wire for entry in mc_wire.WIRE_TABLE if entry.wire not in docs]
    assert not undocumented


# -- validation, preflight, status ----------------------------------------------------------------


def test_invalid_settings_are_named_with_what_is_allowed():
    problems = mc_values.invalid_settings(
        {
            "org": "contoso.example",
            "primary_domain": "not a domain",
            "app_id": "modusCloud",
            "sync_frequency_hours": 200,
            "exemptions": ["ok@contoso.example", "nobody"],
        }
    )
    text = "; ".join(message for _option, message in problems)
    assert [option for option, _message in problems] == ["primary_domain", "app_id", "sync_frequency_hours", "exemptions"]
    assert "primary_domain must be a domain name" in text
    assert "app_id must be the Entra application (client) id, a GUID" in text
    assert "from 0 (never) to 168, got 200" in text
    assert "not valid: nobody" in text
    assert len(problems) == 4


def test_kb_settings_are_valid():
    assert mc_values.invalid_settings(dict(KB_SETTINGS, org="contoso.example", key="k", exemptions=[])) == []


def test_missing_domains_are_exactly_the_tenant_domains_the_org_lacks():
    tenant = ["contoso.example", "Fabrikam.Example.", "contoso.onmicrosoft.com"]
    assert mc_values.missing_domains(tenant, ["CONTOSO.example", "other.example"]) == ["contoso.onmicrosoft.com", "fabrikam.example"]


@pytest.mark.parametrize("text", ["2026-06-30T18:15:00Z", "2026-06-30 18:15:00", "2026-06-30T18:15:00+00:00"])
def test_timestamps_in_the_plausible_formats_are_read(text):
    assert mc_wire.parse_timestamp(text) == datetime(2026, 6, 30, 18, 15, tzinfo=timezone.utc)


def test_sync_health_counts_days_to_expiry_and_hours_since_the_last_sync():
    now = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    health = mc_wire.sync_health({"secret_expiry": "2026-07-31", "last_successful_sync": "2026-07-01T09:30:00Z"}, now)
    assert health == {"secret_days_remaining": 30, "last_sync_age_hours": 2.5}
    assert mc_wire.sync_health({"secret_expiry": "soon", "last_successful_sync": None}, now) == {"secret_days_remaining": None, "last_sync_age_hours": None}


# -- known_state: what an earlier task read --------------------------------------------------------

KNOWN = {
    "configured": True,
    "settings": dict(KB_SETTINGS),
    "domains": [{"name": "contoso.example"}],
    "exemptions": ["boss@contoso.example"],
    "secret_expiry": "2099-01-01T00:00:00Z",
    "last_successful_sync": "2026-01-01T00:00:00Z",
}


def test_known_state_answers_the_reads_without_a_request_until_the_first_write():
    api = Scripted([(201, {}), (200, {"domains": [{"name": "contoso.example"}, {"name": "new.example"}]})])
    api.client.prime("Contoso.Example", KNOWN)
    assert [domain["name"] for domain in api.client.list_domains("contoso.example")] == ["contoso.example"]
    assert api.client.read_import_settings("contoso.example") == (
        KB_SETTINGS,
        {"secret_expiry": "2099-01-01T00:00:00Z", "last_successful_sync": "2026-01-01T00:00:00Z"},
    )
    assert api.client.list_exemptions("contoso.example") == ["boss@contoso.example"]
    assert api.adapter.calls == []
    api.client.add_domain("contoso.example", {"name": "new.example"})
    names = [domain["name"] for domain in api.client.list_domains("contoso.example")]
    assert names == ["contoso.example", "new.example"]
    assert [call["method"] for call in api.adapter.calls] == ["POST", "GET"]


def test_known_state_of_an_unconfigured_org_reads_as_no_settings():
    api = Scripted([])
    api.client.prime("contoso.example", dict(KNOWN, configured=False, settings=None, secret_expiry=None, last_successful_sync=None))
    assert api.client.read_import_settings("contoso.example") == (None, None)


@pytest.mark.parametrize(
    "known, fragment",
    [
        ({"settings": {}}, "it lacks configured"),
        (dict(KNOWN, domains=["contoso.example"]), "known_state.domains"),
        (dict(KNOWN, exemptions="a@b.example"), "known_state.exemptions"),
    ],
)
def test_a_known_state_that_is_not_a_sync_info_result_is_refused_by_name(known, fragment):
    assert fragment in mc_values.known_state_problem(known)
    assert mc_values.known_state_problem(KNOWN) is None


@pytest.mark.parametrize("stack", ["usg1", "usg2"])
def test_the_stacks_public_scripts_list_besides_us1_to_us5_and_eu1_are_known(stack):
    assert mc_client.stack_url(stack) == "https://%s.proofpointessentials.com/api/v1" % stack
    assert mc_client.endpoint_url(stack.upper()) == mc_client.stack_url(stack)


@pytest.mark.parametrize(
    "expiry, last_sync",
    [
        ("2028-01-01", "2026-06-30T18:15:00Z"),
        ("2028-01-01 00:00:00", "2026-06-30 18:15:00"),
        (1830297600, 1782843300),
        ("1830297600", 1782843300000),
    ],
    ids=["iso", "space", "epoch", "epoch-text-and-milliseconds"],
)
def test_status_dates_in_every_plausible_form_read_as_one_form(expiry, last_sync):
    status = mc_wire.status_from_wire({"secret_expiry": expiry, "last_successful_sync": last_sync})
    assert status == {"secret_expiry": "2028-01-01", "last_successful_sync": "2026-06-30T18:15:00Z"}
    assert mc_wire.unreadable_status(status) == []


def test_a_date_form_nobody_expected_is_kept_as_sent_and_named_as_unreadable():
    status = mc_wire.status_from_wire({"secret_expiry": "next year", "last_successful_sync": None})
    assert status == {"secret_expiry": "next year", "last_successful_sync": None}
    assert mc_wire.unreadable_status(status) == ["secret_expiry"]
    assert mc_wire.sync_health(status)["secret_days_remaining"] is None


def test_every_open_question_of_the_known_unknowns_table_has_its_wire_table_row():
    with open(DOCS) as handle:
        docs = handle.read()
    section = docs.split("## Known unknowns", 1)[1].split("\n## ", 1)[0]
    for term in (
        "settings.put_without_key",
        "settings.absent_status",
        "exemptions.add_key",
        "settings.booleans",
        "auth.failed_status",
        "status.secret_expiry",
        "status.last_successful_sync",
    ):
        assert term in mc_wire.WIRE and term in section
