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

SIGKILL (an AWX job's container killed, an OOM kill) runs no handler at all: the directory would stay, secrets
included. So the process holds an exclusive lock on a file in its directory for as long as it lives (the kernel
drops the lock when the process dies, however it dies), and every process sweeps, before it makes its own
directory, the scratch directories in the same temp directory whose lock it can take: their owners are dead.
A lock, not a pid: a pid is reused, and a temp directory shared between containers sees pids of other namespaces.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import signal
import tempfile

PREFIX = "hci-arc-ml-"
# The file whose lock says the directory's process is alive; created under another name and renamed once locked,
# so a sweep never finds it unlocked while its process lives.
OWNER_LOCK = ".owner.lock"
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class _Scratch:
    """The process's one scratch directory and the signal handlers it replaced."""

    def __init__(self):
        self.directory = None
        self.lock = None  # the open, locked OWNER_LOCK of the directory
        self.previous_handlers = {}

    def path(self):
        if self.directory is None or not os.path.isdir(self.directory):
            self.close_lock()
            sweep_abandoned(tempfile.gettempdir())
            self.directory = tempfile.mkdtemp(prefix=PREFIX)
            self.lock = hold_owner_lock(self.directory)
            atexit.register(self.remove)
            self.install_signal_handlers()
        return self.directory

    def remove(self):
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        self.close_lock()

    def close_lock(self):
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

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


def hold_owner_lock(directory):
    """Lock OWNER_LOCK in `directory` for this process's lifetime; return its descriptor (not inherited by children),
    or None on a file system without locks, where the directory goes without one and no sweep ever removes it."""
    creating = os.path.join(directory, OWNER_LOCK + ".new")
    descriptor = os.open(creating, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        os.unlink(creating)
        return None
    os.rename(creating, os.path.join(directory, OWNER_LOCK))
    return descriptor


def sweep_abandoned(temp_dir):
    """Remove the scratch directories in `temp_dir` left by processes that are gone (SIGKILL); keep the rest.

    Only this user's directories with an owner lock count; one whose lock is held belongs to a live process.
    Directories without the lock (made by an earlier release, or on a file system without locks) are left alone.
    """
    try:
        names = [name for name in os.listdir(temp_dir) if name.startswith(PREFIX)]
    except OSError:
        return
    for name in names:
        directory = os.path.join(temp_dir, name)
        try:
            descriptor = os.open(os.path.join(directory, OWNER_LOCK), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # not a scratch directory with a lock, not ours to read, or already gone
        try:
            if os.fstat(descriptor).st_uid != os.geteuid() or os.lstat(directory).st_uid != os.geteuid():
                continue
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process lives (or it went meanwhile)
        else:
            shutil.rmtree(directory, ignore_errors=True)
        finally:
            os.close(descriptor)


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
