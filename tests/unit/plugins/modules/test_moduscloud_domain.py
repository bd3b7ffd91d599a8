"""moduscloud_domain through main(), against FakeModusCloud (the organization's domains), and scripted where a test's
point is the exact requests."""

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_domain as module

from .fake_moduscloud import domain_object
from .moduscloud_harness import organization, run_module, run_on

ORG = "contoso.example"
DOMAINS_PATH = "/orgs/%s/domains" % ORG


def org_domains(*names, **fields):
    return (200, {"domains": [dict({"name": name, "is_active": True, "is_relay": True, "destination": None}, **fields) for name in names]})


@pytest.fixture
def moduscloud():
    """The organization, with its primary domain only."""
    return organization(ORG)


@pytest.fixture
def run(moduscloud, monkeypatch, capsys):
    def runner(args, **kwargs):
        return run_on(moduscloud, module, dict({"org": ORG}, **args), monkeypatch, capsys, **kwargs)

    return runner


@pytest.fixture
def scripted(monkeypatch, capsys):
    def runner(args, answers, **kwargs):
        return run_module(module, dict({"org": ORG}, **args), answers, monkeypatch, capsys, **kwargs)

    return runner


def test_preflight_names_exactly_the_missing_tenant_domains_and_writes_nothing(run, moduscloud):
    moduscloud.org_domains = [ORG, "other.example"]
    outcome = run({"required_domains": ["Contoso.Example", "fabrikam.example", "contoso.onmicrosoft.com"]})
    assert outcome.result["changed"] is False and outcome.writes == []
    assert outcome.result["missing"] == ["contoso.onmicrosoft.com", "fabrikam.example"]


def test_preflight_can_fail_naming_the_missing_domains(run):
    outcome = run({"required_domains": [ORG, "fabrikam.example"], "fail_on_missing": True})
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "lacks 1 domain(s) of the Entra tenant" in outcome.result["msg"]
    assert "fabrikam.example" in outcome.result["msg"]
    assert outcome.result["missing"] == ["fabrikam.example"]


def test_preflight_passes_when_nothing_is_missing(run):
    outcome = run({"required_domains": [ORG], "fail_on_missing": True})
    assert outcome.result.get("failed") is not True and outcome.result["missing"] == []


def test_check_mode_predicts_new_domains_without_writing(run):
    outcome = run({"domains": ["fabrikam.example", ORG]}, check_mode=True, diff=True)
    assert outcome.result["changed"] is True and outcome.writes == []
    assert outcome.result["diff"]["before"] == {"fabrikam.example": {"state": "absent"}, ORG: {"name": ORG}}
    assert [d["name"] for d in outcome.result["domains"]] == [ORG, "fabrikam.example"]


def test_missing_domains_are_added_with_the_relay_settings(run, moduscloud):
    moduscloud.org_domains = [domain_object(ORG, destination="mx.contoso.example")]
    outcome = run({"domains": ["fabrikam.example", ORG], "is_relay": True, "destination": "mx.contoso.example"})
    assert outcome.writes == [("POST", DOMAINS_PATH)]
    assert moduscloud.sent("POST", DOMAINS_PATH) == {"name": "fabrikam.example", "is_relay": True, "destination": "mx.contoso.example"}
    assert moduscloud.domains["fabrikam.example"] == domain_object("fabrikam.example", destination="mx.contoso.example")


def test_present_domains_with_matching_settings_change_nothing(run):
    outcome = run({"domains": [ORG], "is_relay": True})
    assert outcome.result["changed"] is False and outcome.writes == []


def test_a_changed_destination_is_written_back_over_the_whole_object(scripted):
    # Scripted: the point is the exact PUT body, the whole object as read with the one change.
    stored = {"name": ORG, "is_active": True, "is_relay": True, "destination": "old.example", "failovers": []}
    outcome = scripted({"domains": [ORG], "destination": "new.example"}, [org_domains(ORG, destination="old.example"), (200, stored), (204, None)], diff=True)
    assert outcome.writes == [("PUT", DOMAINS_PATH + "/" + ORG)]
    assert outcome.body(2) == dict(stored, destination="new.example")
    assert outcome.result["diff"]["after"][ORG]["destination"] == "new.example"


def test_removal_deletes_only_domains_that_exist(run, moduscloud):
    moduscloud.org_domains = [ORG, "old.example"]
    outcome = run({"domains": ["old.example", "never.example"], "state": "absent"})
    assert outcome.writes == [("DELETE", DOMAINS_PATH + "/old.example")]
    assert moduscloud.org_domains == [ORG]
    assert [d["name"] for d in outcome.result["domains"]] == [ORG]


def test_the_primary_domain_is_never_removed(run):
    outcome = run({"domains": [ORG], "state": "absent"})
    assert outcome.result["failed"] is True and outcome.writes == []
    assert "primary domain" in outcome.result["msg"]


def test_invalid_names_fail_before_any_request(run):
    outcome = run({"domains": ["not a domain", "ok.example"]})
    assert outcome.result["failed"] is True and outcome.calls == []
    assert "not a domain" in outcome.result["msg"] and "ok.example" not in outcome.result["msg"]


def test_an_unknown_org_is_reported_clearly(run, moduscloud):
    moduscloud.org, moduscloud.org_domains = "fabrikam.example", ["fabrikam.example"]
    outcome = run({"required_domains": [ORG]})
    assert outcome.result["failed"] is True
    assert "no organization with the domain %s" % ORG in outcome.result["msg"]


def test_stack_auto_discovers_the_stack_before_anything_else(scripted):
    # Scripted: the point is the order of the requests (discovery first).
    outcome = scripted({"required_domains": [ORG], "stack": "auto"}, [(200, {"endpoints": ["https://mc.example"]}), org_domains(ORG)])
    assert outcome.requests == [("GET", "/endpoints/" + ORG), ("GET", DOMAINS_PATH)]


def test_a_ca_path_that_does_not_exist_fails_before_any_request(run, tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    outcome = run({"required_domains": [ORG], "ca_path": missing})
    assert outcome.result["failed"] is True and outcome.requests == []
    assert outcome.result["msg"].startswith("ca_path %s does not exist (or is not readable)" % missing)


def test_a_ca_path_is_not_needed_when_certificates_are_not_verified(run, tmp_path):
    outcome = run({"required_domains": [ORG], "ca_path": str(tmp_path / "no-such-ca.pem"), "validate_certs": False})
    assert outcome.result.get("failed") is not True


KNOWN = {"configured": False, "settings": None, "domains": [{"name": ORG}], "exemptions": [], "secret_expiry": None, "last_successful_sync": None}


def test_known_state_comes_back_with_the_domains_the_task_leaves(run):
    outcome = run({"domains": ["fabrikam.example", ORG], "known_state": KNOWN})
    assert outcome.writes == [("POST", DOMAINS_PATH)]
    known = outcome.result["known_state"]
    assert [d["name"] for d in known["domains"]] == [ORG, "fabrikam.example"]
    assert dict(known, domains=None) == dict(KNOWN, domains=None)


def test_a_dry_run_that_would_add_a_domain_returns_no_known_state(run):
    outcome = run({"domains": ["fabrikam.example"], "known_state": KNOWN}, check_mode=True)
    assert outcome.result["changed"] is True and "known_state" not in outcome.result
