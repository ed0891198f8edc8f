"""README.md is generated from nbs/index.ipynb: it must match what `make readme` would write."""
from pathlib import Path
from lmfinding.readme import notebook_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_generated_from_index(tmp_path):
    expected = notebook_markdown(ROOT/'nbs'/'index.ipynb', tmp_path/'README_files')
    assert (ROOT/'README.md').read_text() == expected, 'README.md is stale: run `make readme` and commit'
