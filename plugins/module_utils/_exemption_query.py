# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sync exemptions by rule: a JMESPath expression over the directory's users selects who is exempt.

Private to this collection: no compatibility promise outside it.

JMESPath is the query language of ``az --query``. The expression is applied to the list of the
directory's users as Microsoft Graph returns them (the fields in QUERY_USER_FIELDS), and selects
either users (their ``mail`` is exempt) or addresses. Pure functions, no I/O: moduscloud_import_settings
saves what they select as exemptions, moduscloud_user_sync reports on the same selection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback
from collections.abc import Mapping
from typing import Iterable, List, Optional

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._sync import GRAPH_USER_FIELDS

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
except ImportError:
    jmespath = None
    JMESPathError = Exception
    JMESPATH_IMPORT_ERROR = traceback.format_exc()
else:
    JMESPATH_IMPORT_ERROR = None

OPTION = "exemption_query"

# The Graph user fields the sync rules read (_sync.py's GRAPH_USER_FIELDS), plus those a rule commonly needs. These
# are read only when an expression is given, so the plain sync reads no more than it must.
RULE_USER_FIELDS = ("displayName", "mailNickname", "jobTitle", "department", "companyName", "officeLocation", "usageLocation", "createdDateTime")
QUERY_USER_FIELDS = GRAPH_USER_FIELDS + RULE_USER_FIELDS

ALLOWED = (
    "a JMESPath expression that selects users (or their addresses) from the list of the directory's users, "
    "such as [?department=='Shared mailboxes'] or [?starts_with(userPrincipalName, 'svc-')]"
)


class QueryError(ValueError):
    """A bad expression, or one whose result is not users or addresses; the message names the option."""


def given(expression) -> bool:
    """Whether an expression is set: None and blank text (as AWX passes an unused field) are not."""
    return isinstance(expression, str) and bool(expression.strip())


def not_text(expression) -> Optional[str]:
    """Why `expression` (an option taken as given, not converted to text) is no expression, or None: a number, a
    list or a mapping converted to text would be taken for another expression, or for none."""
    if expression is None or isinstance(expression, str):
        return None
    return "%s must be a JMESPath expression, as text (quote it in YAML), such as \"[?department=='Shared mailboxes']\", or \"\" for no rule; got %s (%s)." % (
        OPTION,
        json.dumps(expression, sort_keys=True, default=str),
        type(expression).__name__,
    )


def user_fields(expression: Optional[str], base_fields: str) -> str:
    """The $select for the users read: `base_fields` (comma-separated), plus the rule fields when a rule is set."""
    if not given(expression):
        return base_fields
    fields = base_fields.split(",")
    return ",".join(fields + [name for name in RULE_USER_FIELDS if name not in fields])


def check(expression: str):
    """Compile the expression; QueryError with JMESPath's own message when it does not parse."""
    if jmespath is None:
        raise QueryError("%s needs the Python library jmespath, which is not installed" % OPTION)
    try:
        return jmespath.compile(expression.strip())
    except JMESPathError as error:
        raise QueryError("%s %r is not a valid JMESPath expression: %s. Give %s" % (OPTION, expression, _one_line(error), ALLOWED))


def matching_addresses(expression: str, users: Iterable[dict]) -> List[str]:
    """The lower-case mail addresses the expression selects from `users` (Graph user dicts), sorted.

    A selected user without a mail address is left out (the sync never reads it either).
    """
    compiled = check(expression)
    try:
        result = compiled.search(list(users))
    except JMESPathError as error:
        raise QueryError(
            "%s %r failed on the directory's users: %s. A field that some users do not have is null "
            "for them; guard it, as in [?jobTitle && contains(jobTitle, 'Shared')]" % (OPTION, expression, _one_line(error))
        )
    if result is None:
        return []
    if not isinstance(result, list):
        raise QueryError("%s %r must select a list of users or addresses, got %s. Give %s" % (OPTION, expression, _describe(result), ALLOWED))
    addresses = set()
    for item in result:
        if isinstance(item, Mapping):
            item = item.get("mail")
            if item is None:
                continue
        if not isinstance(item, str):
            raise QueryError("%s %r must select users or addresses, got %s in its result. Give %s" % (OPTION, expression, _describe(item), ALLOWED))
        address = item.strip().lower()
        local, at, domain = address.rpartition("@")
        if local and at and domain:
            addresses.add(address)
    return sorted(addresses)


def _describe(value) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "the text %r" % value
    return type(value).__name__


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
