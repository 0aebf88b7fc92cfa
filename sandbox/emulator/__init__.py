"""The Azure emulator of the sandbox: ARM, Entra ID, the Arc config data plane and an OCI registry over HTTPS.

Start it with `python -m sandbox.emulator --dir DIR --port 0 --sites FILE`; once
DIR/emulator.json exists it is ready, and `client_env(DIR)` gives the
environment that points clients at it (see sandbox/README.md).
"""

from .env import client_env, principal_credentials, read_info

__all__ = ["client_env", "principal_credentials", "read_info"]
