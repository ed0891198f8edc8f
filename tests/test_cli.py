"""The `lmfinding` command: verified assets, clear one-line errors within a second, clean help, and broken cache
entries rebuilt."""
import os, subprocess, sys, time
from pathlib import Path

LMF = Path(sys.executable).parent/'lmfinding'


def run(*args, **env):
    return subprocess.run([LMF, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


def test_assets_verify_full_checksums():
    r = run('assets', 'verify')
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [l.split() for l in r.stdout.splitlines()]
    assert [l[0] for l in lines[:5]] == ['minilm', 'smollm2', 'brown', 'mpnet', 'gemma3'], r.stdout
    on_demand = {'mpnet', 'gemma3'}                 # fetched only when named: built on this machine or not yet
    assert all(l[1] == 'ok' or (l[0] in on_demand and l[1:] == ['not', 'built', 'yet']) for l in lines), r.stdout


def test_fetch_names_one_asset_and_refuses_an_unknown_one():
    r = run('assets', 'fetch', 'brown')
    assert r.returncode == 0 and r.stdout.startswith('brown ') and len(r.stdout.splitlines()) == 1, r.stdout
    bad = run('assets', 'fetch', 'bert-base')
    assert bad.returncode == 2 and bad.stderr.count('\n') == 1 and 'the embedded assets are minilm' in bad.stderr


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
    for name in ('MANIFEST.json', '.MANIFEST.json.spare'): (cache/'brown'/name).unlink()   # no record of the files
    again = run(*small, LMFINDING_CACHE=str(cache))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count('warning: cache entry') == 2 and again.stderr.count('rebuilding') == 2   # task, corpus
    assert rows.read_text() == good and again.stdout == first.stdout
    assert not list(cache.glob('.*partial*')) and not list(cache.glob('tasks/.*partial*'))


def test_reproduce_without_findings_says_so(tmp_path):
    (tmp_path/'nbs').mkdir()
    r = run('reproduce', '--nbs', str(tmp_path/'nbs'), '--out', str(tmp_path/'out'))
    assert r.returncode == 0 and 'nothing to reproduce' in r.stdout


def timed(*args, **env):
    t0 = time.time()
    r = run(*args, **env)
    return r, time.time() - t0


def test_help_is_clean_and_version_answers():
    r, secs = timed('--help')
    assert r.returncode == 0 and secs < 5
    assert 'sweep-cell' not in r.stdout and 'SUPPRESS' not in r.stdout and 'reproduce' in r.stdout
    v = run('--version')
    assert v.returncode == 0 and v.stdout.startswith('lmfinding ')
    assert '{quick,paper,full,tiny}' in run('reproduce', '--help').stdout


def test_bad_preset_fails_at_once_in_one_line():
    r, secs = timed('reproduce', '--preset', 'nope')
    assert r.returncode == 2 and secs < 5, (secs, r.stderr)
    assert r.stderr.count('\n') == 1 and r.stderr.startswith("lmfinding reproduce: argument --preset: invalid choice")


def test_hub_task_with_hub_off_names_path():
    r, secs = timed('tasks', 'rte', HF_HUB_OFFLINE='1')
    assert r.returncode == 2 and secs < 5, (secs, r.stderr)
    assert r.stderr.count('\n') == 1 and r.stderr.startswith('lmfinding tasks: ')
    assert 'hub is off' in r.stderr and '--path' in r.stderr and 'Traceback' not in r.stderr


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tmp_path):
    bad = tmp_path/'grid.yaml'
    bad.write_text('notebook: [unclosed\n')
    r = run('sweep', str(bad))
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and r.stderr.startswith('lmfinding sweep: '), r.stderr
    d = run('--debug', 'tasks', 'no_such_task')
    assert d.returncode == 1 and 'Traceback' in d.stderr and "unknown task 'no_such_task'" in d.stderr


def test_compare_puts_two_results_folders_side_by_side(tmp_path):
    import pandas as pd
    for name, word in (('quick', 'inconclusive'), ('full', 'held')):
        (tmp_path/name).mkdir()
        pd.DataFrame(dict(claim=['a', 'b'], statement=['x', 'y'], verdict=[word, 'held'], estimate=[1., 2.],
                          lo=[0., 1.], hi=[2., 3.], n=['5', '5'])).to_csv(tmp_path/name/'claims.csv', index=False)
    r = run('compare', str(tmp_path/'quick'), str(tmp_path/'full'))
    assert r.returncode == 0, r.stderr
    assert '| claim | statement | verdict (quick) |' in r.stdout and '1 of 2 claims have other verdicts' in r.stdout
    from lmfinding.cli import main                                          # in-process: no second start-up
    import contextlib, io
    err = io.StringIO()
    with contextlib.redirect_stderr(err): status = main(['compare', str(tmp_path/'quick'), str(tmp_path/'none')])
    assert status == 2 and 'no claims.csv there' in err.getvalue() and err.getvalue().count('\n') == 1
