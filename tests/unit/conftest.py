"""Make the collection importable as ansible_collections.moduscloud.azure_sync under plain pytest.

`make setup` links the checkout to .build/collections/ansible_collections/moduscloud/azure_sync;
under ansible-test units the collection is already on the path and this is a no-op.
"""

import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections")
if os.path.isdir(_COLLECTIONS) and os.path.abspath(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))


import pytest  # noqa: E402  (after the path set-up above, which it does not need)


@pytest.fixture(autouse=True)
def module_process_state(monkeypatch):
    """Give each test the process state of a fresh module run.

    ansible-core keeps warnings in a process-wide store, and once controller code has been imported
    (the lookup tests do) it routes module warnings to the display instead of the result; either
    would make module tests depend on which tests ran before them.
    """
    from ansible.module_utils import _internal
    from ansible.module_utils.common import warnings

    monkeypatch.setattr(_internal, "is_controller", False)
    monkeypatch.setattr(warnings, "_global_warnings", {})
