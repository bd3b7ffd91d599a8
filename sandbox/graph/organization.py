"""Emulated Graph tenant reads: /organization and /domains."""

from __future__ import annotations

from ..directory import iso
from ..odata import Schema, not_found
from ..web import Response
from .access import Call
from .resource import DIRECTORY_PAGE_SIZE, GraphResource, get_field, graph_json, indexed, method_not_allowed, pick, unknown_segment

DOMAIN_PROPERTIES = (
    "authenticationType",
    "availabilityStatus",
    "id",
    "isAdminManaged",
    "isDefault",
    "isInitial",
    "isRoot",
    "isVerified",
    "passwordNotificationWindowInDays",
    "passwordValidityPeriodInDays",
    "supportedServices",
    "state",
)
DOMAIN_SCHEMA = Schema("domain", frozenset(), frozenset(), DOMAIN_PROPERTIES)


class Organization(GraphResource):
    """/organization and /domains: read-only."""

    SEGMENTS = {"domains": "domains", "organization": "organization"}

    def domains(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise method_not_allowed()
        self._require(call, "domains.read")
        domains = [_render_domain(d) for d in call.tenant.domains]
        if key is None:
            return self._list(call, DOMAIN_SCHEMA, indexed(domains), get_field, pick, "domains", page_size=DIRECTORY_PAGE_SIZE)
        if rest:
            raise unknown_segment(rest[0])
        domain = next((d for d in domains if d["id"].lower() == key[1].lower()), None)
        if domain is None:
            raise not_found(key[1])
        return self._entity(call, DOMAIN_SCHEMA, domain, pick, "domains")

    def organization(self, call: Call, key, rest) -> Response:
        if call.method != "GET":
            raise method_not_allowed()
        self._require(call, "organization.read")
        tenant = call.tenant
        organization = {
            "id": tenant.id,
            "deletedDateTime": None,
            "businessPhones": [],
            "city": None,
            "country": None,
            "countryLetterCode": "US",
            "createdDateTime": iso(tenant.created),
            "displayName": tenant.display_name,
            "tenantType": "AAD",
            "verifiedDomains": [
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": d["isDefault"],
                    "isInitial": d["isInitial"],
                    "name": d["id"],
                    "type": "Managed",
                }
                for d in tenant.domains
            ],
        }
        if key is not None:
            if rest or key[1] != tenant.id:
                raise not_found(key[1])
            return graph_json(200, {"@odata.context": self._context("organization") + "/$entity", **organization})
        self._query(call, None, collection=True)
        return graph_json(200, {"@odata.context": self._context("organization"), "value": [organization]})


def _render_domain(domain: dict) -> dict:
    return {
        "authenticationType": "Managed",
        "availabilityStatus": None,
        "id": domain["id"],
        "isAdminManaged": True,
        "isDefault": domain["isDefault"],
        "isInitial": domain["isInitial"],
        "isRoot": True,
        "isVerified": True,
        "passwordNotificationWindowInDays": 14,
        "passwordValidityPeriodInDays": 2147483647,
        "supportedServices": ["Email", "OfficeCommunicationsOnline"],
        "state": None,
    }
