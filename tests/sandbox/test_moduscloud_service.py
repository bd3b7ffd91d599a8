"""The emulated modusCloud service: API shapes and status codes, and its scheduled Azure AD sync.

The API is driven through ModusCloudService.handle() with fabricated requests. The scheduled sync
talks HTTP to the unit tests' fakes, served on 127.0.0.1 (fake_http.py; the service takes the scheme
from the URLs it is given): the Entra token endpoint under /login (FakeSignIn) and Graph under /graph
(FakeGraph, pages of two).

These fakes rather than the sandbox's own login and Graph, on purpose: these tests isolate the modusCloud
emulator, so each one sets the directory, the stored key and the consent in one line and reads back the
exact token request and Graph queries ($select, $top, every nextLink) the service made. The sandbox's
Graph would need a signed-in tenant, an app with a secret and consent per test, and its paging and journal
would decide what can be asserted. The whole chain against the sandbox's Graph is covered by
tests/integration/test_user_sync_scenarios.py.
"""

import json
import threading
from datetime import datetime, timezone

import pytest
import requests
from fake_http import AdapterServer
from requests.structures import CaseInsensitiveDict

from plugins.module_utils._sync import reconcile
from sandbox.moduscloud import ModusCloudService
from sandbox.moduscloud.wire import as_options, kb_settings_wire
from tests.unit.plugins import builders
from tests.unit.plugins.modules.fake_graph import FakeGraph
from tests.unit.plugins.modules.fake_sign_in import FakeSignIn

ORG = "contoso.example"
ADMIN = "admin@contoso.example"
ADMIN_PASSWORD = "local-admin-pass-1"
OTHER_ORG = "northwind.example"
OTHER_ADMIN = "admin@northwind.example"
OTHER_PASSWORD = "local-admin-pass-2"
APP_ID = "11111111-2222-3333-4444-555555555555"
AD_KEY = "fake-client-secret-value"
CLOCK_START = datetime(2026, 1, 1, 8, 0, 0, tzinfo=timezone.utc)
HOST = "moduscloud.test:8443"

# The KB's settings (sandbox/moduscloud/wire.py) with another role and frequency and both removals on, so that the
# tests see the service keep what it was sent rather than its defaults.
AZURE_SETTINGS = dict(
    kb_settings_wire(ORG, APP_ID),
    ad_key=AD_KEY,
    default_user_role_name="silent_user",
    sync_frequency=24,
    remove_deleted_users=True,
    remove_deleted_groups=True,
)


# --------------------------------------------------------------------------- Entra sign-in + Graph, over HTTP


def entra_user(local, **fields):
    """builders.entra_user for {local}@contoso.example, who signs in with that address (`fields` override any property,
    `mail` too: the proxy addresses stay those of the address)."""
    address = f"{local}@{ORG}"
    user = builders.entra_user(address, local.title(), "Tester", upn=address, object_id=f"id-{local}")
    user.update(fields)
    return user


@pytest.fixture(scope="module")
def http():
    with AdapterServer() as server:
        yield server


@pytest.fixture
def tenant(http):
    """The tenant's Graph (FakeGraph, pages of two) behind its sign-in host, both at http.url; the application
    APP_ID holds the key AD_KEY and has admin consent."""
    graph = FakeGraph(page_size=2, base=f"{http.url}/graph/v1.0")
    graph.tenant_domains = [
        {"id": ORG, "isVerified": True},
        {"id": "contoso.onmicrosoft.com", "isVerified": True},
        {"id": "unverified.example", "isVerified": False},
    ]
    app = graph.add_application("modusCloud", appId=APP_ID)
    graph.add_secret(app, AD_KEY)
    graph.consent(app)
    http.adapter = FakeSignIn(graph, f"{http.url}/login")
    return graph


@pytest.fixture
def sign_in(http, tenant):
    return http.adapter


def sync_app(tenant):
    return next(app for app in tenant.applications.values() if app["appId"] == APP_ID)


@pytest.fixture
def service(http, tenant):
    svc = ModusCloudService(login_url=f"{http.url}/login", graph_url=f"{http.url}/graph", ca_bundle="/nonexistent/ca.pem", clock_start=CLOCK_START)
    svc.add_org(domain=ORG, admin_user=ADMIN, admin_password=ADMIN_PASSWORD, domains=["contoso.onmicrosoft.com", "fabrikam.example"])
    svc.add_org(domain=OTHER_ORG, admin_user=OTHER_ADMIN, admin_password=OTHER_PASSWORD, domains=[])
    return svc


def call(service, method, path, body=None, *, user=ADMIN, password=ADMIN_PASSWORD):
    """One request as the HTTPS server would pass it; returns (status, parsed JSON or None)."""
    headers = CaseInsensitiveDict({"host": HOST, "accept": "application/json"})
    if user is not None:
        headers["x-user"] = user  # lower case on purpose: header names are case-insensitive
    if password is not None:
        headers["x-password"] = password
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    status, response_headers, out = service.handle(method, f"/api/v1{path}", {}, headers, raw)
    if status == 204:
        assert out == b""
    return status, (json.loads(out) if out else None)


def users_by_email(service, org=ORG):
    status, body = call(service, "GET", f"/orgs/{org}/users")
    assert status == 200
    return {u["primary_email"]: u for u in body["users"]}


# --------------------------------------------------------------------------- auth and org


@pytest.mark.parametrize(
    "user, password",
    [
        (None, None),
        (ADMIN, None),
        (ADMIN, "wrong-password"),
        ("nobody@contoso.example", ADMIN_PASSWORD),
    ],
)
def test_bad_or_missing_credentials_get_401_without_echoing_the_password(service, user, password):
    headers = CaseInsensitiveDict({"Host": HOST})
    if user:
        headers["X-User"] = user
    if password:
        headers["X-Password"] = password
    status, _, raw = service.handle("GET", f"/api/v1/orgs/{ORG}/users", {}, headers, b"")
    assert status == 401
    error = json.loads(raw)["errors"][0]
    assert error["status"] == 401 and "X-User or X-Password" in error["error_message"]
    assert b"wrong-password" not in raw and ADMIN_PASSWORD.encode() not in raw


def test_end_user_credentials_are_refused(service):
    """Only admins may use the API (docs/moduscloud-api.md, Connection): an admin demoted to end_user loses access."""
    status, admin = call(service, "GET", f"/orgs/{ORG}/users/{ADMIN}")
    assert call(service, "PUT", f"/orgs/{ORG}/users/{ADMIN}", {**admin, "type": "end_user"})[0] == 204
    assert call(service, "GET", "/me")[0] == 401


def test_admin_reaches_only_its_own_org(service):
    assert call(service, "GET", f"/orgs/{OTHER_ORG}")[0] == 403
    assert call(service, "GET", f"/orgs/{OTHER_ORG}/users")[0] == 403
    status, body = call(service, "GET", "/orgs/unknown.example")
    assert status == 404 and body["errors"][0]["identifier"] == "unknown.example"
    assert call(service, "GET", f"/orgs/{OTHER_ORG}", user=OTHER_ADMIN, password=OTHER_PASSWORD)[0] == 200


def test_me_describes_the_caller(service):
    status, me = call(service, "GET", "/me")
    assert status == 200
    assert me["primary_email"] == ADMIN and me["type"] == "organization_admin"
    assert me["entity_primary_domain"] == ORG and me["is_admin"] is True


def test_endpoints_name_this_service_for_known_domains_only(service):
    status, body = call(service, "GET", "/endpoints/fabrikam.example")
    assert status == 200 and body == {"endpoints": [f"https://{HOST}"]}
    assert call(service, "GET", "/endpoints/unknown.example")[0] == 404


def test_org_is_found_by_any_of_its_domains_and_patch_changes_only_writable_fields(service):
    status, org = call(service, "GET", "/orgs/fabrikam.example")
    assert status == 200 and org["primary_domain"] == ORG
    assert [d["name"] for d in org["domains"]] == [ORG, "contoso.onmicrosoft.com", "fabrikam.example"]
    assert org["admin_user"] == [{"primary_email": ADMIN}]

    assert call(service, "PATCH", f"/orgs/{ORG}", {"name": "Contoso Ltd", "is_active": True})[0] == 204
    assert call(service, "GET", f"/orgs/{ORG}")[1]["name"] == "Contoso Ltd"
    status, body = call(service, "PATCH", f"/orgs/{ORG}", {"eid": 1})
    assert status == 400 and body["errors"][0]["identifier"] == "eid"
    status, body = call(service, "PATCH", f"/orgs/{ORG}", {"is_active": "false"})
    assert status == 400 and "is_active must be a bool" in body["errors"][0]["error_message"]


def test_unknown_path_is_404_and_wrong_method_is_405(service):
    assert call(service, "GET", f"/orgs/{ORG}/groups")[0] == 404
    status, body = call(service, "POST", f"/orgs/{ORG}/settings/azure", AZURE_SETTINGS)
    assert status == 405 and "GET, PUT, DELETE" in body["errors"][0]["error_message"]


def test_invalid_json_body_is_400(service):
    status, body = call(service, "POST", f"/orgs/{ORG}/users", b"{not json")
    assert status == 400 and body["errors"][0]["error_message"] == "the body is not valid JSON"


# --------------------------------------------------------------------------- domains


def test_domains_list_is_wrapped_and_has_the_reference_fields(service):
    status, body = call(service, "GET", f"/orgs/{ORG}/domains")
    assert status == 200 and list(body) == ["domains"]
    assert body["domains"][0] == {"name": ORG, "is_active": True, "is_relay": True, "destination": None, "failovers": []}


def test_domain_create_update_delete(service):
    status, created = call(
        service,
        "POST",
        f"/orgs/{ORG}/domains",
        [{"name": "Sales.Contoso.example", "destination": "mx.contoso.example"}, {"name": "hr.contoso.example", "is_relay": False}],
    )
    assert status == 201 and [d["name"] for d in created] == ["sales.contoso.example", "hr.contoso.example"]
    assert call(service, "POST", f"/orgs/{ORG}/domains", {"name": "hr.contoso.example"})[0] == 409
    assert call(service, "POST", f"/orgs/{ORG}/domains", {"name": OTHER_ORG})[0] == 409
    status, body = call(service, "POST", f"/orgs/{ORG}/domains", {"name": "not a domain"})
    assert status == 400 and "name must be a domain name" in body["errors"][0]["error_message"]

    assert (
        call(
            service,
            "PUT",
            f"/orgs/{ORG}/domains/hr.contoso.example",
            {"name": "hr.contoso.example", "is_active": False, "destination": "relay.contoso.example"},
        )[0]
        == 204
    )
    status, domain = call(service, "GET", f"/orgs/{ORG}/domains/HR.contoso.example")
    assert status == 200
    assert domain == {"name": "hr.contoso.example", "is_active": False, "is_relay": True, "destination": "relay.contoso.example", "failovers": []}

    assert call(service, "DELETE", f"/orgs/{ORG}/domains/hr.contoso.example")[0] == 204
    assert call(service, "GET", f"/orgs/{ORG}/domains/hr.contoso.example")[0] == 404
    assert call(service, "DELETE", f"/orgs/{ORG}/domains/{ORG}")[0] == 409


# --------------------------------------------------------------------------- users


def test_users_list_is_wrapped_with_reference_fields(service):
    status, body = call(service, "GET", f"/orgs/{ORG}/users")
    assert status == 200 and list(body) == ["users"]
    admin = body["users"][0]
    assert admin["primary_email"] == ADMIN and admin["type"] == "organization_admin"
    assert isinstance(admin["uid"], int)
    for key in ("firstname", "surname", "is_active", "is_billable", "alias_emails", "read_only_user"):
        assert key in admin
    assert "password" not in admin


def test_batch_create_adds_every_user(service):
    status, created = call(
        service,
        "POST",
        f"/orgs/{ORG}/users",
        [
            {"primary_email": "Ann@contoso.example", "firstname": "Ann", "alias_emails": ["ann@fabrikam.example"]},
            {"primary_email": "bob@fabrikam.example", "type": "silent_user", "password": "initial-pass"},
        ],
    )
    assert status == 201 and [u["primary_email"] for u in created] == ["ann@contoso.example", "bob@fabrikam.example"]
    users = users_by_email(service)
    assert users["ann@contoso.example"]["alias_emails"] == ["ann@fabrikam.example"]
    assert users["bob@fabrikam.example"]["type"] == "silent_user"
    assert "password" not in users["bob@fabrikam.example"]
    assert users["ann@contoso.example"]["uid"] != users["bob@fabrikam.example"]["uid"]

    status, one = call(service, "POST", f"/orgs/{ORG}/users", {"primary_email": "cy@contoso.example"})
    assert status == 201 and one["primary_email"] == "cy@contoso.example" and one["type"] == "end_user"


@pytest.mark.parametrize(
    "item, status, words",
    [
        ({"firstname": "No Address"}, 400, "primary_email is required"),
        ({"primary_email": "x@elsewhere.example"}, 400, "domain elsewhere.example is not on the organization"),
        ({"primary_email": "x@contoso.example", "type": "admin"}, 400, "type 'admin' is not allowed"),
        ({"primary_email": "x@contoso.example", "is_active": "true"}, 400, "is_active must be a boolean"),
        ({"primary_email": "x@contoso.example", "lastname": "Doe"}, 400, "unknown field lastname"),
        ({"primary_email": ADMIN}, 409, f"address {ADMIN} already exists"),
        ({"primary_email": "x@contoso.example", "alias_emails": [ADMIN]}, 409, f"address {ADMIN} already exists"),
    ],
)
def test_invalid_batch_creates_nothing_and_names_the_problem(service, item, status, words):
    before = users_by_email(service)
    code, body = call(service, "POST", f"/orgs/{ORG}/users", [{"primary_email": "ok@contoso.example"}, item])
    assert code == status
    assert any(words in e["error_message"] and e["status"] == status for e in body["errors"])
    assert users_by_email(service) == before


def test_put_replaces_the_user_and_read_modify_write_keeps_it(service):
    call(
        service,
        "POST",
        f"/orgs/{ORG}/users",
        {"primary_email": "dee@contoso.example", "firstname": "Dee", "surname": "Lee", "alias_emails": ["dee@fabrikam.example"]},
    )
    status, user = call(service, "GET", f"/orgs/{ORG}/users/DEE@contoso.example")
    assert status == 200

    assert call(service, "PUT", f"/orgs/{ORG}/users/{user['primary_email']}", {**user, "is_billable": False})[0] == 204
    assert call(service, "GET", f"/orgs/{ORG}/users/dee@contoso.example")[1] == {**user, "is_billable": False}

    assert call(service, "PUT", f"/orgs/{ORG}/users/dee@contoso.example", {"surname": "Replaced"})[0] == 204
    replaced = call(service, "GET", f"/orgs/{ORG}/users/dee@contoso.example")[1]
    assert replaced["surname"] == "Replaced" and replaced["firstname"] == "" and replaced["alias_emails"] == []
    assert replaced["uid"] == user["uid"]

    status, body = call(service, "PUT", f"/orgs/{ORG}/users/dee@contoso.example", {**user, "primary_email": "other@contoso.example"})
    assert status == 400 and "primary_email cannot be changed" in body["errors"][0]["error_message"]


def test_unknown_user_is_404(service):
    for method, body in (("GET", None), ("PUT", {"firstname": "x"}), ("DELETE", None)):
        status, response = call(service, method, f"/orgs/{ORG}/users/ghost@contoso.example", body)
        assert status == 404 and response["errors"][0]["identifier"] == "ghost@contoso.example"


def test_delete_user(service):
    call(service, "POST", f"/orgs/{ORG}/users", {"primary_email": "eve@contoso.example"})
    assert call(service, "DELETE", f"/orgs/{ORG}/users/eve@contoso.example")[0] == 204
    assert "eve@contoso.example" not in users_by_email(service)


def test_concurrent_batch_creates_keep_every_user(service):
    def create(n):
        call(service, "POST", f"/orgs/{ORG}/users", [{"primary_email": f"t{n}-{i}@contoso.example"} for i in range(10)])

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    users = users_by_email(service)
    assert len(users) == 41 and len({u["uid"] for u in users.values()}) == 41


# --------------------------------------------------------------------------- Azure settings


def test_azure_settings_absent_is_404(service):
    status, body = call(service, "GET", f"/orgs/{ORG}/settings/azure")
    assert status == 404 and "not configured" in body["errors"][0]["error_message"]
    assert call(service, "DELETE", f"/orgs/{ORG}/settings/azure")[0] == 404


def test_azure_settings_round_trip_never_returns_the_key(service):
    assert call(service, "PUT", f"/orgs/{ORG}/settings/azure", AZURE_SETTINGS)[0] == 204
    status, _, raw = service.handle("GET", f"/api/v1/orgs/{ORG}/settings/azure", {}, CaseInsensitiveDict({"X-User": ADMIN, "X-Password": ADMIN_PASSWORD}), b"")
    settings = json.loads(raw)
    assert status == 200 and AD_KEY.encode() not in raw and "ad_key" not in settings
    expected = {k: v for k, v in AZURE_SETTINGS.items() if k != "ad_key"}
    expected.update(secret_expiry="2028-01-01", last_successful_sync=None)  # stored 2026-01-01 + 730 days
    assert settings == expected
    assert AD_KEY not in json.dumps(service.snapshot())


def test_azure_key_is_required_once_then_kept(service):
    without_key = {k: v for k, v in AZURE_SETTINGS.items() if k != "ad_key"}
    status, body = call(service, "PUT", f"/orgs/{ORG}/settings/azure", without_key)
    assert status == 400 and body["errors"][0]["identifier"] == "ad_key"

    call(service, "PUT", f"/orgs/{ORG}/settings/azure", AZURE_SETTINGS)
    fingerprint = service.snapshot()["orgs"][ORG]["azure"]["key_fingerprint"]
    service.advance_clock(48)
    assert call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**without_key, "sync_frequency": 1})[0] == 204
    azure = service.snapshot()["orgs"][ORG]["azure"]
    assert azure["key_fingerprint"] == fingerprint and azure["sync_frequency"] == 1
    assert azure["secret_expiry"] == "2028-01-01"  # same key: the expiry does not move

    call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**AZURE_SETTINGS, "ad_key": "rotated-secret"})
    azure = service.snapshot()["orgs"][ORG]["azure"]
    assert azure["key_fingerprint"] != fingerprint and azure["secret_expiry"] == "2028-01-03"


@pytest.mark.parametrize(
    "change, identifier, words",
    [
        ({"add_users": "true"}, "add_users", "add_users must be a JSON boolean, got str"),
        ({"sync_frequency": "1"}, "sync_frequency", "sync_frequency must be a whole number"),
        ({"sync_frequency": True}, "sync_frequency", "sync_frequency must be a whole number"),
        ({"default_user_role_name": "silent_User"}, "default_user_role_name", "one of end_user, silent_user"),
        ({"application_id": ""}, "application_id", "application_id must be a non-empty string"),
        ({"tenant_id": "x"}, "tenant_id", "unknown key tenant_id"),
        ({"remove_deleted_groups": None}, "remove_deleted_groups", "got null"),
    ],
)
def test_azure_settings_put_rejects_wrong_keys_and_types(service, change, identifier, words):
    status, body = call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**AZURE_SETTINGS, **change})
    assert status == 400
    assert body["errors"][0]["identifier"] == identifier and words in body["errors"][0]["error_message"]
    assert call(service, "GET", f"/orgs/{ORG}/settings/azure")[0] == 404


def test_azure_settings_put_needs_the_full_body(service):
    partial = {k: v for k, v in AZURE_SETTINGS.items() if k not in ("update_groups", "add_groups")}
    status, body = call(service, "PUT", f"/orgs/{ORG}/settings/azure", partial)
    assert status == 400 and "missing key(s): add_groups, update_groups" in body["errors"][0]["error_message"]


def test_azure_settings_delete_clears_them(service):
    call(service, "PUT", f"/orgs/{ORG}/settings/azure", AZURE_SETTINGS)
    assert call(service, "DELETE", f"/orgs/{ORG}/settings/azure")[0] == 204
    assert call(service, "GET", f"/orgs/{ORG}/settings/azure")[0] == 404
    status, body = call(service, "PUT", f"/orgs/{ORG}/settings/azure", {k: v for k, v in AZURE_SETTINGS.items() if k != "ad_key"})
    assert status == 400 and body["errors"][0]["identifier"] == "ad_key"  # the key went too


# --------------------------------------------------------------------------- exemptions


def test_exemptions_add_list_and_delete(service):
    path = f"/orgs/{ORG}/settings/azure/exemptions"
    assert call(service, "GET", path) == (200, [])
    assert call(service, "PUT", path, {"exemptions": "Keep@contoso.example, other@fabrikam.example"})[0] == 204
    assert call(service, "PUT", path, {"exemptions": "keep@contoso.example,third@contoso.example"})[0] == 204
    assert call(service, "GET", path)[1] == [{"email": "keep@contoso.example"}, {"email": "other@fabrikam.example"}, {"email": "third@contoso.example"}]

    assert call(service, "DELETE", f"{path}/other@fabrikam.example")[0] == 204
    assert call(service, "DELETE", f"{path}/other@fabrikam.example")[0] == 404
    assert call(service, "DELETE", path)[0] == 204
    assert call(service, "GET", path)[1] == []


@pytest.mark.parametrize(
    "body",
    [
        {"exemptions": ["a@contoso.example"]},
        {"emails": "a@contoso.example"},
        {"exemptions": "not-an-email"},
    ],
)
def test_exemptions_put_rejects_other_shapes(service, body):
    path = f"/orgs/{ORG}/settings/azure/exemptions"
    status, response = call(service, "PUT", path, body)
    assert status == 400 and response["errors"][0]["error_message"]
    assert call(service, "GET", path)[1] == []


# --------------------------------------------------------------------------- scheduled sync


def seed_directory(fake):
    fake.users = [
        entra_user(
            "ann", proxyAddresses=["SMTP:ann@contoso.example", "smtp:Ann.Alias@fabrikam.example", "smtp:ann@elsewhere.example", "SIP:ann@contoso.example"]
        ),
        entra_user("bob", givenName=None),
        entra_user("guest", userType="Guest"),
        entra_user("nolicense", assignedLicenses=[]),
        entra_user("off", accountEnabled=False),
        entra_user("nomail", mail=None),
        entra_user("keep"),
        entra_user("ann-again", mail="ANN@contoso.example"),
    ]
    fake.groups = [
        builders.entra_group("Finance", members=["id-ann", "id-bob", "g-dist"], object_id="g-sec", proxyAddresses=[]),
        builders.entra_group(
            "All Staff", mail="All@contoso.example", mail_enabled=True, security_enabled=False, members=["id-ann"], object_id="g-dist", proxyAddresses=[]
        ),
        builders.entra_group("Plain", security_enabled=False, object_id="g-none", proxyAddresses=[]),
    ]


def configure_sync(service, **overrides):
    assert call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**AZURE_SETTINGS, **overrides})[0] == 204


def test_scheduled_sync_imports_users_and_groups(service, tenant, sign_in, http):
    seed_directory(tenant)
    call(
        service,
        "POST",
        f"/orgs/{ORG}/users",
        [{"primary_email": "stale@contoso.example"}, {"primary_email": "keep@contoso.example", "firstname": "Mine"}, {"primary_email": "held@contoso.example"}],
    )
    call(service, "PUT", f"/orgs/{ORG}/settings/azure/exemptions", {"exemptions": "keep@contoso.example,held@contoso.example"})
    configure_sync(service)

    result = service.advance_clock(1)
    assert result["now"] == "2026-01-01T09:00:00Z"
    (sync,) = result["syncs"]
    assert sync["ok"] is True and sync["error"] is None and sync["org"] == ORG
    assert (sync["added"], sync["updated"], sync["removed"]) == (2, 0, 1)
    assert sync["groups"] == {"added": 2, "updated": 0, "removed": 0}
    reasons = {(s.get("address") or s.get("upn") or s.get("name"), s["reason"]) for s in sync["skipped"]}
    assert reasons == {
        ("guest@contoso.example", "guest"),
        ("nolicense@contoso.example", "unlicensed"),
        ("off@contoso.example", "disabled"),
        ("nomail@contoso.example", "no_mail"),
        ("keep@contoso.example", "exempt"),
        ("held@contoso.example", "exempt"),
        ("ann@contoso.example", "duplicate_mail"),
        ("ann@elsewhere.example", "alias_domain_missing"),
        (ADMIN, "protected"),
        ("Plain", "not_mail_or_security"),
    }

    users = users_by_email(service)
    assert set(users) == {ADMIN, "ann@contoso.example", "bob@contoso.example", "keep@contoso.example", "held@contoso.example"}
    ann = users["ann@contoso.example"]
    assert ann["alias_emails"] == ["ann.alias@fabrikam.example"] and ann["type"] == "silent_user"
    assert (ann["firstname"], ann["surname"], ann["is_active"]) == ("Ann", "Tester", True)
    assert users["bob@contoso.example"]["firstname"] == ""
    assert users["keep@contoso.example"]["firstname"] == "Mine"  # exempt: untouched, and not removed

    state = service.snapshot()["orgs"][ORG]
    assert state["groups"] == [
        {"id": "g-sec", "name": "Finance", "kind": "security", "address": None, "members": 2},
        {"id": "g-dist", "name": "All Staff", "kind": "distribution", "address": "all@contoso.example", "members": 1},
    ]
    assert state["azure"]["last_successful_sync"] == "2026-01-01T09:00:00Z"
    assert state["sync_history"] == [sync]

    (token_request,) = sign_in.token_requests()
    assert token_request["path"] == f"/login/{ORG}/oauth2/v2.0/token"
    assert sign_in.form(token_request) == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": AD_KEY,
        "scope": f"{http.url}/graph/.default",
    }
    user_queries = [call["query"] for call in tenant.calls if call["path"] == "/users"]
    assert len(user_queries) == 4  # 8 users in pages of 2: every nextLink followed
    assert user_queries[0]["$top"] == "999" and "assignedLicenses" in user_queries[0]["$select"]


def test_next_sync_waits_for_the_frequency_and_applies_changes(service, tenant):
    seed_directory(tenant)
    configure_sync(service, sync_frequency=6)
    assert service.advance_clock(0)["syncs"][0]["ok"] is True  # first run right after saving

    tenant.users = [u for u in tenant.users if u["id"] != "id-bob"]
    tenant.users[0]["surname"] = "Married"
    tenant.users.append(entra_user("dora"))
    tenant.groups = [g for g in tenant.groups if g["id"] != "g-dist"]
    tenant.groups[0]["displayName"] = "Finance Team"
    assert service.advance_clock(5)["syncs"] == []

    (sync,) = service.advance_clock(1)["syncs"]
    assert (sync["added"], sync["updated"], sync["removed"]) == (1, 1, 1)
    assert sync["groups"] == {"added": 0, "updated": 1, "removed": 1}
    users = users_by_email(service)
    assert users["ann@contoso.example"]["surname"] == "Married"
    assert "dora@contoso.example" in users and "bob@contoso.example" not in users
    assert [g["name"] for g in service.snapshot()["orgs"][ORG]["groups"]] == ["Finance Team"]


def test_disabled_entra_user_becomes_inactive_not_removed(service, tenant):
    seed_directory(tenant)
    configure_sync(service)
    service.advance_clock(0)
    tenant.users[0]["accountEnabled"] = False
    (sync,) = service.advance_clock(24)["syncs"]
    assert sync["updated"] == 1 and sync["removed"] == 0
    assert users_by_email(service)["ann@contoso.example"]["is_active"] is False


def test_settings_switch_off_what_the_sync_changes(service, tenant):
    seed_directory(tenant)
    call(service, "POST", f"/orgs/{ORG}/users", {"primary_email": "stale@contoso.example"})
    configure_sync(service, add_users=False, remove_deleted_users=False, sync_security_groups=False)
    (sync,) = service.advance_clock(1)["syncs"]
    assert sync["ok"] is True and (sync["added"], sync["removed"]) == (0, 0)
    assert set(users_by_email(service)) == {ADMIN, "stale@contoso.example"}
    assert [g["kind"] for g in service.snapshot()["orgs"][ORG]["groups"]] == ["distribution"]
    assert "/groups/g-sec/members" in [call["path"] for call in tenant.calls]  # read, but not imported


def test_sync_frequency_zero_never_syncs(service, sign_in):
    configure_sync(service, sync_frequency=0)
    assert service.advance_clock(1000)["syncs"] == []
    assert sign_in.token_requests() == []


def assert_failed_sync(service, sync, code, *words):
    assert sync["ok"] is False and sync["error_code"] == code
    assert all(w in sync["error"] for w in words), sync["error"]
    azure = service.snapshot()["orgs"][ORG]["azure"]
    assert azure["last_successful_sync"] is None
    assert service.snapshot()["orgs"][ORG]["sync_history"][-1] == sync
    assert set(users_by_email(service)) == {ADMIN}


def test_sync_with_a_wrong_key_fails_with_the_aad_error(service, tenant):
    seed_directory(tenant)
    sync_app(tenant)["passwordCredentials"] = []
    tenant.add_secret(sync_app(tenant), "the-real-secret")
    configure_sync(service)
    (sync,) = service.advance_clock(1)["syncs"]
    assert_failed_sync(service, sync, "AADSTS7000215", "Invalid client secret provided")
    assert "Trace ID" not in sync["error"] and tenant.calls == []


def test_sync_without_consent_fails_with_authorization_request_denied(service, tenant):
    seed_directory(tenant)
    tenant.consent(sync_app(tenant), granted=False)
    configure_sync(service)
    (sync,) = service.advance_clock(1)["syncs"]
    assert_failed_sync(service, sync, "Authorization_RequestDenied", "Insufficient privileges")


def test_sync_fails_naming_tenant_domains_missing_from_the_org(service, tenant):
    seed_directory(tenant)
    tenant.tenant_domains.append({"id": "newbrand.example", "isVerified": True})
    call(service, "DELETE", f"/orgs/{ORG}/domains/contoso.onmicrosoft.com")
    configure_sync(service)
    (sync,) = service.advance_clock(1)["syncs"]
    assert_failed_sync(service, sync, "domains_missing", "contoso.onmicrosoft.com, newbrand.example")
    assert sync["missing_domains"] == ["contoso.onmicrosoft.com", "newbrand.example"]
    assert "unverified.example" not in sync["error"]


def test_failed_sync_keeps_the_previous_success_and_retries_on_schedule(service, tenant):
    seed_directory(tenant)
    configure_sync(service, sync_frequency=2)
    service.advance_clock(1)
    tenant.consent(sync_app(tenant), granted=False)
    assert service.advance_clock(1)["syncs"] == []
    (failed,) = service.advance_clock(1)["syncs"]
    assert failed["ok"] is False
    assert call(service, "GET", f"/orgs/{ORG}/settings/azure")[1]["last_successful_sync"] == "2026-01-01T09:00:00Z"
    tenant.consent(sync_app(tenant))
    (retried,) = service.advance_clock(2)["syncs"]
    assert retried["ok"] is True
    assert [h["ok"] for h in service.snapshot()["orgs"][ORG]["sync_history"]] == [True, False, True]


def collection_report(service, tenant, exemptions=()):
    """What plugins/module_utils/_sync.py predicts for the service's org and the fake directory."""
    groups = [
        {**g, "members": [{"@odata.type": "#microsoft.graph.user" if m.startswith("id-") else "#microsoft.graph.group", "id": m} for m in g["members"]]}
        for g in tenant.groups
    ]
    return reconcile(
        entra_users=tenant.users,
        entra_groups=groups,
        tenant_domains=[d["id"] for d in tenant.tenant_domains if d["isVerified"]],
        settings=as_options(AZURE_SETTINGS),
        exemptions=list(exemptions),
        org_domains=[d["name"] for d in call(service, "GET", f"/orgs/{ORG}/domains")[1]["domains"]],
        org_users=list(users_by_email(service).values()),
    )


def sync_as_predicted(service, report):
    """Run the service's scheduled sync; assert it changed exactly the users the report names, and skipped the same."""
    before = users_by_email(service)
    (sync,) = service.advance_clock(1)["syncs"]
    after = users_by_email(service)
    assert sync["ok"] is True and report["missing_domains"] == []
    assert set(after) - set(before) == {u["primary_email"] for u in report["users"]["add"]}
    assert set(before) - set(after) == {u["primary_email"] for u in report["users"]["remove"]}
    assert {e for e in set(before) & set(after) if before[e] != after[e]} == {u["primary_email"] for u in report["users"]["change"]}

    def identified(entries):
        return {(e["object"], e["reason"], e.get("address") or e.get("upn") or e.get("name") or e.get("id")) for e in entries}

    assert identified(sync["skipped"]) == identified(report["skipped"])
    return sync


def test_service_does_what_the_collection_predicts(service, tenant):
    """The emulated sync and plugins/module_utils/_sync.py implement the same spec independently."""
    seed_directory(tenant)
    tenant.users[1]["accountEnabled"] = False  # bob: disabled, already in the org
    call(
        service,
        "POST",
        f"/orgs/{ORG}/users",
        [
            {"primary_email": "bob@contoso.example", "firstname": "Bob"},
            {"primary_email": "ann@contoso.example", "alias_emails": ["zed@contoso.example", "ann.alias@fabrikam.example"]},
            {"primary_email": "stale@contoso.example"},
            {"primary_email": "held@contoso.example"},
            {"primary_email": "robot@contoso.example", "type": "functional_account"},
        ],
    )
    call(service, "PUT", f"/orgs/{ORG}/settings/azure/exemptions", {"exemptions": "held@contoso.example"})
    configure_sync(service)
    report = collection_report(service, tenant, exemptions=["held@contoso.example"])

    sync = sync_as_predicted(service, report)
    assert (sync["added"], sync["updated"], sync["removed"]) == (1, 2, 1)
    imported = service.snapshot()["orgs"][ORG]["groups"]
    assert sorted((g["name"], g["kind"], g["address"], g["members"]) for g in imported) == sorted(
        (g["name"], g["kind"], g["address"], g["members"]) for g in report["groups"]
    )


@pytest.mark.parametrize("ann_first", [True, False])
def test_service_and_collection_agree_that_an_address_held_by_another_user_is_not_taken(service, tenant, ann_first):
    ann = entra_user("ann")  # gave move@ up in Entra
    bob = entra_user("bob", proxyAddresses=["SMTP:bob@contoso.example", "smtp:move@contoso.example"])
    tenant.users = ([ann, bob] if ann_first else [bob, ann]) + [
        entra_user("cy", proxyAddresses=["SMTP:cy@contoso.example", "smtp:sales@contoso.example"]),
        entra_user("dee", proxyAddresses=["SMTP:dee@contoso.example", "smtp:info@contoso.example"]),
    ]
    call(
        service,
        "POST",
        f"/orgs/{ORG}/users",
        [
            {"primary_email": "ann@contoso.example", "firstname": "Ann", "surname": "Tester", "alias_emails": ["move@contoso.example"]},
            {"primary_email": "desk@contoso.example", "alias_emails": ["sales@contoso.example"]},  # gone from Entra
            {"primary_email": "scanner@contoso.example", "type": "functional_account", "alias_emails": ["info@contoso.example"]},
        ],
    )
    configure_sync(service)
    report = collection_report(service, tenant)
    in_use = {entry["address"] for entry in report["skipped"] if entry["reason"] == "address_in_use"}
    assert in_use == ({"cy@contoso.example", "dee@contoso.example"} | (set() if ann_first else {"bob@contoso.example"}))

    sync_as_predicted(service, report)


def test_unreachable_login_is_recorded_as_a_failed_sync(http):
    service = ModusCloudService(login_url="http://127.0.0.1:9/login", graph_url=f"{http.url}/graph", ca_bundle="/nonexistent/ca.pem", clock_start=CLOCK_START)
    service.add_org(domain=ORG, admin_user=ADMIN, admin_password=ADMIN_PASSWORD, domains=[])
    configure_sync(service)
    (sync,) = service.advance_clock(1)["syncs"]
    assert sync["ok"] is False and sync["error_code"] == "connection_error" and "ConnectionError" in sync["error"]
    assert service.snapshot()["orgs"][ORG]["sync_history"] == [sync]


def test_scheduled_sync_in_the_running_sandbox(fresh_sandbox):
    """The real wiring: HTTPS with the sandbox CA, the Entra login by domain name, Graph paging."""
    info = fresh_sandbox.info
    session = requests.Session()
    session.trust_env = False
    session.verify = info["ca_bundle"]
    session.headers.update({"X-User": info["moduscloud_user"], "X-Password": info["moduscloud_password"]})
    org_url = f"{info['moduscloud_url']}/orgs/{info['moduscloud_org']}"
    settings = {
        **AZURE_SETTINGS,
        "primary_domain": info["tenant_domain"],
        "application_id": info["admin_client_id"],
        "ad_key": info["admin_client_secret"],
        "sync_frequency": 1,
    }
    assert session.put(f"{org_url}/settings/azure", json=settings).status_code == 204

    (failed,) = fresh_sandbox.advance_clock(1)["syncs"]
    assert failed["error_code"] == "domains_missing" and failed["missing_domains"] == [info["tenant_initial_domain"]]
    assert session.post(f"{org_url}/domains", json={"name": info["tenant_initial_domain"]}).status_code == 201
    (synced,) = fresh_sandbox.advance_clock(1)["syncs"]
    assert synced["ok"] is True and synced["added"] > 0 and synced["groups"]["added"] > 0

    state = fresh_sandbox.state()
    org = state["moduscloud"]["orgs"][info["moduscloud_org"]]
    assert org["azure"]["last_successful_sync"] == synced["time"]
    assert len(org["users"]) == 1 + synced["added"]
    assert info["admin_client_secret"] not in json.dumps(state["moduscloud"])


# --------------------------------------------------------------------------- variants (open API questions)

WITHOUT_KEY = {k: v for k, v in AZURE_SETTINGS.items() if k != "ad_key"}


def test_answers_are_compact_json_as_public_scripts_grep_them(service):
    headers = CaseInsensitiveDict({"X-User": ADMIN, "X-Password": ADMIN_PASSWORD})
    _, _, raw = service.handle("GET", f"/api/v1/orgs/{ORG}", {}, headers, b"")
    assert b'": ' not in raw and b", " not in raw.replace(b'", "', b"")  # no space after ':' or ','
    import re

    assert re.search(rb'"eid":[0-9]+', raw)  # codieg0 get_eid.sh: grep -o '"eid":[0-9]*'


@pytest.mark.parametrize("answer, status, body", [("404", 404, None), ("200-empty", 200, {}), ("204", 204, None)])
def test_unconfigured_settings_answer_as_the_variant_says(service, answer, status, body):
    service.set_variants([f"unconfigured:{answer}"])
    got_status, got = call(service, "GET", f"/orgs/{ORG}/settings/azure")
    assert got_status == status and (got == body or status == 404)
    assert call(service, "DELETE", f"/orgs/{ORG}/settings/azure")[0] == (404 if answer == "404" else 204)


def test_unconfigured_200_null_answers_every_key_null(service):
    service.set_variants(["unconfigured:200-null"])
    status, body = call(service, "GET", f"/orgs/{ORG}/settings/azure")
    assert status == 200 and set(body) >= {"primary_domain", "application_id", "secret_expiry", "add_users"}
    assert set(body.values()) == {None}


def test_put_without_key_refused_keeps_nothing_changed(service):
    service.set_variants(["put-without-key:refused"], org=ORG)
    configure_sync(service)
    status, body = call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**WITHOUT_KEY, "sync_frequency": 2})
    assert status == 400 and body["errors"][0]["identifier"] == "ad_key"
    assert service.snapshot()["orgs"][ORG]["azure"]["sync_frequency"] == 24


def test_put_without_key_clears_drops_the_key_and_the_next_sync_fails(service, tenant):
    service.set_variants(["put-without-key:clears"], org=ORG)
    configure_sync(service)
    assert call(service, "PUT", f"/orgs/{ORG}/settings/azure", {**WITHOUT_KEY, "sync_frequency": 1})[0] == 204
    status, body = call(service, "GET", f"/orgs/{ORG}/settings/azure")
    assert body["secret_expiry"] is None and service.snapshot()["orgs"][ORG]["azure"]["key_fingerprint"] is None
    sync = [s for s in service.advance_clock(1)["syncs"] if s["org"] == ORG][0]
    assert not sync["ok"] and sync["error_code"] == "no_key"
    configure_sync(service)  # a key again: syncing works
    assert [s for s in service.advance_clock(1)["syncs"] if s["org"] == ORG][0]["ok"]


def test_booleans_as_strings_are_answered_as_strings_and_strings_only_refuses_json(service):
    service.set_variants(["booleans:strings"], org=ORG)
    configure_sync(service, add_users="false")
    body = call(service, "GET", f"/orgs/{ORG}/settings/azure")[1]
    assert body["add_users"] == "false" and body["update_users"] == "true" and body["sync_frequency"] == 24
    assert service.snapshot()["orgs"][ORG]["azure"]["add_users"] is False  # the snapshot stays canonical
    service.set_variants(["booleans:strings-only"], org=ORG)
    status, error = call(service, "PUT", f"/orgs/{ORG}/settings/azure", AZURE_SETTINGS)
    assert status == 400 and '"true" or "false"' in error["errors"][0]["error_message"]


@pytest.mark.parametrize(
    "answer, body, refused",
    [
        ("json-list", {"exemptions": ["a@contoso.example", "b@contoso.example"]}, {"exemptions": "a@contoso.example"}),
        ("bare-list", ["a@contoso.example", "b@contoso.example"], {"exemptions": ["a@contoso.example"]}),
        ("bare-string", "a@contoso.example,b@contoso.example", ["a@contoso.example"]),
    ],
)
def test_exemptions_body_variants_take_their_form_only(service, answer, body, refused):
    service.set_variants([f"exemptions-body:{answer}"])
    path = f"/orgs/{ORG}/settings/azure/exemptions"
    status, error = call(service, "PUT", path, refused)
    assert status == 400 and "body must be" in error["errors"][0]["error_message"]
    assert call(service, "PUT", path, body)[0] == 204
    assert call(service, "GET", path)[1] == [{"email": "a@contoso.example"}, {"email": "b@contoso.example"}]


def test_bad_password_status_follows_the_variant_of_the_admins_org(service):
    service.set_variants(["bad-password:403"], org=ORG)
    assert call(service, "GET", f"/orgs/{ORG}/users", password="wrong")[0] == 403
    assert call(service, "GET", f"/orgs/{OTHER_ORG}/users", user=OTHER_ADMIN, password="wrong")[0] == 401


@pytest.mark.parametrize("answer, expiry", [("iso", "2028-01-01"), ("space", "2028-01-01 00:00:00"), ("epoch", 1830297600)])
def test_dates_answer_in_the_variants_form(service, tenant, answer, expiry):
    seed_directory(tenant)
    service.set_variants([f"dates:{answer}"])
    configure_sync(service)
    service.advance_clock(1)
    body = call(service, "GET", f"/orgs/{ORG}/settings/azure")[1]
    assert body["secret_expiry"] == expiry
    last = {"iso": "2026-01-01T09:00:00Z", "space": "2026-01-01 09:00:00", "epoch": 1767258000}[answer]
    assert body["last_successful_sync"] == last


def test_unknown_variants_are_refused_naming_the_known_ones(service):
    with pytest.raises(ValueError, match="booleans:strings-only"):
        service.set_variants(["booleans:maybe"])
    with pytest.raises(ValueError, match="no organization"):
        service.set_variants([], org="nowhere.example")
