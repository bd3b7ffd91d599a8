"""moduscloud_user_sync against the sandbox in the situations a person meets with the real service.

- A directory built case by case through the sandbox's control API (not by this collection): the
  report names exactly the adds, updates, removals and skips the rules give, and the service's own
  scheduled sync then does exactly that, so waiting for it succeeds.
- The sync app has no admin consent: the module fails naming Graph's 403, as the service's sync does.
- The service's sync fails (no consent, a wrong key, a tenant domain missing on the organization):
  mode=wait fails at once, or after its timeout, saying what to check.

The prerequisites (sync app, consent, import settings, org users) are set through the raw APIs with
the sandbox's admin identities, independent of the collection's other modules.
"""

import json
import os
import sys

import pytest
import requests

from sandbox.launch import admin_graph_session

# The unit tests' builders import the collection as ansible_collections.moduscloud.azure_sync, which `make setup` links here.
_COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections"))
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

from playbook_harness import write_local_playbook  # noqa: E402  (after the path set-up above)
from sandbox.moduscloud.wire import kb_settings_wire  # noqa: E402
from tests.unit.plugins import builders  # noqa: E402

DIRECTORY_READ_ALL = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


class Services(object):
    """Raw calls to the sandbox's Graph (as its automation identity), modusCloud (as the org admin) and control API."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.info = info = sandbox.info
        self.org = info["moduscloud_org"]
        self.domain = info["tenant_domain"]
        self.initial = info["tenant_initial_domain"]
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override the sandbox CA
        self.session.verify = info["ca_bundle"]
        self.graph_session = admin_graph_session(info)
        self.moduscloud_headers = {"X-User": info["moduscloud_user"], "X-Password": info["moduscloud_password"]}

    @staticmethod
    def _ok(response):
        assert response.status_code < 300, "%s %s: %s" % (response.request.method, response.url, response.text)
        return response.json() if response.content else None

    def graph(self, method, path, body=None):
        return self._ok(self.graph_session.request(method, self.info["graph_url"] + "/v1.0" + path, json=body))

    def moduscloud(self, method, path, body=None):
        return self._ok(
            self.session.request(method, "%s/orgs/%s%s" % (self.info["moduscloud_url"], self.org, path), json=body, headers=self.moduscloud_headers)
        )

    def register_app(self, consent):
        """A new app with a client secret and a service principal; admin consent for Directory.Read.All or none."""
        app = self.graph("POST", "/applications", {"displayName": "modusCloud scenario"})
        secret = self.graph("POST", "/applications/%s/addPassword" % app["id"], {"passwordCredential": {}})
        principal = self.graph("POST", "/servicePrincipals", {"appId": app["appId"]})
        if consent:
            [graph] = self.graph("GET", "/servicePrincipals?$filter=appId eq '%s'" % GRAPH_APP_ID)["value"]
            self.graph(
                "POST",
                "/servicePrincipals/%s/appRoleAssignments" % principal["id"],
                {"principalId": principal["id"], "resourceId": graph["id"], "appRoleId": DIRECTORY_READ_ALL},
            )
        return app["appId"], secret["secretText"]

    def save_settings(self, application_id, key, **switches):
        body = dict(kb_settings_wire(self.domain, application_id), ad_key=key)
        body.update(switches)
        self.moduscloud("PUT", "/settings/azure", body)

    def add_initial_domain(self):
        self.moduscloud("POST", "/domains", {"name": self.initial, "is_active": True, "is_relay": True})

    def entra_user(self, nick, domain=None, **options):
        """Add nick@domain (its sign-in name, and its mail unless `mail` says otherwise) to the directory: the user
        builders.entra_user makes with `options`, as the control API takes it (`licensed` for its licences)."""
        address = "%s@%s" % (nick, domain or self.domain)
        options.setdefault("given", nick.capitalize())
        options.setdefault("surname", "Test")
        user = builders.entra_user(options.pop("mail", address), upn=address, **options)
        body = dict((name, value) for name, value in user.items() if name not in ("id", "assignedLicenses"))
        body["licensed"] = bool(user["assignedLicenses"])
        return self.sandbox.control("POST", "/directory/users", body)["id"]

    def entra_group(self, name, **fields):
        return self.sandbox.control("POST", "/directory/groups", dict(fields, displayName=name))["id"]

    def clock(self, hours=1):
        return self.sandbox.advance_clock(hours)

    def service_now(self):
        return self.sandbox.state()["moduscloud"]["now"]


@pytest.fixture
def services(fresh_sandbox):
    return Services(fresh_sandbox)


@pytest.fixture
def user_sync(playbook_runner, tmp_path, fresh_sandbox):
    """Run the module in a playbook (connection defaults as in the integration targets); return its result."""
    info = fresh_sandbox.info
    runs = []

    def run(**args):
        result_path = tmp_path / ("result-%d.json" % len(runs))
        runs.append(result_path)
        task = dict(org=info["moduscloud_org"], authority_host=info["authority_host"], graph_url=info["graph_url"])
        task.update(args)
        tasks = [
            {"name": "Sync", "moduscloud.azure_sync.moduscloud_user_sync": task, "register": "outcome", "ignore_errors": True},
            {"name": "Keep the result", "ansible.builtin.copy": {"content": "{{ outcome | to_json }}", "dest": str(result_path), "mode": "0600"}},
        ]
        playbook = write_local_playbook(tmp_path / ("play-%d.json" % len(runs)), info, tasks, name="moduscloud_user_sync scenario")
        completed = playbook_runner(playbook)
        assert completed.returncode == 0, completed.output[-20000:]
        return json.loads(result_path.read_text())

    return run


def entries(report, kind):
    return report["users"][kind]


def test_the_report_names_exactly_what_the_rules_give_and_the_service_then_does_it(services, user_sync):
    sandbox, domain, initial = services.sandbox, services.domain, services.initial
    sandbox.reset(users=0, groups=0)
    services.add_initial_domain()
    ann = services.entra_user(
        "ann",
        given="Ann",
        surname="Lee",
        proxyAddresses=["SMTP:ann@" + domain, "smtp:ann.lee@" + domain, "smtp:Ann@" + initial, "smtp:ann@elsewhere.example", "SIP:ann@" + domain],
    )
    bob = services.entra_user("bob", given="Robert", surname="Brown")
    cy = services.entra_user("cy", given="Cy", surname="Young", enabled=False)
    services.entra_user("dee", enabled=False)
    services.entra_user("eve", licensed=False)
    services.entra_user("gus", domain="fabrikam.example", user_type="Guest", licensed=False)
    services.entra_user("svc", domain=initial, mail=None, licensed=False)
    services.entra_user("ex")
    services.entra_user("oz", domain="other.example")
    services.entra_user("fay", given="Fay", surname="Wray")
    it = services.entra_group("IT", securityEnabled=True, mailEnabled=False, members=[cy])
    services.entra_group("Sales", mail="sales@" + domain, mailEnabled=True, securityEnabled=False, members=[ann, bob, it])
    services.entra_group("Odd", mailEnabled=False, securityEnabled=False)

    services.moduscloud(
        "POST",
        "/users",
        [
            {"primary_email": "bob@" + domain, "firstname": "Bob", "surname": "Brown"},
            {"primary_email": "cy@" + domain, "firstname": "Cy", "surname": "Young"},
            {"primary_email": "fay@" + domain, "firstname": "Fay", "surname": "Wray"},
            {"primary_email": "gone@" + domain, "firstname": "Gone", "surname": "Away", "type": "silent_user"},
            {"primary_email": "fn@" + domain, "firstname": "Scanner", "type": "functional_account"},
        ],
    )
    services.moduscloud("PUT", "/settings/azure/exemptions", {"exemptions": "ex@" + domain})
    services.save_settings(services.info["admin_client_id"], services.info["admin_client_secret"], remove_deleted_users=True)
    writes = sandbox.stats()["writes"]

    result = user_sync(key=services.info["admin_client_secret"])
    report = result["report"]
    assert not result["failed"], result.get("msg")
    assert sandbox.stats()["writes"] == writes
    assert entries(report, "add") == [
        {
            "primary_email": "ann@" + domain,
            "firstname": "Ann",
            "surname": "Lee",
            "is_active": True,
            "type": "end_user",
            "alias_emails": ["ann.lee@" + domain, "ann@" + initial],
        }
    ]
    assert entries(report, "change") == [
        {"primary_email": "bob@" + domain, "changes": {"firstname": {"before": "Bob", "after": "Robert"}}},
        {"primary_email": "cy@" + domain, "changes": {"is_active": {"before": True, "after": False}}},
    ]
    assert entries(report, "remove") == [{"primary_email": "gone@" + domain, "type": "silent_user"}]
    assert report["users"]["unchanged"] == 1
    assert sorted((entry["object"], entry.get("address") or entry.get("upn") or entry.get("name"), entry["reason"]) for entry in report["skipped"]) == sorted(
        [
            ("user", "ann@elsewhere.example", "alias_domain_missing"),
            ("user", "dee@" + domain, "disabled"),
            ("user", "eve@" + domain, "unlicensed"),
            ("user", "gus@fabrikam.example", "guest"),
            ("user", "svc@" + initial, "no_mail"),
            ("user", "ex@" + domain, "exempt"),
            ("user", "oz@other.example", "domain_missing"),
            ("user", "fn@" + domain, "protected"),
            ("user", services.info["moduscloud_user"], "protected"),
            ("group", "Odd", "not_mail_or_security"),
        ]
    )
    assert [(group["name"], group["kind"], group["address"], group["members"]) for group in report["groups"]] == [
        ("Sales", "distribution", "sales@" + domain, 2),
        ("IT", "security", None, 1),
    ]
    assert report["missing_domains"] == [] and report["truncated"] is False

    # The service's own scheduled sync does what the report said; waiting for it then succeeds.
    before_sync = services.service_now()
    [sync] = services.clock(1)["syncs"]
    assert sync["ok"], sync
    assert (sync["added"], sync["updated"], sync["removed"]) == (1, 2, 1)
    waited = user_sync(key=services.info["admin_client_secret"], mode="wait", since=before_sync, wait_interval=1, wait_timeout=30)
    assert not waited["failed"], waited.get("msg")
    assert waited["sync_status"]["last_successful_sync"] == sync["time"]
    assert waited["report"]["counts"]["add"] == waited["report"]["counts"]["change"] == 0
    assert waited["report"]["counts"]["remove"] == 0


def test_without_admin_consent_the_module_fails_naming_graphs_403(services, user_sync):
    application_id, key = services.register_app(consent=False)
    services.add_initial_domain()
    services.save_settings(application_id, key)
    writes = services.sandbox.stats()["writes"]

    result = user_sync(key=key, mode="apply")
    assert result["failed"] is True
    assert "HTTP 403 Authorization_RequestDenied" in result["msg"] and "Directory.Read.All" in result["msg"]
    assert result["status"] == 403 and result["request_id"]
    assert services.sandbox.stats()["writes"] == writes

    # The service's own sync fails the same way, and waiting says so at once.
    [sync] = services.clock(1)["syncs"]
    assert not sync["ok"] and sync["error_code"] == "Authorization_RequestDenied"
    waited = user_sync(key=key, mode="wait", wait_timeout=600)
    assert waited["failed"] is True and "Authorization_RequestDenied" in waited["msg"]


def test_wait_with_a_wrong_key_fails_at_once_with_entras_error(services, user_sync):
    services.add_initial_domain()
    services.save_settings(services.info["admin_client_id"], "not-the-secret-of-the-app")
    [sync] = services.clock(1)["syncs"]
    assert not sync["ok"] and sync["error_code"] == "AADSTS7000215"

    waited = user_sync(key="not-the-secret-of-the-app", mode="wait", wait_timeout=600)
    assert waited["failed"] is True
    assert "AADSTS7000215" in waited["msg"] and "scheduled sync fails the same way" in waited["msg"]
    assert "not-the-secret-of-the-app" not in json.dumps(waited)


def test_wait_times_out_naming_the_stored_key_when_only_the_service_has_a_wrong_one(services, user_sync):
    services.add_initial_domain()
    services.save_settings(services.info["admin_client_id"], "an-old-secret-of-the-app")
    services.clock(1)

    waited = user_sync(key=services.info["admin_client_secret"], mode="wait", wait_timeout=3, wait_interval=1)
    assert waited["failed"] is True
    assert "did not succeed" in waited["msg"] and "last successful sync: never" in waited["msg"]
    assert "check that modusCloud stores this same key" in waited["msg"]


def test_wait_fails_at_once_naming_a_tenant_domain_missing_on_the_organization(services, user_sync):
    services.save_settings(services.info["admin_client_id"], services.info["admin_client_secret"])
    [sync] = services.clock(1)["syncs"]
    assert not sync["ok"] and services.initial in sync["error"]

    waited = user_sync(key=services.info["admin_client_secret"], mode="wait", wait_timeout=600)
    assert waited["failed"] is True
    assert services.initial in waited["msg"] and waited["missing_domains"] == [services.initial]
