"""Emulated Microsoft Entra ID login endpoint (the v2.0 STS of each tenant).

Paths: /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys,
/{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/v2.0/devicecode, where {tenant} is the tenant id
or any of its domain names. Grants: client_credentials (client_secret, a client_assertion
signed with a certificate registered on the app, or a workload identity's token issued by the
sandbox's own issuer and trusted by a federated credential of the app), device_code for a public
client (approved as the tenant's admin after the first poll) and refresh_token. Errors carry AAD's
JSON shape and AADSTS codes.

Also GET /msi/token: the managed identity endpoint in its App Service form (IDENTITY_ENDPOINT,
with the X-IDENTITY-HEADER secret of IDENTITY_HEADER; api-version 2019-08-01), which msal's
ManagedIdentityClient calls; without client_id it answers for the default tenant's identity.

Client authentication is in clients.py, the device code and refresh flows in users.py.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import secrets
import time
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives import hashes

from .. import catalog
from ..directory import new_id
from ..tls import b64url, thumbprint
from ..web import Request, Response, json_response
from .clients import ClientAuthentication
from .errors import LoginError, invalid_client, missing
from .users import TOKEN_LIFETIME_SECONDS, UserSignIn

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class LoginService(ClientAuthentication, UserSignIn):
    def __init__(self, sandbox):
        self.sandbox = sandbox
        cert = sandbox.signing_key
        self.key_id = b64url(bytes.fromhex(thumbprint(cert.cert_der, hashes.SHA1())))

    def handle(self, request: Request) -> Response:
        segments = [unquote(part) for part in request.path.strip("/").split("/")]
        if segments == ["msi", "token"] and request.method == "GET":
            with self.sandbox.lock:
                return self._managed_identity(request)
        if segments in (["devicelogin"], ["common", "oauth2", "deviceauth"]):
            return Response(
                200,
                b"<html><body><p>The sandbox approves device codes by itself, as its tenant admin, after the first poll. Nothing to do here.</p></body></html>",
                {"Content-Type": "text/html; charset=utf-8"},
            )
        routes = {
            ("GET", "v2.0/.well-known/openid-configuration"): self._openid_configuration,
            ("GET", "discovery/v2.0/keys"): self._keys,
            ("GET", "discovery/keys"): self._keys,
            ("POST", "oauth2/v2.0/token"): self._token,
            ("POST", "oauth2/v2.0/devicecode"): self._device_code,
        }
        route = routes.get((request.method, "/".join(segments[1:])))
        if route is None:
            return json_response(404, {"error": "not_found", "error_description": f"No such login endpoint: {request.method} {request.path}"})
        try:
            with self.sandbox.lock:
                tenant = self.sandbox.tenant(segments[0])
                if tenant is None:
                    error = "invalid_tenant" if request.method == "GET" else "invalid_request"
                    raise LoginError(
                        400,
                        error,
                        90002,
                        f"Tenant '{segments[0]}' not found. Check to make sure you have the correct "
                        "tenant ID and are signing in to the correct cloud. Check with your "
                        "subscription administrator, this may happen if there are no active "
                        "subscriptions for the tenant.",
                    )
                return route(tenant, request)
        except LoginError as error:
            return self._error_response(error, request)

    def fault_response(self, rule, request: Request) -> Response:
        error = LoginError(rule.status, rule.code or "temporarily_unavailable", 90033, rule.message or "A transient error has occurred. Please try again.")
        response = self._error_response(error, request)
        if rule.retry_after is not None:
            response.headers["Retry-After"] = str(rule.retry_after)
        return response

    def _error_response(self, error: LoginError, request: Request) -> Response:
        now = datetime.datetime.now(datetime.timezone.utc)
        timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id = request.request_id
        correlation_id = request.headers.get("client-request-id") or new_id()
        description = (
            f"AADSTS{error.code}: {error.description}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {now.strftime('%Y-%m-%d %H:%M:%S')}Z"
        )
        return json_response(
            error.status,
            {
                "error": error.error,
                "error_description": description,
                "error_codes": [error.code],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": f"{self.sandbox.authority_host}/error?code={error.code}",
            },
        )

    def _openid_configuration(self, tenant, request):
        base = f"{self.sandbox.authority_host}/{tenant.id}"
        return json_response(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{self.sandbox.graph_url}/oidc/userinfo",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "sandbox",
                "msgraph_host": self.sandbox.graph_url.split("://", 1)[1],
            },
        )

    def _keys(self, tenant, request):
        cert = self.sandbox.signing_key
        numbers = cert.key.public_key().public_numbers()
        return json_response(
            200,
            {
                "keys": [
                    {
                        "kty": "RSA",
                        "use": "sig",
                        "kid": self.key_id,
                        "x5t": self.key_id,
                        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
                        "x5c": [base64.b64encode(cert.cert_der).decode()],
                        "issuer": f"{self.sandbox.authority_host}/{tenant.id}/v2.0",
                    }
                ]
            },
        )

    def _form(self, request: Request) -> dict:
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise missing("grant_type")
        try:
            return {name: values[0] for name, values in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise missing("grant_type") from None

    def _token(self, tenant, request):
        form = self._form(request)
        self._basic_auth(request, form)
        grant = form.get("grant_type")
        if not grant:
            raise missing("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(tenant, form)
        if grant == DEVICE_CODE_GRANT:
            return self._redeem_device_code(tenant, form)
        if grant == "refresh_token":
            return self._refresh(tenant, form)
        raise LoginError(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")

    @staticmethod
    def _basic_auth(request: Request, form: dict) -> None:
        """client_secret_basic: client id and secret in the Authorization header."""
        header = request.headers.get("Authorization") or ""
        if header[:6].lower() != "basic ":
            return
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise invalid_client(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.") from None
        form.setdefault("client_id", unquote(client_id))
        form.setdefault("client_secret", unquote(secret))

    def _client_credentials(self, tenant, form):
        client_id = form.get("client_id")
        if not client_id:
            raise missing("client_id")
        app = tenant.app_by_app_id(client_id)
        if app is None and form.get("client_assertion") and client_id.lower() in tenant.federated_credentials:
            # A user-assigned managed identity with a federated credential signs in as a client of its own.
            sp = tenant.sp_by_app_id(client_id)
            app = {"appId": sp["appId"], "displayName": sp["displayName"], "keyCredentials": []}
        if app is None:
            raise self._unknown_app(tenant, client_id)
        if form.get("client_assertion"):
            self._check_assertion(tenant, app, form)
            credential_type = "2"
        elif form.get("client_secret"):
            self._check_secret(tenant, app, form["client_secret"])
            credential_type = "1"
        else:
            raise invalid_client(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        sp = tenant.sp_by_app_id(app["appId"])
        if sp is None:
            raise invalid_client(
                7000229,
                f"The client application {app['appId']} is missing service principal "
                f"in the tenant {tenant.id}. See instructions here: "
                "https://go.microsoft.com/fwlink/?linkid=2225119",
            )
        self._check_default_scope(tenant, form.get("scope"))
        roles = tenant.granted_roles(sp["id"], tenant.graph_sp_id)
        claims = {"appid": app["appId"], "app_displayname": app["displayName"], "appidacr": credential_type, "idtyp": "app", "oid": sp["id"], "sub": sp["id"]}
        if roles:
            claims["roles"] = roles
        return self._token_response(tenant, claims, scope=f"{self.sandbox.graph_url}/.default")

    def _managed_identity(self, request):
        if not hmac.compare_digest(request.headers.get("X-IDENTITY-HEADER") or "", self.sandbox.identity_header):
            return json_response(401, {"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER does not match IDENTITY_HEADER."})
        query = {name: values[0] for name, values in request.query.items()}
        if query.get("api-version") != "2019-08-01":
            return json_response(400, {"statusCode": 400, "message": f"api-version 2019-08-01 is required, got {query.get('api-version')!r}."})
        resource = (query.get("resource") or "").rstrip("/")
        if resource not in (self.sandbox.graph_url, catalog.GRAPH_APP_ID):
            return json_response(500, {"statusCode": 500, "message": f"AADSTS500011: The resource principal named {resource} was not found in the tenant."})
        client_id = query.get("client_id")
        if query.get("mi_res_id") or query.get("object_id"):
            return json_response(400, {"statusCode": 400, "message": "The sandbox names identities by client_id."})
        if client_id:
            tenant = next((t for t in self.sandbox.tenants.values() if t.identity.managed_identity_app_id == client_id.lower()), None)
        else:
            tenant = self.sandbox.default_tenant
        if tenant is None:
            return json_response(
                400, {"statusCode": 400, "message": f"No User Assigned or Delegated Managed Identity found for specified ClientId {client_id}."}
            )
        identity = tenant.identity
        sp = tenant.service_principals.get(identity.managed_identity_sp_id)
        roles = tenant.granted_roles(sp["id"], tenant.graph_sp_id)
        claims = {
            "appid": identity.managed_identity_app_id,
            "app_displayname": sp["displayName"],
            "appidacr": "2",
            "idtyp": "app",
            "oid": sp["id"],
            "sub": sp["id"],
            "xms_mirid": sp["alternativeNames"][1],
        }
        if roles:
            claims["roles"] = roles
        payload = json.loads(self._token_response(tenant, claims, scope="").body)
        return json_response(
            200,
            {
                "access_token": payload["access_token"],
                "expires_on": str(int(time.time()) + payload["expires_in"]),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": identity.managed_identity_app_id,
            },
        )

    def _check_default_scope(self, tenant, scope) -> None:
        if not scope:
            raise missing("scope")
        if not scope.endswith("/.default") or " " in scope.strip():
            raise LoginError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have "
                "a scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scope[: -len("/.default")]
        if resource.rstrip("/") not in (self.sandbox.graph_url, catalog.GRAPH_APP_ID):
            raise LoginError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant.display_name}. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant. You might "
                "have sent your authentication request to the wrong tenant.",
            )

    def _token_response(self, tenant, claims: dict, scope: str) -> Response:
        lifetime = self.sandbox.faults.token_lifetime_seconds
        lifetime = TOKEN_LIFETIME_SECONDS if lifetime is None else int(lifetime)
        now = int(time.time())
        issuer = f"{self.sandbox.authority_host}/{tenant.id}/"
        token = self._sign(
            {
                "aud": self.sandbox.graph_url,
                "iss": issuer,
                "iat": now,
                "nbf": now,
                "exp": now + lifetime,
                "idp": issuer,
                "tid": tenant.id,
                "uti": secrets.token_urlsafe(16),
                "ver": "1.0",
                **claims,
            }
        )
        return json_response(
            200,
            {"token_type": "Bearer", "scope": scope, "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token},
            {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )

    def _sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.sandbox.signing_key.key, algorithm="RS256", headers={"typ": "JWT", "kid": self.key_id, "x5t": self.key_id})

    def decode(self, token: str) -> dict:
        """Claims of an access token this sandbox issued for Graph; jwt.PyJWTError otherwise."""
        return jwt.decode(
            token, self.sandbox.signing_key.key.public_key(), algorithms=["RS256"], audience=self.sandbox.graph_url, options={"require": ["exp", "tid", "aud"]}
        )
