"""The package's layers: each module comes from one numbered notebook, and imports only flow from a block to the blocks
below it (0x core, 1x mechanisms, 2x findings, 9x tooling), lazy imports inside functions included, so there is no
import cycle and a newcomer reads the notebooks in order."""
import re
from pathlib import Path
from lmfinding.findings import FINDINGS

PKG = Path(__file__).resolve().parents[1]/'lmfinding'
SOURCE = re.compile(r'File to edit: \.\./nbs/(\d+)_\w+\.ipynb')
IMPORT = re.compile(r'^\s*(?:from \.|from lmfinding\.|import lmfinding\.)(\w+)', re.M)


def _numbers(pkg=PKG) -> dict[str, int]:
    return {p.stem: int(m.group(1)) for p in pkg.glob('*.py') if (m := SOURCE.search(p.read_text()))}


def block_problems(pkg=PKG) -> list[str]:
    "What is wrong with `pkg`'s blocks: 2x holds the scaffold, the registry and each registered finding; 9x the tooling."
    blocks = {m: n // 10 for m, n in _numbers(pkg).items()}
    have = {2: {m for m, b in blocks.items() if b == 2}, 9: {m for m, b in blocks.items() if b == 9}}
    want = {2: {'study', 'findings'} | set(FINDINGS), 9: {'sweep', 'readme', 'site', 'cli'}}
    return [f'block {b}x holds {sorted(have[b])}, not {sorted(want[b])}' for b in (2, 9) if have[b] != want[b]]


def test_every_module_comes_from_a_numbered_notebook():
    modules = {p.stem for p in PKG.glob('*.py')} - {'__init__', '_modidx'}
    assert modules == set(_numbers()), modules ^ set(_numbers())


def test_imports_flow_down_the_numbered_blocks():
    num = _numbers()
    upward = [f'{m} ({num[m]:02d}) imports {d} ({num[d]:02d})' for m in num
              for d in IMPORT.findall((PKG/f'{m}.py').read_text()) if d in num and d != m and num[d] >= num[m]]
    assert not upward, upward


def test_the_blocks_hold_what_they_say():
    assert not block_problems(), block_problems()
