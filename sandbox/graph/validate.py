"""Checks of the properties a client sends to the emulated Graph: each answers Graph's 400 for a
value it does not accept, and returns the value as stored.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urlsplit

from ..odata import GraphError, bad_request

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def invalid(prop: str, resource: str, detail: str = "") -> GraphError:
    return bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.{detail}")


def required(prop: str, resource: str) -> GraphError:
    return bad_request(f"A value is required for property '{prop}' of resource '{resource}'.")


def check_properties(body: dict, allowed, type_name: str, read_only=()) -> None:
    for key in body:
        if key.startswith("@odata.") and "@odata.bind" not in key:
            continue
        if key in read_only:
            raise bad_request(f"Property '{key}' is read-only and cannot be set.")
        if key not in allowed:
            raise bad_request(f"Property '{key}' does not exist on type 'microsoft.graph.{type_name}'.")


def string(value, prop, resource, *, nullable=True, max_length=None):
    if value is None and nullable:
        return None
    if not isinstance(value, str) or (max_length and len(value) > max_length):
        raise invalid(prop, resource)
    return value


def boolean(value, prop, resource, *, nullable=True):
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise invalid(prop, resource)
    return value


def strings(value, prop, resource):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(prop, resource)
    return list(value)


def guid(value, prop, resource) -> str:
    if not isinstance(value, str) or not GUID.match(value):
        raise invalid(prop, resource)
    return value.lower()


def guid_or_null(value, prop, resource):
    return None if value is None else guid(value, prop, resource)


def one_of(allowed: tuple):
    def check(value, prop, resource):
        if value not in allowed:
            raise invalid(prop, resource, f" Allowed: {', '.join(str(item) for item in allowed)}.")
        return value

    return check


def object_or_null(value, prop, resource):
    if value is not None and not isinstance(value, dict):
        raise invalid(prop, resource)
    return copy.deepcopy(value)


def any_list(value, prop, resource):
    if not isinstance(value, list):
        raise invalid(prop, resource)
    return copy.deepcopy(value)


def merge(current: dict, value, prop, resource, validators: dict) -> dict:
    """Complex properties merge one level deep: sent keys replace, others stay."""
    if not isinstance(value, dict):
        raise invalid(prop, resource)
    merged = dict(current or {})
    for key, item in value.items():
        if key.startswith("@odata."):
            continue
        if key not in validators:
            raise bad_request(f"Property '{key}' does not exist on the complex type of property '{prop}'.")
        merged[key] = validators[key](item, f"{prop}.{key}", resource)
    return merged


def redirect_uris(value, prop, resource, *, any_scheme=False):
    uris = strings(value, prop, resource)
    for uri in uris:
        parts = urlsplit(uri)
        if any_scheme and parts.scheme and (parts.netloc or parts.path):
            continue
        if len(uri) <= 256 and parts.netloc and (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))):
            continue
        allowed = "an absolute URI" if any_scheme else "an absolute https:// URI or http://localhost"
        raise invalid(prop, resource, f" '{uri}' is not {allowed}.")
    return uris


def url_or_null(value, prop, resource):
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(prop, resource)
    return value
