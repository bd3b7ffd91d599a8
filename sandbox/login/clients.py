"""How the emulated Entra login endpoint authenticates a confidential client: a client secret, a
client assertion signed with a certificate registered on the app, or a workload identity's token
trusted by a federated credential of the app. A mixin of LoginService (service.py).
"""

from __future__ import annotations

import base64
import datetime
import hmac
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..directory import parse_time, secret_digest, utcnow
from ..tls import thumbprint
from .errors import LoginError, invalid_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ClientAuthentication:
    def _unknown_app(self, tenant, client_id: str) -> LoginError:
        return LoginError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant.display_name}'. This can happen if the application has not been installed by "
            "the administrator of the tenant or consented to by any user in the tenant. You may "
            "have sent your authentication request to the wrong tenant.",
        )

    def _check_secret(self, tenant, app, secret: str) -> None:
        digest = secret_digest(secret)
        now = utcnow()
        delay = datetime.timedelta(seconds=self.sandbox.faults.secret_delay_seconds)
        for credential in app["passwordCredentials"]:
            stored = tenant.secrets.get(credential["keyId"])
            if stored is None or not hmac.compare_digest(stored[0], digest):
                continue
            if parse_time(credential["endDateTime"]) <= now:
                raise invalid_client(
                    7000222,
                    f"The provided client secret keys for app '{app['appId']}' are "
                    "expired. Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds.",
                )
            # A secret that has not propagated yet, or is not valid yet, is simply not recognised.
            if now - stored[1] >= delay and parse_time(credential["startDateTime"]) <= now:
                return
            break
        raise invalid_client(
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request "
            "is the client secret value, not the client secret ID, for a secret added "
            f"to app '{app['appId']}'.",
        )

    def _check_assertion(self, tenant, app, form) -> None:
        """RFC 7523 client authentication: a JWT signed with a certificate registered on the app, or a
        token of the sandbox's issuer that a federated credential of the app trusts."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise LoginError(400, "invalid_request", 700025, f"client_assertion_type must be '{ASSERTION_TYPE}'.")
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
            raise invalid_client(700027, f"Client assertion contains an invalid signature. [Reason - The signing algorithm '{algorithm}' is not supported.]")
        presented, digest = (header.get("x5t#S256"), hashes.SHA256()) if header.get("x5t#S256") else (header.get("x5t"), hashes.SHA1())
        presented_hex = _thumbprint_hex(presented)
        certificate = None
        for credential in app["keyCredentials"]:
            der = base64.b64decode(credential.get("key") or "")
            if der and presented_hex and thumbprint(der, digest) == presented_hex:
                certificate = x509.load_der_x509_certificate(der)
                break
        if certificate is None:
            raise invalid_client(
                700027,
                "The certificate with identifier used to sign the client assertion is "
                "not registered on application. [Reason - The key was not found., "
                f"Thumbprint of key used by client: '{presented_hex or ''}', Please "
                "visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                f"configured keys for app Id '{app['appId']}'.]",
            )
        if certificate.not_valid_after_utc <= utcnow():
            raise invalid_client(
                700027,
                f"Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '{presented_hex}']",
            )
        try:
            claims = jwt.decode(
                assertion, certificate.public_key(), algorithms=[algorithm], options={"require": ["exp", "aud", "iss", "sub"], "verify_aud": False}, leeway=300
            )
        except jwt.InvalidSignatureError:
            raise invalid_client(
                700027,
                "Client assertion contains an invalid signature. [Reason - The provided "
                "signature value did not match the expected signature value., Thumbprint "
                f"of key used by client: '{presented_hex}']",
            ) from None
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise invalid_client(700024, f"Client assertion is not within its valid time range. Current time: {utcnow().isoformat()}.") from None
        except jwt.PyJWTError:
            raise LoginError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if claims.get("iss") != app["appId"] or claims.get("sub") != app["appId"] or form.get("client_id", app["appId"]) != app["appId"]:
            raise invalid_client(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        accepted = {f"{self.sandbox.authority_host}/{name}/oauth2/v2.0/token".lower() for name in [tenant.id, *tenant.domain_names()]}
        if not any(str(audience).lower() in accepted for audience in audiences):
            raise invalid_client(50012, "Client assertion audience claim does not match Realm issuer. The audience must be the tenant's token endpoint.")

    def _check_federated(self, tenant, app, assertion, unverified) -> None:
        """Workload identity federation: the issuer's signature, its validity, and a federated credential of the
        app for this subject and audience."""
        credentials = tenant.federated_credentials.get(app["appId"]) or []
        match = next((c for c in credentials if c["subject"] == unverified.get("sub")), None)
        if match is None:
            raise invalid_client(
                70021,
                "No matching federated identity record found for presented assertion. "
                f"Assertion Issuer: '{unverified.get('iss')}'. Assertion Subject: "
                f"'{unverified.get('sub')}'. Assertion Audience: '{unverified.get('aud')}'.",
            )
        try:
            jwt.decode(
                assertion,
                self.sandbox.signing_key.key.public_key(),
                algorithms=["RS256"],
                audience=match["audiences"],
                issuer=self.sandbox.federation_issuer,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise invalid_client(700024, f"Client assertion is not within its valid time range. Current time: {utcnow().isoformat()}.") from None
        except jwt.InvalidAudienceError:
            raise invalid_client(700212, f"No matching federated identity record found for presented assertion audience '{unverified.get('aud')}'.") from None
        except jwt.PyJWTError:
            raise invalid_client(
                700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]"
            ) from None

    def federated_token(self, tenant, lifetime: int) -> str:
        """What the platform (a Kubernetes service account, a CI runner) gives a workload: a token of the
        sandbox's issuer for the tenant's workload identity app."""
        identity = tenant.identity
        now = int(time.time())
        return jwt.encode(
            {
                "iss": self.sandbox.federation_issuer,
                "sub": identity.federated_subject,
                "aud": "api://AzureADTokenExchange",
                "iat": now,
                "nbf": now,
                "exp": now + lifetime,
                "kubernetes.io": {"namespace": identity.name},
            },
            self.sandbox.signing_key.key,
            algorithm="RS256",
            headers={"kid": "sandbox-federation"},
        )


def _thumbprint_hex(encoded) -> str | None:
    if not isinstance(encoded, str):
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).hex().upper()
    except ValueError:
        return None
