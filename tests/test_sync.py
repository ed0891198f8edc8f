"""Notebooks are the source of truth: exporting or cleaning them must change nothing that is committed."""
import shutil, subprocess, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _copy(tmp: Path) -> Path:
    for name in ('nbs', 'lmfinding'):
        shutil.copytree(ROOT/name, tmp/name, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    for name in ('settings.ini', 'setup.py'): shutil.copy2(ROOT/name, tmp/name)
    return tmp


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file() and '__pycache__' not in p.parts and p.suffix in ('.py', '.ipynb')}


def test_export_and_clean_change_nothing(tmp_path):
    repo = _copy(tmp_path)
    before = _snapshot(repo)
    for cmd in ('nbdev_export', 'nbdev_clean'):
        r = subprocess.run([BIN/cmd], cwd=repo, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    after = _snapshot(repo)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f'run nbdev_export and nbdev_clean, then commit: these would change: {changed}'


def test_clean_keeps_papermill_parameters_tag(tmp_path):
    repo = _copy(tmp_path)
    tagged = nbformat.v4.new_code_cell('preset = "quick"', metadata={'tags': ['parameters']}, execution_count=3)
    nb = nbformat.v4.new_notebook(cells=[tagged])
    path = repo/'nbs'/'99_params.ipynb'
    nbformat.write(nb, path)
    r = subprocess.run([BIN/'nbdev_clean', '--fname', str(path)], cwd=repo, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cell = nbformat.read(path, as_version=4).cells[0]
    assert cell.metadata.get('tags') == ['parameters']
    assert cell.execution_count is None          # cleaning did run
