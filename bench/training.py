"""Finding 2 benchmark, side by side in one run: the cost of per-layer gradient tracing per training step, dynamic
padding vs padding every batch to the maximum length, and the loss surface's cost per grid point against one
evaluation pass. Run: `.venv/bin/python bench/training.py`."""
import argparse, time
import torch
from lmfinding.brown import brown_task
from lmfinding.models import batch_inputs, load_model
from lmfinding.surface import loss_surface, params_vector
from lmfinding.train import AdamW, Recipe, label_ids, train_step, batch_at, grad_norms, warmup_linear


def step_times(model, tok, task, recipe, steps, trace, padding, seed=0):
    "Seconds per training step over `steps` steps (after one warm-up step)."
    tr = task.split('train'); y = label_ids(task, tr)
    opt = AdamW(model.parameters(), lr=recipe.lr, bias_correction=recipe.bias_correction)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear(steps + 1, 0.1))
    model.train()
    t0 = None
    for step in range(1, steps + 2):
        if step == 2: t0 = time.perf_counter()
        idx = batch_at(step, len(tr), recipe.batch_size, seed)
        inp = batch_inputs(tok, model, tr.text.iloc[idx].tolist(), tr.text_b.iloc[idx].tolist(),
                           recipe.max_length, padding)
        train_step(model, opt, sched, recipe, lambda: model(**inp, labels=y[idx]).loss, trace)
    return (time.perf_counter() - t0) / steps


def main(model_name='minilm', steps=20, rounds=2):
    torch.set_num_threads(2)
    task = brown_task('brown_nli', seed=0, train=512, dev=128, test=128)
    recipe = Recipe(lr=2e-5, batch_size=16)
    model, tok = load_model(model_name, head='classify')
    t = {k: float('inf') for k in ('plain (dynamic padding)', 'traced (dynamic padding)', 'padded to 128')}
    for _ in range(rounds):                                        # interleaved, best of `rounds`
        t['plain (dynamic padding)'] = min(t['plain (dynamic padding)'],
                                           step_times(model, tok, task, recipe, steps, False, 'longest'))
        t['traced (dynamic padding)'] = min(t['traced (dynamic padding)'],
                                            step_times(model, tok, task, recipe, steps, True, 'longest'))
        t['padded to 128'] = min(t['padded to 128'], step_times(model, tok, task, recipe, steps, False, 'max_length'))
    t_norms = sorted(timed_once(lambda: grad_norms(model)) for _ in range(21))[10]    # median, gradients in place
    plain = t['plain (dynamic padding)']
    print(f'{model_name}, brown_nli pairs, batch {recipe.batch_size}, {torch.get_num_threads()} threads, '
          f'best of {rounds} rounds of {steps} steps')
    print('| training step | seconds |\n|---|---|')
    for k, v in t.items(): print(f'| {k} | {v:.3f} |')
    print(f'| per-layer gradient norms alone (median of 21) | {t_norms:.4f} |')
    print(f'gradient tracing overhead per step: {100 * t_norms / plain:.2f}% when traced every step, '
          f'{10 * t_norms / plain:.2f}% at the default (every 10th step); '
          f'whole traced steps vs plain steps: {100 * (t["traced (dynamic padding)"] / plain - 1):+.1f}% '
          '(timing noise included)')
    print(f'dynamic padding speed-up over padding to 128 tokens: {t["padded to 128"] / plain:.2f}x')
    # the loss surface: one grid point = set the parameters + one evaluation pass
    tr = task.split('train').iloc[:128]; y = label_ids(task, tr)
    inp = batch_inputs(tok, model, tr.text.tolist(), tr.text_b.tolist(), 128)
    def loss_fn(m):
        with torch.no_grad(): return m(**inp, labels=y).loss.item()
    model.eval(); theta = params_vector(model)
    t_eval = min(timed_once(lambda: loss_fn(model)) for _ in range(3))
    t_grid = timed_once(lambda: loss_surface(model, loss_fn, theta, theta * 1.01, theta * .99, [0, .5, 1], [0, .5, 1],
                                             progress=False)) / 9
    print(f'loss surface: {t_grid:.3f} s per grid point vs {t_eval:.3f} s for one evaluation pass on the same 128 '
          f'examples ({t_grid / t_eval:.2f}x)')


def timed_once(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='minilm'); ap.add_argument('--steps', type=int, default=20)
    a = ap.parse_args()
    main(a.model, a.steps)
