"""Builders of the directory objects the unit tests feed the collection: Entra users and groups as
Microsoft Graph returns them, and modusCloud organization users as the Users API returns them."""

from sandbox import catalog

LICENSE = {"skuId": catalog.OFFICE_365_E3_SKU_ID, "disabledPlans": []}


def entra_user(mail, given="Ann", surname="Lee", aliases=(), enabled=True, licensed=True, user_type="Member", upn=None, object_id=None, **fields):
    """A Graph user; `aliases` become secondary SMTP proxy addresses; `fields` override any property."""
    local = (mail or upn or object_id or "x").split("@")[0]
    user = {
        "id": object_id or "id-" + local,
        "userPrincipalName": upn or "%s@contoso.onmicrosoft.com" % local,
        "displayName": "%s %s" % (given, surname),
        "givenName": given,
        "surname": surname,
        "mail": mail,
        "proxyAddresses": (["SMTP:" + mail] if mail else []) + ["smtp:" + alias for alias in aliases],
        "accountEnabled": enabled,
        "userType": user_type,
        "assignedLicenses": [dict(LICENSE)] if licensed else [],
    }
    user.update(fields)
    return user


def entra_group(name, mail=None, mail_enabled=False, security_enabled=True, unified=False, members=(), object_id=None):
    """A Graph group, with `members` (object ids) kept beside it for the fakes that answer /members."""
    return {
        "id": object_id or "group-" + name,
        "displayName": name,
        "mail": mail,
        "mailEnabled": mail_enabled,
        "securityEnabled": security_enabled,
        "groupTypes": ["Unified"] if unified else [],
        "members": list(members),
    }


def org_user(address, user_type="end_user", firstname="Ann", surname="Lee", aliases=(), active=True, uid=1000, **fields):
    """A modusCloud organization user; `fields` add or override any field."""
    user = {
        "primary_email": address,
        "uid": uid,
        "firstname": firstname,
        "surname": surname,
        "alias_emails": list(aliases),
        "is_active": active,
        "type": user_type,
        "is_billable": True,
        "odin_settings": {"can_impersonate": False, "is_imitable": False},
    }
    user.update(fields)
    return user
