"""Find or build the testbed binaries (sandbox/k8s/build.sh owns the cache)."""

import subprocess
import sys
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parent / "k8s" / "build.sh"


def ensure_binaries(show_progress: bool = True) -> Path:
    """Run the build script (a no-op on a warm cache) and return the bin directory.

    Progress lines go to stderr so a user sees the long first build move.
    """
    stderr = None if show_progress else subprocess.DEVNULL
    try:
        out = subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, stderr=stderr, text=True)
    except subprocess.CalledProcessError as err:
        sys.exit(f"sandbox: building the Kubernetes testbed failed (exit {err.returncode}); see the lines above")
    return Path(out.stdout.strip().splitlines()[-1])
