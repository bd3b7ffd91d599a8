"""Client helpers for the sandbox's own tests: an HTTPS session that trusts the sandbox CA,
tokens from the real msal, and a small Graph client."""

import msal
import requests


def https_session(info):
    """A session that trusts the sandbox's CA even with REQUESTS_CA_BUNDLE set (requests issue 3829)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = info["ca_bundle"]
    return session


def client_app(info, client_id, credential, tenant=None):
    """A fresh msal confidential client (a new one each time, so its token cache never answers)."""
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=f"{info['authority_host']}/{tenant or info['tenant_id']}",
        instance_discovery=False,
        http_client=https_session(info),
    )


def app_token(info, client_id, secret, tenant=None):
    result = client_app(info, client_id, secret, tenant).acquire_token_for_client(scopes=[f"{info['graph_url']}/.default"])
    assert "access_token" in result, result.get("error_description")
    return result["access_token"]


class Graph:
    """Graph v1.0 calls with one bearer token; returns requests' Response objects."""

    def __init__(self, info, token):
        self.info = info
        self.base = info["graph_url"] + "/v1.0"
        self.session = https_session(info)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path):
        return path if path.startswith("https://") else self.base + path

    def get(self, path, **kwargs):
        return self.session.get(self.url(path), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.session.post(self.url(path), json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.session.patch(self.url(path), json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.session.delete(self.url(path), **kwargs)

    def all(self, path):
        """Every item of a collection, following @odata.nextLink as served."""
        items, url = [], path
        while url:
            response = self.get(url)
            assert response.status_code == 200, response.text
            items += response.json()["value"]
            url = response.json().get("@odata.nextLink")
        return items

    def create_app(self, display_name="sandbox test app", **fields):
        response = self.post("/applications", {"displayName": display_name, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def create_sp(self, app_id):
        response = self.post("/servicePrincipals", {"appId": app_id})
        assert response.status_code == 201, response.text
        return response.json()

    def sp_by_app_id(self, app_id):
        response = self.get(f"/servicePrincipals(appId='{app_id}')")
        assert response.status_code == 200, response.text
        return response.json()

    def add_password(self, app_path, **credential):
        """addPassword on `app_path`: /applications/{id} or /applications(appId='...')."""
        response = self.post(f"{app_path}/addPassword", {"passwordCredential": credential})
        assert response.status_code == 200, response.text
        return response.json()


def graph_role_ids(graph):
    graph_sp = graph.sp_by_app_id("00000003-0000-0000-c000-000000000000")
    return graph_sp, {role["value"]: role["id"] for role in graph_sp["appRoles"]}
