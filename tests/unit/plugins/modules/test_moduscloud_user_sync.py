"""moduscloud_user_sync through main(), with Entra sign-in (FakeSignIn), Graph (FakeGraph) and modusCloud (FakeModusCloud)
faked at the requests seam.

FakeServices keeps state between runs (so "apply, then apply again" means something) and records
every request (so "writes nothing" is checked on the wire, not on the module's word).
"""

import json
import os
import threading
from urllib.parse import urlsplit

import pytest
from requests.adapters import BaseAdapter

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import settings_from_wire
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._state import PLACEHOLDER, SECRET_VALUE_PLACEHOLDER
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _sync_apply as sync_apply
from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _sync_wait as sync_wait
from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_user_sync as module
from sandbox.moduscloud.wire import kb_settings, kb_settings_wire

from ..builders import entra_group, entra_user, org_user, sync_switches
from ..fake_time import FakeTime
from .fake_graph import TENANT_ID, FakeGraph
from .fake_graph import error as graph_error
from .fake_moduscloud import API_ROOT, FakeModusCloud
from .fake_sign_in import FakeSignIn
from .module_runner import route_requests, run_main, warning_texts

ORG = "contoso.example"
INITIAL = "contoso.onmicrosoft.com"
APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"
# Distinctive values, so a test can prove they never reach the output.
KEY = "Sync~key.value-0f-the-app~9931"
PASSWORD = "Pw-0f-the-Admin-7731"
# Graph tokens besides the sync app's (FakeSignIn's, for KEY): the automation identity's, and one of another tenant.
ACCESS_TOKEN = "eyJ0eXAiOiJKV1Qi.automation-identity-token.c2ln"
FOREIGN_TOKEN = "eyJ0eXAiOiJKV1Qi.fabrikam-tenant-token.c2ln"
LOGIN = "https://login.test"
GRAPH = "https://graph.test"
MODUSCLOUD = "https://mc.test/api/v1"
CONNECTION = {"api_url": MODUSCLOUD, "username": "admin@" + ORG, "password": PASSWORD, "authority_host": LOGIN, "graph_url": GRAPH}
SAVED_SETTINGS = dict(kb_settings_wire(ORG, APP_ID), remove_deleted_users=True, secret_expiry="2099-01-01", last_successful_sync="2026-01-01T00:00:00Z")
GRAPH_USER_TYPE = "#microsoft.graph.user"
# Fields of every organization user that the sync never changes (a PUT must send them back).
KEPT = {"white_list_senders": ["partner@fabrikam.example"], "odin_settings": {"can_impersonate": False}}


def directory():
    """Entra: adds, an update, a guest, an unlicensed user, a disabled one, a user on a foreign domain."""
    return [
        entra_user("adele@" + ORG, "Adele", "Vance", aliases=("adele.vance@" + ORG, "adele@" + INITIAL)),
        entra_user("alex@" + ORG, "Alex", "Wilber"),
        entra_user("megan@" + ORG, "Megan", "Bowen"),
        entra_user("pat@fabrikam.example", "Pat", "Partner", user_type="Guest", licensed=False),
        entra_user("isaiah@" + ORG, "Isaiah", "Langer", licensed=False),
        entra_user("diego@" + ORG, "Diego", "Siciliani", enabled=False),
        entra_user("lynne@contoso.net", "Lynne", "Robbins"),
    ]


def organization_users():
    """modusCloud: Megan with an old surname, one leaver, the local admin (never touched)."""
    return [
        org_user("megan@" + ORG, firstname="Megan", surname="Bowen-Smith", uid=1001, **KEPT),
        org_user("left@" + ORG, firstname="Left", surname="Company", uid=1002, **KEPT),
        org_user("admin@" + ORG, "organization_admin", firstname="Org", surname="Admin", uid=1003, **KEPT),
    ]


def groups():
    return [
        entra_group("Sales", mail="sales@" + ORG, mail_enabled=True, security_enabled=False, members=["id-adele", "id-alex", "g-it"], object_id="g-sales"),
        entra_group("IT Admins", members=["id-megan"], object_id="g-it"),
    ]


def delegated(fake, name):
    """An attribute of FakeServices that is the attribute `name` of its fake `fake`."""
    return property(lambda self: getattr(getattr(self, fake), name), lambda self, value: setattr(getattr(self, fake), name, value))


class FakeServices(BaseAdapter):
    """Entra sign-in (FakeSignIn), the tenant's Graph (FakeGraph, with the sync app APP_ID holding the client secret KEY)
    and the organization's modusCloud (FakeModusCloud), by host; which token may read what; one record of every
    request, $batch inner requests included."""

    def __init__(self, page_size=2):
        super().__init__()
        self.graph = FakeGraph(page_size=page_size)
        self.graph.users = directory()
        self.graph.groups = groups()
        self.graph.tenant_domains = [{"id": ORG, "isVerified": True}, {"id": INITIAL, "isVerified": True}]
        self.graph.gate = self._gate
        self.sync_app = self.graph.add_application("modusCloud", appId=APP_ID)
        self.graph.add_secret(self.sync_app, KEY)
        self.graph.consent(self.sync_app)
        self.sign_in = FakeSignIn(self.graph, LOGIN)
        self.moduscloud = FakeModusCloud(ORG, SAVED_SETTINGS, [ORG, INITIAL], organization_users())
        self.token_may_read = True  # the automation identity of ACCESS_TOKEN may read the directory
        self.calls = []
        self._lock = threading.Lock()

    # The directory and the organization, as the tests change them

    users = delegated("graph", "users")
    groups = delegated("graph", "groups")
    tenant_domains = delegated("graph", "tenant_domains")
    page_size = delegated("graph", "page_size")
    settings = delegated("moduscloud", "settings")
    org_domains = delegated("moduscloud", "org_domains")
    exemptions = delegated("moduscloud", "exemptions")
    org_users = delegated("moduscloud", "org_users")

    @property
    def consented(self):
        """Whether the sync app has admin consent to read the directory."""
        return self.graph.consented(APP_ID)

    @consented.setter
    def consented(self, granted):
        self.graph.consent(self.sync_app, granted)

    # What tests look at

    @property
    def writes(self):
        """Write requests to modusCloud (the only service the module may change)."""
        return [(call["method"], call["path"]) for call in self.calls if call["host"] == "mc.test" and call["method"] != "GET"]

    def graph_calls(self):
        return [call for call in self.calls if call["host"] == "graph.test"]

    def token_requests(self):
        return [call for call in self.calls if call["path"].endswith("/oauth2/v2.0/token")]

    # The transport

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        with self._lock:
            if url.hostname == "graph.test":
                return self._to_graph(request, kwargs.get("verify"))
            if url.hostname == "login.test":
                response = self.sign_in.send(request, **kwargs)
                self.calls.append(self.sign_in.calls[-1])
                return response
            assert url.hostname == "mc.test", "unexpected request %s %s" % (request.method, request.url)
            response = self.moduscloud.send(request, **kwargs)
            self.calls.append(dict(self.moduscloud.calls[-1], host="mc.test", path=API_ROOT + self.moduscloud.calls[-1]["path"]))
            return response

    def _to_graph(self, request, verify):
        """FakeGraph answers (its $batch included); what it records joins the one record, as this host sees it."""
        start = len(self.graph.calls)
        response = self.graph.send(request)
        self.calls.extend(dict(call, host="graph.test", path="/v1.0" + call["path"], verify=verify) for call in self.graph.calls[start:])
        return response

    def close(self):
        pass

    def _gate(self, method, path, headers):
        """Which token may read what, besides the sync app's (FakeGraph knows the tokens FakeSignIn issued)."""
        token = headers.get("Authorization", "")[len("Bearer ") :]
        if token == FOREIGN_TOKEN:
            assert path == "/organization", "a token of another tenant must not read the directory"
            return 200, {"value": [{"id": "0c8f6a9e-5d3b-4f21-8e7a-2b9c4d1e6f70", "verifiedDomains": [{"name": "fabrikam.example"}]}]}
        if token not in self.graph.tokens and token != ACCESS_TOKEN:
            return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        if token == ACCESS_TOKEN and not self.token_may_read:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return None


@pytest.fixture
def services(monkeypatch):
    fake = FakeServices()
    route_requests(monkeypatch, fake)
    monkeypatch.setattr(sync_wait, "time", FakeTime())
    return fake


@pytest.fixture
def run(services, capsys):
    def runner(check_mode=False, diff=True, **args):
        arguments = dict(CONNECTION, org=ORG, key=KEY)
        arguments.update(args)
        arguments = dict((name, value) for name, value in arguments.items() if value is not None)  # None: omitted
        result, output = run_main(module, arguments, capsys, check_mode=check_mode, diff=diff)
        assert KEY not in output and PASSWORD not in output and ACCESS_TOKEN not in output
        return result

    return runner


def addresses(entries):
    return [entry["primary_email"] for entry in entries]


def skipped(report):
    return sorted((entry.get("address") or entry.get("upn"), entry["reason"]) for entry in report["skipped"])


# mode=report


def test_report_predicts_the_sync_and_writes_nothing(run, services):
    result = run()
    report = result["report"]
    assert result["changed"] is False and services.writes == []
    assert addresses(report["users"]["add"]) == ["adele@" + ORG, "alex@" + ORG]
    assert report["users"]["add"][0] == {
        "primary_email": "adele@" + ORG,
        "firstname": "Adele",
        "surname": "Vance",
        "is_active": True,
        "alias_emails": ["adele.vance@" + ORG, "adele@" + INITIAL],
        "type": "end_user",
    }
    assert report["users"]["change"] == [{"primary_email": "megan@" + ORG, "changes": {"surname": {"before": "Bowen-Smith", "after": "Bowen"}}}]
    assert report["users"]["remove"] == [{"primary_email": "left@" + ORG, "type": "end_user"}]
    assert skipped(report) == [
        ("admin@" + ORG, "protected"),
        ("diego@" + ORG, "disabled"),
        ("isaiah@" + ORG, "unlicensed"),
        ("lynne@contoso.net", "domain_missing"),
        ("pat@fabrikam.example", "guest"),
    ]
    assert [(g["name"], g["kind"], g["members"]) for g in report["groups"]] == [("Sales", "distribution", 2), ("IT Admins", "security", 1)]
    assert report["counts"] == {"add": 2, "change": 1, "remove": 1, "unchanged": 0, "groups": 2, "skipped": 5, "missing_domains": 0}
    assert result["settings"]["remove_users"] is True and result["tenant_id"] == ORG
    assert result["app_id"] == APP_ID
    assert result["sync_status"] == {"secret_expiry": "2099-01-01", "last_successful_sync": "2026-01-01T00:00:00Z"}


def test_the_directory_is_read_as_the_sync_app_with_only_the_needed_fields_and_every_page(run, services, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):  # no CA named anywhere: the default store
        monkeypatch.delenv(name, raising=False)
    run()
    token = services.token_requests()[0]
    assert token["path"] == "/%s/oauth2/v2.0/token" % ORG  # the tenant named by the saved primary_domain
    assert "client_id=%s" % APP_ID in token["body"]
    first_user_page = next(call for call in services.graph_calls() if call["path"] == "/v1.0/users")
    assert first_user_page["query"]["$top"] == "999"
    assert set(first_user_page["query"]["$select"].split(",")) == {
        "id",
        "userPrincipalName",
        "givenName",
        "surname",
        "mail",
        "proxyAddresses",
        "accountEnabled",
        "userType",
        "assignedLicenses",
    }
    user_pages = [call for call in services.graph_calls() if call["path"] == "/v1.0/users"]
    assert len(user_pages) == 4  # 7 users, 2 per page: every nextLink followed
    assert all(call["verify"] is True for call in services.calls)


def test_a_group_deleted_while_the_directory_is_read_is_left_out(run, services):
    message = "Resource 'g-it' does not exist or one of its queried reference-property objects are not present."
    services.graph.fail("GET", "^/groups/g-it/members$", 404, "Request_ResourceNotFound", message)
    report = run()["report"]
    assert [group["name"] for group in report["groups"]] == ["Sales"]


def test_members_are_read_in_json_batches_of_20_groups(run, services):
    services.page_size = 999
    services.groups = [
        {
            "id": "g-%02d" % index,
            "displayName": "Team %d" % index,
            "mail": "team%d@%s" % (index, ORG),
            "mailEnabled": True,
            "securityEnabled": False,
            "members": ["id-adele", "id-alex"],
        }
        for index in range(45)
    ]
    report = run(report_limit=100)["report"]
    assert [group["members"] for group in report["groups"]] == [2] * 45
    batches = [call for call in services.graph_calls() if call["path"] == "/v1.0/$batch"]
    assert len(batches) == 3  # 20 + 20 + 5 groups
    inner = [call for call in services.graph_calls() if call.get("batch")]
    assert sorted(call["path"] for call in inner) == ["/v1.0/groups/g-%02d/members" % index for index in range(45)]
    assert all(call["query"] == {"$select": "id", "$top": "999"} for call in inner)
    assert not [call for call in services.graph_calls() if call["path"].endswith("/members") and not call.get("batch")]


def test_a_throttled_member_read_inside_a_batch_is_asked_again_after_retry_after(run, services, monkeypatch):
    pauses = []
    monkeypatch.setattr("time.sleep", pauses.append)
    services.graph.fail("GET", "^/groups/g-it/members$", 429, "TooManyRequests", "slow down", headers={"Retry-After": "7"})
    report = run()["report"]
    assert [(g["name"], g["members"]) for g in report["groups"]] == [("Sales", 2), ("IT Admins", 1)]
    assert 7.0 in pauses
    reads = [call for call in services.graph_calls() if call["path"] == "/v1.0/groups/g-it/members"]
    assert len(reads) == 2


def test_members_throttled_beyond_the_retry_budget_fail_naming_the_group(run, services, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    services.graph.fail("GET", "^/groups/g-it/members$", 429, "TooManyRequests", "slow down", times=10**6)
    result = run()
    assert result["failed"] is True
    assert "list members of group g-it failed: HTTP 429 TooManyRequests" in result["msg"]


def test_any_other_failure_to_read_members_fails_the_run(run, services):
    services.graph.fail("GET", "^/groups/g-it/members$", 400, "Request_BadRequest", "bad")
    result = run()
    assert result["failed"] is True and "list members of group g-it failed: HTTP 400" in result["msg"]


def test_report_lists_are_cut_to_report_limit_with_complete_counts(run):
    report = run(report_limit=1)["report"]
    assert addresses(report["users"]["add"]) == ["adele@" + ORG]
    assert len(report["skipped"]) == 1 and report["counts"]["skipped"] == 5
    assert report["counts"]["add"] == 2 and report["truncated"] is True


def test_report_path_gets_the_whole_report_as_json_and_csv_and_a_markdown_summary(run, tmp_path):
    path = str(tmp_path / "contoso-sync.json")
    result = run(report_limit=0, report_path=path)
    assert result["report_files"] == {"json": path, "markdown": str(tmp_path / "contoso-sync.md"), "csv": str(tmp_path / "contoso-sync.csv")}
    with open(path) as handle:
        document = json.load(handle)
    assert addresses(document["users"]["add"]) == ["adele@" + ORG, "alex@" + ORG]
    assert document["org"] == ORG and document["settings"]["add_users"] is True
    markdown = open(str(tmp_path / "contoso-sync.md")).read()
    assert "## Users to remove (1)" in markdown and "| Users to add | 2 |" in markdown
    assert "adele@" not in markdown, "the Markdown shows only the first report_limit entries of each list"
    assert "JSON in `contoso-sync.json`" in markdown and "CSV, for a spreadsheet in `contoso-sync.csv`" in markdown
    rows = open(str(tmp_path / "contoso-sync.csv")).read().splitlines()
    assert rows[0].startswith("action,address,")
    assert [row.split(",")[:2] for row in rows[1:4]] == [["add", "adele@" + ORG], ["add", "alex@" + ORG], ["change", "megan@" + ORG]]
    assert len(rows) == 1 + 2 + 1 + 1 + 5  # header, adds, change, removal, skipped users


def test_the_result_says_what_an_operator_reads_in_lines(run, services, tmp_path):
    path = str(tmp_path / "contoso-sync.json")
    result = run(report_path=path)
    counts_line = "Sync report (report): users to add 2, change 1, remove 1, unchanged 0; groups 2; skipped 5; missing domains 0"
    assert result["msg"] == counts_line
    assert result["summary"] == [
        "Read as the sync app, with its key",
        counts_line,
        "Users to add: adele@%s, alex@%s" % (ORG, ORG),
        "Users to change: megan@" + ORG,
        "Users to remove: left@" + ORG,
        "Groups: Sales, IT Admins",
        # Each skipped object by the name the report files give it, with its reason.
        "Skipped: " + ", ".join("%s (%s)" % (entry["address"], entry["reason"]) for entry in result["report"]["skipped"]),
        "Missing domains: -",
        "Exempt by exemption_query: -",
        "Report files: %s, %s, %s" % (path, str(tmp_path / "contoso-sync.md"), str(tmp_path / "contoso-sync.csv")),
        "Applied: nothing (report)",
    ]


def test_the_summary_says_how_many_entries_report_limit_leaves_out(run, services):
    services.tenant_domains.append({"id": "contoso.net", "isVerified": True})
    result = run(report_limit=1, exemption_query="[?surname == 'Nobody']")
    summary, [first_skip] = result["summary"], result["report"]["skipped"]
    assert "Users to add: adele@%s (and 1 more)" % ORG in summary
    assert "Skipped: %s (%s) (and 4 more)" % (first_skip["address"], first_skip["reason"]) in summary
    assert "Missing domains: contoso.net" in summary
    assert "Exempt by exemption_query: nobody" in summary


def test_the_apply_says_what_it_wrote_and_in_check_mode_what_it_would_write(run, services):
    planned = run(mode="apply", check_mode=True)
    assert planned["msg"].startswith("Sync report (apply, predicted): users to add 2, change 1, remove 1,")
    assert planned["summary"][-1] == "Applied: would add 2, update 1, remove 1 users"
    applied = run(mode="apply")
    assert applied["msg"].startswith("Sync report (apply): users to add 2, change 1, remove 1,")
    assert applied["summary"][-1] == "Applied: added 2, updated 1, removed 1 users"
    again = run(mode="apply")
    assert again["summary"][-1] == "Applied: added 0, updated 0, removed 0 users"


def test_report_files_are_readable_by_their_owner_only_even_when_they_existed(run, tmp_path):
    path = tmp_path / "contoso-sync.json"
    for name in ("contoso-sync.json", "contoso-sync.md", "contoso-sync.csv"):
        (tmp_path / name).write_text("old")
        os.chmod(str(tmp_path / name), 0o644)
    files = run(report_path=str(path), check_mode=True)["report_files"]
    assert sorted(files) == ["csv", "json", "markdown"]
    for written in files.values():
        assert os.stat(written).st_mode & 0o777 == 0o600, written
    assert "adele@" + ORG in open(files["markdown"]).read()  # the default limit shows them


def test_options_override_the_saved_settings(run, services):
    report = run(remove_users=False, add_users=False)["report"]
    assert report["users"]["add"] == [] and report["users"]["remove"] == []
    assert addresses(report["users"]["change"]) == ["megan@" + ORG]


def test_without_saved_settings_every_setting_must_be_given(run, services):
    services.settings = None
    result = run(tenant_id=ORG, application_id=APP_ID, add_users=True)
    assert result["failed"] is True
    assert "has no Azure AD import settings" in result["msg"] and "sync_active_users" in result["msg"]
    assert "add_users" not in result["msg"].split("set ")[1].split(",")
    assert services.graph_calls() == [] and services.writes == []


def test_without_saved_settings_the_options_alone_give_the_report(run, services):
    services.settings = None
    flags = sync_switches()
    result = run(tenant_id=ORG, application_id=APP_ID, default_user_role="silent_user", **flags)
    assert [user["type"] for user in result["report"]["users"]["add"]] == ["silent_user", "silent_user"]
    assert result["sync_status"] == {"secret_expiry": None, "last_successful_sync": None}


def test_missing_tenant_domains_are_reported_with_a_warning(run, services):
    services.org_domains = [ORG]
    result = run()
    assert result["report"]["missing_domains"] == [INITIAL]
    assert any(INITIAL in warning for warning in warning_texts(result))


def test_in_check_mode_planned_domains_count_as_added_so_their_users_are_added(run, services):
    services.tenant_domains.append({"id": "contoso.net", "isVerified": True})
    unplanned = run(mode="apply", check_mode=True)["report"]
    assert ("lynne@contoso.net", "domain_missing") in skipped(unplanned)
    assert unplanned["missing_domains"] == ["contoso.net"]

    planned = run(mode="apply", check_mode=True, planned_domains=["Contoso.NET"])["report"]
    assert addresses(planned["users"]["add"]) == ["adele@" + ORG, "alex@" + ORG, "lynne@contoso.net"]
    assert planned["missing_domains"] == [] and ("lynne@contoso.net", "domain_missing") not in skipped(planned)
    assert services.writes == []


def test_outside_check_mode_planned_domains_do_not_hide_a_missing_domain(run, services):
    services.tenant_domains.append({"id": "contoso.net", "isVerified": True})
    result = run(mode="apply", planned_domains=["contoso.net"])
    assert result["report"]["missing_domains"] == ["contoso.net"]
    assert ("lynne@contoso.net", "domain_missing") in skipped(result["report"])
    assert "lynne@contoso.net" not in services.org_users
    assert any("contoso.net" in warning for warning in warning_texts(result))


def test_planned_settings_stand_for_the_saved_ones_in_check_mode_only(run, services):
    planned = {"sync_active_users": False, "app_id": APP_ID, "sync_frequency_hours": 1}
    dry = run(mode="apply", check_mode=True, planned_settings=planned)
    assert dry["settings"]["sync_active_users"] is False and dry["report"]["counts"]["add"] == 0
    assert services.writes == []
    real = run(mode="report", planned_settings=planned)
    assert real["settings"]["sync_active_users"] is True and real["report"]["counts"]["add"] == 2
    assert real["app_id"] == APP_ID and "application_id" not in real


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"report_path": "/tmp/report.md"}, "report_path names the JSON file"),
        ({"report_path": "/no/such/dir/report.json"}, "the directory /no/such/dir does not exist"),
        ({"max_removals": -1}, "max_removals must be 0 or more"),
        ({"application_id": "modusCloud"}, "app_id must be the Entra application (client) id"),
        ({"since": "yesterday"}, "since must be a UTC date and time"),
        ({"wait_interval": 0}, "wait_interval must be at least 1 second"),
        ({"key": None, "access_token": ""}, "access_token must not be empty"),
        ({"planned_domains": ["contoso.net", "not a domain"]}, "planned_domains must be domain names"),
    ],
)
def test_bad_options_fail_before_any_request(run, services, args, expected):
    result = run(**args)
    assert result["failed"] is True and expected in result["msg"]
    assert services.calls == []


# Failures that modusCloud's own sync would hit


def test_missing_consent_fails_with_the_graph_403_and_what_to_do(run, services):
    services.consented = False
    result = run(mode="apply")
    assert result["failed"] is True
    assert "HTTP 403 Authorization_RequestDenied" in result["msg"] and "Directory.Read.All" in result["msg"]
    assert result["status"] == 403 and result["request_id"] == "req-403"
    assert services.writes == []


def test_a_wrong_key_fails_with_entras_error_and_never_shows_the_key(run, services):
    result = run(key="not-the-key")
    assert result["failed"] is True
    assert "AADSTS7000215" in result["msg"] and "client secret" in result["msg"]
    assert "not-the-key" not in json.dumps(result)
    assert services.graph_calls() == [] and services.writes == []


# mode=apply


def test_apply_removes_updates_and_adds_then_a_second_apply_changes_nothing(run, services):
    result = run(mode="apply")
    assert result["changed"] is True and result["applied"] == {"added": 2, "updated": 1, "removed": 1}
    assert services.writes == [
        ("DELETE", "/api/v1/orgs/%s/users/left@%s" % (ORG, ORG)),
        ("PUT", "/api/v1/orgs/%s/users/megan@%s" % (ORG, ORG)),
        ("POST", "/api/v1/orgs/%s/users" % ORG),
    ]
    megan = services.org_users["megan@" + ORG]
    # Read-modify-write: the other fields of the user survive the PUT.
    assert megan["surname"] == "Bowen" and megan["white_list_senders"] == ["partner@fabrikam.example"]
    assert set(services.org_users) == {"adele@" + ORG, "alex@" + ORG, "megan@" + ORG, "admin@" + ORG}
    assert services.org_users["adele@" + ORG]["alias_emails"] == ["adele.vance@" + ORG, "adele@" + INITIAL]

    services.calls = []
    again = run(mode="apply")
    assert again["changed"] is False and services.writes == []
    assert again["report"]["counts"]["unchanged"] == 3


def test_apply_diff_shows_each_user_before_and_after(run):
    diff = run(mode="apply", check_mode=True)["diff"]
    assert diff["before"]["user megan@" + ORG] == {"surname": "Bowen-Smith"}
    assert diff["after"]["user megan@" + ORG] == {"surname": "Bowen"}
    assert diff["before"]["user adele@" + ORG] == {"state": "absent"}
    assert diff["after"]["user adele@" + ORG]["firstname"] == "Adele"
    assert diff["after"]["user left@" + ORG] == {"state": "absent"}


def test_apply_in_check_mode_predicts_the_same_report_and_writes_nothing(run, services):
    predicted = run(mode="apply", check_mode=True)
    assert predicted["changed"] is True and services.writes == []
    assert predicted["applied"] == {"added": 0, "updated": 0, "removed": 0}
    applied = run(mode="apply")
    assert applied["report"] == predicted["report"]


def test_additions_are_created_in_batches(run, services, monkeypatch):
    monkeypatch.setattr(sync_apply, "CREATE_BATCH_SIZE", 1)
    run(mode="apply")
    posts = [call for call in services.calls if call["method"] == "POST" and call["host"] == "mc.test"]
    assert [[user["primary_email"] for user in json.loads(call["body"])] for call in posts] == [["adele@" + ORG], ["alex@" + ORG]]


def test_more_removals_than_max_removals_refuses_the_whole_run_before_any_write(run, services):
    services.users = []  # the directory looks empty, e.g. after consent to the wrong tenant
    for check_mode in (True, False):
        result = run(mode="apply", max_removals=1, check_mode=check_mode)
        assert result["failed"] is True and "nothing was written" in result["msg"]
        assert result["removals"] == ["left@" + ORG, "megan@" + ORG]
        assert services.writes == []
    allowed = run(mode="apply", max_removals=2)
    assert allowed["applied"]["removed"] == 2


def test_a_failed_write_reports_what_was_already_applied(run, services):
    services.moduscloud.fail("PUT", "^/orgs/%s/users/megan@%s$" % (ORG, ORG), 400, "surname is too long")
    result = run(mode="apply")
    assert result["failed"] is True and "surname is too long" in result["msg"]
    assert result["changed"] is True and result["applied"] == {"added": 0, "updated": 0, "removed": 1}


# mode=wait


def synced(services, at="2030-01-01T00:00:00Z", apply_users=True):
    """Play the service's scheduled sync on the next sleep."""

    def sync():
        if apply_users:
            services.org_users.pop("left@" + ORG, None)
            services.org_users["megan@" + ORG]["surname"] = "Bowen"
            for nick, first, last, aliases in (("adele", "Adele", "Vance", ["adele.vance@" + ORG, "adele@" + INITIAL]), ("alex", "Alex", "Wilber", [])):
                address = "%s@%s" % (nick, ORG)
                services.org_users[address] = org_user(address, firstname=first, surname=last, aliases=aliases, **KEPT)
        services.settings["last_successful_sync"] = at

    sync_wait.time.on_sleep = sync


def test_wait_returns_once_the_service_synced_and_the_users_match(run, services):
    synced(services)
    result = run(mode="wait", since="2029-12-31T23:00:00Z", wait_interval=30)
    assert "failed" not in result and result["changed"] is False
    assert result["sync_status"]["last_successful_sync"] == "2030-01-01T00:00:00Z"
    assert result["waited_seconds"] == 30 and sync_wait.time.sleeps == [30]
    assert result["msg"].startswith("modusCloud's scheduled sync succeeded after a wait of 30")
    assert "Last successful sync: 2030-01-01T00:00:00Z. Sync report (wait): users to add 0," in result["msg"]
    assert result["report"]["counts"]["add"] == 0 and services.writes == []
    assert len(services.token_requests()) == 1  # one sign-in for the checks before waiting and the report after


def test_wait_fails_listing_the_users_the_sync_left_different(run, services):
    synced(services, apply_users=False)
    result = run(mode="wait", since="2029-12-31T23:00:00Z")
    assert result["failed"] is True
    assert "2 to add (adele@contoso.example, alex@contoso.example)" in result["msg"]
    assert "1 to remove (left@contoso.example)" in result["msg"]


def test_wait_times_out_saying_what_to_check(run, services):
    result = run(mode="wait", wait_timeout=120, wait_interval=50)
    assert result["failed"] is True and "did not succeed" in result["msg"] and "within 120 seconds" in result["msg"]
    assert "key saved in modusCloud" in result["msg"] or "stores this same key" in result["msg"]
    assert sync_wait.time.sleeps == [50, 50, 20]


def test_wait_fails_at_once_when_a_tenant_domain_is_missing(run, services):
    services.org_domains = [ORG]
    result = run(mode="wait")
    assert result["failed"] is True and INITIAL in result["msg"] and result["missing_domains"] == [INITIAL]
    assert sync_wait.time.sleeps == []


def test_wait_fails_at_once_without_consent(run, services):
    services.consented = False
    result = run(mode="wait")
    assert result["failed"] is True and "Authorization_RequestDenied" in result["msg"]
    assert sync_wait.time.sleeps == []


def test_wait_needs_a_sync_frequency(run, services):
    services.settings["sync_frequency"] = 0
    result = run(mode="wait")
    assert result["failed"] is True and "sync_frequency_hours" in result["msg"]


def test_wait_in_check_mode_does_not_wait(run, services):
    result = run(mode="wait", check_mode=True)
    assert result["changed"] is False and result["waited_seconds"] == 0
    assert sync_wait.time.sleeps == [] and result["report"]["counts"]["add"] == 2


def test_wait_in_check_mode_plans_on_the_settings_an_earlier_task_would_save(run, services):
    # A dry run of the whole procedure on a new organization: the settings save only predicted them.
    services.settings = None
    result = run(mode="wait", check_mode=True, tenant_id=ORG, application_id=APP_ID, planned_settings=kb_settings(ORG, APP_ID))
    assert result.get("failed") is not True, result.get("msg")
    assert result["waited_seconds"] == 0 and sync_wait.time.sleeps == [] and services.writes == []


def test_wait_without_saved_settings_fails_in_a_real_run_whatever_was_planned(run, services):
    services.settings = None
    result = run(mode="wait", tenant_id=ORG, application_id=APP_ID, planned_settings=kb_settings(ORG, APP_ID))
    assert result["failed"] is True and "has no Azure AD import settings" in result["msg"]
    assert sync_wait.time.sleeps == []


# access_token instead of key


def read_with_token(services):
    """Whether every Graph request of the run carried ACCESS_TOKEN, and no sign-in was made."""
    return services.token_requests() == [] and all(call["headers"]["Authorization"] == "Bearer " + ACCESS_TOKEN for call in services.graph_calls())


def test_a_report_with_an_access_token_equals_the_report_with_the_key(run, services):
    with_key = run()
    services.calls = []
    with_token = run(key=None, access_token=ACCESS_TOKEN)
    assert read_with_token(services) and services.writes == []
    for name in ("report", "settings", "tenant_id", "app_id", "sync_status", "changed"):
        assert with_token[name] == with_key[name], name


def test_an_access_token_applies_the_same_changes_as_the_key(run, services):
    predicted = run(mode="apply", check_mode=True)
    applied = run(mode="apply", key=None, access_token=ACCESS_TOKEN)
    assert applied["changed"] is True and applied["applied"] == {"added": 2, "updated": 1, "removed": 1}
    assert applied["report"] == predicted["report"] and applied["diff"] == predicted["diff"]
    assert run(mode="apply")["changed"] is False


def test_exactly_one_of_key_and_access_token_is_required(run, services):
    neither = run(key=None)
    both = run(access_token=ACCESS_TOKEN)
    assert neither["failed"] is True and "one of the following is required: key, access_token" in neither["msg"]
    assert both["failed"] is True and "mutually exclusive: key|access_token" in both["msg"]
    assert services.calls == []


def test_an_access_token_of_another_tenant_is_refused_before_the_directory_is_read(run, services):
    result = run(key=None, access_token=FOREIGN_TOKEN, mode="apply")
    assert result["failed"] is True
    assert "belongs to another tenant (0c8f6a9e-5d3b-4f21-8e7a-2b9c4d1e6f70, fabrikam.example) than " + ORG in result["msg"]
    assert [call["path"] for call in services.graph_calls()] == ["/v1.0/organization"]
    assert services.writes == []


def test_the_tenant_of_an_access_token_may_be_named_by_its_id(run, services):
    result = run(key=None, access_token=ACCESS_TOKEN, tenant_id=TENANT_ID.upper())
    assert "failed" not in result and result["tenant_id"] == TENANT_ID


@pytest.mark.parametrize(
    "token, status, hint",
    [
        (ACCESS_TOKEN, 403, "give a token of an identity with the Microsoft Graph permission Directory.Read.All"),
        ("an-expired-token", 401, "Graph refused the access_token given (expired, or not a Microsoft Graph token)"),
    ],
)
def test_an_access_token_that_cannot_read_fails_saying_so_not_blaming_the_sync_app(run, services, token, status, hint):
    services.token_may_read = False
    result = run(key=None, access_token=token, mode="apply")
    assert result["failed"] is True and result["status"] == status and hint in result["msg"]
    assert "modusCloud's scheduled sync fails" not in result["msg"]
    assert "an-expired-token" not in json.dumps(result) and services.writes == []


def test_in_check_mode_an_access_token_reports_on_an_application_still_to_be_created(run, services):
    services.settings = None
    flags = sync_switches()
    result = run(
        key=None, access_token=ACCESS_TOKEN, tenant_id=ORG, application_id=PLACEHOLDER, default_user_role="end_user", mode="apply", check_mode=True, **flags
    )
    assert result["changed"] is True and result["app_id"] == PLACEHOLDER
    assert addresses(result["report"]["users"]["add"]) == ["adele@" + ORG, "alex@" + ORG]
    assert read_with_token(services) and services.writes == []


@pytest.mark.parametrize("placeholders", [{"application_id": PLACEHOLDER}, {"key": SECRET_VALUE_PLACEHOLDER}])
def test_the_sync_app_cannot_sign_in_with_a_check_mode_placeholder(run, services, placeholders):
    result = run(check_mode=True, **placeholders)
    assert result["failed"] is True and "give access_token instead of key" in result["msg"]
    assert services.token_requests() == []


def test_outside_check_mode_the_placeholder_application_is_refused(run, services):
    result = run(key=None, access_token=ACCESS_TOKEN, application_id=PLACEHOLDER)
    assert result["failed"] is True and "the check-mode placeholder of an application" in result["msg"]
    assert services.calls == []


def test_wait_with_an_access_token_checks_the_domains_and_says_what_it_did_not_check(run, services):
    services.settings["application_id"] = "0e2a0c0f-1b8e-4b57-8f0d-9b5d7c1a2e33"  # not the app given: no warning
    result = run(key=None, access_token=ACCESS_TOKEN, application_id=APP_ID, mode="wait", wait_timeout=60, wait_interval=60)
    assert result["failed"] is True and "did not succeed" in result["msg"]
    assert "did not check the sync app's own sign-in and consent" in result["msg"]
    assert warning_texts(result) == [] and read_with_token(services)

    services.org_domains = [ORG]
    missing = run(key=None, access_token=ACCESS_TOKEN, mode="wait")
    assert missing["failed"] is True and missing["missing_domains"] == [INITIAL]


def test_ca_path_applies_to_every_service(run, services, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    run(ca_path=str(bundle))
    assert set(call["host"] for call in services.calls) == {"login.test", "graph.test", "mc.test"}
    assert all(call["verify"] == str(bundle) for call in services.calls)
    assert os.path.exists(str(bundle))


def test_verified_domains_read_earlier_with_the_token_spare_two_graph_reads(run, services):
    result = run(key=None, access_token=ACCESS_TOKEN, tenant_id=ORG, verified_domains=[ORG.upper(), INITIAL])
    assert result["report"]["counts"]["add"] == 2
    paths = [call["path"] for call in services.graph_calls()]
    assert "/v1.0/domains" not in paths and "/v1.0/organization" not in paths


def test_verified_domains_need_the_token_they_were_read_with(run, services):
    result = run(verified_domains=[ORG])
    assert result["failed"] is True and "verified_domains needs access_token" in result["msg"]
    assert services.calls == []


def test_known_state_spares_the_organization_reads_it_holds(run, services):
    known = {
        "configured": True,
        "settings": settings_from_wire(SAVED_SETTINGS),
        "domains": [{"name": ORG}, {"name": INITIAL}],
        "exemptions": [],
        "secret_expiry": "2099-01-01",
        "last_successful_sync": "2026-01-01T00:00:00Z",
    }
    fresh = run()
    services.calls[:] = []
    primed = run(known_state=known)
    assert primed["report"] == fresh["report"]
    assert [call["path"] for call in services.calls if call["host"] == "mc.test"] == ["/api/v1/orgs/%s/users" % ORG]


# exemption_query: exemptions by rule


def test_a_rule_exempts_the_users_it_selects_and_the_report_says_so(run, services):
    services.users[1]["department"] = "Shared mailboxes"  # alex
    services.exemptions = ["megan@" + ORG]
    result = run(exemption_query="[?department == 'Shared mailboxes' || surname == 'Vance']")
    report = result["report"]
    assert result["query_exemptions"] == ["adele@" + ORG, "alex@" + ORG]
    assert report["users"]["add"] == [] and report["users"]["change"] == []
    exempt = [(entry["address"], entry.get("detail")) for entry in report["skipped"] if entry["reason"] == "exempt"]
    assert exempt == [("adele@" + ORG, "selected by exemption_query"), ("alex@" + ORG, "selected by exemption_query"), ("megan@" + ORG, None)]
    assert services.writes == []


def test_the_rule_fields_are_read_only_when_a_rule_is_set(run, services):
    run(exemption_query="[?jobTitle == 'Receptionist']")
    with_rule = next(call for call in services.graph_calls() if call["path"] == "/v1.0/users")["query"]["$select"]
    services.calls[:] = []
    run()
    plain = next(call for call in services.graph_calls() if call["path"] == "/v1.0/users")["query"]["$select"]
    assert {"department", "jobTitle", "displayName"} <= set(with_rule.split(",")) - set(plain.split(","))


def test_a_bad_rule_fails_before_any_request_with_jmespaths_message(run, services):
    result = run(mode="apply", exemption_query="[?department == ")
    assert result["failed"] is True and services.calls == []
    assert "exemption_query '[?department == ' is not a valid JMESPath expression: " in result["msg"]


def test_a_rule_that_fails_on_the_directory_fails_before_any_write(run, services):
    result = run(mode="apply", exemption_query="[?contains(department, 'x')]")
    assert result["failed"] is True and services.writes == []
    assert "failed on the directory's users" in result["msg"]


def test_a_report_names_the_removals_over_the_limit_the_service_would_make(run, services):
    services.users = []
    over = run(mode="report", max_removals=1, check_mode=True)
    assert over.get("failed") is not True and services.writes == []
    assert over["removals_over_limit"] == ["left@" + ORG, "megan@" + ORG]
    assert run(mode="report", max_removals=2, check_mode=True)["removals_over_limit"] == []


def test_the_removal_guard_refuses_the_removals_the_service_would_make_before_the_switch_is_saved(run, services):
    services.users = []
    services.settings["remove_deleted_users"] = False
    planned = dict(settings_from_wire(SAVED_SETTINGS), remove_users=True)
    for guard in ("fail", "disable"):  # disable turns off only a switch already saved on
        refused = run(mode="report", max_removals=1, removal_guard=guard, planned_settings=planned, check_mode=True)
        assert refused["failed"] is True and services.writes == []
        assert refused["msg"].startswith("With remove_users true, modusCloud's first sync after the settings are saved would remove 2 users")
        assert "more than max_removals (1): left@%s, megan@%s" % (ORG, ORG) in refused["msg"]
        assert "raise max_removals to at least 2" in refused["msg"] and "removal_guard: disable" not in refused["msg"]
        assert refused["removals"] == ["left@" + ORG, "megan@" + ORG]
    within = run(mode="report", max_removals=2, removal_guard="fail", planned_settings=planned, check_mode=True)
    assert within.get("failed") is not True and within["remove_users_off"] is False and "removal_warning" not in within


def test_the_removal_guard_refuses_or_turns_off_a_switch_already_saved_on(run, services):
    services.users = []  # SAVED_SETTINGS has remove_users on
    refused = run(mode="report", max_removals=1, removal_guard="fail", check_mode=True)
    assert refused["failed"] is True and "next scheduled sync (remove_users is already saved on) would remove 2 users" in refused["msg"]
    assert "Set removal_guard: disable to turn remove_users off instead" in refused["msg"]
    disabled = run(mode="report", max_removals=1, removal_guard="disable", check_mode=True)
    assert disabled.get("failed") is not True and disabled["remove_users_off"] is True and services.writes == []
    assert disabled["removal_warning"].startswith(
        "WARNING: with remove_users on, modusCloud's next scheduled sync would remove 2 users, more than max_removals (1)"
    )
    assert "This run saves remove_users off (removal_guard: disable)" in disabled["removal_warning"]
    # The default only reports them.
    assert run(mode="report", max_removals=1, check_mode=True)["remove_users_off"] is False


def test_the_removal_guard_is_for_reports_only(run, services):
    result = run(mode="apply", removal_guard="fail")
    assert result["failed"] is True and "removal_guard fail needs mode report, got mode apply" in result["msg"]
    assert services.calls == []


def test_validate_only_checks_the_options_and_sends_nothing(run, services):
    assert run(validate_only=True) == dict(run(validate_only=True), changed=False, validated=True)
    refused = run(validate_only=True, wait_timeout=-1)
    assert refused["failed"] is True and "wait_timeout must be 0 or more, got -1" in refused["msg"]
    empty = run(validate_only=True, username="")
    assert empty["failed"] is True and empty["msg"].startswith("modusCloud connection: missing username")
    assert services.calls == []


def test_the_report_folder_is_made_for_its_owner_in_check_mode_before_any_request(run, services, tmp_path):
    folder = tmp_path / "reports" / "tenant"
    assert run(validate_only=True, report_folder=str(folder), check_mode=True).get("failed") is not True
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == oct(0o700)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    refused = run(validate_only=True, report_folder=str(blocker / "tenant"), check_mode=True)
    assert refused["failed"] is True and refused["msg"].startswith("report_folder %s cannot be made: " % (blocker / "tenant"))
    assert services.calls == []


def test_apply_returns_what_it_read_of_the_organization_for_a_later_task(run, services):
    result = run(mode="apply")
    assert result["changed"] is True  # users were written, which leaves settings, domains and exemptions as read
    known = result["known_state"]
    assert known["configured"] is True and known["settings"]["primary_domain"] == result["tenant_id"]
    assert ORG in [domain["name"] for domain in known["domains"]] and isinstance(known["exemptions"], list)
    assert set(known) >= {"secret_expiry", "last_successful_sync", "secret_days_remaining"}


@pytest.mark.parametrize(
    "args, options",
    [
        ({"max_removals": -1, "wait_timeout": -1}, ["max_removals", "wait_timeout"]),
        ({"application_id": "modusCloud"}, ["app_id"]),
        ({"mode": "apply", "removal_guard": "fail"}, ["removal_guard", "mode"]),
        ({"report_path": "/tmp/report.md"}, ["report_path"]),
        ({"validate_only": True, "username": ""}, ["username"]),
    ],
)
def test_a_failure_names_the_options_it_is_about(run, services, args, options):
    result = run(**args)
    assert result["failed"] is True and result["invalid_options"] == options
    assert services.calls == []


def test_the_removal_guard_s_refusal_names_max_removals_and_a_failed_call_names_no_option(run, services):
    services.users = []
    refused = run(mode="report", max_removals=1, removal_guard="fail", check_mode=True)
    assert refused["failed"] is True and refused["invalid_options"] == ["max_removals"]
    services.consented = False
    failed = run(mode="apply")
    assert failed["failed"] is True and "invalid_options" not in failed
