"""moduscloud_import_settings against the open questions of the modusCloud API (docs/moduscloud-api.md, "Known
unknowns"), each scripted: the answers a service might give, and the refusals of a service that takes another form,
which FakeModusCloud (the default answers) does not give."""

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_import_settings as module

from .moduscloud_harness import run_module
from .test_moduscloud_import_settings import DOMAINS, EXEMPTIONS, KB_ARGS, KB_WIRE, KEY, ORG, SETTINGS, STORED

NOT_CONFIGURED = (404, {"errors": [{"status": 404, "error_message": "Azure Active Directory sync is not configured", "identifier": ORG}]})


@pytest.fixture
def scripted(monkeypatch, capsys):
    def runner(args, answers, **kwargs):
        return run_module(module, args, answers, monkeypatch, capsys, **kwargs)

    return runner


NULL_SETTINGS = dict((key, None) for key in list(KB_WIRE) + ["secret_expiry", "last_successful_sync"])


@pytest.mark.parametrize(
    "absent",
    [(204, None), (200, {}), (200, NULL_SETTINGS), (200, dict(NULL_SETTINGS, primary_domain="", application_id=""))],
    ids=["204", "200-empty", "200-null", "200-empty-strings"],
)
def test_every_plausible_unconfigured_answer_reads_as_absent_and_the_settings_are_created_with_the_key(scripted, absent):
    # Scripted: the other answers the service might give to a read of absent settings (the fake answers 404).
    outcome = scripted(KB_ARGS, [DOMAINS, absent, (204, None)])
    assert outcome.result["changed"] is True and outcome.writes == [("PUT", SETTINGS)]
    assert outcome.body(2) == dict(KB_WIRE, ad_key=KEY)


def test_booleans_answered_as_strings_compare_equal_and_nothing_is_written(scripted):
    # Scripted: settings answered with string booleans, as the service might (the fake answers JSON booleans).
    stored = dict((key, ("true" if value else "false") if isinstance(value, bool) else value) for key, value in STORED[1].items())
    outcome = scripted(KB_ARGS, [DOMAINS, (200, stored)])
    assert outcome.result["changed"] is False and outcome.writes == []


def test_wire_format_strings_sends_every_boolean_as_a_string(scripted):
    # Scripted: the exact PUT body of the strings form, which the fake (JSON booleans only) would refuse.
    outcome = scripted(dict(KB_ARGS, wire_format={"booleans": "strings"}), [DOMAINS, NOT_CONFIGURED, (204, None)])
    body = outcome.body(2)
    assert body["add_users"] == "true" and body["remove_deleted_users"] == "false" and body["disable_login"] == "false"
    assert body["sync_frequency"] == 1


def test_a_refused_boolean_form_fails_naming_the_assumption_and_the_doc_without_retrying(scripted):
    # Scripted: a service that takes only string booleans.
    refused = (400, {"errors": [{"status": 400, "error_message": 'must be "true" or "false", got bool', "identifier": "add_users"}]})
    outcome = scripted(KB_ARGS, [DOMAINS, NOT_CONFIGURED, refused])
    assert outcome.result["failed"] is True and outcome.writes == [("PUT", SETTINGS)]
    message = outcome.result["msg"]
    assert "settings.booleans" in message and 'docs/moduscloud-api.md, section "Known unknowns"' in message
    assert "wire_format.booleans: strings" in message
    assert outcome.result["wire_assumption"] == "settings.booleans"
    assert KEY not in outcome.output


def test_a_change_refused_without_the_key_names_that_assumption(scripted):
    # Scripted: a service that refuses a settings change without the key (the fake keeps the stored key).
    refused = (400, {"errors": [{"status": 400, "error_message": "missing key(s): ad_key", "identifier": "ad_key"}]})
    outcome = scripted(dict(KB_ARGS, sync_frequency_hours=24), [DOMAINS, STORED, refused])
    assert outcome.result["failed"] is True and outcome.writes == [("PUT", SETTINGS)]
    assert "settings.put_without_key" in outcome.result["msg"] and "update_key: always" in outcome.result["msg"]


def test_a_change_after_which_the_service_reports_no_key_expiry_fails_saying_the_key_was_dropped(scripted):
    # Scripted: a service that drops the stored key on a change without it (the fake keeps it).
    dropped = (200, dict(STORED[1], sync_frequency=24, secret_expiry=None))
    outcome = scripted(dict(KB_ARGS, sync_frequency_hours=24), [DOMAINS, STORED, (204, None), dropped])
    assert outcome.result["failed"] is True and outcome.result["changed"] is True
    assert "dropped the stored key" in outcome.result["msg"]
    assert outcome.result["wire_assumption"] == "settings.put_without_key"


@pytest.mark.parametrize(
    "form, body",
    [
        ("comma_string", {"exemptions": "a@contoso.example,b@contoso.example"}),
        ("json_list", {"exemptions": ["a@contoso.example", "b@contoso.example"]}),
        ("bare_list", ["a@contoso.example", "b@contoso.example"]),
        ("bare_string", "a@contoso.example,b@contoso.example"),
    ],
)
def test_wire_format_exemptions_chooses_the_body_that_adds_them(scripted, form, body):
    # Scripted: the exact body of each form; the fake takes only the default one (comma_string).
    outcome = scripted(
        dict(KB_ARGS, exemptions=["b@contoso.example", "a@contoso.example"], wire_format={"exemptions": form}), [DOMAINS, STORED, (200, []), (204, None)]
    )
    assert outcome.writes == [("PUT", EXEMPTIONS)] and outcome.body(3) == body


def test_a_refused_exemptions_body_names_the_assumption_and_every_form(scripted):
    # Scripted: a service that wants another exemptions body than the default.
    refused = (400, {"errors": [{"status": 400, "error_message": "body must be a list", "identifier": "exemptions"}]})
    outcome = scripted(dict(KB_ARGS, exemptions=["a@contoso.example"]), [DOMAINS, STORED, (200, []), refused])
    assert outcome.result["failed"] is True and outcome.writes == [("PUT", EXEMPTIONS)]
    assert "exemptions.add_key" in outcome.result["msg"] and "json_list" in outcome.result["msg"]
