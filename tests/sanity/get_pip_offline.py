"""Stand-in for pip's get-pip.py, which ansible-test downloads from ci-files.testing.ansible.com.

That host is out of reach where this project is built (only package registries are), so
`make sanity` installs this file where ansible-test caches the bootstrap script: it seeds pip
from the interpreter's bundled wheel (ensurepip) and then lets pip install the requested
version from the package index, as get-pip.py would.
"""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null; the real pip run must see the machine's pip
# configuration (index mirrors, CA bundle) like any other pip call.
environment = dict(os.environ)
environment.pop("PIP_CONFIG_FILE", None)
arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + arguments, env=environment)
