"""Make the collection importable as ansible_collections.moduscloud.azure_sync under plain pytest.

`make setup` links the checkout to .build/collections/ansible_collections/moduscloud/azure_sync;
under ansible-test units the collection is already on the path and this is a no-op.
"""

import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections")
if os.path.isdir(_COLLECTIONS) and os.path.abspath(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))
