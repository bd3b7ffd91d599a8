# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One moduscloud_api_check task: _contract's ContractCheck run on an organization (its reads, and its write
probes when asked), reported as data and Markdown.

Private to this collection: no compatibility promise outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._contract import ContractCheck
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import ApiError, ServiceError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import normalize_domain


def run_api_check(module):
    """The whole task for a ModusCloudModule with moduscloud_api_check's options."""
    module.run(api_check, invalid_input)


def invalid_input(params):
    """write_probe_org, if given, must repeat org: the probes write, so they run only where asked twice."""
    probe_org = params["write_probe_org"]
    if probe_org is not None and normalize_domain(probe_org) != normalize_domain(params["org"]):
        return [
            (
                "write_probe_org",
                "write_probe_org must name the checked organization (org) again, to run the write probes on it; it "
                "names another one. Give a test organization as both, or leave write_probe_org out for a read-only "
                "check",
            )
        ]
    return []


def api_check(module):
    params, client = module.params, module.client
    check = ContractCheck(client, module.org, via_api_url=bool(params.get("api_url")))
    wrong = client.with_password("contract-check-wrong-password") if params["probe_bad_password"] else None
    try:
        check.run_reads(wrong)
        if params["write_probe_org"] is not None:
            # The probes write (and restore): check mode skips them like any write.
            module.changes.write(check.run_write_probes)
    except ApiError as error:
        raise ServiceError("the contract check stopped: %s" % error, **error.to_result())
    return {"report": check.report.as_data(), "markdown": check.report.markdown()}
