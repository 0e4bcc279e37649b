import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "fixtures" / "example"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli(tmp_path_factory) -> Path:
    """The wabill binary: $WABILL, else the workspace's debug build (built when absent)."""
    given = os.environ.get("WABILL")
    if given:
        return Path(given)
    binary = ROOT / "target" / "debug" / "wabill"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--quiet", "--bin", "wabill"], cwd=ROOT, check=True)
    return binary
