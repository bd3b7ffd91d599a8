"""The sandbox's secretless sign-ins, used by real clients unmodified: msal's ManagedIdentityClient against the
App Service form of the identity endpoint, a workload identity's federated token, and the az stand-in."""

import json
import os
import subprocess

import jwt
import msal
import pytest

from graph_client import Graph, client_app, https_session


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def identity_env(fresh_sandbox, monkeypatch):
    for name, value in fresh_sandbox.info["managed_identity_env"].items():
        monkeypatch.setenv(name, value)
    return fresh_sandbox.info


@pytest.mark.parametrize("assigned", ["system", "user"])
def test_msal_managed_identity_client_gets_a_graph_token_that_reads_the_directory(identity_env, assigned):
    info = identity_env
    assert "169.254.169.254" not in json.dumps(info["managed_identity_env"])
    identity = msal.SystemAssignedManagedIdentity() if assigned == "system" else msal.UserAssignedManagedIdentity(client_id=info["managed_identity_client_id"])
    result = msal.ManagedIdentityClient(identity, http_client=https_session(info)).acquire_token_for_client(resource=info["graph_url"])
    assert "access_token" in result, result
    granted = claims(result["access_token"])
    assert granted["appid"] == info["managed_identity_client_id"] and granted["tid"] == info["tenant_id"]
    assert "Application.ReadWrite.All" in granted["roles"]
    assert Graph(info, result["access_token"]).get("/applications").status_code == 200


def test_the_identity_endpoint_refuses_a_wrong_header_and_an_unknown_identity(fresh_sandbox):
    info = fresh_sandbox.info
    session = https_session(info)
    endpoint = info["managed_identity_env"]["IDENTITY_ENDPOINT"]
    query = {"api-version": "2019-08-01", "resource": info["graph_url"]}
    assert session.get(endpoint, params=query, headers={"X-IDENTITY-HEADER": "wrong"}).status_code == 401
    answer = session.get(
        endpoint,
        params=dict(query, client_id="00000000-0000-0000-0000-000000000001"),
        headers={"X-IDENTITY-HEADER": info["managed_identity_env"]["IDENTITY_HEADER"]},
    )
    assert answer.status_code == 400 and "No User Assigned" in answer.json()["message"]


def test_the_federated_token_file_signs_in_its_identity_and_nothing_else(fresh_sandbox):
    info = fresh_sandbox.info
    with open(info["federated_token_file"]) as handle:
        assertion = handle.read()
    assert claims(assertion)["aud"] == "api://AzureADTokenExchange"
    result = client_app(info, info["federated_client_id"], {"client_assertion": lambda: assertion}).acquire_token_for_client(
        scopes=[f"{info['graph_url']}/.default"]
    )
    assert "access_token" in result, result.get("error_description")
    assert claims(result["access_token"])["appid"] == info["federated_client_id"]
    # The same token does not sign in another app: no federated credential of the admin app trusts it.
    refused = client_app(info, info["admin_client_id"], {"client_assertion": lambda: assertion}).acquire_token_for_client(
        scopes=[f"{info['graph_url']}/.default"]
    )
    assert refused.get("error") == "invalid_client" and "AADSTS70021" in refused["error_description"]


def test_the_az_stand_in_prints_a_token_of_the_admin_identity_and_says_when_signed_out(fresh_sandbox, tmp_path):
    info = fresh_sandbox.info
    az = os.path.join(info["az_path"], "az")
    command = [az, "account", "get-access-token", "--resource", info["graph_url"], "--output", "json"]
    answer = json.loads(subprocess.run(command, check=True, stdout=subprocess.PIPE).stdout)
    assert claims(answer["accessToken"])["appid"] == info["admin_client_id"] and answer["tenant"] == info["tenant_id"]
    subprocess.run([az, "logout"], check=True)
    try:
        signed_out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        assert signed_out.returncode == 1 and "Please run 'az login'" in signed_out.stderr
    finally:
        subprocess.run([az, "login"], check=True)


def test_the_journal_names_each_request_s_peer(fresh_sandbox):
    info = fresh_sandbox.info
    https_session(info).get(info["graph_url"] + "/v1.0/organization")
    entries = fresh_sandbox.control("GET", "/journal?service=graph")["entries"]
    assert entries and entries[-1]["peer"] == "127.0.0.1"
