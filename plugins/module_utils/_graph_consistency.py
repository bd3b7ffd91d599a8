# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Graph's eventual consistency: the answers it gives right after a create, which are worth asking again,
and how long to look again for an object an earlier task created.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._http import parse_error_body


# Waits (seconds) before re-reading an object that a previous task just created but that Graph
# does not show yet (eventual consistency); 15 s in total.
VISIBILITY_WAITS = (1, 2, 4, 8)


def _error_text(response):
    code, message = parse_error_body(response)[:2]
    return "%s %s" % (code or "", message or "")


def object_not_yet_visible(response) -> bool:
    """404 for an object a previous call just created or read."""
    return response.status_code == 404


def application_not_yet_consistent(response) -> bool:
    """An application write right after its creation: 404, or a 409 concurrency answer."""
    return response.status_code in (404, 409)


def backing_application_not_yet_visible(response) -> bool:
    """Creating a service principal before Graph shows its application."""
    text = _error_text(response)
    return (response.status_code == 400 and ("NoBackingApplicationObject" in text or "does not reference a valid application object" in text)) or (
        response.status_code == 403 and "backing application of the service principal" in text
    )


def reference_not_yet_visible(response) -> bool:
    """Assigning an app role or granting scopes to a service principal Graph does not show yet."""
    if response.status_code == 404:
        return True
    return response.status_code == 400 and "Not a valid reference update" in _error_text(response)
