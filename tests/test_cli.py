"""The `lmfinding` command: verified assets, clear one-line errors, and broken cache entries rebuilt."""
import os, subprocess, sys
from pathlib import Path

LMF = Path(sys.executable).parent/'lmfinding'


def run(*args, **env):
    return subprocess.run([LMF, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


def test_assets_verify_full_checksums():
    r = run('assets', 'verify')
    assert r.returncode == 0, r.stdout + r.stderr
    assert [l.split()[1] for l in r.stdout.splitlines()] == ['ok', 'ok', 'ok']


def test_unwritable_cache_is_named_with_the_fix(tmp_path):
    blocker = tmp_path/'a-file'
    blocker.write_text('not a folder')
    r = run('tasks', 'bigram_shift', LMFINDING_CACHE=str(blocker/'cache'))
    assert r.returncode == 2
    assert 'cannot write the cache folder' in r.stderr and 'LMFINDING_CACHE' in r.stderr
    assert 'Traceback' not in r.stderr and blocker.read_text() == 'not a folder'


def test_partial_and_corrupt_entries_are_rebuilt(tmp_path):
    cache = tmp_path/'cache'
    small = ('tasks', 'bigram_shift', '--train', '20', '--dev', '4', '--test', '4')
    first = run(*small, LMFINDING_CACHE=str(cache))
    assert first.returncode == 0, first.stderr
    rows = next(cache.glob('tasks/bigram_shift-*/rows.csv'))
    good = rows.read_text()
    rows.write_text(good.replace('O', 'I', 3))              # same size, different content
    (cache/'brown'/'MANIFEST.json').unlink()                  # what an interrupted build leaves
    again = run(*small, LMFINDING_CACHE=str(cache))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count('UserWarning: cache entry') == 2          # the task and the corpus
    assert rows.read_text() == good and again.stdout == first.stdout
    assert not list(cache.glob('.*partial*')) and not list(cache.glob('tasks/.*partial*'))


def test_reproduce_without_findings_says_so(tmp_path):
    (tmp_path/'nbs').mkdir()
    r = run('reproduce', '--nbs', str(tmp_path/'nbs'), '--out', str(tmp_path/'out'))
    assert r.returncode == 0 and 'nothing to reproduce' in r.stdout
