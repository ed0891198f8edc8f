"""Finding 1 benchmark: one-pass feature extraction vs one pass per (layer, pooling), and the whole probing stage
as a multiple of one bare forward pass. Run: `.venv/bin/python bench/probing.py` (prints a table and the ratios)."""
import argparse, time
import numpy as np
import torch
from lmfinding.brown import brown_task
from lmfinding.features import extract, pool
from lmfinding.models import batch_inputs, load_model
from lmfinding.probe import probe_layers


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


def main(model_name='minilm', task_name='bigram_shift', bs=64, n_pairwise=1000):
    torch.set_num_threads(2)
    task = brown_task(task_name, seed=0)                          # the quick preset's size
    texts = task.rows.text.tolist()
    model, tok = load_model(model_name)
    bare_forward(model, tok, texts[:1000], bs)                     # warm-up
    t_bare, t_one = float('inf'), float('inf')
    for _ in range(2):                                              # interleaved, best of two
        t_bare = min(t_bare, timed(lambda: bare_forward(model, tok, texts, bs))[0])
        t, feats = timed(lambda: extract(model, tok, texts, batch_size=bs, progress=False)); t_one = min(t_one, t)
    t_probe, res = timed(lambda: probe_layers(task, feats, progress=False))
    t_probe200, res200 = timed(lambda: probe_layers(task, feats, progress=False, max_iter=200))
    sub = texts[:n_pairwise]                                        # the per-pair way is slow: a subset
    t_one_sub, feats_sub = timed(lambda: extract(model, tok, sub, batch_size=bs, progress=False), repeat=2)
    t_naive, naive = timed(lambda: one_pass_per_pair(model, tok, sub, bs, ('cls', 'mean')))
    same = all(np.allclose(naive[p, l], feats_sub.vectors[p][l], atol=1e-4) for p, l in naive)
    pairs = len(naive)
    print(f'{model_name}, {len(texts)} sentences of {task_name}, batch {bs}, {torch.get_num_threads()} threads')
    print('| stage | seconds |\n|---|---|')
    for name, t in [(f'bare forward pass, {len(texts)} sentences', t_bare),
                    (f'one-pass extraction (all layers, cls+mean, entropy), {len(texts)} sentences', t_one),
                    (f'probes ({pairs} layer/pooling pairs x 4 C values)', t_probe),
                    (f'one-pass extraction, first {len(sub)} sentences', t_one_sub),
                    (f'one pass per (layer, pooling) pair ({pairs} passes), first {len(sub)} sentences', t_naive)]:
        print(f'| {name} | {t:.2f} |')
    print(f'identical vectors: {same}')
    moved = (res.test_acc - res200.test_acc).abs()
    print(f'probes at 200 instead of 50 L-BFGS iterations: {t_probe200:.2f} s; test accuracy moves by '
          f'{100 * moved.mean():.2f} points on average, {100 * moved.max():.2f} at most')
    print(f'speed-up of one-pass extraction over one pass per pair: {t_naive / t_one_sub:.1f}x (pairs: {pairs})')
    print(f'whole probing stage (extraction + probes) / bare forward pass: {(t_one + t_probe) / t_bare:.2f}x')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='minilm'); ap.add_argument('--task', default='bigram_shift')
    ap.add_argument('--batch-size', type=int, default=64); ap.add_argument('--pairwise-sentences', type=int, default=1000)
    a = ap.parse_args()
    main(a.model, a.task, a.batch_size, a.pairwise_sentences)
