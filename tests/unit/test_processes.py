"""Processes are recognised by pid and start time, so stopping never touches another process."""

import dataclasses
import subprocess
import shutil

from localcluster.processes import ProcessTable, is_alive

SLEEP = shutil.which("sleep")


def test_started_process_is_alive_until_stopped(tmp_path):
    table = ProcessTable(tmp_path)
    record = table.start("sleeper", [SLEEP, "60"], cwd=tmp_path)
    assert table.alive("sleeper")
    assert table.stop_all(["sleeper"]) == ["sleeper"]
    assert not is_alive(record)
    assert table.stop_all(["sleeper"]) == []


def test_a_reused_pid_is_not_taken_for_ours(tmp_path):
    table = ProcessTable(tmp_path)
    record = table.start("sleeper", [SLEEP, "60"], cwd=tmp_path)
    try:
        assert not is_alive(dataclasses.replace(record, start_ticks=record.start_ticks + 1))
        assert not is_alive(dataclasses.replace(record, executable="/usr/bin/other"))
    finally:
        table.stop_all(["sleeper"])


def test_stop_all_leaves_unrelated_processes_alone(tmp_path):
    table = ProcessTable(tmp_path)
    table.start("ours", [SLEEP, "60"], cwd=tmp_path)
    bystander = subprocess.Popen([SLEEP, "60"])
    try:
        assert table.stop_all(["ours"]) == ["ours"]
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_exited_process_is_detected_with_its_log(tmp_path):
    table = ProcessTable(tmp_path)
    table.start("fails", ["/bin/sh", "-c", "echo boom; exit 3"], cwd=tmp_path)
    for _ in range(100):
        if table.exited("fails"):
            break
        subprocess.run([SLEEP, "0.05"])
    assert table.exited("fails")
    assert table.log_tail("fails") == "boom"
