"""README.md is generated from nbs/index.ipynb and must match what `make readme` would write; its figures are the
named ones; every command the README and the how-tos document parses, names real parameters, and runs."""
import re, shlex, subprocess, sys
from pathlib import Path
import nbformat
import papermill as pm
import pytest
import yaml
from lmfinding.cli import parser
from lmfinding.findings import FINDINGS, notebooks
from lmfinding.readme import named_figure, notebook_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT/'README.md', *sorted((ROOT/'nbs'/'howto').glob('*.md'))]
BIN = Path(sys.executable).parent


def test_readme_is_generated_from_index(tmp_path):
    expected = notebook_markdown(ROOT/'nbs'/'index.ipynb', tmp_path/'README_files')
    assert (ROOT/'README.md').read_text() == expected, 'README.md is stale: run `make readme` and commit'


def _show_finding_calls(index):
    "(findings notebook, figure names, stored images) of every `show_finding` cell of the home notebook."
    for c in nbformat.read(index, as_version=4).cells:
        m = re.search(r"show_finding\('([^']+)', figures=\(([^)]*)\)\)", c.source)
        if m:
            pngs = [o['data']['image/png'] for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
            yield index.parent/m.group(1), re.findall(r"'([^']+)'", m.group(2)), pngs


def test_readme_figures_are_the_named_ones():
    calls = list(_show_finding_calls(ROOT/'nbs'/'index.ipynb'))
    registered = {f.notebook: f.figures for f in FINDINGS.values()}
    for nb, names, _ in calls:                                       # the README shows what the registry names
        assert registered.get(nb.relative_to(ROOT/'nbs').as_posix()) == tuple(names), (nb, names, registered)
    assert len(calls) >= 3, calls
    for nb, names, pngs in calls:
        assert pngs == [named_figure(nb, n)[0] for n in names], f'{nb.name}: README figures are not {names}'


def commands(prefix: str) -> list[tuple[str, list[str]]]:
    "(document, argv) of every command line starting with `prefix` in the bash blocks of the docs."
    out = []
    for doc in DOCS:
        for block in re.findall(r'```bash\n(.*?)```', doc.read_text(), re.S):
            for line in block.replace('\\\n', ' ').splitlines():
                argv = shlex.split(line, comments=True)
                if argv and Path(argv[0]).name == prefix: out.append((doc.name, argv[1:]))
    return out


def test_docs_have_commands():
    assert len(commands('lmfinding')) >= 8 and len(commands('papermill')) >= 4 and commands('make')


@pytest.mark.parametrize('doc,argv', commands('lmfinding'), ids=lambda a: ' '.join(a) if isinstance(a, list) else a)
def test_every_documented_lmfinding_command_parses(doc, argv):
    try: parser().parse_args(argv)
    except SystemExit as e: pytest.fail(f'{doc}: `lmfinding {" ".join(argv)}` does not parse ({e})')


def papermill_parameters(argv: list[str]) -> dict:
    "The parameters a papermill command line passes: `-p NAME VALUE`, `-r NAME VALUE`, `-y YAML`."
    params, i = {}, 0
    while i < len(argv):
        if argv[i] in ('-p', '--parameters', '-r', '--parameters_raw'):
            params[argv[i + 1]] = argv[i + 2]
            i += 3
        elif argv[i] in ('-y', '--parameters_yaml'):
            params.update(yaml.safe_load(argv[i + 1]))
            i += 2
        else: i += 1
    return params


@pytest.mark.parametrize('doc,argv', commands('papermill'), ids=lambda a: a[0] if isinstance(a, list) else a)
def test_every_documented_papermill_parameter_exists(doc, argv):
    known = pm.inspect_notebook(str(ROOT/argv[0]))
    params = papermill_parameters(argv)
    assert set(params) <= set(known), f'{doc}: {set(params) - set(known)} are not parameters of {argv[0]}'
    for flag, name, value in zip(argv, argv[1:], argv[2:]):
        if flag == '-p': assert not value.lstrip().startswith(('[', '{')), f'{doc}: -p {name} passes a string: use -y'


def test_papermill_howto_lists_every_parameter():
    table = (ROOT/'nbs'/'howto'/'papermill.md').read_text()
    for nb in notebooks(ROOT/'nbs'):
        row = next(l for l in table.splitlines() if l.startswith(f'| `{nb.stem}`'))
        assert re.findall(r'`(\w+)`', row)[1:] == list(pm.inspect_notebook(str(nb))), row


def test_every_documented_make_target_exists():
    targets = set(re.findall(r'^([\w-]+):', (ROOT/'Makefile').read_text(), re.M))
    for doc, argv in commands('make'):
        assert {a for a in argv if '=' not in a} <= targets, (doc, argv)


def test_documented_lmfinding_commands_run_offline():
    for argv in (['assets', 'verify'], ['tasks', 'bigram_shift', 'brown_nli'], ['--help']):
        assert ('README.md', argv) in commands('lmfinding') or argv == ['--help'], argv
        r = subprocess.run([BIN/'lmfinding', *argv], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr


def _on_tiny(argv: list[str], tmp: Path) -> list[str]:
    "A documented papermill command on the tiny preset, writing under `tmp`, with one seed."
    out, i, nb = [argv[0], str(tmp/'run.ipynb')], 2, argv[0]
    while i < len(argv):
        a = argv[i]
        if a in ('-p', '-r') and argv[i + 1] in ('preset', 'data_dir', 'out_dir'): i += 3
        elif a == '-y':
            out += ['-y', '\n'.join(f'{k}: [0]' for k in yaml.safe_load(argv[i + 1]))]
            i += 2
        else:
            out.append(a)
            i += 1
    return [nb] + out[1:] + ['-p', 'preset', 'tiny', '-p', 'out_dir', str(tmp/'out')]


def test_readme_papermill_command_runs_on_tiny_preset(tmp_path):
    doc, argv = next(c for c in commands('papermill') if c[0] == 'README.md')
    r = subprocess.run([BIN/'papermill', *_on_tiny(argv, tmp_path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path/'out').glob('*.png'))
