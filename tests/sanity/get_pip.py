"""A stand-in for the pip bootstrap script `ansible-test sanity --venv` downloads.

ansible-test fetches get-pip-<version>.py from a host of its own that is not a package registry,
and explains that the script may instead be saved into its cache
(~/.ansible/test/cache/get_pip_<version>.py). This is that script: it installs the pip bundled
with Python (ensurepip), then lets that pip install what ansible-test asked for (the pinned pip)
from the package index.

    python tests/sanity/get_pip.py --install   # copy it into the cache for the installed ansible-test
"""

import os
import shutil
import subprocess
import sys


def bootstrap(arguments):
    wanted = [a for a in arguments if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", *wanted])


def install_into_cache():
    from ansible_test._internal.python_requirements import get_venv_packages

    class AnyPython:
        version = "{}.{}".format(*sys.version_info[:2])

    version = get_venv_packages(AnyPython)["pip"]
    cache = os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py")
    if not os.path.exists(cache):
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        shutil.copyfile(__file__, cache)
        print(f"installed the pip {version} bootstrap stand-in at {cache}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--install"]:
        install_into_cache()
    else:
        bootstrap(sys.argv[1:])
