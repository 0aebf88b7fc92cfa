"""Run one pytest stage and refuse to call an empty stage a pass.

pytest exits 5 when it collected nothing; a gate that ran no test has proved
nothing, so that becomes a failure with a message that says so.
"""

import subprocess
import sys

NO_TESTS_COLLECTED = 5


def main(argv):
    stage, paths = argv[0], argv[1:]
    print(f"== pytest: {stage} ({' '.join(paths)})", flush=True)
    rc = subprocess.call([sys.executable, "-m", "pytest", *paths])
    if rc == NO_TESTS_COLLECTED:
        print(f"!! stage {stage!r} collected no tests: an empty stage is not a pass", flush=True)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
