"""Application credentials on the emulated Graph: password credentials (generated on create,
addPassword, removePassword) under the tenant's app-management lifetime policy, which
/policies/defaultAppManagementPolicy shows, and certificate key credentials.
"""

from __future__ import annotations

import base64
import binascii
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .. import directory, shapes
from ..directory import add_years, iso, new_id, parse_time, utcnow
from ..odata import GraphError, bad_request
from ..tls import thumbprint
from ..web import Response
from .access import Call
from .resource import GraphResource, graph_json, method_not_allowed, no_content, unknown_segment
from .validate import check_properties, guid, invalid, required, string

DEFAULT_POLICY_ID = "00000000-0000-0000-0000-000000000000"
GENERATED_PASSWORD_FIELDS = ("keyId", "secretText", "customKeyIdentifier", "hint")


class Policies(GraphResource):
    """GET /policies/defaultAppManagementPolicy: the password lifetime restriction, if any."""

    SEGMENTS = {"policies": "policies"}

    def policies(self, call: Call, key, rest) -> Response:
        if key is not None or rest != ["defaultAppManagementPolicy"]:
            raise unknown_segment(rest[0] if rest else "policies")
        if call.method != "GET":
            raise method_not_allowed()
        self._require(call, "policies.read")
        self._query(call, None, collection=False)
        policy = call.tenant.password_policy
        restrictions = (
            []
            if policy is None
            else [
                {
                    "restrictionType": "passwordLifetime",
                    "maxLifetime": f"P{policy['max_lifetime_days']}D",
                    "restrictForAppsCreatedAfterDateTime": policy["restrict_after"],
                    "state": "enabled",
                }
            ]
        )
        return graph_json(
            200,
            {
                "@odata.context": self._context("policies/defaultAppManagementPolicy/$entity"),
                "id": DEFAULT_POLICY_ID,
                "deletedDateTime": None,
                "description": "Default tenant policy for app management restrictions on applications and service principals.",
                "displayName": "Default app management tenant policy",
                "isEnabled": bool(restrictions),
                "applicationRestrictions": {"passwordCredentials": restrictions, "keyCredentials": []},
                "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
            },
        )


def store_secrets(tenant: directory.Tenant, new_secrets) -> None:
    added = utcnow()
    for credential, secret in new_secrets:
        tenant.secrets[credential["keyId"]] = (directory.secret_digest(secret), added)


def new_password(tenant, app: dict, spec):
    """A server-generated password credential from what the client may choose: displayName and dates."""
    resource = "PasswordCredential"
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise invalid("passwordCredential", resource)
    for prop in spec:
        if prop in GENERATED_PASSWORD_FIELDS:
            raise bad_request(
                f"Property '{prop}' cannot be supplied for a new password credential: Graph "
                "generates keyId, secretText and hint; send only displayName, startDateTime and "
                "endDateTime."
            )
    check_properties(spec, ("displayName", "startDateTime", "endDateTime"), "passwordCredential")
    try:
        start = parse_time(spec["startDateTime"]) if spec.get("startDateTime") is not None else utcnow()
        end = parse_time(spec["endDateTime"]) if spec.get("endDateTime") is not None else add_years(start, 2)
    except ValueError:
        raise invalid("startDateTime/endDateTime", resource, " Use ISO 8601, e.g. 2027-01-01T00:00:00Z.") from None
    if end <= start:
        raise invalid("endDateTime", resource, " It must be later than startDateTime.")
    check_lifetime(tenant, app, start, end)
    secret = directory.new_secret_text()
    display_name = string(spec.get("displayName"), "displayName", resource)
    return shapes.password_credential(display_name, start, end, secret), secret


def check_lifetime(tenant, app: dict, start, end) -> None:
    policy = tenant.password_policy
    if policy is None or parse_time(app["createdDateTime"]) <= parse_time(policy["restrict_after"]):
        return
    if end - start > datetime.timedelta(days=policy["max_lifetime_days"]):
        message = f"Credential lifetime exceeds the max value allowed as per assigned policy '{DEFAULT_POLICY_ID}'."
        raise GraphError(
            400, "CredentialInvalidLifetimeAsPerAppPolicy", message, details=[{"code": "InvalidKeyEndDate", "message": message, "target": "EndDate"}]
        )


def add_password(resource: GraphResource, call: Call, app: dict) -> Response:
    """POST /applications/{id}/addPassword: the new credential, its secretText shown this once."""
    body = resource._body(call) if call.request.body.strip() else {}
    check_properties(body, ("passwordCredential",), "addPassword")
    credential, secret = new_password(call.tenant, app, body.get("passwordCredential"))
    app["passwordCredentials"].append(credential)
    store_secrets(call.tenant, [(credential, secret)])
    return graph_json(200, {"@odata.context": resource._context("microsoft.graph.passwordCredential"), **credential, "secretText": secret})


def remove_password(resource: GraphResource, call: Call, app: dict) -> Response:
    body = resource._body(call)
    check_properties(body, ("keyId",), "removePassword")
    if "keyId" not in body:
        raise required("keyId", "PasswordCredential")
    key_id = guid(body["keyId"], "keyId", "PasswordCredential")
    credential = next((c for c in app["passwordCredentials"] if c["keyId"].lower() == key_id), None)
    if credential is None:
        raise GraphError(404, "Request_ResourceNotFound", f"No password credential with keyId '{key_id}' exists on application '{app['id']}'.")
    app["passwordCredentials"].remove(credential)
    call.tenant.secrets.pop(credential["keyId"], None)
    return no_content()


def key_credentials(app: dict, value) -> list:
    """Certificates, replaced wholesale. A credential re-sent by keyId without its key keeps the stored one."""
    resource = "Application"
    if not isinstance(value, list):
        raise invalid("keyCredentials", resource)
    existing = {c["keyId"].lower(): c for c in app["keyCredentials"]}
    result, seen = [], set()
    allowed = ("customKeyIdentifier", "displayName", "endDateTime", "key", "keyId", "startDateTime", "type", "usage")
    for item in value:
        if not isinstance(item, dict):
            raise invalid("keyCredentials", resource)
        check_properties(item, allowed, "keyCredential")
        if item.get("type") != "AsymmetricX509Cert" or item.get("usage") != "Verify":
            raise invalid("keyCredentials", resource, " Supported: type AsymmetricX509Cert with usage Verify.")
        key_id = guid(item["keyId"], "keyId", "KeyCredential") if item.get("keyId") else new_id()
        encoded = item.get("key") or (existing.get(key_id) or {}).get("key")
        try:
            der = base64.b64decode(encoded or "", validate=True)
            certificate = x509.load_der_x509_certificate(der)
        except (ValueError, binascii.Error):
            raise invalid("keyCredentials.key", resource, " It must be a base64 DER X.509 certificate.") from None
        if key_id in seen:
            raise invalid("keyCredentials.keyId", resource, " Key ids must be unique.")
        seen.add(key_id)
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        try:
            if item.get("startDateTime"):
                start = parse_time(item["startDateTime"])
            if item.get("endDateTime"):
                end = parse_time(item["endDateTime"])
        except ValueError:
            raise invalid("keyCredentials.endDateTime", resource) from None
        if end > certificate.not_valid_after_utc:
            raise invalid("keyCredentials.endDateTime", resource, " It cannot be later than the certificate's expiry.")
        result.append(
            {
                "customKeyIdentifier": thumbprint(der, hashes.SHA1()),
                "displayName": string(item.get("displayName"), "displayName", "KeyCredential"),
                "endDateTime": iso(end),
                "key": base64.b64encode(der).decode(),
                "keyId": key_id,
                "startDateTime": iso(start),
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
            }
        )
    return result
