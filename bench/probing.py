"""Finding 1 benchmark: one-pass feature extraction vs one pass per (layer, pooling), the whole probing stage as a
multiple of one bare forward pass, and the probes against scikit-learn. Run: `.venv/bin/python bench/probing.py`
(prints a table and the ratios; `--sklearn` adds the agreement with scikit-learn on the quick preset's task)."""
import argparse, time
import numpy as np
import torch
from lmfinding.brown import brown_task
from lmfinding.features import extract, pool
from lmfinding.models import batch_inputs, load_model
from lmfinding.probe import PROBE_C, probe_layers
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def timed(fn, repeat: int = 1):
    "Best wall time of `repeat` calls of `fn`, and its result."
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
    return best, out


def by_length(tok, texts):
    "Longest first, in tokens: the same batching as `extract`."
    return np.argsort([-len(i) for i in tok(texts)['input_ids']], kind='stable')


@torch.no_grad()
def bare_forward(model, tok, texts, bs, max_length=128):
    "The model's forward pass alone: no hidden states, no attentions kept."
    order = by_length(tok, texts)
    for i in range(0, len(texts), bs):
        model(**batch_inputs(tok, model, [texts[j] for j in order[i:i + bs]], None, max_length))


@torch.no_grad()
def one_pass_per_pair(model, tok, texts, bs, poolings, max_length=128):
    "The original way: a full pass over the sentences for every (layer, pooling) pair."
    L = model.config.num_hidden_layers + 1
    order = by_length(tok, texts)
    out = {}
    for p in poolings:
        for layer in range(L):
            parts = []
            for i in range(0, len(texts), bs):
                inp = batch_inputs(tok, model, [texts[j] for j in order[i:i + bs]], None, max_length)
                hs = model(**inp, output_hidden_states=True).hidden_states[layer]
                parts.append(pool(hs, inp['attention_mask'], p).numpy())
            out[p, layer] = np.concatenate(parts)[np.argsort(order)]
    return out


def sklearn_probe(X, y, split, tol=1e-10):
    "scikit-learn's probe with our protocol: standardised, `C` from `PROBE_C` by dev accuracy; its `C`, test accuracy."
    sc = StandardScaler().fit(X[split == 'train'])
    (A, ya), (B, yb), (T, yt) = ((sc.transform(X[split == s]), y[split == s]) for s in ('train', 'dev', 'test'))
    fits = [LogisticRegression(C=C, tol=tol, max_iter=100_000).fit(A, ya) for C in PROBE_C]
    k = int(np.argmax([m.score(B, yb) for m in fits]))
    return PROBE_C[k], fits[k].score(T, yt)


def against_sklearn(model, tok, task_name, bs):
    "Our probes and scikit-learn's on every layer and pooling of the quick preset's task: same `C`, test accuracy gap."
    task = brown_task(task_name, seed=0, train=1500, dev=250, test=500)
    feats = extract(model, tok, task.rows.text.tolist(), batch_size=bs, progress=False)
    res = probe_layers(task, feats, progress=False, mdl=False)
    split, y = task.rows.split.to_numpy(), task.rows.label.to_numpy()
    ref = [sklearn_probe(feats.vectors[r.pooling][r.layer], y, split) for r in res.itertuples()]
    same_c = sum(c == r.C for (c, _), r in zip(ref, res.itertuples()))
    gap = max(abs(a - r.test_acc) for (_, a), r in zip(ref, res.itertuples()))
    print(f'against scikit-learn (lbfgs, tol 1e-10) on {task_name} 1500/250/500: same C in {same_c} of {len(res)} '
          f'problems; test accuracy differs by {100 * gap:.1f} points at most (one sentence is 0.2)')


def main(model_name='minilm', task_name='bigram_shift', bs=64, n_pairwise=1000, sklearn=False):
    torch.set_num_threads(2)
    task = brown_task(task_name, seed=0)                          # the quick preset's size
    texts = task.rows.text.tolist()
    model, tok = load_model(model_name)
    bare_forward(model, tok, texts[:1000], bs)                     # warm-up
    t_bare, t_one = float('inf'), float('inf')
    for _ in range(2):                                              # interleaved, best of two
        t_bare = min(t_bare, timed(lambda: bare_forward(model, tok, texts, bs))[0])
        t, feats = timed(lambda: extract(model, tok, texts, batch_size=bs, progress=False)); t_one = min(t_one, t)
    t_probe, res = timed(lambda: probe_layers(task, feats, progress=False, mdl=False))
    t_mdl, _ = timed(lambda: probe_layers(task, feats, progress=False, mdl=True))
    sub = texts[:n_pairwise]                                        # the per-pair way is slow: a subset
    t_one_sub, feats_sub = timed(lambda: extract(model, tok, sub, batch_size=bs, progress=False), repeat=2)
    t_naive, naive = timed(lambda: one_pass_per_pair(model, tok, sub, bs, ('cls', 'mean')))
    same = all(np.allclose(naive[p, l], feats_sub.vectors[p][l], atol=1e-4) for p, l in naive)
    pairs = len(naive)
    print(f'{model_name}, {len(texts)} sentences of {task_name}, batch {bs}, {torch.get_num_threads()} threads')
    print('| stage | seconds |\n|---|---|')
    for name, t in [(f'bare forward pass, {len(texts)} sentences', t_bare),
                    (f'one-pass extraction (all layers, cls+mean, entropy), {len(texts)} sentences', t_one),
                    (f'probes ({pairs} layer/pooling pairs x 4 C values, Newton to convergence)', t_probe),
                    (f'probes and their online code length (MDL)', t_mdl),
                    (f'one-pass extraction, first {len(sub)} sentences', t_one_sub),
                    (f'one pass per (layer, pooling) pair ({pairs} passes), first {len(sub)} sentences', t_naive)]:
        print(f'| {name} | {t:.2f} |')
    print(f'identical vectors: {same}')
    print(f'probes converged: {int(res.converged.sum())} of {len(res)} feature sets (every C)')
    print(f'speed-up of one-pass extraction over one pass per pair: {t_naive / t_one_sub:.1f}x (pairs: {pairs})')
    print(f'whole probing stage (extraction + probes) / bare forward pass: {(t_one + t_probe) / t_bare:.2f}x')
    print(f'with the MDL code lengths too: {(t_one + t_mdl) / t_bare:.2f}x')
    if sklearn: against_sklearn(model, tok, task_name, bs)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='minilm')
    ap.add_argument('--task', default='bigram_shift')
    ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--pairwise-sentences', type=int, default=1000)
    ap.add_argument('--sklearn', action='store_true', help="compare with scikit-learn's probes (minutes)")
    a = ap.parse_args()
    main(a.model, a.task, a.batch_size, a.pairwise_sentences, a.sklearn)
