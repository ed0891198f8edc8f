"""Statistics benchmark: the cost of the multi-bootstrap (seeds and test items resampled together) beside the Welch
t-test it stands next to, at the quick preset's size and at the full run's, and the claims of Finding 3 judged with
and without per-example answers. Run: `.venv/bin/python bench/verdicts.py` (prints a table and the ratios)."""
import time
import numpy as np
import pandas as pd
from lmfinding.icl_vs_ft import noninferior
from lmfinding.statistics import BOOT, multibootstrap, welch


def timed(fn, repeat: int = 3):
    "Best wall time of `repeat` calls of `fn`."
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
    return best


def answers(seeds: int, items: int, seed: int = 0) -> pd.DataFrame:
    "Per-example OOD answers of one model, ICL and FT, `seeds` data seeds x `items` items (random, 60% right)."
    r = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product([['icl', 'ft'], range(seeds), range(items)], names=['method', 'seed', 'row'])
    return grid.to_frame(index=False).assign(model='m', params=1e8, pattern='gpt-3', n=16, domain='ood',
                                             correct=r.random(len(grid)) < .6)


def summary(ans: pd.DataFrame) -> pd.DataFrame:
    return (ans.groupby(['model', 'params', 'method', 'pattern', 'n', 'seed', 'domain']).correct.mean()
            .rename('acc').reset_index())


def main():
    rows = []
    for name, seeds, items in [('quick (3 data seeds x 36 OOD items)', 3, 36),
                               ('full (10 data seeds x 300 OOD items)', 10, 300),
                               ('large (25 seeds x 2000 items)', 25, 2000)]:
        r = np.random.default_rng(1)
        a, b = 100. * (r.random((seeds, items)) < .6), 100. * (r.random((seeds, items)) < .6)
        t_boot = timed(lambda: multibootstrap(a, b, paired=True))
        t_welch = timed(lambda: welch(a.mean(1), b.mean(1)))
        ans = answers(seeds, items)
        s = summary(ans)
        t_claim_boot = timed(lambda: noninferior(s, 'ft', 'b', 'x', ans), 1)
        t_claim_t = timed(lambda: noninferior(s, 'ft', 'b', 'x'), 1)
        rows.append(dict(size=name, multibootstrap_s=t_boot, welch_s=t_welch, ratio=t_boot / t_welch,
                         claim_with_answers_s=t_claim_boot, claim_t_only_s=t_claim_t))
    table = pd.DataFrame(rows)
    print(f'multi-bootstrap with {BOOT} draws, best of 3 (claims: one call)')
    print(table.to_string(index=False, float_format=lambda x: f'{x:.4g}'))


if __name__ == '__main__':
    main()
