"""Sweeps under stress: a real sweep killed with SIGKILL mid-way and started again loses nothing that had finished
and duplicates nothing; the same sweep through a real single-node Slurm cluster started inside the test (Debian's
slurm-wlm and munge, `make slurm` installs them) and stopped again; an unreachable controller stops before
submitting."""
import json, os, signal, socket, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from lmfinding.sweep import cells, read_grid, status
from notebooks import toy_notebook

ROOT = Path(__file__).resolve().parents[1]
LMF = [sys.executable, '-m', 'lmfinding.cli']


def _grid(tmp, n=6, delay=1.5, **extra):
    nb = toy_notebook(tmp)
    lines = [f'notebook: {nb}', f'out: {tmp}/sweep', f'parameters: {{delay: {delay}}}',
             f'grid: {{x: {list(range(1, n + 1))}}}']
    lines += [f'{k}: {json.dumps(v)}' for k, v in extra.items()]
    (tmp/'grid.yaml').write_text('\n'.join(lines) + '\n')
    return tmp/'grid.yaml'


def _start_sweep(grid, cwd) -> subprocess.Popen:
    """`lmfinding sweep GRID` in a session of its own, with Ctrl-C's default action as from a terminal (a suite run in
    the background, `make test &` or nohup, would otherwise pass SIGINT on ignored)."""
    return subprocess.Popen(LMF + ['sweep', str(grid)], cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _executions(sw):
    return {c: (sw.out/'cells'/c/'results'/'executions.log').read_text().count('run')
            for c in cells(sw) if (sw.out/'cells'/c/'results'/'executions.log').exists()}


def test_sigkill_mid_sweep_then_resume(tmp_path):
    grid = _grid(tmp_path)
    sw = read_grid(grid)
    p = _start_sweep(grid, tmp_path)
    deadline = time.time() + 240
    while time.time() < deadline and sum(status(sw, c)['status'] == 'done' for c in cells(sw)) < 2:
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL); p.wait()                     # the sweep and its kernel, at once
    before = {c: status(sw, c)['status'] for c in cells(sw)}
    done_before = [c for c, s in before.items() if s == 'done']
    assert 2 <= len(done_before) < len(before), before
    stamps = {c: (sw.out/'cells'/c/'notebook.ipynb').stat().st_mtime_ns for c in done_before}

    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert all(status(sw, c)['status'] == 'done' for c in cells(sw))
    runs = _executions(sw)
    assert all(runs[c] == 1 for c in done_before), runs                # finished cells were not run again
    assert stamps == {c: (sw.out/'cells'/c/'notebook.ipynb').stat().st_mtime_ns for c in done_before}
    table = pd.read_csv(sw.out/'results'/'squares.csv')
    assert sorted(table.x) == list(range(1, 7)) and (table.square == table.x ** 2).all()   # each cell once
    m = json.loads((sw.out/'manifest.json').read_text())
    assert m['counts']['done'] == 6
    st = subprocess.run(LMF + ['sweep', str(grid), '--status'], cwd=tmp_path, capture_output=True, text=True)
    assert '6 done, 0 failed' in st.stdout


@pytest.mark.parametrize('grid', sorted((ROOT/'sweeps').glob('*.yaml')), ids=lambda p: p.name)
def test_shipped_grid_files_are_valid(grid, monkeypatch):
    """Each grid file in sweeps/ names only its notebook's parameters; every cell of a Finding 3 grid fits its node
    (no run would be refused for memory)."""
    from lmfinding.icl_vs_ft import config
    from lmfinding.scale import placements
    from lmfinding.sweep import read_grids
    monkeypatch.chdir(ROOT)
    for sw in read_grids(grid):                         # a file of several sweeps (full.yaml) checks each
        if sw.notebook.name != '03_icl_vs_ft.ipynb': continue
        for params in cells(sw).values():
            kw = {k: v for k, v in params.items() if k not in ('preset', 'data_dir', 'out_dir', 'results_only')}
            cfg = config(params['preset'], params.get('data_dir'), **kw)
            placements(cfg.models, cfg.methods, cfg.gpus, cfg.gpu_gib)


def test_bad_grid_files_start_nothing(tmp_path):
    grid = _grid(tmp_path, n=2)
    grid.write_text(grid.read_text().replace('grid: {x:', 'grid: {lr:'))
    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "'lr' is not a parameter" in r.stderr and 'its parameters are' in r.stderr
    assert not (tmp_path/'sweep').exists()


# --- a real single-node Slurm cluster -------------------------------------------------------------------------------

def _need(*tools):
    folders = os.environ['PATH'].split(':') + ['/usr/sbin']
    missing = [t for t in tools if not any((Path(d)/t).exists() for d in folders)]
    if missing: pytest.fail(f'{missing} not installed: `make slurm` installs slurm-wlm and munge (Debian)')


@pytest.fixture(scope='module')
def slurm(tmp_path_factory):
    _need('slurmctld', 'slurmd', 'munged', 'sbatch')
    if os.geteuid() != 0: pytest.skip('starting slurmctld, slurmd and munged by hand needs root')
    d = tmp_path_factory.mktemp('slurm')
    host = socket.gethostname().split('.')[0]
    for sub in ('spool', 'state', 'munge', 'log'): (d/sub).mkdir()
    key = d/'munge'/'munge.key'
    key.write_bytes(os.urandom(1024)); key.chmod(0o400)
    sock = d/'munge'/'munge.socket'
    munged = subprocess.run(['munged', '--force', f'--key-file={key}', f'--socket={sock}',
                             f'--pid-file={d}/munge/munged.pid', f'--log-file={d}/log/munged.log',
                             f'--seed-file={d}/munge/seed'], capture_output=True, text=True)
    assert munged.returncode == 0, munged.stderr
    conf = d/'slurm.conf'
    memory_mib = os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') // 2**21
    conf.write_text('\n'.join([
        'ClusterName=lmftest', f'SlurmctldHost={host}', 'SlurmUser=root', 'SlurmdUser=root', 'AuthType=auth/munge',
        f'AuthInfo=socket={sock}', 'CredType=cred/munge', 'MpiDefault=none', 'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU', 'ReturnToService=2',
        'SchedulerType=sched/builtin', f'StateSaveLocation={d}/state', f'SlurmdSpoolDir={d}/spool',
        f'SlurmctldPidFile={d}/slurmctld.pid', f'SlurmdPidFile={d}/slurmd.pid',
        f'SlurmctldLogFile={d}/log/slurmctld.log', f'SlurmdLogFile={d}/log/slurmd.log', 'SlurmctldPort=16817',
        'SlurmdPort=16818', 'JobCompType=jobcomp/none', 'AccountingStorageType=accounting_storage/none',
        f'NodeName={host} CPUs={os.cpu_count()} RealMemory={memory_mib} State=UNKNOWN',
        f'PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP', '']))
    env = {**os.environ, 'SLURM_CONF': str(conf)}
    quiet = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    ctld = subprocess.Popen(['slurmctld', '-D', '-f', str(conf)], **quiet)
    slurmd = subprocess.Popen(['slurmd', '-D', '-f', str(conf)], **quiet)
    deadline = time.time() + 60
    while time.time() < deadline:
        r = subprocess.run(['sinfo', '-h', '-o', '%T'], env=env, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() in ('idle', 'mixed'): break
        time.sleep(1)
    else: pytest.fail(f'Slurm did not come up: {r.stdout} {r.stderr}\n' + (d/'log'/'slurmctld.log').read_text()[-2000:])
    yield env
    for p in (slurmd, ctld): p.terminate()
    for p in (slurmd, ctld): p.wait(timeout=30)
    pid = (d/'munge'/'munged.pid')
    if pid.exists(): os.kill(int(pid.read_text()), signal.SIGTERM)


def test_sweep_through_slurm(tmp_path, slurm):
    grid = _grid(tmp_path, n=3, delay=0, executor='slurm', slurm=dict(time='00:10:00', cpus=1, mem='1G'))
    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=600)
    sw = read_grid(grid)
    logs = ''.join(p.read_text() for p in (sw.out/'slurm').glob('*.out'))
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:] + logs
    assert sorted(pd.read_csv(sw.out/'results'/'squares.csv').x) == [1, 2, 3]
    assert len(list((sw.out/'slurm').glob('*_*.out'))) == 3                  # one array task per cell
    assert '#SBATCH --array=0-2' in (sw.out/'slurm'/'array.sh').read_text()


def test_refused_job_array_leaves_cells_pending(tmp_path, slurm):
    grid = _grid(tmp_path, n=2, delay=0, executor='slurm', slurm=dict(mem='100000G'))
    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'sbatch refused the job array' in r.stderr, r.stderr
    sw = read_grid(grid)
    assert {status(sw, c)['status'] for c in cells(sw)} == {'pending'}


def test_unreachable_controller_submits_nothing(tmp_path, slurm):
    grid = _grid(tmp_path, n=2, delay=0, executor='slurm')
    conf = tmp_path/'nowhere.conf'
    conf.write_text(Path(slurm['SLURM_CONF']).read_text().replace('SlurmctldPort=16817', 'SlurmctldPort=16999'))
    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, env={**slurm, 'SLURM_CONF': str(conf)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'the Slurm controller does not answer' in r.stderr, r.stderr
    assert not (tmp_path/'sweep'/'slurm'/'array.sh').exists()


def test_gathered_sweep_is_analysed_without_models(tmp_path):
    """A two-cell sweep of Finding 3 (one tiny decoder per cell) gathered into one folder; the notebook's results_only
    run on that folder compares both decoders (Welch tests across cells) without loading a model or data."""
    nb = ROOT/'nbs'/'findings'/'03_icl_vs_ft.ipynb'
    grid = tmp_path/'grid.yaml'
    grid.write_text(f'notebook: {nb}\nout: {tmp_path}/sweep\nparameters: {{preset: tiny}}\n'
                    'grid: {models: [[tiny-llama], [tiny-opt]]}\n')
    r = subprocess.run(LMF + ['sweep', str(grid)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    record = json.loads((tmp_path/'sweep'/'results'/'summary.run.json').read_text())
    assert len(record['cells']) == 2 and all(c['params']['models'] for c in record['cells'].values())
    from lmfinding.cli import analyse_sweep                 # what `make reproduce` renders a finished full run with
    sw = read_grid(grid)
    sw.parameters = dict(sw.parameters, models=['no-such-model'])      # results only: no model is loaded
    shown = analyse_sweep(sw)
    gathered = tmp_path/'sweep'/'analysis'
    assert shown == gathered/'notebook.ipynb' and (gathered/'claims.csv').exists()
    assert analyse_sweep(read_grid(grid).__class__(nb, tmp_path/'never-run')) is None     # unfinished: nothing
    welch = pd.read_csv(gathered/'welch_ood.csv')
    assert set(welch.icl_model) == set(welch.ft_model) == {'tiny-llama', 'tiny-opt'}, welch
    assert len(welch) == 2 * 2 * 2                                     # ICL model x FT model x FT method


def test_a_grown_study_is_not_analysed_before_its_last_cell(tmp_path):
    """The study a shared sweep grows is marked complete after each cell: the full run's analysis waits until every
    cell is done, so a half-grown study is never shown as the full run."""
    from lmfinding.cli import analyse_sweep
    from lmfinding.runs import mark_complete
    from lmfinding.sweep import _set_status
    grid = tmp_path/'grid.yaml'
    grid.write_text(f"notebook: {ROOT/'nbs'/'findings'/'01_probing.ipynb'}\nout: {tmp_path}/sweep\nshared: true\n"
                    'parameters: {preset: tiny}\ngrid: {seeds: [[0], [0, 1]]}\n')
    sw = read_grid(grid)
    first, last = cells(sw)
    mark_complete(sw.out/'study')                     # as the first cell leaves it
    _set_status(sw, first, 'done', seconds=1.0)
    assert analyse_sweep(sw) is None and not (sw.out/'analysis').exists()


def test_ctrl_c_leaves_the_running_cell_pending(tmp_path):
    """SIGINT (Ctrl-C, sent to the whole process group as a terminal does) stops the sweep; the interrupted cell is
    pending, not failed, and a restarted sweep runs it."""
    grid = _grid(tmp_path)
    sw = read_grid(grid)
    p = _start_sweep(grid, tmp_path)
    deadline = time.time() + 240
    while time.time() < deadline and not any(status(sw, c)['status'] == 'running' for c in cells(sw)):
        time.sleep(0.2)
    time.sleep(1.0)                                                 # inside the notebook's delay
    os.killpg(p.pid, signal.SIGINT)
    p.wait(timeout=120)
    states = [status(sw, c)['status'] for c in cells(sw)]
    assert 'failed' not in states and 'running' not in states and 'dead' not in states, states
    assert 'pending' in states, states


@pytest.mark.parametrize('finding', ['01_probing', '02_stability', '03_icl_vs_ft'])
def test_full_run_verdicts_are_remade_from_its_committed_cells(finding, tmp_path):
    """A finished finding of the full run: its committed cells, analysed again from a copy (results only, no models),
    give the committed verdicts (estimates equal to 1e-9: the bootstraps are seeded)."""
    import dataclasses, shutil
    from lmfinding.cli import analyse_sweep, full_sweeps
    sw = full_sweeps(ROOT/'sweeps'/'full.yaml')[finding]
    kept = ROOT/sw.out/'analysis'/'claims.csv'
    if not kept.exists(): pytest.skip(f'the full run of {finding} has not finished yet')
    copy = tmp_path/finding
    top = str(ROOT/sw.out)                            # the cells only: no gathered tables, no analysis
    shutil.copytree(ROOT/sw.out, copy, ignore=lambda d, names: {'analysis', 'results'} & set(names) if d == top else set())
    remade = analyse_sweep(dataclasses.replace(sw, notebook=ROOT/sw.notebook, out=copy))
    assert remade is not None, 'the committed cells do not make a finished sweep'
    got, want = pd.read_csv(remade.parent/'claims.csv'), pd.read_csv(kept)
    assert got[['claim', 'verdict', 'n']].values.tolist() == want[['claim', 'verdict', 'n']].values.tolist()
    assert (got.estimate - want.estimate).abs().max() < 1e-9 or got.estimate.isna().equals(want.estimate.isna())
