# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""One private scratch directory per module process, for the files that hold secrets.

An inline kubeconfig, the kubeconfig helm reads, helm's values (the Arc onboarding private key) and the
certificate files the kubernetes library writes are created only under it: the directory is 0700, each file
0600. It is removed when the process exits, and also when it is terminated by SIGTERM or SIGHUP (AWX cancels a
job with SIGTERM), which Python would otherwise end without running its exit handlers.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile

PREFIX = "hci-arc-ml-"
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class _Scratch:
    """The process's one scratch directory and the signal handlers it replaced."""

    def __init__(self):
        self.directory = None
        self.previous_handlers = {}

    def path(self):
        if self.directory is None or not os.path.isdir(self.directory):
            self.directory = tempfile.mkdtemp(prefix=PREFIX)
            atexit.register(self.remove)
            self.install_signal_handlers()
        return self.directory

    def remove(self):
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def install_signal_handlers(self):
        for signum in _SIGNALS:
            if signum in self.previous_handlers:
                continue
            try:
                self.previous_handlers[signum] = signal.signal(signum, self.on_signal)
            except ValueError:
                # Not the main thread: only the exit handler cleans up.
                return

    def on_signal(self, signum, frame):
        self.remove()
        previous = self.previous_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            return
        # End the way the signal would have ended the process, so the parent sees the same exit status.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


_SCRATCH = _Scratch()


def scratch_directory():
    """This process's private scratch directory (0700), created on first use."""
    return _SCRATCH.path()


def private_directory(prefix):
    """A new 0700 directory inside the scratch directory; the caller may remove it early."""
    return tempfile.mkdtemp(prefix=prefix, dir=scratch_directory())


def write_private_file(path, text):
    """Create `path` readable by this user only (0600) and write `text`; fail if it already exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def remove_scratch():
    _SCRATCH.remove()
