"""Every library notebook runs top to bottom: its cells are the unit tests (nbdev_test, one test per notebook)."""
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('[0-9]*.ipynb')) + [ROOT/'nbs'/'index.ipynb']


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(nb):
    ok, secs = run_notebook(nb, skip_flags=['slow'], basepath=ROOT)
    assert ok, f'{nb.name} failed (its traceback is printed above)'
