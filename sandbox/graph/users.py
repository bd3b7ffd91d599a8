"""Emulated Graph directory reads: /users, /me, /groups and a group's /members, rendered from the
tenant's compact user and group objects.
"""

from __future__ import annotations

from .. import directory
from ..directory import GROUP_DEFAULT, GROUP_PROPERTIES, USER_DEFAULT, USER_PROPERTIES, render
from ..odata import Schema, bad_request, not_found
from ..web import Response
from .access import DELEGATED_ALL, PERMISSIONS, Call, insufficient_privileges
from .resource import DIRECTORY_PAGE_SIZE, GraphResource, get_field, indexed, method_not_allowed, unknown_segment
from .validate import GUID

USER_SCHEMA = Schema(
    "user",
    frozenset({"id", "userPrincipalName", "mail", "displayName", "givenName", "surname", "accountEnabled", "userType", "mailNickname"}),
    frozenset({"proxyAddresses", "otherMails"}),
    tuple(USER_PROPERTIES),
)
GROUP_SCHEMA = Schema(
    "group",
    frozenset({"id", "displayName", "mail", "mailEnabled", "securityEnabled", "mailNickname"}),
    frozenset({"groupTypes", "proxyAddresses"}),
    tuple(GROUP_PROPERTIES),
)
MEMBER_SCHEMA = Schema("directoryObject", frozenset(), frozenset(), tuple(dict.fromkeys(tuple(USER_PROPERTIES) + tuple(GROUP_PROPERTIES))))


class Users(GraphResource):
    """/users, /me (delegated tokens only), /groups and /groups/{id}/members: read-only."""

    SEGMENTS = {"users": "users", "me": "me", "groups": "groups"}

    def users(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise method_not_allowed()
        self._require(call, "users.read")
        tenant = call.tenant
        if key is None:
            return self._list(call, USER_SCHEMA, tenant.users.entries, _get_user_field, _render_user, "users", page_size=DIRECTORY_PAGE_SIZE)
        if rest:
            raise unknown_segment(rest[0])
        user = tenant.user(key[1]) if key[0] in ("id", "userPrincipalName") else None
        if user is None:
            raise not_found(key[1])
        return self._entity(call, USER_SCHEMA, user, _render_user, "users")

    def me(self, call: Call, key, rest) -> Response:
        if not call.caller.delegated:
            raise bad_request("/me request is only valid with delegated authentication flow.", code="BadRequest")
        if key is not None or rest:
            raise unknown_segment(rest[0] if rest else "me")
        if call.method != "GET":
            raise method_not_allowed()
        if not {"User.Read", "User.ReadBasic.All", DELEGATED_ALL, *PERMISSIONS["users.read"][0]} & call.caller.permissions:
            raise insufficient_privileges()
        user = call.tenant.users.get(call.caller.user_id)
        if user is None:
            raise not_found(call.caller.user_id or "me")
        return self._entity(call, USER_SCHEMA, user, _render_user, "users")

    def groups(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise method_not_allowed()
        tenant = call.tenant
        if key is None:
            self._require(call, "groups.read")
            return self._list(call, GROUP_SCHEMA, tenant.groups.entries, _get_group_field, _render_group, "groups", page_size=DIRECTORY_PAGE_SIZE)
        if rest and (rest[0] != "members" or len(rest) > 1):
            raise unknown_segment(rest[-1] if rest[0] == "members" else rest[0])
        self._require(call, "members.read" if rest else "groups.read")
        if key[0] != "id" or not GUID.match(key[1]):
            raise bad_request(f"Invalid object identifier '{key[1]}'.")
        group = tenant.groups.get(key[1].lower())
        if group is None:
            raise not_found(key[1])
        if not rest:
            return self._entity(call, GROUP_SCHEMA, group, _render_group, "groups")
        members = [m for m in (tenant.users.get(i) or tenant.groups.get(i) for i in group.members) if m is not None]
        return self._list(call, MEMBER_SCHEMA, indexed(members), get_field, _render_member, "directoryObjects", page_size=DIRECTORY_PAGE_SIZE)


def _get_user_field(user, name: str):
    return USER_PROPERTIES[name](user)


def _get_group_field(group, name: str):
    return GROUP_PROPERTIES[name](group)


def _render_user(user, select=None) -> dict:
    return render(user, USER_PROPERTIES, USER_DEFAULT, select)


def _render_group(group, select=None) -> dict:
    return render(group, GROUP_PROPERTIES, GROUP_DEFAULT, select)


def _render_member(member, select=None) -> dict:
    if isinstance(member, directory.User):
        properties, default, odata_type = USER_PROPERTIES, USER_DEFAULT, "#microsoft.graph.user"
    else:
        properties, default, odata_type = GROUP_PROPERTIES, GROUP_DEFAULT, "#microsoft.graph.group"
    names = [name for name in select if name in properties] if select else default
    return {"@odata.type": odata_type, **{name: properties[name](member) for name in names}}
