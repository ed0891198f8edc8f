"""Shared fixtures: the repository root and a clean environment for subprocesses."""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('HF_HUB_OFFLINE', '1')   # no hub here: fail fast instead of retrying for a minute


@pytest.fixture
def root() -> Path:
    return ROOT
