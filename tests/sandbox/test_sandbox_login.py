"""Entra login as real clients use it: msal unmodified, errors in AAD's shape, roles in tokens."""

import datetime

import jwt
import msal
import pytest
import requests

from graph_client import Graph, app_token, client_app, graph_role_ids, https_session

ADMIN_ROLES = [
    "AppRoleAssignment.ReadWrite.All",
    "Application.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Policy.Read.All",
]


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def token_error(info, client_id, credential, tenant=None):
    result = client_app(info, client_id, credential, tenant).acquire_token_for_client(scopes=[f"{info['graph_url']}/.default"])
    assert "access_token" not in result
    return result


def test_msal_client_secret_works_although_requests_ca_bundle_points_elsewhere(fresh_sandbox, monkeypatch):
    info = fresh_sandbox.info
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    with pytest.raises(requests.exceptions.SSLError):  # the trap is armed: a session's verify is overridden
        naive = requests.Session()
        naive.verify = info["ca_bundle"]
        naive.get(info["control_url"] + "/stats")

    token = app_token(info, info["admin_client_id"], info["admin_client_secret"])

    granted = claims(token)
    assert granted["tid"] == info["tenant_id"]
    assert granted["appid"] == info["admin_client_id"]
    assert granted["aud"] == info["graph_url"]
    assert granted["roles"] == ADMIN_ROLES
    assert granted["appidacr"] == "1"


@pytest.mark.parametrize("form", ["sha1 thumbprint (RS256, x5t)", "public certificate (PS256, x5t#S256)"])
def test_msal_certificate_credential(fresh_sandbox, form):
    info = fresh_sandbox.info
    with open(info["admin_certificate_path"]) as handle:
        pem = handle.read()
    credential = {"private_key": pem}
    if form.startswith("sha1"):
        credential["thumbprint"] = info["admin_certificate_thumbprint"]
    else:
        credential["public_certificate"] = pem[pem.index("-----BEGIN CERTIFICATE-----") :]
    result = client_app(info, info["admin_client_id"], credential, tenant=info["tenant_domain"]).acquire_token_for_client(
        scopes=[f"{info['graph_url']}/.default"]
    )
    assert "access_token" in result, result.get("error_description")
    assert claims(result["access_token"])["appidacr"] == "2"


def test_certificate_not_registered_on_the_app_is_rejected(fresh_sandbox):
    from sandbox.tls import make_self_signed

    info = fresh_sandbox.info
    stranger = make_self_signed("not registered")
    result = token_error(info, info["admin_client_id"], {"private_key": stranger.key_pem.decode(), "thumbprint": stranger.sha1_thumbprint})
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_errors_have_aad_shape_and_codes(fresh_sandbox):
    info = fresh_sandbox.info
    wrong = token_error(info, info["admin_client_id"], "not-the-secret")
    assert wrong["error"] == "invalid_client"
    assert wrong["error_codes"] == [7000215]
    assert wrong["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert wrong[key]
    assert "not-the-secret" not in str(wrong)

    unknown_app = token_error(info, "11111111-2222-3333-4444-555555555555", "whatever")
    assert (unknown_app["error"], unknown_app["error_codes"]) == ("unauthorized_client", [700016])

    session = https_session(info)
    response = session.post(
        f"{info['authority_host']}/nosuch.example/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": info["admin_client_id"],
            "client_secret": info["admin_client_secret"],
            "scope": f"{info['graph_url']}/.default",
        },
    )
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_tenant_is_found_by_id_or_any_verified_domain(fresh_sandbox):
    info = fresh_sandbox.info
    for tenant in (info["tenant_id"], info["tenant_domain"], info["tenant_initial_domain"]):
        token = app_token(info, info["admin_client_id"], info["admin_client_secret"], tenant=tenant)
        assert claims(token)["tid"] == info["tenant_id"]


def test_expired_secret_and_secret_propagation_delay(admin_graph, fresh_sandbox):
    info = fresh_sandbox.info
    app = admin_graph.create_app("expiring")
    admin_graph.create_sp(app["appId"])
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = admin_graph.add_password(
        f"/applications/{app['id']}", startDateTime=(now - datetime.timedelta(days=3)).isoformat(), endDateTime=(now - datetime.timedelta(days=1)).isoformat()
    )
    result = token_error(info, app["appId"], expired["secretText"])
    assert (result["error"], result["error_codes"]) == ("invalid_client", [7000222])

    fresh_sandbox.faults(secret_delay_seconds=600)
    current = admin_graph.add_password(f"/applications/{app['id']}", displayName="new")
    assert token_error(info, app["appId"], current["secretText"])["error_codes"] == [7000215]
    fresh_sandbox.faults()  # propagated
    app_token(info, app["appId"], current["secretText"])


def test_roles_in_token_follow_app_role_assignments(admin_graph, fresh_sandbox):
    info = fresh_sandbox.info
    app = admin_graph.create_app("directory reader")
    sp = admin_graph.create_sp(app["appId"])
    secret = admin_graph.add_password(f"/applications/{app['id']}")["secretText"]

    before = Graph(info, app_token(info, app["appId"], secret))
    assert "roles" not in claims(before.session.headers["Authorization"][7:])
    denied = before.get("/users")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert denied.json()["error"]["message"] == "Insufficient privileges to complete the operation."

    graph_sp, role_ids = graph_role_ids(admin_graph)
    assigned = admin_graph.post(
        f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
        {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_ids["User.Read.All"]},
    )
    assert assigned.status_code == 201, assigned.text

    after = Graph(info, app_token(info, app["appId"], secret))
    assert claims(after.session.headers["Authorization"][7:])["roles"] == ["User.Read.All"]
    assert after.get("/users").status_code == 200
    assert before.get("/users").status_code == 403  # roles are fixed when a token is issued
    assert after.get("/groups").status_code == 403


def test_user_readbasic_all_application_role_is_not_enough_for_users(admin_graph, fresh_sandbox):
    info = fresh_sandbox.info
    app = admin_graph.create_app("basic reader")
    sp = admin_graph.create_sp(app["appId"])
    graph_sp, role_ids = graph_role_ids(admin_graph)
    admin_graph.post(
        f"/servicePrincipals/{sp['id']}/appRoleAssignments",
        {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_ids["User.ReadBasic.All"]},
    )
    secret = admin_graph.add_password(f"/applications/{app['id']}")["secretText"]
    reader = Graph(info, app_token(info, app["appId"], secret))
    assert reader.get("/users").status_code == 403


def test_app_without_service_principal_gets_no_token(admin_graph, fresh_sandbox):
    info = fresh_sandbox.info
    app = admin_graph.create_app("no enterprise app")
    result = token_error(info, app["appId"], admin_graph.add_password(f"/applications/{app['id']}")["secretText"])
    assert result["error_codes"] == [7000229]


def test_device_code_flow_signs_in_the_admin_with_delegated_scopes(fresh_sandbox):
    info = fresh_sandbox.info
    public = msal.PublicClientApplication(
        info["public_client_id"], authority=f"{info['authority_host']}/{info['tenant_id']}", instance_discovery=False, http_client=https_session(info)
    )
    flow = public.initiate_device_flow(scopes=[f"{info['graph_url']}/Application.ReadWrite.All", f"{info['graph_url']}/User.Read"])
    assert "user_code" in flow, flow
    result = public.acquire_token_by_device_flow(flow)  # pending once, then approved
    assert "access_token" in result, result.get("error_description")
    granted = claims(result["access_token"])
    assert granted["scp"].split() == ["Application.ReadWrite.All", "User.Read", "openid", "profile"]
    assert granted["upn"] == info["admin_user"]

    me = Graph(info, result["access_token"]).get("/me")
    assert me.status_code == 200 and me.json()["userPrincipalName"] == info["admin_user"]
    state = fresh_sandbox.state()["tenants"][info["tenant_id"]]
    consent = [g for g in state["oauth2PermissionGrants"] if g["consentType"] == "Principal"]
    assert [g["scope"] for g in consent] == ["Application.ReadWrite.All User.Read"]
