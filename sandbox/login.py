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
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import secrets
import string
import time
from urllib.parse import parse_qs, unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from . import catalog
from .directory import new_id, opaque_id, parse_time, secret_digest, service_principal_for, utcnow
from .web import Request, Response, json_response
from .tls import b64url, thumbprint

TOKEN_LIFETIME_SECONDS = 3599
DEVICE_CODE_LIFETIME_SECONDS = 900
DEVICE_CODE_INTERVAL_SECONDS = 1  # Entra says 5; the sandbox keeps device-code tests short
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
USER_CODE_ALPHABET = string.ascii_uppercase + string.digits


class LoginError(Exception):
    """An AAD error: HTTP status, OAuth error, AADSTS number and its description."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


def _invalid_client(code: int, description: str) -> LoginError:
    return LoginError(401, "invalid_client", code, description)


def _missing(parameter: str) -> LoginError:
    return LoginError(400, "invalid_request", 900144,
                      f"The request body must contain the following parameter: '{parameter}'.")


class LoginService:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        cert = sandbox.signing_key
        self.key_id = b64url(bytes.fromhex(thumbprint(cert.cert_der, hashes.SHA1())))

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        segments = [unquote(part) for part in request.path.strip("/").split("/")]
        if segments == ["msi", "token"] and request.method == "GET":
            with self.sandbox.lock:
                return self._managed_identity(request)
        if segments in (["devicelogin"], ["common", "oauth2", "deviceauth"]):
            return Response(200, b"<html><body><p>The sandbox approves device codes by itself, as its tenant "
                                 b"admin, after the first poll. Nothing to do here.</p></body></html>",
                            {"Content-Type": "text/html; charset=utf-8"})
        routes = {("GET", "v2.0/.well-known/openid-configuration"): self._openid_configuration,
                  ("GET", "discovery/v2.0/keys"): self._keys,
                  ("GET", "discovery/keys"): self._keys,
                  ("POST", "oauth2/v2.0/token"): self._token,
                  ("POST", "oauth2/v2.0/devicecode"): self._device_code}
        route = routes.get((request.method, "/".join(segments[1:])))
        if route is None:
            return json_response(404, {"error": "not_found", "error_description":
                                       f"No such login endpoint: {request.method} {request.path}"})
        try:
            with self.sandbox.lock:
                tenant = self.sandbox.tenant(segments[0])
                if tenant is None:
                    error = "invalid_tenant" if request.method == "GET" else "invalid_request"
                    raise LoginError(400, error, 90002,
                                     f"Tenant '{segments[0]}' not found. Check to make sure you have the correct "
                                     "tenant ID and are signing in to the correct cloud. Check with your "
                                     "subscription administrator, this may happen if there are no active "
                                     "subscriptions for the tenant.")
                return route(tenant, request)
        except LoginError as error:
            return self._error_response(error, request)

    def fault_response(self, rule, request: Request) -> Response:
        error = LoginError(rule.status, rule.code or "temporarily_unavailable", 90033,
                           rule.message or "A transient error has occurred. Please try again.")
        response = self._error_response(error, request)
        if rule.retry_after is not None:
            response.headers["Retry-After"] = str(rule.retry_after)
        return response

    def _error_response(self, error: LoginError, request: Request) -> Response:
        now = datetime.datetime.now(datetime.timezone.utc)
        timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id = request.request_id
        correlation_id = request.headers.get("client-request-id") or new_id()
        description = (f"AADSTS{error.code}: {error.description}\r\nTrace ID: {trace_id}\r\n"
                       f"Correlation ID: {correlation_id}\r\nTimestamp: {now.strftime('%Y-%m-%d %H:%M:%S')}Z")
        return json_response(error.status, {
            "error": error.error, "error_description": description, "error_codes": [error.code],
            "timestamp": timestamp, "trace_id": trace_id, "correlation_id": correlation_id,
            "error_uri": f"{self.sandbox.authority_host}/error?code={error.code}"})

    # ------------------------------------------------------------------ discovery

    def _openid_configuration(self, tenant, request):
        base = f"{self.sandbox.authority_host}/{tenant.id}"
        return json_response(200, {
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
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                                 "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "sandbox",
            "msgraph_host": self.sandbox.graph_url.split("://", 1)[1],
        })

    def _keys(self, tenant, request):
        cert = self.sandbox.signing_key
        numbers = cert.key.public_key().public_numbers()
        return json_response(200, {"keys": [{
            "kty": "RSA", "use": "sig", "kid": self.key_id, "x5t": self.key_id,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "x5c": [base64.b64encode(cert.cert_der).decode()],
            "issuer": f"{self.sandbox.authority_host}/{tenant.id}/v2.0"}]})

    # ------------------------------------------------------------------ token endpoint

    def _form(self, request: Request) -> dict:
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise _missing("grant_type")
        try:
            return {name: values[0] for name, values in
                    parse_qs(request.body.decode(), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise _missing("grant_type") from None

    def _token(self, tenant, request):
        form = self._form(request)
        self._basic_auth(request, form)
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(tenant, form)
        if grant == DEVICE_CODE_GRANT:
            return self._redeem_device_code(tenant, form)
        if grant == "refresh_token":
            return self._refresh(tenant, form)
        raise LoginError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'.")

    @staticmethod
    def _basic_auth(request: Request, form: dict) -> None:
        """client_secret_basic: client id and secret in the Authorization header."""
        header = request.headers.get("Authorization") or ""
        if header[:6].lower() != "basic ":
            return
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _invalid_client(7000218, "The request body must contain the following parameter: "
                                           "'client_assertion' or 'client_secret'.") from None
        form.setdefault("client_id", unquote(client_id))
        form.setdefault("client_secret", unquote(secret))

    def _client_credentials(self, tenant, form):
        client_id = form.get("client_id")
        if not client_id:
            raise _missing("client_id")
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
            raise _invalid_client(7000218, "The request body must contain the following parameter: "
                                           "'client_assertion' or 'client_secret'.")
        sp = tenant.sp_by_app_id(app["appId"])
        if sp is None:
            raise _invalid_client(7000229, f"The client application {app['appId']} is missing service principal "
                                           f"in the tenant {tenant.id}. See instructions here: "
                                           "https://go.microsoft.com/fwlink/?linkid=2225119")
        self._check_default_scope(tenant, form.get("scope"))
        roles = tenant.granted_roles(sp["id"], tenant.graph_sp_id)
        claims = {"appid": app["appId"], "app_displayname": app["displayName"], "appidacr": credential_type,
                  "idtyp": "app", "oid": sp["id"], "sub": sp["id"]}
        if roles:
            claims["roles"] = roles
        return self._token_response(tenant, claims, scope=f"{self.sandbox.graph_url}/.default")

    def _unknown_app(self, tenant, client_id: str) -> LoginError:
        return LoginError(400, "unauthorized_client", 700016,
                          f"Application with identifier '{client_id}' was not found in the directory "
                          f"'{tenant.display_name}'. This can happen if the application has not been installed by "
                          "the administrator of the tenant or consented to by any user in the tenant. You may "
                          "have sent your authentication request to the wrong tenant.")

    def _check_secret(self, tenant, app, secret: str) -> None:
        digest = secret_digest(secret)
        now = utcnow()
        delay = datetime.timedelta(seconds=self.sandbox.faults.secret_delay_seconds)
        for credential in app["passwordCredentials"]:
            stored = tenant.secrets.get(credential["keyId"])
            if stored is None or not hmac.compare_digest(stored[0], digest):
                continue
            if parse_time(credential["endDateTime"]) <= now:
                raise _invalid_client(7000222, f"The provided client secret keys for app '{app['appId']}' are "
                                               "expired. Visit the Azure portal to create new keys for your app: "
                                               "https://aka.ms/NewClientSecret, or consider using certificate "
                                               "credentials for added security: https://aka.ms/certCreds.")
            # A secret that has not propagated yet, or is not valid yet, is simply not recognised.
            if now - stored[1] >= delay and parse_time(credential["startDateTime"]) <= now:
                return
            break
        raise _invalid_client(7000215, "Invalid client secret provided. Ensure the secret being sent in the request "
                                       "is the client secret value, not the client secret ID, for a secret added "
                                       f"to app '{app['appId']}'.")

    def _check_assertion(self, tenant, app, form) -> None:
        """RFC 7523 client authentication: a JWT signed with a certificate registered on the app, or a
        token of the sandbox's issuer that a federated credential of the app trusts."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise LoginError(400, "invalid_request", 700025,
                             f"client_assertion_type must be '{ASSERTION_TYPE}'.")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise LoginError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if unverified.get("iss") == self.sandbox.federation_issuer:
            self._check_federated(tenant, app, assertion, unverified)
            return
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "PS256"):
            raise _invalid_client(700027, f"Client assertion contains an invalid signature. [Reason - The "
                                          f"signing algorithm '{algorithm}' is not supported.]")
        presented, digest = (header.get("x5t#S256"), hashes.SHA256()) if header.get("x5t#S256") \
            else (header.get("x5t"), hashes.SHA1())
        presented_hex = _thumbprint_hex(presented)
        certificate = None
        for credential in app["keyCredentials"]:
            der = base64.b64decode(credential.get("key") or "")
            if der and presented_hex and thumbprint(der, digest) == presented_hex:
                certificate = x509.load_der_x509_certificate(der)
                break
        if certificate is None:
            raise _invalid_client(700027, "The certificate with identifier used to sign the client assertion is "
                                          "not registered on application. [Reason - The key was not found., "
                                          f"Thumbprint of key used by client: '{presented_hex or ''}', Please "
                                          "visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                                          f"configured keys for app Id '{app['appId']}'.]")
        if certificate.not_valid_after_utc <= utcnow():
            raise _invalid_client(700027, "Client assertion contains an invalid signature. [Reason - The key used "
                                          f"is expired., Thumbprint of key used by client: '{presented_hex}']")
        try:
            claims = jwt.decode(assertion, certificate.public_key(), algorithms=[algorithm],
                                options={"require": ["exp", "aud", "iss", "sub"], "verify_aud": False}, leeway=300)
        except jwt.InvalidSignatureError:
            raise _invalid_client(700027, "Client assertion contains an invalid signature. [Reason - The provided "
                                          "signature value did not match the expected signature value., Thumbprint "
                                          f"of key used by client: '{presented_hex}']") from None
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise _invalid_client(700024, "Client assertion is not within its valid time range. Current time: "
                                          f"{utcnow().isoformat()}.") from None
        except jwt.PyJWTError:
            raise LoginError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if claims.get("iss") != app["appId"] or claims.get("sub") != app["appId"] or \
                form.get("client_id", app["appId"]) != app["appId"]:
            raise _invalid_client(700021, "Client assertion application identifier doesn't match 'client_id' "
                                          "parameter.")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        accepted = {f"{self.sandbox.authority_host}/{name}/oauth2/v2.0/token".lower()
                    for name in [tenant.id, *tenant.domain_names()]}
        if not any(str(audience).lower() in accepted for audience in audiences):
            raise _invalid_client(50012, "Client assertion audience claim does not match Realm issuer. The "
                                         "audience must be the tenant's token endpoint.")

    def _check_federated(self, tenant, app, assertion, unverified) -> None:
        """Workload identity federation: the issuer's signature, its validity, and a federated credential of the
        app for this subject and audience."""
        credentials = tenant.federated_credentials.get(app["appId"]) or []
        match = next((c for c in credentials if c["subject"] == unverified.get("sub")), None)
        if match is None:
            raise _invalid_client(70021, "No matching federated identity record found for presented assertion. "
                                         f"Assertion Issuer: '{unverified.get('iss')}'. Assertion Subject: "
                                         f"'{unverified.get('sub')}'. Assertion Audience: '{unverified.get('aud')}'.")
        try:
            jwt.decode(assertion, self.sandbox.signing_key.key.public_key(), algorithms=["RS256"],
                       audience=match["audiences"], issuer=self.sandbox.federation_issuer,
                       options={"require": ["exp", "iss", "sub", "aud"]})
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise _invalid_client(700024, "Client assertion is not within its valid time range. Current time: "
                                          f"{utcnow().isoformat()}.") from None
        except jwt.InvalidAudienceError:
            raise _invalid_client(700212, "No matching federated identity record found for presented assertion "
                                          f"audience '{unverified.get('aud')}'.") from None
        except jwt.PyJWTError:
            raise _invalid_client(700027, "Client assertion contains an invalid signature. [Reason - The provided "
                                          "signature value did not match the expected signature value.]") from None

    def federated_token(self, tenant, lifetime: int) -> str:
        """What the platform (a Kubernetes service account, a CI runner) gives a workload: a token of the
        sandbox's issuer for the tenant's workload identity app."""
        identity = tenant.identity
        now = int(time.time())
        return jwt.encode({"iss": self.sandbox.federation_issuer, "sub": identity.federated_subject,
                           "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + lifetime,
                           "kubernetes.io": {"namespace": identity.name}},
                          self.sandbox.signing_key.key, algorithm="RS256", headers={"kid": "sandbox-federation"})

    # ------------------------------------------------------------------ managed identity (App Service form)

    def _managed_identity(self, request):
        if not hmac.compare_digest(request.headers.get("X-IDENTITY-HEADER") or "", self.sandbox.identity_header):
            return json_response(401, {"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER does not "
                                                                     "match IDENTITY_HEADER."})
        query = {name: values[0] for name, values in request.query.items()}
        if query.get("api-version") != "2019-08-01":
            return json_response(400, {"statusCode": 400, "message": "api-version 2019-08-01 is required, got "
                                                                     f"{query.get('api-version')!r}."})
        resource = (query.get("resource") or "").rstrip("/")
        if resource not in (self.sandbox.graph_url, catalog.GRAPH_APP_ID):
            return json_response(500, {"statusCode": 500, "message": f"AADSTS500011: The resource principal named "
                                                                     f"{resource} was not found in the tenant."})
        client_id = query.get("client_id")
        if query.get("mi_res_id") or query.get("object_id"):
            return json_response(400, {"statusCode": 400, "message": "The sandbox names identities by client_id."})
        if client_id:
            tenant = next((t for t in self.sandbox.tenants.values()
                           if t.identity.managed_identity_app_id == client_id.lower()), None)
        else:
            tenant = self.sandbox.default_tenant
        if tenant is None:
            return json_response(400, {"statusCode": 400, "message": "No User Assigned or Delegated Managed Identity "
                                                                     f"found for specified ClientId {client_id}."})
        identity = tenant.identity
        sp = tenant.service_principals.get(identity.managed_identity_sp_id)
        roles = tenant.granted_roles(sp["id"], tenant.graph_sp_id)
        claims = {"appid": identity.managed_identity_app_id, "app_displayname": sp["displayName"], "appidacr": "2",
                  "idtyp": "app", "oid": sp["id"], "sub": sp["id"], "xms_mirid": sp["alternativeNames"][1]}
        if roles:
            claims["roles"] = roles
        payload = json.loads(self._token_response(tenant, claims, scope="").body)
        return json_response(200, {"access_token": payload["access_token"],
                                   "expires_on": str(int(time.time()) + payload["expires_in"]),
                                   "resource": resource, "token_type": "Bearer",
                                   "client_id": identity.managed_identity_app_id})

    def _check_default_scope(self, tenant, scope) -> None:
        if not scope:
            raise _missing("scope")
        if not scope.endswith("/.default") or " " in scope.strip():
            raise LoginError(400, "invalid_scope", 1002012,
                             f"The provided value for scope {scope} is not valid. Client credential flows must have "
                             "a scope value with /.default suffixed to the resource identifier (application ID URI).")
        resource = scope[:-len("/.default")]
        if resource.rstrip("/") not in (self.sandbox.graph_url, catalog.GRAPH_APP_ID):
            raise LoginError(400, "invalid_resource", 500011,
                             f"The resource principal named {resource} was not found in the tenant named "
                             f"{tenant.display_name}. This can happen if the application has not been installed by "
                             "the administrator of the tenant or consented to by any user in the tenant. You might "
                             "have sent your authentication request to the wrong tenant.")

    # ------------------------------------------------------------------ device code (public client)

    def _public_client(self, tenant, client_id):
        """The public clients of a tenant: Microsoft Graph Command Line Tools, and its own apps that
        allow public client flows (isFallbackPublicClient)."""
        if not client_id:
            raise _missing("client_id")
        sp = tenant.sp_by_app_id(client_id)
        app = tenant.app_by_app_id(client_id)
        if app is not None and app.get("isFallbackPublicClient"):
            return app["appId"], app["displayName"]
        if app is None and sp is not None and client_id == catalog.GRAPH_CLI_APP_ID:
            return sp["appId"], sp["displayName"]
        if app is None:
            raise self._unknown_app(tenant, client_id)
        raise _invalid_client(7000218, "The request body must contain the following parameter: "
                                       "'client_assertion' or 'client_secret'.")

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
                raise LoginError(400, "invalid_resource", 500011,
                                 f"The resource principal named {resource} was not found in the tenant named "
                                 f"{tenant.display_name}.")
            if name == ".default":
                wants_default = True
            elif name in known:
                names.append(name)
            else:
                raise LoginError(400, "invalid_scope", 70011,
                                 f"The provided value for the input parameter 'scope' is not valid. The scope "
                                 f"{item} is not valid.")
        if wants_default:
            sp = tenant.sp_by_app_id(client_id)
            for grant in tenant.grants.values():
                if sp is not None and grant["clientId"] == sp["id"] and grant["resourceId"] == graph["id"] and \
                        grant["principalId"] in (None, tenant.admin_user_id):
                    names.extend(grant["scope"].split())
        names = sorted(set(names))
        if not names:
            raise LoginError(400, "invalid_grant", 65001,
                             f"The user or administrator has not consented to use the application with ID "
                             f"'{client_id}'. Send an interactive authorization request for this user and resource.")
        return names

    def _device_code(self, tenant, request):
        form = self._form(request)
        client_id, _ = self._public_client(tenant, form.get("client_id"))
        scopes = self._delegated_scopes(tenant, client_id, form.get("scope"))
        if tenant.admin_user_id is None:
            raise LoginError(400, "invalid_request", 50034, "The tenant has no admin user to approve the sign-in.")
        user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
        device_code = secrets.token_urlsafe(48)
        tenant.device_codes[device_code] = {"client_id": client_id, "scopes": scopes, "polls": 0,
                                            "oidc": [s for s in (form.get("scope") or "").split() if s in OIDC_SCOPES],
                                            "expires": time.time() + DEVICE_CODE_LIFETIME_SECONDS}
        verification_uri = f"{self.sandbox.authority_host}/devicelogin"
        return json_response(200, {
            "user_code": user_code, "device_code": device_code, "verification_uri": verification_uri,
            "expires_in": DEVICE_CODE_LIFETIME_SECONDS, "interval": DEVICE_CODE_INTERVAL_SECONDS,
            "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
                       f"{user_code} to authenticate."})

    def _redeem_device_code(self, tenant, form):
        device_code = form.get("device_code")
        if not device_code:
            raise _missing("device_code")
        flow = tenant.device_codes.get(device_code)
        if flow is None or flow["client_id"] != form.get("client_id"):
            raise LoginError(400, "invalid_grant", 70000,
                             "The provided value for the input parameter 'device_code' is not valid.")
        if time.time() > flow["expires"]:
            del tenant.device_codes[device_code]
            raise LoginError(400, "expired_token", 70020, "The provided value for the input parameter "
                                                          "'device_code' is not valid. This device code has expired.")
        flow["polls"] += 1
        if flow["polls"] == 1:
            raise LoginError(400, "authorization_pending", 70016,
                             "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
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
        grant = next((g for g in tenant.grants.values() if g["clientId"] == sp["id"]
                      and g["resourceId"] == tenant.graph_sp_id and g["principalId"] == tenant.admin_user_id), None)
        if grant is None:
            grant = {"clientId": sp["id"], "consentType": "Principal", "id": opaque_id(),
                     "principalId": tenant.admin_user_id, "resourceId": tenant.graph_sp_id, "scope": ""}
            tenant.grants.add(grant["id"], grant)
        grant["scope"] = " ".join(sorted(set(grant["scope"].split()) | set(scopes)))

    def _refresh(self, tenant, form):
        session = tenant.refresh_tokens.get(form.get("refresh_token") or "")
        if session is None or session["client_id"] != form.get("client_id"):
            raise LoginError(400, "invalid_grant", 9002313,
                             "Invalid request. Request is malformed or invalid. The refresh token is not valid.")
        return self._user_token(tenant, session["client_id"], session["scopes"], session["oidc"],
                                refresh_token=form["refresh_token"])

    def _user_token(self, tenant, client_id, scopes, oidc, refresh_token=None):
        user = tenant.users.get(tenant.admin_user_id)
        if user is None:
            raise LoginError(400, "invalid_grant", 50034, "The signed-in user no longer exists in the tenant.")
        claims = {"appid": client_id, "appidacr": "0", "idtyp": "user", "name": user.display_name, "oid": user.id,
                  "sub": user.id, "upn": user.user_principal_name, "unique_name": user.user_principal_name,
                  "scp": " ".join(scopes + [s for s in oidc if s != "offline_access"])}
        response = self._token_response(tenant, claims, scope=" ".join(
            [f"{self.sandbox.graph_url}/{name}" for name in scopes] + oidc))
        payload = json.loads(response.body)
        if "offline_access" in oidc:
            token = refresh_token or secrets.token_urlsafe(64)
            tenant.refresh_tokens[token] = {"client_id": client_id, "scopes": scopes, "oidc": oidc}
            payload["refresh_token"] = token
        if "openid" in oidc:
            now = int(time.time())
            payload["id_token"] = self._sign({
                "aud": client_id, "iss": f"{self.sandbox.authority_host}/{tenant.id}/v2.0", "iat": now, "nbf": now,
                "exp": now + TOKEN_LIFETIME_SECONDS, "name": user.display_name, "oid": user.id,
                "preferred_username": user.user_principal_name, "sub": user.id, "tid": tenant.id, "ver": "2.0"})
            payload["client_info"] = b64url(json.dumps({"uid": user.id, "utid": tenant.id}).encode())
        return json_response(200, payload)

    # ------------------------------------------------------------------ tokens

    def _token_response(self, tenant, claims: dict, scope: str) -> Response:
        lifetime = self.sandbox.faults.token_lifetime_seconds
        lifetime = TOKEN_LIFETIME_SECONDS if lifetime is None else int(lifetime)
        now = int(time.time())
        issuer = f"{self.sandbox.authority_host}/{tenant.id}/"
        token = self._sign({"aud": self.sandbox.graph_url, "iss": issuer, "iat": now, "nbf": now,
                            "exp": now + lifetime, "idp": issuer, "tid": tenant.id, "uti": secrets.token_urlsafe(16),
                            "ver": "1.0", **claims})
        return json_response(200, {"token_type": "Bearer", "scope": scope, "expires_in": lifetime,
                                   "ext_expires_in": lifetime, "access_token": token},
                             {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def _sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.sandbox.signing_key.key, algorithm="RS256",
                          headers={"typ": "JWT", "kid": self.key_id, "x5t": self.key_id})

    def decode(self, token: str) -> dict:
        """Claims of an access token this sandbox issued for Graph; jwt.PyJWTError otherwise."""
        return jwt.decode(token, self.sandbox.signing_key.key.public_key(), algorithms=["RS256"],
                          audience=self.sandbox.graph_url, options={"require": ["exp", "tid", "aud"]})


def _thumbprint_hex(encoded) -> str | None:
    if not isinstance(encoded, str):
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).hex().upper()
    except ValueError:
        return None
