"""Graph-shaped objects as the sandbox creates them: applications and service principals with every property
Graph returns, app role assignments, password and certificate credentials."""

from __future__ import annotations

import base64
import datetime

from .directory import iso, mirrored_app_properties, new_id, opaque_id
from .tls import KeyPair


def new_application(publisher_domain: str, display_name: str, created: datetime.datetime, *, object_id: str | None = None, app_id: str | None = None) -> dict:
    """A v1.0 application with every property Graph returns, at its default value."""
    return {
        "id": object_id or new_id(),
        "deletedDateTime": None,
        "appId": app_id or new_id(),
        "applicationTemplateId": None,
        "disabledByMicrosoftStatus": None,
        "createdDateTime": iso(created),
        "displayName": display_name,
        "description": None,
        "groupMembershipClaims": None,
        "identifierUris": [],
        "isDeviceOnlyAuthSupported": None,
        "isFallbackPublicClient": None,
        "nativeAuthenticationApisEnabled": None,
        "notes": None,
        "publisherDomain": publisher_domain,
        "serviceManagementReference": None,
        "signInAudience": "AzureADandPersonalMicrosoftAccount",
        "tags": [],
        "tokenEncryptionKeyId": None,
        "uniqueName": None,
        "samlMetadataUrl": None,
        "defaultRedirectUri": None,
        "certification": None,
        "optionalClaims": None,
        "servicePrincipalLockConfiguration": None,
        "requestSignatureVerification": None,
        "addIns": [],
        "api": {
            "acceptMappedClaims": None,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": None,
            "oauth2PermissionScopes": [],
            "preAuthorizedApplications": [],
        },
        "appRoles": [],
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None, "termsOfServiceUrl": None},
        "keyCredentials": [],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
        "web": {
            "homePageUrl": None,
            "logoutUrl": None,
            "redirectUris": [],
            "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
            "redirectUriSettings": [],
        },
        "spa": {"redirectUris": []},
    }


def new_service_principal(
    app_id: str, display_name: str, *, owner_tenant_id: str, sign_in_audience: str, object_id: str | None = None, app_roles=(), scopes=(), names=()
) -> dict:
    return {
        "id": object_id or new_id(),
        "deletedDateTime": None,
        "accountEnabled": True,
        "alternativeNames": [],
        "appDisplayName": display_name,
        "appDescription": None,
        "appId": app_id,
        "applicationTemplateId": None,
        "appOwnerOrganizationId": owner_tenant_id,
        "appRoleAssignmentRequired": False,
        "description": None,
        "disabledByMicrosoftStatus": None,
        "displayName": display_name,
        "homepage": None,
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": [],
        "servicePrincipalNames": [app_id, *names],
        "servicePrincipalType": "Application",
        "signInAudience": sign_in_audience,
        "tags": [],
        "tokenEncryptionKeyId": None,
        "samlSingleSignOnSettings": None,
        "addIns": [],
        "appRoles": list(app_roles),
        "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None, "termsOfServiceUrl": None},
        "keyCredentials": [],
        "oauth2PermissionScopes": list(scopes),
        "passwordCredentials": [],
        "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
    }


def service_principal_for(tenant, app: dict) -> dict:
    """The enterprise app of one of the tenant's own app registrations."""
    sp = new_service_principal(app["appId"], app["displayName"], owner_tenant_id=tenant.id, sign_in_audience=app["signInAudience"])
    sp.update(mirrored_app_properties(app))
    sp["tags"] = list(app["tags"])
    return sp


def new_assignment(principal, principal_type: str, resource: dict, app_role_id: str, created: datetime.datetime) -> dict:
    principal_name = principal["displayName"] if isinstance(principal, dict) else principal.display_name
    principal_id = principal["id"] if isinstance(principal, dict) else principal.id
    return {
        "id": opaque_id(),
        "deletedDateTime": None,
        "appRoleId": app_role_id,
        "createdDateTime": iso(created),
        "principalDisplayName": principal_name,
        "principalId": principal_id,
        "principalType": principal_type,
        "resourceDisplayName": resource["displayName"],
        "resourceId": resource["id"],
    }


def password_credential(display_name, start: datetime.datetime, end: datetime.datetime, secret_text: str, key_id: str | None = None) -> dict:
    return {
        "customKeyIdentifier": None,
        "displayName": display_name,
        "endDateTime": iso(end),
        "hint": secret_text[:3],
        "keyId": key_id or new_id(),
        "secretText": None,
        "startDateTime": iso(start),
    }


def certificate_credential(cert: KeyPair, display_name: str) -> dict:
    return {
        "customKeyIdentifier": cert.sha1_thumbprint,
        "displayName": display_name,
        "endDateTime": iso(cert.cert.not_valid_after_utc),
        "key": base64.b64encode(cert.cert_der).decode(),
        "keyId": new_id(),
        "startDateTime": iso(cert.cert.not_valid_before_utc),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }
