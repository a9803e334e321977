"""A map's record on disk (`manifest`): what `attach` reads back after the driver died."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_executor.pool import manifest as manifest_module
from wasm_executor.pool.manifest import Manifest
from wasm_executor.pool.units import Unit

SPEC = {"funcname": "python", "args": ["def f(x): return x"], "kwargs": {"call": "f"}}


def test_the_record_lives_in_the_jobs_folder_given_by_the_environment(jobs_dir: Path) -> None:
    Manifest.create("job-a", SPEC, [1, 2, 3], None)
    assert manifest_module.jobs_dir() == jobs_dir and (jobs_dir / "job-a.jsonl").is_file()


def test_a_record_read_back_knows_what_was_submitted_and_what_maybe() -> None:
    manifest = Manifest.create("job-b", SPEC, [1, 2, 3, 4], 2)
    manifest.intend(Unit(0, 2))
    manifest.record(Unit(0, 2), "pid-1")
    manifest.intend(Unit(2, 4))  # killed here: submitted or not, only the server knows
    again = Manifest.load("job-b")
    assert (again.spec, again.items, again.chunksize) == (SPEC, [1, 2, 3, 4], 2)
    assert again.submitted == {Unit(0, 2): "pid-1"} and again.intended == {Unit(2, 4)}
    assert again.covered() == 4


def test_a_line_cut_off_by_a_kill_is_ignored() -> None:
    manifest = Manifest.create("job-c", SPEC, [1, 2], 1)
    manifest.record(Unit(0, 1), "pid-1")
    with Manifest.path_of("job-c").open("a", encoding="utf-8") as out:
        out.write('{"unit": [1, 2], "proce')
    assert Manifest.load("job-c").submitted == {Unit(0, 1): "pid-1"}


def test_a_job_is_never_written_over() -> None:
    Manifest.create("job-d", SPEC, [1], None)
    with pytest.raises(FileExistsError):
        Manifest.create("job-d", SPEC, [2], None)


def test_an_unknown_job_says_where_it_looked() -> None:
    with pytest.raises(LookupError, match=str(manifest_module.jobs_dir())):
        Manifest.load("never-made")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a b", "-x", "x" * 101])
def test_a_job_name_that_is_not_a_plain_file_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="job name"):
        Manifest.path_of(name)


def test_copies_of_a_unit_are_recorded_apart_and_found_together() -> None:
    manifest = Manifest.create("job-e", SPEC, [1, 2, 3, 4], 2, replicas=2)
    manifest.record(Unit(0, 2), "pid-1")
    manifest.record(Unit(0, 2, 1), "pid-2")
    manifest.record(Unit(2, 4), "pid-3")
    again = Manifest.load("job-e")
    assert again.replicas == 2
    assert again.copies(Unit(0, 2, 1)) == {Unit(0, 2): "pid-1", Unit(0, 2, 1): "pid-2"}
    assert Unit(0, 2, 1).nodename == "items 0-2 copy 1" and Unit(0, 2).nodename == "items 0-2"
