"""The private scratch directory of a module process: a SIGKILLed process's directory is swept by the next one."""

import os
import signal
import subprocess
import sys
import textwrap

from ansible_collections.hci.arc_ml.plugins.module_utils._common import scratch

# Makes its scratch directory, says where, and holds it until its stdin closes.
SCRATCH_HOLDER = textwrap.dedent(
    """
    import sys
    from ansible_collections.hci.arc_ml.plugins.module_utils._common.scratch import scratch_directory
    print(scratch_directory(), flush=True)
    sys.stdin.readline()
    """
)


def holder(temp_dir):
    """A process holding a scratch directory in `temp_dir`, and that directory."""
    process = subprocess.Popen(
        [sys.executable, "-c", SCRATCH_HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), TMPDIR=str(temp_dir)),
    )
    return process, process.stdout.readline().strip()


def release(process):
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def test_the_scratch_of_a_killed_process_is_swept_by_the_next_process_and_a_live_ones_is_kept(tmp_path):
    live, live_dir = holder(tmp_path)
    killed, killed_dir = holder(tmp_path)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    assert os.path.isdir(killed_dir), "SIGKILL runs no handler: the directory stays until the next process"
    not_a_scratch = tmp_path / (scratch.PREFIX + "without-lock")
    not_a_scratch.mkdir()

    following, following_dir = holder(tmp_path)
    assert not os.path.exists(killed_dir)
    assert os.path.isdir(live_dir) and os.path.isdir(following_dir) and not_a_scratch.is_dir()

    release(live)
    release(following)
    assert sorted(p.name for p in tmp_path.iterdir()) == [not_a_scratch.name]


def test_the_owner_lock_is_in_place_and_held_once_the_directory_is_handed_out(tmp_path):
    directory = tmp_path / (scratch.PREFIX + "x")
    directory.mkdir()
    descriptor = scratch.hold_owner_lock(str(directory))
    try:
        assert sorted(p.name for p in directory.iterdir()) == [scratch.OWNER_LOCK]
        scratch.sweep_abandoned(str(tmp_path))
        assert directory.is_dir()
    finally:
        os.close(descriptor)
    scratch.sweep_abandoned(str(tmp_path))
    assert not directory.exists()


def test_without_file_locks_the_directory_has_no_lock_and_is_never_swept(tmp_path, monkeypatch):
    def no_locks(descriptor, operation):
        raise OSError(37, "No locks available")

    directory = tmp_path / (scratch.PREFIX + "y")
    directory.mkdir()
    monkeypatch.setattr(scratch.fcntl, "flock", no_locks)
    assert scratch.hold_owner_lock(str(directory)) is None
    assert list(directory.iterdir()) == []
    monkeypatch.undo()
    scratch.sweep_abandoned(str(tmp_path))
    assert directory.is_dir()
