"""Each findings notebook runs under papermill, with injected parameters, on its `tiny` preset, and produces its
tables (with run records), its figures and one verdict per claim."""
import json, re
from pathlib import Path
import nbformat
import papermill as pm
import pytest
from lmfinding.findings import notebooks

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = notebooks(ROOT/'nbs')                # the registered findings (`lmfinding.findings`)


def _text(nb) -> str:
    out = []
    for c in nb.cells:
        for o in c.get('outputs', []):
            out += [o.get('text', '')] + [o.get('data', {}).get(k, '') for k in ('text/plain', 'text/markdown')]
    return '\n'.join(out)


def _verdicts(text):
    return [l for l in text.splitlines() if re.match(r'- \(\w\) .*: (held|did not hold|inconclusive)', l)]


@pytest.mark.parametrize('nb', FINDINGS, ids=lambda p: p.stem)
def test_findings_notebook_on_tiny_preset(nb, tmp_path):
    out = tmp_path/'out'
    pm.execute_notebook(nb, tmp_path/nb.name, parameters=dict(preset='tiny', out_dir=str(out)), cwd=str(nb.parent),
                        progress_bar=False, kernel_name='python3')
    text = _text(nbformat.read(tmp_path/nb.name, as_version=4))
    verdicts = _verdicts(text)
    assert len(verdicts) >= 3, text[-2000:]
    assert len(list(out.glob('*.png'))) >= 2
    records = list(out.glob('*.run.json'))
    params = json.loads(records[0].read_text())['params'] if records else {}
    assert params.get('models') or params.get('model'), records

    # the same results re-made from the stored folder alone: no model or data could be loaded (the names are bogus)
    names = pm.inspect_notebook(str(nb))
    bogus = dict(models=['no-such-model']) if 'models' in names else dict(model='no-such-model')
    pm.execute_notebook(nb, tmp_path/'again.ipynb', cwd=str(nb.parent), progress_bar=False, kernel_name='python3',
                        parameters=dict(preset='tiny', out_dir=str(out), results_only=True, **bogus))
    assert _verdicts(_text(nbformat.read(tmp_path/'again.ipynb', as_version=4))) == verdicts
