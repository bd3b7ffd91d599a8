# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What Graph's wire looks like to this collection: OData literals, ids, the fields read and $batch's size.
Pure code, no I/O.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


APPLICATION_FIELDS = ("id,appId,displayName,uniqueName,signInAudience,web,requiredResourceAccess,"
                      "passwordCredentials,tags")
SERVICE_PRINCIPAL_FIELDS = "id,appId,displayName,appRoles,oauth2PermissionScopes"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Graph's JSON batching ($batch) takes at most 20 requests per call.
BATCH_LIMIT = 20


def odata_literal(value):
    """An OData string literal: quoted, with embedded single quotes doubled."""
    return "'%s'" % value.replace("'", "''")
