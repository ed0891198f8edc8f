"""Every findings notebook says, in a markdown cell, what the three verdict words mean, in the words of
`lmfinding.statistics.MEANING`, and renders its verdicts with the one renderer."""
from pathlib import Path
import nbformat
import pytest
from lmfinding.findings import notebooks
from lmfinding.statistics import MEANING

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = notebooks(ROOT/'nbs')                # the registered findings (`lmfinding.findings`)


def _flat(text: str) -> str: return ' '.join(text.split())


@pytest.mark.parametrize('nb', FINDINGS, ids=lambda p: p.stem)
def test_findings_notebook_defines_the_three_words(nb):
    cells = nbformat.read(nb, as_version=4).cells
    assert any(_flat(MEANING) in _flat(c.source) for c in cells if c.cell_type == 'markdown'), nb.name
    code = '\n'.join(c.source for c in cells if c.cell_type == 'code')
    assert 'render_claims(' in code and 'save_claims(' in code, nb.name
