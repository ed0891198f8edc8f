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


def _glue_rte(folder: Path, train=24, dev=8) -> Path:
    "A GLUE-format RTE folder (train.tsv, dev.tsv) written from the offline NLI task, as a user's own files."
    from lmfinding.brown import brown_task
    nli = brown_task('brown_nli', seed=0, train=train, dev=dev, test=2)
    folder.mkdir(parents=True)
    for split in ('train', 'dev'):
        (folder/f'{split}.tsv').write_text('index\tsentence1\tsentence2\tlabel\n' + ''.join(
            f'{i}\t{r.text}\t{r.text_b}\t{r.label}\n' for i, r in enumerate(nli.split(split).itertuples())))
    return folder


def _hans(path: Path) -> Path:
    "A HANS-format evaluation file written from the offline HANS-style task."
    from lmfinding.brown import brown_task
    hans = brown_task('brown_hans', seed=0, test=2)
    path.write_text('gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t'
                    'sentence1\tsentence2\tpairID\theuristic\tsubcase\ttemplate\n'
                    + ''.join(f'{r.label}\t-\t-\t-\t-\t{r.text}\t{r.text_b}\tex{i}\t{r.heuristic}\tsub\ttemp\n'
                              for i, r in enumerate(hans.rows.itertuples())))
    return path


def _probe_file(path: Path) -> Path:
    "A SentEval-format probing file of a user's own task with training lines only (its va and te are carved)."
    from lmfinding.brown import brown_task
    task = brown_task('bigram_shift', seed=0, train=60, dev=2, test=2)
    path.write_text(''.join(f'tr\t{r.label}\t{r.text}\n' for r in task.split('train').itertuples()))
    return path


def own_files(stem: str, d: Path) -> dict:
    "The parameters that point a findings notebook at a user's own task files (and its other new parameters)."
    if stem == '01_probing':
        return dict(probe_tasks=['my_shift'], paths=dict(my_shift=str(_probe_file(d/'my_shift.txt'))),
                    recipe=dict(lr=2e-3), mdl=False)
    if stem == '02_stability':
        # 100 training pairs: the selection dev carved from them (a tenth, at most dev's 8) holds both labels
        return dict(tasks=['rte'], paths=dict(rte=str(_glue_rte(d/'RTE', train=100))))
    if stem == '03_icl_vs_ft':
        return dict(in_domain='rte', ood='hans', heuristics=['lexical_overlap'], eval_limit=6,
                    paths=dict(rte=str(_glue_rte(d/'RTE', train=32)), hans=str(_hans(d/'hans.txt'))),
                    lora_recipe=dict(lr=2e-3))
    return {}


@pytest.mark.parametrize('nb', FINDINGS, ids=lambda p: p.stem)
def test_findings_notebook_on_tiny_preset(nb, tmp_path):
    """Each notebook on the tiny preset, pointed by its parameters at a user's own task files (GLUE, HANS and
    SentEval formats written from the offline tasks)."""
    out, own = tmp_path/'out', own_files(nb.stem, tmp_path)
    pm.execute_notebook(nb, tmp_path/nb.name, parameters=dict(preset='tiny', out_dir=str(out)) | own,
                        cwd=str(nb.parent), progress_bar=False, kernel_name='python3')
    text = _text(nbformat.read(tmp_path/nb.name, as_version=4))
    verdicts = _verdicts(text)
    assert len(verdicts) >= 3, text[-2000:]
    assert len(list(out.glob('*.png'))) >= 2
    records = list(out.glob('*.run.json'))
    params = json.loads(records[0].read_text())['params'] if records else {}
    assert params.get('models') or params.get('model'), records
    assert all(params['paths'].get(t) == f for t, f in own.get('paths', {}).items()), params   # the user's files read

    # the same results re-made from the stored folder alone: no model or data could be loaded (the names are bogus)
    names = pm.inspect_notebook(str(nb))
    bogus = dict(models=['no-such-model']) if 'models' in names else dict(model='no-such-model')
    pm.execute_notebook(nb, tmp_path/'again.ipynb', cwd=str(nb.parent), progress_bar=False, kernel_name='python3',
                        parameters=dict(preset='tiny', out_dir=str(out), results_only=True, **bogus))
    assert _verdicts(_text(nbformat.read(tmp_path/'again.ipynb', as_version=4))) == verdicts
