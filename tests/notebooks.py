"""Small notebooks the tests run (not part of the package)."""
from pathlib import Path
import nbformat


def toy_notebook(folder: Path, body: str = '') -> Path:
    "A notebook with parameters x, delay, out_dir that saves x and x squared (and counts its executions)."
    src = ["x = 1\ndelay = 0.0\nout_dir = 'out'",
           "import time, pandas as pd\nfrom pathlib import Path\n"
           "out = Path(out_dir)\nout.mkdir(parents=True, exist_ok=True)\n"
           "with open(out/'executions.log', 'a') as f: f.write('run\\n')\ntime.sleep(delay)" + body,
           "pd.DataFrame(dict(x=[x], square=[x * x])).to_csv(out/'squares.csv', index=False)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src[0], metadata={'tags': ['parameters']})]
                                  + [nbformat.v4.new_code_cell(s) for s in src[1:]])
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    nbformat.write(nb, folder/'toy.ipynb')
    return folder/'toy.ipynb'
