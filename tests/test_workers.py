"""linear_pg._workers: the caller's directory and Python path, taken by a worker."""

import os
import sys

from linear_pg._workers import callers_place, take_place


def test_a_worker_takes_the_callers_directory_and_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    cwd, path = callers_place()
    assert cwd == str(tmp_path) and path == sys.path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    take_place((cwd, ["/added/by/the/caller", *path]))
    assert os.getcwd() == str(tmp_path) and sys.path[0] == "/added/by/the/caller"


def test_a_directory_this_machine_lacks_is_not_entered(tmp_path, monkeypatch):
    # a Dask or Ray worker on another machine: os.chdir raised FileNotFoundError
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    take_place((str(tmp_path / "not" / "here"), []))
    assert os.getcwd() == str(tmp_path)
