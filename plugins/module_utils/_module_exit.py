# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place a module run ends: its result with `changed` and the diff, or its failure (ApiError or
ServiceError turned into fail_json, with the options a ServiceError names as invalid_options).

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, ServiceError


def run_to_exit(module, steps, outcome, progress=dict):
    """module.exit_json(**steps()) with outcome() (`changed` and the diff) added; an ApiError or ServiceError
    raised by steps() becomes module.fail_json without traceback: its message, its to_result() (invalid_options
    among them) and progress() (what a failed run had already done)."""
    try:
        result = steps()
    except (ApiError, ServiceError) as error:
        module.fail_json(msg=str(error), **dict(error.to_result(), **progress()))
    result.update(outcome())
    module.exit_json(**result)
