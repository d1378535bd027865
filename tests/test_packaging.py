"""The packaging metadata: what `pip install -r requirements.txt` builds and installs."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")   # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_an_spdx_string_with_its_file():
    # A TOML table (`license = {text = "MIT"}`) makes setuptools >= 77 warn on every
    # install that the form stops working in 2027.
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77
               for r in _pyproject()["build-system"]["requires"])


def test_requirements_list_the_package_dependencies():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    listed = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    project = _pyproject()["project"]
    assert set(project["dependencies"]) <= listed
    assert set(project["optional-dependencies"]["test"]) <= listed
