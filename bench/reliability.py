"""Reliability benchmark: every bad input of `tests/test_bad_inputs.py` (command lines, grid files, notebook
parameters, data that reads cleanly but is wrong), run as a user would, and what came back: a clear one-line refusal
before any work (or, for usable but suspect data, one warning line naming the counts), or not. Writes
`bench/results/reliability.csv`, which the README's reliability figure reads.
Run: `.venv/bin/python bench/reliability.py`."""
import sys, tempfile
from pathlib import Path
import pandas as pd
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
from test_bad_inputs import CASES, clear, run_case          # noqa: E402  (the same table as the tests)


def outcome(case, got) -> str:
    "How a case ended: 'clear error', 'clear warning', 'silent' (it went on), 'traceback', 'unclear error', 'left files'."
    if clear(case, got): return 'clear warning' if case.warns else 'clear error'
    if got['status'] == 0: return 'silent'
    if got['traceback']: return 'traceback'
    return 'left files' if got['left'] else 'unclear error'


def main(out=ROOT/'bench'/'results'/'reliability.csv'):
    rows = []
    for case in tqdm(CASES, desc='bad inputs'):
        with tempfile.TemporaryDirectory() as tmp:
            try: got = run_case(case, Path(tmp))
            except BaseException as e:                       # pytest.skip: the case needs root (a mounted disk)
                if type(e).__name__ != 'Skipped': raise
                rows.append(dict(case=case.id, area=case.area, outcome='not run here', seconds=0., error=str(e)))
                continue
        said = got['error'] or '; '.join(got.get('warnings', []))
        rows.append(dict(case=case.id, area=case.area, outcome=outcome(case, got), seconds=round(got['seconds'], 1),
                         error=said.splitlines()[-1][:200] if said else ''))
    df = pd.DataFrame(rows)
    df.to_csv(out, index=False)
    print(df.groupby(['area', 'outcome']).size().unstack(fill_value=0).to_string())
    print(f"{len(df)} cases, {(df.outcome == 'clear error').sum()} clear errors, "
          f"{(df.outcome == 'clear warning').sum()} clear warnings, slowest {df.seconds.max():.1f} s; "
          f'table: {out}')


if __name__ == '__main__':
    main()
