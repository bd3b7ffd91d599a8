# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The errors a module reports as its clean failure: ApiError (a failed API call) and ServiceError (anything
else worth telling the user, naming the options it is about) with its subclasses. Pure: it imports nothing of
this collection.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from typing import Optional, Sequence, Tuple, Union

# One problem with the options: (option, message), option a name or a tuple of names (the options it is about together).
Problem = Tuple[Union[str, Tuple[str, ...]], str]


class ServiceError(Exception):
    """A failure to tell the user in one message that is not a failed HTTP call (that is ApiError): an
    ambiguous name, an option the service would refuse, a state it cannot be brought to. `options` names the
    options whose values caused it (the result's invalid_options); `result` holds extra fields for fail_json.
    GraphError and the other services' errors derive from it."""

    def __init__(self, message: str, options: Sequence[str] = (), **result) -> None:
        super(ServiceError, self).__init__(message)
        self.options = tuple(options)
        self.result = result

    def to_result(self) -> dict:
        result = dict(self.result)
        if self.options:
            result["invalid_options"] = list(self.options)
        return result


def option_names(problems: Sequence[Problem]) -> list:
    """The options of `problems` ((option, message) pairs; option a name or a tuple of names), each once, in order."""
    names = []
    for option, _message in problems:
        for name in (option,) if isinstance(option, str) else option:
            if name not in names:
                names.append(name)
    return names


def options_error(problems: Sequence[Problem], prefix: str = "", suffix: str = "", error: type = ServiceError) -> ServiceError:
    """One `error` for `problems` ((option, message) pairs): the messages joined after `prefix`, the options named."""
    return error(prefix + "; ".join(message for _option, message in problems) + suffix, options=option_names(problems))


class GraphError(ServiceError):
    """A problem with Graph or Entra ID for the user that is not a failed HTTP call (ambiguous name,
    unknown permission, options that cannot sign in...)."""


class SecretError(ServiceError):
    """A client secret request that cannot be met, explained for the person who wrote the task; `result` holds
    extra fields for the failed task's result (changed, removed_key_ids, the API's status and code)."""


class SyncFailure(ServiceError):
    """A reason for moduscloud_user_sync to stop that is not a failed API call; `result` goes into fail_json
    beside the message."""


class ApiError(Exception):
    """A failed API call, described for a person: operation, resource, status, code, message, request id."""

    def __init__(
        self,
        operation: str,
        resource: Optional[str] = None,
        status: Optional[int] = None,
        code=None,
        message: Optional[str] = None,
        request_id: Optional[str] = None,
        details=None,
    ) -> None:
        self.operation = operation
        self.resource = resource
        self.status = status
        self.code = code
        self.api_message = message
        self.request_id = request_id
        self.details = details
        super(ApiError, self).__init__(self._describe())

    def _describe(self) -> str:
        text = self.operation
        if self.resource:
            text += " " + self.resource
        parts = []
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        if self.code:
            parts.append(str(self.code))
        text += " failed"
        if parts:
            text += ": " + " ".join(parts)
        if self.api_message:
            text += ": " + self.api_message
        if self.request_id:
            text += " (request-id %s)" % self.request_id
        return text

    def to_result(self) -> dict:
        """Fields for fail_json, so playbooks can branch on them."""
        return dict(status=self.status, error_code=self.code, request_id=self.request_id)
