"""Builders of the directory objects the unit tests feed the collection: Entra users and groups as
Microsoft Graph returns them, modusCloud organization users as the Users API returns them, and the sync switches."""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import SWITCHES
from ansible_collections.moduscloud.azure_sync.plugins.modules import moduscloud_import_settings as import_settings_module
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


def entra_group(name, mail=None, mail_enabled=False, security_enabled=True, unified=False, members=(), object_id=None, **fields):
    """A Graph group, with `members` (object ids) kept beside it for the fakes that answer /members; `fields` add or
    override any property."""
    group = {
        "id": object_id or "group-" + name,
        "displayName": name,
        "mail": mail,
        "mailEnabled": mail_enabled,
        "securityEnabled": security_enabled,
        "groupTypes": ["Unified"] if unified else [],
        "members": list(members),
    }
    group.update(fields)
    return group


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


# The sync switches the rules' tests were written with, every one on (the module's defaults leave two off).
WRITTEN_WITH_SWITCHES = (
    "sync_active_users",
    "sync_distribution_groups",
    "sync_security_groups",
    "add_users",
    "update_users",
    "remove_users",
    "add_groups",
    "update_groups",
    "remove_groups",
)


def sync_switches():
    """Every switch of _sync.SWITCHES: on for those the tests were written with, and a switch added since at
    moduscloud_import_settings' default, so that a new rule leaves the older tests as they were."""
    defaults = import_settings_module.argument_spec()
    return dict((switch, switch in WRITTEN_WITH_SWITCHES or defaults[switch]["default"]) for switch in SWITCHES)
