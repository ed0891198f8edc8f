"""GPU benchmark, side by side in one run, with paper-shaped random-initialised models built on the device (nothing is
downloaded; the embedded tokenizers are used): exact resume on the device, the cost of a bert-large checkpoint against
the 5-minute default, a bert-large training step in each precision (fp32, TF32, bf16 as `train` runs it, and the
naive wrap of autocast around every step, for the record), the probing stage against one bare forward pass (bert-base
shape), and in-context learning one query at a time against batches on the shared cache (a 1.3B Llama shape). Prints
one markdown table with the device and the date, for the README's GPU section.

Run on a GPU: `.venv/bin/python bench/gpu.py` (a few minutes). `--small` runs every measurement with tiny shapes
(on the CPU too), to check the script itself."""
import argparse, datetime, tempfile, time
from contextlib import nullcontext
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
import transformers
from lmfinding.brown import brown_task
from lmfinding.features import extract
from lmfinding.precision import PRECISIONS, autocast_forward, precision_scope
from lmfinding.answers import sample_shots
from lmfinding.icl import cached_logits, context_text, encode_context, split_prompts
from lmfinding.models import batch_inputs, load_tokenizer
from lmfinding.patterns import pattern
from lmfinding.probe import probe_layers
from lmfinding.train import (AdamW, CHECKPOINT_MINUTES, Recipe, optimiser, train_step, param_groups, save_checkpoint,
                              train)

SHAPES = {  # name -> (config class, kwargs, small kwargs)
    'bert-base': (transformers.BertConfig, dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                                intermediate_size=3072), dict(hidden_size=64, num_hidden_layers=2,
                                                num_attention_heads=2, intermediate_size=128)),
    'bert-large': (transformers.BertConfig, dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                                 intermediate_size=4096), dict(hidden_size=64, num_hidden_layers=2,
                                                 num_attention_heads=2, intermediate_size=128)),
    'llama-1.3b': (transformers.LlamaConfig, dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16,
                                                  num_key_value_heads=16, intermediate_size=5504),
                   dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                        intermediate_size=128)),
}


def sync(device):
    if device.startswith('cuda'): torch.cuda.synchronize()


def timed(fn, device):
    "Seconds of `fn()` on `device` (synchronised), and its result."
    sync(device); t = time.perf_counter(); out = fn(); sync(device)
    return time.perf_counter() - t, out


def shaped(name, small, tok, head=None, seed=0):
    "A random-initialised model of the shape `name` with `tok`'s vocabulary (tiny if `small`)."
    cls, big, tiny = SHAPES[name]
    attn = dict(attn_implementation='eager') if cls is transformers.BertConfig else {}   # CLS attention entropies
    cfg = cls(vocab_size=len(tok), pad_token_id=tok.pad_token_id, max_position_embeddings=2048, **attn,
              **(tiny if small else big))
    torch.manual_seed(seed)
    if name.startswith('llama'): return transformers.LlamaForCausalLM(cfg)
    if head: return transformers.BertForSequenceClassification(cfg)
    return transformers.BertModel(cfg, add_pooling_layer=False)


def resume_gap(device, small):
    "Largest loss difference between a run stopped at step 7 and resumed, and the same run uninterrupted."
    tok, task = load_tokenizer('minilm'), brown_task('brown_genre', seed=0, train=128, dev=32, test=32)
    recipe = Recipe(lr=1e-4, steps=12, batch_size=8, trace_every=0)
    def run(**kw):
        return train(shaped('bert-base', small, tok, head=True).to(device), tok, task, recipe, progress=False, **kw)
    whole = run()
    ck = Path(tempfile.mkdtemp())/'run.pt'
    def stop(step, loss):
        if step == 7: raise KeyboardInterrupt
    try: run(checkpoint=ck, checkpoint_every=5, on_step=stop)
    except KeyboardInterrupt: pass
    resumed = run(checkpoint=ck, checkpoint_every=5)
    return float(np.abs(whole.log.loss.to_numpy() - resumed.log.loss.to_numpy()).max())


def checkpoint_cost(device, small):
    "Seconds to save a bert-large checkpoint (weights and AdamW moments), its GiB, one step's seconds and its tokens."
    tok = load_tokenizer('minilm')
    model = shaped('bert-large', small, tok, head=True).to(device)
    opt = AdamW(param_groups(model, .01), lr=1e-5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.)
    texts = ['the committee met on tuesday to discuss the budget for the coming year'] * 16
    inp = {k: v.to(device) for k, v in batch_inputs(tok, model, texts, None, 128).items()}
    def step():
        loss = model(**inp, labels=torch.zeros(16, dtype=torch.long, device=device)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    step()
    t_step = min(timed(step, device)[0] for _ in range(3))
    path = Path(tempfile.mkdtemp())/'ck.pt'
    t_save = min(timed(lambda: save_checkpoint(path, model, opt, sched, 1, dict(log=[])), device)[0] for _ in range(2))
    return t_save, path.stat().st_size / 2**30, t_step, inp['input_ids'].shape[1]


def precision_steps(device, small, repeat=5):
    """Seconds of one bert-large training step, batch 16 x 128 tokens, per precision: the step as `train` makes it
    (`train_step`: autocast around the forward pass only) and its parts, plus the naive wrap (one autocast region around
    all the steps, backward and optimiser included: stale bf16 weights, timed for the record)."""
    tok = load_tokenizer('minilm')
    model = shaped('bert-large', small, tok, head=True).to(device).train()
    recipe = Recipe(lr=1e-5, clip=1.0)
    texts = ['the committee met on tuesday to discuss the budget for the coming year'] * 16
    inp = {k: v.to(device) for k, v in batch_inputs(tok, model, texts, None, 128, padding='max_length').items()}
    y = torch.zeros(16, dtype=torch.long, device=device)
    loss_fn = lambda: F.cross_entropy(model(**inp).logits.float(), y)           # as `Classify.loss` computes it
    def parts(precision):
        "Seconds of the forward pass with the loss, the backward pass, and clipping with the optimiser's step."
        with autocast_forward(precision, device): t_fwd, loss = timed(loss_fn, device)
        opt.zero_grad()
        t_bwd = timed(loss.backward, device)[0]
        def update():
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip)
            opt.step()
            sched.step()
        return t_fwd, t_bwd, timed(update, device)[0]
    out = {}
    for name in (*PRECISIONS, 'bf16, naive wrap'):
        naive = name.endswith('naive wrap')
        precision = 'fp32' if naive else name                      # the naive wrap: autocast from outside instead
        opt, sched = optimiser(model, recipe, total=1000)
        wrap = torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if naive else nullcontext()
        with precision_scope(precision), wrap:
            step = lambda: train_step(model, opt, sched, recipe, loss_fn, False, precision)
            step()                                                 # warm-up: kernels loaded, algorithms chosen
            t_step = min(timed(step, device)[0] for _ in range(repeat))
            split = np.min([parts(precision) for _ in range(repeat)], axis=0)
        out[name] = (t_step, *split)
    return out


def probing_ratio(device, small):
    "The probing stage (one-pass extraction and every probe, MDL included) over one bare forward pass, bert-base shape."
    tok = load_tokenizer('minilm')
    task = brown_task('bigram_shift', seed=0, **(dict(train=200, dev=50, test=50) if small else {}))
    texts = task.rows.text.tolist()
    by_length = sorted(texts, key=lambda t: -len(tok(t)['input_ids']))              # batched as `extract` batches
    model = shaped('bert-base', small, tok).to(device).eval()
    @torch.no_grad()
    def bare():
        for i in range(0, len(by_length), 64):
            model(**{k: v.to(device) for k, v in batch_inputs(tok, model, by_length[i:i + 64], None, 128).items()})
    bare()
    t_bare = timed(bare, device)[0]
    t_ext, feats = timed(lambda: extract(model, tok, texts, batch_size=64, progress=False), device)
    t_probe, _ = timed(lambda: probe_layers(task, feats, progress=False, device=device), device)
    return t_bare, t_ext, t_probe


def icl_speed(device, small, batch_size=32, n_queries=64):
    "Seconds of in-context learning one query at a time and in batches on the shared cache (1.3B Llama shape)."
    tok = load_tokenizer('smollm2')
    nli, pat = brown_task('brown_nli', seed=0, train=512, dev=64, test=160), pattern('gpt-3')
    shots = sample_shots(nli.split('train'), 16, seed=0)
    queries = [pat.query(r.text, r.text_b) for r in nli.split('test').head(n_queries).itertuples()]
    model = shaped('llama-1.3b', small, tok).to(device).eval()
    pr = split_prompts(tok, context_text(pat, shots), queries)
    run = lambda bs: cached_logits(model, encode_context(model, pr.prefix), pr.rests, batch_size=bs)
    run(batch_size)                                                                  # warm-up
    t1, a = timed(lambda: run(1), device)
    tb, b = timed(lambda: run(batch_size), device)
    return t1, tb, float((a.argmax(1) == b.argmax(1)).float().mean()), len(pr.prefix)


def main(small=False):
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    name = torch.cuda.get_device_name() if device == 'cuda' else 'CPU'
    print(f'{name}, {datetime.date.today()}, torch {torch.__version__}, fp32 unless a row says otherwise, '
          f'shapes: {"tiny" if small else "paper"}')
    rows = [('resume on the device: largest loss difference, stopped at step 7 and resumed vs uninterrupted',
             f'{resume_gap(device, small):.2e}')]
    t_save, gib, t_step, n_tok = checkpoint_cost(device, small)
    rows += [(f'bert-large training step, batch 16 x {n_tok} tokens (one short sentence), fp32 (s)', f'{t_step:.3f}'),
             (f'bert-large checkpoint save, {gib:.2f} GiB (s)', f'{t_save:.2f}'),
             (f'checkpoint cost at one save every {CHECKPOINT_MINUTES:g} minutes',
              f'{t_save / (60 * CHECKPOINT_MINUTES):.1%}')]
    steps = precision_steps(device, small)
    fp32 = steps['fp32'][0]
    rows += [(f'bert-large step, batch 16 x 128 tokens, {name}: whole / forward / backward / optimiser (s)',
              f'{t:.3f} / {fwd:.3f} / {bwd:.3f} / {upd:.3f}') for name, (t, fwd, bwd, upd) in steps.items()]
    rows += [('step time over fp32: ' + ' / '.join(steps), ' / '.join(f'{v[0] / fp32:.2f}x' for v in steps.values())),
             ('bf16 speed-up over fp32 (target 2x)', f'{fp32 / steps["bf16"][0]:.2f}x')]
    t_bare, t_ext, t_probe = probing_ratio(device, small)
    rows += [('bert-base bare forward pass, bigram shift (s)', f'{t_bare:.2f}'),
             ('one-pass extraction (s) / probes with MDL on the device (s)', f'{t_ext:.2f} / {t_probe:.2f}'),
             ('probing stage / bare forward pass (target 1.5x)', f'{(t_ext + t_probe) / t_bare:.2f}x')]
    t1, tb, same, ctx = icl_speed(device, small)
    rows += [(f'ICL, 1.3B shape, 16 shots ({ctx} cached ids), 64 queries: one at a time (s)', f'{t1:.2f}'),
             ('the same in batches of 32 on the expanded cache (s)', f'{tb:.2f}'),
             ('batched speed-up (target 3x on a GPU) / same predictions', f'{t1 / tb:.1f}x / {same:.0%}')]
    print('| measurement | value |\n|---|---|')
    for k, v in rows: print(f'| {k} | {v} |')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--small', action='store_true', help='tiny shapes: check the script (on the CPU too)')
    main(ap.parse_args().small)
