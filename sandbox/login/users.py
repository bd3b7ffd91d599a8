"""Signing a user in on the emulated Entra login endpoint: the device code flow of a public client
(approved as the tenant's admin after the first poll), the delegated scopes it may get, and refresh
tokens. A mixin of LoginService (service.py).
"""

from __future__ import annotations

import json
import secrets
import string
import time

from .. import catalog
from ..directory import opaque_id
from ..shapes import service_principal_for
from ..tls import b64url
from ..web import json_response
from .errors import LoginError, invalid_client, missing

TOKEN_LIFETIME_SECONDS = 3599  # of every token the endpoint issues (service.py's app tokens too)
DEVICE_CODE_LIFETIME_SECONDS = 900
DEVICE_CODE_INTERVAL_SECONDS = 1  # Entra says 5; the sandbox keeps device-code tests short
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
USER_CODE_ALPHABET = string.ascii_uppercase + string.digits


class UserSignIn:
    def _public_client(self, tenant, client_id):
        """The public clients of a tenant: Microsoft Graph Command Line Tools, and its own apps that
        allow public client flows (isFallbackPublicClient)."""
        if not client_id:
            raise missing("client_id")
        sp = tenant.sp_by_app_id(client_id)
        app = tenant.app_by_app_id(client_id)
        if app is not None and app.get("isFallbackPublicClient"):
            return app["appId"], app["displayName"]
        if app is None and sp is not None and client_id == catalog.GRAPH_CLI_APP_ID:
            return sp["appId"], sp["displayName"]
        if app is None:
            raise self._unknown_app(tenant, client_id)
        raise invalid_client(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")

    def _delegated_scopes(self, tenant, client_id: str, scope: str) -> list:
        """Graph scope names a sign-in asks for; /.default means what the client was consented to."""
        graph = tenant.service_principals.get(tenant.graph_sp_id)
        known = {item["value"] for item in graph["oauth2PermissionScopes"]}
        names, wants_default = [], False
        for item in (scope or "").split():
            if item in OIDC_SCOPES:
                continue
            resource, _, name = item.rpartition("/")
            if resource and resource.rstrip("/") not in (self.sandbox.graph_url, catalog.GRAPH_APP_ID):
                raise LoginError(
                    400, "invalid_resource", 500011, f"The resource principal named {resource} was not found in the tenant named {tenant.display_name}."
                )
            if name == ".default":
                wants_default = True
            elif name in known:
                names.append(name)
            else:
                raise LoginError(
                    400, "invalid_scope", 70011, f"The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid."
                )
        if wants_default:
            sp = tenant.sp_by_app_id(client_id)
            for grant in tenant.grants.values():
                if (
                    sp is not None
                    and grant["clientId"] == sp["id"]
                    and grant["resourceId"] == graph["id"]
                    and grant["principalId"] in (None, tenant.admin_user_id)
                ):
                    names.extend(grant["scope"].split())
        names = sorted(set(names))
        if not names:
            raise LoginError(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{client_id}'. Send an interactive authorization request for this user and resource.",
            )
        return names

    def _device_code(self, tenant, request):
        form = self._form(request)
        client_id, _ = self._public_client(tenant, form.get("client_id"))
        scopes = self._delegated_scopes(tenant, client_id, form.get("scope"))
        if tenant.admin_user_id is None:
            raise LoginError(400, "invalid_request", 50034, "The tenant has no admin user to approve the sign-in.")
        user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
        device_code = secrets.token_urlsafe(48)
        tenant.device_codes[device_code] = {
            "client_id": client_id,
            "scopes": scopes,
            "polls": 0,
            "oidc": [s for s in (form.get("scope") or "").split() if s in OIDC_SCOPES],
            "expires": time.time() + DEVICE_CODE_LIFETIME_SECONDS,
        }
        verification_uri = f"{self.sandbox.authority_host}/devicelogin"
        return json_response(
            200,
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": verification_uri,
                "expires_in": DEVICE_CODE_LIFETIME_SECONDS,
                "interval": DEVICE_CODE_INTERVAL_SECONDS,
                "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate.",
            },
        )

    def _redeem_device_code(self, tenant, form):
        device_code = form.get("device_code")
        if not device_code:
            raise missing("device_code")
        flow = tenant.device_codes.get(device_code)
        if flow is None or flow["client_id"] != form.get("client_id"):
            raise LoginError(400, "invalid_grant", 70000, "The provided value for the input parameter 'device_code' is not valid.")
        if time.time() > flow["expires"]:
            del tenant.device_codes[device_code]
            raise LoginError(
                400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."
            )
        flow["polls"] += 1
        if flow["polls"] == 1:
            raise LoginError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        del tenant.device_codes[device_code]
        self._record_consent(tenant, flow["client_id"], flow["scopes"])
        return self._user_token(tenant, flow["client_id"], flow["scopes"], flow["oidc"])

    def _record_consent(self, tenant, client_id: str, scopes: list) -> None:
        """Signing in and consenting leaves what Entra leaves: the client's service principal and the
        admin's delegated grant to Microsoft Graph."""
        sp = tenant.sp_by_app_id(client_id)
        if sp is None:
            sp = service_principal_for(tenant, tenant.app_by_app_id(client_id))
            tenant.service_principals.add(sp["id"], sp)
        grant = next(
            (
                g
                for g in tenant.grants.values()
                if g["clientId"] == sp["id"] and g["resourceId"] == tenant.graph_sp_id and g["principalId"] == tenant.admin_user_id
            ),
            None,
        )
        if grant is None:
            grant = {
                "clientId": sp["id"],
                "consentType": "Principal",
                "id": opaque_id(),
                "principalId": tenant.admin_user_id,
                "resourceId": tenant.graph_sp_id,
                "scope": "",
            }
            tenant.grants.add(grant["id"], grant)
        grant["scope"] = " ".join(sorted(set(grant["scope"].split()) | set(scopes)))

    def _refresh(self, tenant, form):
        session = tenant.refresh_tokens.get(form.get("refresh_token") or "")
        if session is None or session["client_id"] != form.get("client_id"):
            raise LoginError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. The refresh token is not valid.")
        return self._user_token(tenant, session["client_id"], session["scopes"], session["oidc"], refresh_token=form["refresh_token"])

    def _user_token(self, tenant, client_id, scopes, oidc, refresh_token=None):
        user = tenant.users.get(tenant.admin_user_id)
        if user is None:
            raise LoginError(400, "invalid_grant", 50034, "The signed-in user no longer exists in the tenant.")
        claims = {
            "appid": client_id,
            "appidacr": "0",
            "idtyp": "user",
            "name": user.display_name,
            "oid": user.id,
            "sub": user.id,
            "upn": user.user_principal_name,
            "unique_name": user.user_principal_name,
            "scp": " ".join(scopes + [s for s in oidc if s != "offline_access"]),
        }
        response = self._token_response(tenant, claims, scope=" ".join([f"{self.sandbox.graph_url}/{name}" for name in scopes] + oidc))
        payload = json.loads(response.body)
        if "offline_access" in oidc:
            token = refresh_token or secrets.token_urlsafe(64)
            tenant.refresh_tokens[token] = {"client_id": client_id, "scopes": scopes, "oidc": oidc}
            payload["refresh_token"] = token
        if "openid" in oidc:
            now = int(time.time())
            payload["id_token"] = self._sign(
                {
                    "aud": client_id,
                    "iss": f"{self.sandbox.authority_host}/{tenant.id}/v2.0",
                    "iat": now,
                    "nbf": now,
                    "exp": now + TOKEN_LIFETIME_SECONDS,
                    "name": user.display_name,
                    "oid": user.id,
                    "preferred_username": user.user_principal_name,
                    "sub": user.id,
                    "tid": tenant.id,
                    "ver": "2.0",
                }
            )
            payload["client_info"] = b64url(json.dumps({"uid": user.id, "utid": tenant.id}).encode())
        return json_response(200, payload)
