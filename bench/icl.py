"""Finding 3 benchmark, side by side in one run: in-context learning with the shared ids of the written prompts
encoded once and their key/value cache reused for every query (one query at a time, and in batches reading the cache
expanded), against recomputing every written prompt whole, tokenised whole and padded to a fixed length (the
original), at 16 shots on the same queries; and pattern-based fine-tuning steps with dynamic padding against padding
every batch to a fixed length. Run: `.venv/bin/python bench/icl.py` (`--no-pbft`: the ICL part only)."""
import argparse, time
import torch
from lmfinding.brown import brown_task
from lmfinding.answers import sample_shots
from lmfinding.icl import cached_logits, context_text, encode_context, recomputed_logits, split_prompts
from lmfinding.models import load_model
from lmfinding.patterns import pattern, verbaliser_ids
from lmfinding.pbft import PBFT_RECIPE, Verbalised
from lmfinding.train import optimiser, train_step, batch_at
from lmfinding.data import Task


def cached_time(model, tok, text, queries, batch_size):
    "Seconds and logits of the cached path: split the written prompts, encode the shared ids, run the rests."
    t0 = time.perf_counter()
    pr = split_prompts(tok, text, queries)
    logits = cached_logits(model, encode_context(model, pr.prefix), pr.rests, batch_size=batch_size)
    return time.perf_counter() - t0, logits, len(pr.prefix)


def recomputed_time(model, tok, text, queries, length):
    "Seconds and logits of every written prompt tokenised whole and computed whole, padded to `length` ids."
    t0 = time.perf_counter()
    logits = recomputed_logits(model, tok, [text + q for q in queries], length=length, batch_size=4)
    return time.perf_counter() - t0, logits


def fixed_length(tok, text, queries):
    "The fixed length of the recomputed path: the longest written prompt, rounded up to a multiple of 64 ids."
    n = max(len(tok.encode(text + q)) for q in queries)
    return -(-n // 64) * 64


def agreement(a, b, ids):
    "Share of equal top tokens, of equal label predictions, and the largest logit difference of `a` and `b`."
    return ((a.argmax(1) == b.argmax(1)).float().mean().item(), (a[:, ids].argmax(1) == b[:, ids].argmax(1)).float()
            .mean().item(), (a - b).abs().max().item())


def icl_bench(model_name, n_queries, batch_size, rounds):
    "Print the ICL table: cached one at a time, cached in batches (best of `rounds`, interleaved), recomputed."
    nli = brown_task('brown_nli', seed=0, train=512, dev=64, test=160)
    pat = pattern('gpt-3')
    shots = sample_shots(nli.split('train'), 16, seed=0)
    queries = [pat.query(r.text, r.text_b) for r in nli.split('test').head(n_queries).itertuples()]
    model, tok = load_model(model_name)
    text = context_text(pat, shots)
    t1 = tb = float('inf')
    for _ in range(rounds):
        s1, a, ctx_len = cached_time(model, tok, text, queries, 1)
        sb, ab, _ = cached_time(model, tok, text, queries, batch_size)
        t1, tb = min(t1, s1), min(tb, sb)
    t_full, b = recomputed_time(model, tok, text, queries, fixed_length(tok, text, queries))
    ids = verbaliser_ids(tok, pat)
    print(f'ICL, {model_name}, 16 shots ({ctx_len} cached ids), {len(queries)} queries, best of {rounds} for the '
          'cached paths')
    print(f'| path | seconds |\n|---|---|\n| shared ids encoded once, KV cache reused, one query at a time | {t1:.2f} |'
          f'\n| the same, {batch_size} queries per pass against the expanded cache | {tb:.2f} |'
          f'\n| every written prompt computed whole, padded to a fixed length | {t_full:.2f} |')
    print(f'speed-up {t_full / t1:.1f}x (one at a time), {t_full / tb:.1f}x (batches of {batch_size}); '
          f'batched / one at a time: {tb / t1:.2f}')
    for name, x in (('one at a time', a), (f'batches of {batch_size}', ab)):
        same, label_same, diff = agreement(x, b, ids)
        print(f'cached ({name}) vs recomputed: same top token {same:.0%}, same label prediction {label_same:.0%}, '
              f'max |logit difference| {diff:.2e}')
    return shots, nli, pat, tok


def pbft_step_time(model, tok, few, pat, steps, pad_to=None):
    "Seconds per PBFT training step (after one warm-up step), dynamic padding or every batch padded to `pad_to`."
    obj = Verbalised(few, tok, pat, pad_to=pad_to)
    recipe = PBFT_RECIPE
    opt, sched = optimiser(model, recipe, steps + 1)
    tr = few.split('train')
    model.train()
    for step in range(1, steps + 2):
        if step == 2: t0 = time.perf_counter()
        idx = batch_at(step, len(tr), recipe.batch_size, 0)
        train_step(model, opt, sched, recipe, lambda: obj.loss(model, tr.iloc[idx]), False)
    return (time.perf_counter() - t0) / steps


def pbft_bench(model_name, shots, nli, pat, tok, steps):
    "Print the PBFT table: dynamic padding against every batch padded to 256 ids."
    few = Task('few', shots.assign(split='train'), nli.labels)
    dyn = pbft_step_time(load_model(model_name)[0], tok, few, pat, steps)
    fixed = pbft_step_time(load_model(model_name)[0], tok, few, pat, steps, pad_to=256)
    longest_shot = max(len(tok.encode(pat.query(r.text, r.text_b))) for r in shots.itertuples())
    print(f'\nPBFT, {model_name}, batch of 16 shots (longest {longest_shot} tokens), {steps} steps')
    print(f'| padding | seconds per step |\n|---|---|\n| dynamic (longest in batch) | {dyn:.2f} |'
          f'\n| fixed, 256 tokens | {fixed:.2f} |')
    print(f'dynamic padding {fixed / dyn:.1f}x faster, {16 / dyn:.1f} examples per second')


def main(model_name='smollm2', n_queries=64, steps=4, batch_size=8, rounds=2, pbft=True):
    torch.set_num_threads(2)
    shots, nli, pat, tok = icl_bench(model_name, n_queries, batch_size, rounds)
    if pbft: pbft_bench(model_name, shots, nli, pat, tok, steps)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='smollm2')
    ap.add_argument('--queries', type=int, default=64)
    ap.add_argument('--steps', type=int, default=4)
    ap.add_argument('--batch-size', type=int, default=8, help='queries per pass of the batched cached path')
    ap.add_argument('--rounds', type=int, default=2, help='the cached paths are timed best of this many rounds')
    ap.add_argument('--no-pbft', action='store_true', help='the ICL part only')
    a = ap.parse_args()
    main(a.model, a.queries, a.steps, a.batch_size, a.rounds, not a.no_pbft)
