# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What azure_app_registration_info reports of applications: their managed fields, secrets (with expiry
warnings), and how the consent they hold compares with the permissions they request. Reads only.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_consent import granted_permissions
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import utc_now
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import expiring, secret_views


def find_applications(graph, params):
    if params["app_id"] or params["unique_name"]:
        found = graph.find_application(app_id=params["app_id"], unique_name=params["unique_name"])
        return [found] if found else []
    return graph.list_applications(display_name=params["display_name"])


def difference(graph, left, right):
    """Permissions in `left` and not in `right` (both {api app id: {kind: names}}), as a by-name view."""
    return graph.permission_view(
        dict(
            (app_id, dict((kind, set(names) - set((right.get(app_id) or {}).get(kind) or ())) for kind, names in kinds.items()))
            for app_id, kinds in left.items()
        )
    )


def consent_status(graph, application, requested):
    principal = graph.get_service_principal(application["appId"])
    granted = granted_permissions(graph.read_consent(principal["id"])) if principal else {}
    missing = difference(graph, requested, granted)
    return principal["id"] if principal else None, {
        "complete": not missing,
        "granted": graph.permission_view(granted),
        "missing": missing,
        "extra": difference(graph, granted, requested),
    }


def describe(module, application):
    graph = module.graph
    if not module.params["include_permissions"]:
        info = graph.describe_application(application, permissions=False)
        info["secrets"] = secret_views(application, utc_now())
        warn_expiring(module, info)
        return info
    requested = graph.requested_permissions(application)
    info = graph.describe_application(application)
    info["secrets"] = secret_views(application, utc_now())
    if module.params["include_consent"]:
        info["service_principal_id"], info["consent"] = consent_status(graph, application, requested)
    warn_expiring(module, info)
    return info


def warn_expiring(module, info):
    within = module.params["expiring_within_days"]
    if within is not None:
        for secret in expiring(info["secrets"], within):
            module.warn(
                "client secret %s (%s) of application %s (%s) %s on %s"
                % (
                    secret["key_id"],
                    secret["description"] or "no description",
                    info["display_name"],
                    info["app_id"],
                    "expired" if secret["expired"] else "expires in %d days" % secret["days_remaining"],
                    secret["end_date"],
                )
            )


def application_info(module):
    """azure_app_registration_info: the matching applications, their secrets and consent; the module's result."""
    if module.params["include_consent"] and not module.params["include_permissions"]:
        raise ServiceError(
            "include_consent needs include_permissions (consent is compared with the permissions requested): set include_consent to false as well",
            options=("include_consent", "include_permissions"),
        )
    applications = [describe(module, application) for application in find_applications(module.graph, module.params)]
    applications.sort(key=lambda info: ((info["display_name"] or "").lower(), info["app_id"] or ""))
    return {"changed": False, "applications": applications, "signed_in_app_id": module.graph.signed_in_app_id}
