"""Finding 3 benchmark, side by side in one run: in-context learning with the demonstrations encoded once and their
key/value cache reused for every query, against recomputing the whole context per query padded to a fixed length
(the original), at 16 shots on the same queries; and pattern-based fine-tuning steps with dynamic padding against
padding every batch to a fixed length. Run: `.venv/bin/python bench/icl.py`."""
import argparse, time
import torch
from lmfinding.brown import brown_task
from lmfinding.fewshot import sample_shots
from lmfinding.icl import cached_logits, context_text, encode_context, recomputed_logits
from lmfinding.models import load_model
from lmfinding.patterns import pattern, verbaliser_ids
from lmfinding.pbft import PBFT_RECIPE, Verbalised
from lmfinding.train import _optimiser, _update, batch_at
from lmfinding.data import Task


def icl_times(model, tok, pat, shots, queries, length):
    "Seconds and logits of the cached and the recomputed path on the same queries."
    t0 = time.perf_counter()
    ctx = encode_context(model, tok, context_text(pat, shots))
    cached = cached_logits(model, tok, ctx, queries)
    t1 = time.perf_counter()
    full = recomputed_logits(model, tok, ctx.ids, queries, length=length, batch_size=4)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, cached, full, len(ctx.ids)


def pbft_step_time(model, tok, few, pat, steps, pad_to=None):
    "Seconds per PBFT training step (after one warm-up step), dynamic padding or every batch padded to `pad_to`."
    obj = Verbalised(few, tok, pat, pad_to=pad_to)
    recipe = PBFT_RECIPE
    opt, sched = _optimiser(model, recipe, steps + 1)
    tr = few.split('train'); model.train()
    for step in range(1, steps + 2):
        if step == 2: t0 = time.perf_counter()
        idx = batch_at(step, len(tr), recipe.batch_size, 0)
        _update(model, opt, sched, recipe, lambda: obj.loss(model, tr.iloc[idx]), False)
    return (time.perf_counter() - t0) / steps


def main(model_name='smollm2', n_queries=64, steps=4):
    torch.set_num_threads(2)
    nli = brown_task('brown_nli', seed=0, train=512, dev=64, test=160)
    pat = pattern('gpt-3')
    shots = sample_shots(nli.split('train'), 16, seed=0)
    queries = [pat.query(r.text, r.text_b) for r in nli.split('test').head(n_queries).itertuples()]
    model, tok = load_model(model_name)
    longest = max(len(tok.encode(q, add_special_tokens=False)) for q in queries)
    t_cache, t_full, a, b, ctx_len = icl_times(model, tok, pat, shots, queries, length=ctx_len_pad(model, tok, pat, shots, longest))
    same = (a.argmax(1) == b.argmax(1)).float().mean().item()
    ids = verbaliser_ids(tok, pat)
    label_same = (a[:, ids].argmax(1) == b[:, ids].argmax(1)).float().mean().item()
    print(f'ICL, {model_name}, 16 shots ({ctx_len} context tokens), {len(queries)} queries')
    print(f'| path | seconds |\n|---|---|\n| context encoded once, KV cache reused | {t_cache:.2f} |'
          f'\n| full context per query, padded to a fixed length | {t_full:.2f} |')
    print(f'speed-up {t_full / t_cache:.1f}x; same top token {same:.0%}, same label prediction {label_same:.0%}, '
          f'max |logit difference| {(a - b).abs().max():.2e}')

    few = Task('few', shots.assign(split='train'), nli.labels)
    dyn = pbft_step_time(load_model(model_name)[0], tok, few, pat, steps)
    fixed = pbft_step_time(load_model(model_name)[0], tok, few, pat, steps, pad_to=256)
    longest_shot = max(len(tok.encode(pat.query(r.text, r.text_b))) for r in shots.itertuples())
    print(f'\nPBFT, {model_name}, batch of 16 shots (longest {longest_shot} tokens), {steps} steps')
    print(f'| padding | seconds per step |\n|---|---|\n| dynamic (longest in batch) | {dyn:.2f} |\n| fixed, 256 tokens | {fixed:.2f} |')
    print(f'dynamic padding {fixed / dyn:.1f}x faster, {16 / dyn:.1f} examples per second')


def ctx_len_pad(model, tok, pat, shots, longest):
    "The fixed length of the recomputed path: the context plus the longest query, rounded up to a multiple of 64."
    n = len(tok.encode(context_text(pat, shots))) + longest
    return -(-n // 64) * 64


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='smollm2'); ap.add_argument('--queries', type=int, default=64)
    ap.add_argument('--steps', type=int, default=4)
    a = ap.parse_args()
    main(a.model, a.queries, a.steps)
