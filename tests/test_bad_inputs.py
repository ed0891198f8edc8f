"""Bad input, table-driven: each case is what a careless or hostile user might type (a command line, a grid file, a
findings notebook's parameters, a damaged cache or run folder). Every one must end in a clear error, a single line that
names what was wrong and what to do, before any work starts, with nothing lost. Data that reads cleanly but is wrong
(a `warns` case) goes on with one warning line that names the counts. `bench/reliability.py` runs the same table and
draws the README's reliability figure."""
import functools, json, os, shutil, subprocess, sys, tempfile, time, warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
LMF = [sys.executable, '-m', 'lmfinding.cli']
FINDINGS = ROOT/'nbs'/'findings'
SECONDS = 60          # a clear error comes before any work: well under a minute (kernel start-up included)


@dataclass
class Case:
    "One bad input: how to make it in a temporary folder, and the words its error must contain."
    id: str
    area: str
    make: Callable[[Path], dict]       # tmp -> dict(argv=[...]) for the CLI, dict(notebook=..., parameters=...), dict(call=f)
                                       # (and after=f, to undo what the case set up: a mounted file system)
    expect: str
    warns: bool = False                # the input is used, with one warning holding `expect`


def _rte(tmp, train=True, dev=True, header_only=False):
    d = tmp/'RTE'; d.mkdir()
    head = 'index\tsentence1\tsentence2\tlabel\n'
    rows = '' if header_only else '0\tA man sleeps.\tA man rests.\tentailment\n1\tIt rains.\tIt is dry.\tnot_entailment\n'
    if train: (d/'train.tsv').write_text(head + rows)
    if dev: (d/'dev.tsv').write_text(head + rows)
    return d


def _rte_rows(tmp, train: str, dev: str) -> Path:
    "An RTE folder with the given rows (index, sentence1, sentence2, label) in train.tsv and dev.tsv."
    d = tmp/'RTE'; d.mkdir()
    for name, rows in (('train.tsv', train), ('dev.tsv', dev)):
        (d/name).write_text('index\tsentence1\tsentence2\tlabel\n' + rows)
    return d


PAIRS = '0\tA man sleeps.\tA man rests.\tentailment\n1\tIt rains.\tIt is dry.\tnot_entailment\n'
OTHER = '0\tCats purr.\tDogs purr.\tnot_entailment\n1\tShe ran.\tShe moved.\tentailment\n'


def _tasks(folder): return dict(argv=['tasks', 'rte', '--path', str(folder)])


def _stability_tasks(folder):
    "Finding 2's tasks (tiny preset) with RTE read from `folder`."
    from lmfinding import stability
    return lambda: stability.study_tasks(stability.config('tiny', tasks=['rte'], paths=dict(rte=str(folder))))


def _grid(tmp, text):
    nb = FINDINGS/'02_stability.ipynb'
    (tmp/'grid.yaml').write_text(f'notebook: {nb}\nout: {tmp}/sweep\n' + text)
    return dict(argv=['sweep', str(tmp/'grid.yaml')], untouched=tmp/'sweep')


def _nb(name, kernel=False, **parameters):
    "A findings notebook's start with `parameters` (tiny preset): through a real kernel, or its cells in this process."
    return lambda tmp: dict(notebook=FINDINGS/name, kernel=kernel,
                            parameters=dict(preset='tiny', out_dir=str(tmp/'out')) | parameters)


def _rte_files(folder: Path, flip: bool = False) -> Path:
    "A GLUE-style RTE folder in `folder`: 40 training and 10 dev pairs, labels alternating (`flip` swaps them)."
    d = folder/'RTE'; d.mkdir(exist_ok=True)
    label = lambda i: ('entailment', 'not_entailment')[(i + flip) % 2]
    for name, n in (('train.tsv', 40), ('dev.tsv', 10)):
        (d/name).write_text('index\tsentence1\tsentence2\tlabel\n' + ''.join(
            f'{i}\tThe {name[:3]} sentence {i} is here.\tA sentence {i}.\t{label(i)}\n' for i in range(n)))
    return d


def _f2(rte: Path):
    "Finding 2's tiny preset on the RTE files at `rte`."
    from lmfinding import stability
    return stability.config('tiny', tasks=['rte'], paths=dict(rte=str(rte)))


@functools.lru_cache(maxsize=None)
def _finished() -> Path:
    "A finished Finding 2 study (tiny preset, RTE files), made once per session; cases work on copies of it."
    from lmfinding import stability
    base = Path(tempfile.mkdtemp(prefix='lmfinding-finished-'))
    stability.run(_f2(_rte_files(base)), base/'out')
    return base


def _resumed(tmp, change) -> dict:
    "A copy of the finished study, changed by `change(copy)`, then run again into the same folder."
    from lmfinding import stability
    s = Path(shutil.copytree(_finished(), tmp/'study'))
    change(s)
    return dict(call=lambda: stability.run(_f2(s/'RTE'), s/'out'))


def _diverging(tmp) -> dict:
    "Finding 2's tiny preset with a learning rate of 1e4: the loss becomes NaN."
    from lmfinding import stability
    cfg = stability.config('tiny')
    cfg = replace(cfg, seeds=[0], recipes={'devlin': replace(cfg.recipes['devlin'], lr=1e4)})
    return dict(call=lambda: stability.run_grid(cfg, tmp/'out'))


def _mounted(tmp, size: str) -> Path:
    "A new tmpfs of `size` at `tmp/fs` (root only: elsewhere the case is skipped)."
    fs = tmp/'fs'; fs.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(fs)], capture_output=True).returncode:
        pytest.skip('mounting a file system needs root: a full disk or a read-only folder cannot be made here')
    return fs


def _unmount(fs: Path): return lambda: subprocess.run(['umount', '-l', str(fs)], capture_output=True)


def _full_disk(tmp) -> dict:
    "The site rendered into a 64 KiB file system."
    fs = _mounted(tmp, '64k')
    return dict(argv=['site', '--repo', str(ROOT), '--out', str(fs/'site')], untouched=fs, after=_unmount(fs))


def _full_checkpoint(tmp, weights: bool = False) -> dict:
    "A training checkpoint (or a kept encoder's weights) of a 1 MB model written into a 64 KiB file system."
    import torch
    from lmfinding.train import save_checkpoint, save_encoder
    fs, m = _mounted(tmp, '64k'), torch.nn.Linear(500, 500)
    opt = torch.optim.AdamW(m.parameters())
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.)
    save = (lambda: save_encoder(m, fs)) if weights else (lambda: save_checkpoint(fs/'checkpoint.pt', m, opt, sched,
                                                                                   0, {}))
    return dict(call=save, after=_unmount(fs))


def _read_only_results(tmp) -> dict:
    "Finding 2's notebook with results_only=True over a finished study on a read-only file system."
    fs = _mounted(tmp, '16m')
    shutil.copytree(_finished()/'out', fs/'out')
    subprocess.run(['mount', '-o', 'remount,ro', str(fs)], check=True)
    return dict(notebook=FINDINGS/'02_stability.ipynb', kernel=True, after=_unmount(fs),
                parameters=dict(preset='tiny', tasks=['rte'], paths=dict(rte=str(_finished()/'RTE')),
                                results_only=True, out_dir=str(fs/'out')))

CASES = [
    # the command line
    Case('negative split size', 'cli', lambda t: dict(argv=['tasks', 'brown_nli', '--train', '-5']), 'train=-5 is not a size'),
    Case('all-zero split sizes', 'cli', lambda t: dict(argv=['tasks', 'brown_nli', '--train', '0', '--dev', '0', '--test', '0']),
         'train=0 is not a size'),
    Case('negative seed', 'cli', lambda t: dict(argv=['tasks', 'brown_nli', '--seed', '-1']), "'-1' is not a seed"),
    Case('unknown preset', 'cli', lambda t: dict(argv=['reproduce', '--preset', 'nope']), "invalid choice: 'nope'"),
    Case('hub task with the hub off', 'cli', lambda t: dict(argv=['tasks', 'rte']), 'give its original files with --path'),
    Case('GLUE folder without dev.tsv', 'cli', lambda t: dict(argv=['tasks', 'rte', '--path', str(_rte(t, dev=False))]),
         'no dev examples'),
    Case('header-only train.tsv', 'cli', lambda t: dict(argv=['tasks', 'rte', '--path', str(_rte(t, header_only=True))]),
         'a header line and no examples'),
    Case('unknown task', 'cli', lambda t: dict(argv=['tasks', 'squad_v9']), "unknown task 'squad_v9'"),
    # grid files
    Case('missing grid file', 'grid', lambda t: dict(argv=['sweep', str(t/'nope.yaml')]), 'no such grid file'),
    Case('invalid YAML', 'grid', lambda t: _grid(t, 'grid: {seeds: [[0]}\n'), 'not valid YAML'),
    Case('tab-indented grid', 'grid', lambda t: _grid(t, 'grid:\n\tseeds: [[0]]\n'), 'never tabs'),
    Case('grid key given twice', 'grid', lambda t: _grid(t, 'grid: {seeds: [[0]]}\ngrid: {seeds: [[1]]}\n'),
         "key 'grid' is given twice"),
    Case('workers: two', 'grid', lambda t: _grid(t, 'grid: {seeds: [[0]]}\nworkers: two\n'), 'give a whole number'),
    Case('a number where a name is expected', 'grid', lambda t: _grid(t, 'grid: {preset: [5]}\n'),
         'but the notebook takes a str'),
    Case('unknown parameter', 'grid', lambda t: _grid(t, 'grid: {sedes: [[0]]}\n'), "'sedes' is not a parameter"),
    # findings notebooks' parameters: refused in the config cell, before any model loads
    Case('select: bogus', 'notebook', _nb('02_stability.ipynb', True, select='bogus'), "select='bogus': use one of"),
    Case('duplicate seeds', 'notebook', _nb('02_stability.ipynb', seeds=[0, 0]), '0 is given twice'),
    Case('no seeds', 'notebook', _nb('03_icl_vs_ft.ipynb', data_seeds=[]), 'at least one value is needed'),
    Case('negative shots', 'notebook', _nb('03_icl_vs_ft.ipynb', shots=[-4]), '-4 is not a whole number'),
    Case('-p models tiny-opt (a string, not a list)', 'notebook', _nb('03_icl_vs_ft.ipynb', models='tiny-opt'),
         "-y 'models: [tiny-opt]'"),
    Case('-p seeds 5 (a number, not a list)', 'notebook', _nb('01_probing.ipynb', seeds=5), "-y 'seeds: [5]'"),
    Case("-p seeds '[-1]'", 'notebook', _nb('01_probing.ipynb', seeds='[-1]'), '-1 is not a whole number of at least 0'),
    Case('data_dir with a preset that reads no files', 'notebook', _nb('02_stability.ipynb', data_dir='/data'),
         "preset 'tiny' reads no files"),
    Case('dtype: half', 'notebook', _nb('01_probing.ipynb', dtype='half'), "dtype='half': use one of"),
    Case('-r results_only False (a string)', 'notebook', _nb('03_icl_vs_ft.ipynb', True, results_only='False'),
         "results_only='False': True or False is expected"),
    Case('-p seed 3 (the parameter is seeds)', 'notebook', _nb('02_stability.ipynb', True, seed=3),
         "'seed' is not a parameter of this notebook (papermill would only warn and run without it): did you mean "
         "'seeds'?"),
    Case("-p out_dir '' (the notebook's own folder)", 'notebook', _nb('02_stability.ipynb', out_dir=''),
         "out_dir='': a folder path is expected"),
    Case('-p out_dir 5 (a number)', 'notebook', _nb('02_stability.ipynb', out_dir=5), 'out_dir=5: a folder path'),
    Case('-p out_dir .. (the source tree)', 'notebook', _nb('01_probing.ipynb', out_dir='..'),
         "out_dir='..': " + str(ROOT/'nbs') + ' holds this notebook (the source tree)'),
    Case('-p tensorboard no', 'notebook', _nb('02_stability.ipynb', tensorboard='no'),
         "tensorboard='no': True or False is expected"),
    Case('-p results_only 2', 'notebook', _nb('01_probing.ipynb', results_only=2),
         'results_only=2: True or False is expected'),
    Case('a seed of 2**32', 'notebook', _nb('02_stability.ipynb', seeds=[2**32]), 'below 4294967296'),
    Case('-p seeds 1.5', 'notebook', _nb('02_stability.ipynb', seeds=1.5), "-y 'seeds: [0, 1, 2]'"),
    Case('gpu_gib nan', 'notebook', _nb('03_icl_vs_ft.ipynb', gpu_gib=float('nan')), 'gpu_gib=nan'),
    Case('gpu_gib inf', 'notebook', _nb('03_icl_vs_ft.ipynb', gpu_gib=float('inf')), 'gpu_gib=inf'),
    Case('in_domain bigram_shift (not an NLI task)', 'notebook', _nb('03_icl_vs_ft.ipynb', in_domain='bigram_shift'),
         "in_domain='bigram_shift'"),
    # data that reads cleanly but is wrong
    Case('dev.tsv a copy of train.tsv', 'data', lambda t: _tasks(_rte_rows(t, PAIRS, PAIRS)),
         '2 dev examples are also train examples', warns=True),
    Case('one pair under both labels', 'data',
         lambda t: _tasks(_rte_rows(t, PAIRS + '2\tA man sleeps.\tA man rests.\tnot_entailment\n', OTHER)),
         '1 examples appear with two different labels', warns=True),
    Case('every sentence2 empty', 'data',
         lambda t: _tasks(_rte_rows(t, '0\tA man sleeps.\t\tentailment\n1\tIt rains.\t\tnot_entailment\n',
                                    '0\tCats purr.\t\tnot_entailment\n')),
         'every sentence2 of its 2 examples is empty', warns=True),
    Case('reported split with one label (Finding 2)', 'data',
         lambda t: dict(call=_stability_tasks(_rte_rows(t, PAIRS + OTHER, '0\tCats purr.\tDogs purr.\tentailment\n'))),
         "its test split has one label ('entailment'), so every run would score the majority"),
    Case('a run that diverges (lr 1e4)', 'data', _diverging, '1 of 1 runs diverged (a NaN or infinite loss', warns=True),
    # run folders and the machine
    Case('resume after the data files changed in place', 'run folder',
         lambda t: _resumed(t, lambda s: _rte_files(s, flip=True)),
         "the data of 10 run(s) of this study changed since they were made (task 'rte' read from"),
    Case('a damaged params.json', 'run folder',
         lambda t: _resumed(t, lambda s: (s/'out'/'runs'/'rte'/'devlin'/'seed0'/'params.json').write_text('{"model": ')),
         'seed0/params.json is damaged (not JSON: Expecting value)'),
    Case('a full disk (the site into 64 KiB)', 'machine', _full_disk,
         'No space left on device: free some space on that disk, or write to another one'),
    Case('a full disk (a training checkpoint into 64 KiB)', 'machine', _full_checkpoint,
         "No space left on device: '"),                    # the file named, not torch's "enforce fail"
    Case('a full disk (a kept encoder into 64 KiB)', 'machine', functools.partial(_full_checkpoint, weights=True),
         "No space left on device: '"),
    Case('results_only over a read-only results folder', 'machine', _read_only_results,
         'is read-only (Read-only file system): derived tables and figures are shown, not saved', warns=True),
]


def run_case(case: Case, tmp: Path) -> dict:
    "Run one case; what happened: exit status, the error's text, seconds, and whether it left anything behind."
    spec, t0 = case.make(tmp), time.time()
    try: return _run(spec, tmp, t0)
    finally: spec.get('after', lambda: None)()


def _run(spec: dict, tmp: Path, t0: float) -> dict:
    if 'call' in spec: return _called(spec['call'], t0)
    if 'argv' in spec:
        env = dict(os.environ, HF_HUB_OFFLINE='1', LMFINDING_DEBUG='')
        r = subprocess.run(LMF + spec['argv'], cwd=tmp, capture_output=True, text=True, env=env, timeout=300)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        said = [l for l in lines if not l.startswith('warning: ')]
        return dict(status=r.returncode, error='\n'.join(said), lines=len(said), seconds=time.time() - t0,
                    traceback='Traceback' in r.stderr, left=_left(spec.get('untouched')),
                    warnings=[l for l in lines if l.startswith('warning: ')])
    if not spec['kernel']: return _config_run(spec['notebook'], spec['parameters'], t0)
    try:
        nb = pm.execute_notebook(spec['notebook'], tmp/'executed.ipynb', parameters=spec['parameters'],
                                 cwd=str(FINDINGS), progress_bar=False, kernel_name='python3')
        return dict(status=0, error='', lines=0, seconds=time.time() - t0, traceback=False, left=[],
                    warnings=_warned(nb))
    except pm.PapermillExecutionError as e:
        return dict(status=1, error=f'{e.ename}: {e.evalue}', lines=1, seconds=time.time() - t0, traceback=False,
                    left=_left(_out(spec['parameters'])), config_cell='config(' in e.source)


def _warned(nb) -> list[str]:
    "The warnings an executed notebook printed (its cells' stderr), one per warning."
    text = ''.join(o.get('text', '') for c in nb.cells for o in c.get('outputs', []) if o.get('name') == 'stderr')
    return [l.split('Warning: ', 1)[1] for l in text.splitlines() if 'Warning: ' in l]


def _out(parameters):
    "The folder a notebook run would write (None where out_dir is unusable: '', a number, the source tree itself)."
    out = parameters.get('out_dir')
    if not isinstance(out, str) or not out.strip(): return None
    out = (FINDINGS/out).resolve()
    return None if out == FINDINGS or out in FINDINGS.parents else out


def config_cells(notebook, parameters) -> list[str]:
    "The code cells up to the config cell, with papermill's own parameters cell injected (no kernel)."
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    nb = parameterize_notebook(load_notebook_node(str(notebook)), parameters, kernel_name='python3', language='python')
    code = [c.source for c in nb.cells if c.cell_type == 'code']
    return code[:next(i for i, c in enumerate(code) if 'config(' in c) + 1]


def _config_run(notebook, parameters, t0) -> dict:
    "A notebook's start run in this process (the config cell refuses bad parameters before any model loads)."
    ns, here = dict(In=['']), Path.cwd()
    os.chdir(FINDINGS)
    try:
        for cell in config_cells(notebook, parameters):
            ns['In'].append(cell)
            exec(compile(cell, str(notebook), 'exec'), ns)
        status, error = 0, ''
    except Exception as e: status, error = 1, f'{type(e).__name__}: {e}'
    finally: os.chdir(here)
    return dict(status=status, error=error, lines=len(error.splitlines()), seconds=time.time() - t0,
                traceback=False, left=_left(_out(parameters)))


def _called(f, t0) -> dict:
    "What calling `f` in this process did: its error (type and words) and the warnings it gave."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: f(); status, error = 0, ''
        except Exception as e: status, error = 1, f'{type(e).__name__}: {e}'
    return dict(status=status, error=error, lines=len(error.splitlines()), seconds=time.time() - t0,
                traceback=False, left=[], warnings=[str(x.message) for x in w])


def _left(folder) -> list[str]:
    "Run folders or tables a refused start left behind (none, for a clear refusal)."
    if folder is None or not Path(folder).exists(): return []
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob('*')
                  if p.suffix in ('.csv', '.gz', '.pt', '.json', '.html', '.png'))


def clear(case: Case, got: dict) -> bool:
    """Whether `got` is what `case` must give: a clear refusal (non-zero, one line, the expected words, fast, nothing
    written) or, for data used with a warning, exit 0 and one warning line with the expected words."""
    if case.warns:
        said = [w for w in got.get('warnings', []) if case.expect in w]
        return got['status'] == 0 and len(said) == 1 and not got['traceback'] and got['seconds'] < SECONDS
    return (got['status'] != 0 and got['lines'] == 1 and case.expect in got['error'] and not got['traceback']
            and got['seconds'] < SECONDS and not got['left'] and got.get('config_cell', True))


@pytest.mark.parametrize('case', CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_clearly(case, tmp_path):
    got = run_case(case, tmp_path)
    assert clear(case, got), (case.expect, got)


def test_a_run_folder_with_other_parameters_is_refused_and_kept(tmp_path):
    """Finding 2 on the tiny preset, then again into the same folder with another model: the second start stops at
    once, naming the key that differs, and the first run's tables are untouched."""
    nb, out = FINDINGS/'02_stability.ipynb', tmp_path/'out'
    run = lambda **p: pm.execute_notebook(nb, tmp_path/'x.ipynb', cwd=str(FINDINGS), progress_bar=False,
                                          kernel_name='python3', parameters=dict(preset='tiny', out_dir=str(out), **p))
    run()
    before = {p: p.read_bytes() for p in out.rglob('*.csv*')}
    with pytest.raises(pm.PapermillExecutionError) as e: run(model='tiny-roberta')
    assert e.value.ename == 'RunMismatch' and "model: 'tiny-bert' there, 'tiny-roberta' now" in e.value.evalue
    assert before and before == {p: p.read_bytes() for p in out.rglob('*.csv*')}


def test_a_pickled_checkpoint_is_never_unpickled(tmp_path):
    """A `checkpoint.pt` copied from elsewhere cannot run code on resume: checkpoints load with `weights_only=True`."""
    import pickle, torch
    from lmfinding.train import load_checkpoint
    class Boom:
        def __reduce__(self): return (os.system, (f'touch {tmp_path}/pwned',))
    torch.save(dict(step=1, model=Boom()), tmp_path/'checkpoint.pt')
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.)
    with pytest.raises(pickle.UnpicklingError): load_checkpoint(tmp_path/'checkpoint.pt', model, opt, sched)
    assert not (tmp_path/'pwned').exists()


def _link(src, dst):
    try: os.link(src, dst)
    except OSError: shutil.copy2(src, dst)


def test_a_silently_damaged_task_table_is_repaired(tmp_path):
    """A built task's table damaged without changing its size or modification time: `assets verify` reports it,
    `assets fetch` repairs it (the next use rebuilds it, identical)."""
    env = dict(os.environ, LMFINDING_CACHE=str(tmp_path/'cache'), HF_HUB_OFFLINE='1')
    cache = Path(subprocess.run(LMF + ['assets', 'where'], capture_output=True, text=True).stdout.strip())
    for name in ('brown', 'minilm', 'smollm2'):                     # the built assets, linked rather than copied
        shutil.copytree(cache/name, tmp_path/'cache'/name, copy_function=_link)
    lmf = lambda *a: subprocess.run(LMF + list(a), capture_output=True, text=True, env=env, timeout=300)
    assert lmf('tasks', 'brown_nli', '--train', '20', '--dev', '10', '--test', '10').returncode == 0
    rows = next((tmp_path/'cache'/'tasks').glob('brown_nli-*'))/'rows.csv'
    st, text = rows.stat(), rows.read_text()
    rows.write_text(text.replace('entailment', 'entailmenT', 1))
    os.utime(rows, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert 'does not match its checksum' in lmf('assets', 'verify').stdout
    fixed = lmf('assets', 'fetch')
    assert fixed.returncode == 0 and 'was damaged: removed' in fixed.stdout, fixed.stdout + fixed.stderr
    assert lmf('assets', 'verify').returncode == 0
