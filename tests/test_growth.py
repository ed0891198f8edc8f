"""Studies only grow: a finished `tiny` study of each finding, given one more seed, recipe, probing task or model,
computes only the new runs (the trainings and forward passes are counted, by run folder), and a change to a run
already computed is refused before anything runs, naming the run and the keys that differ."""
from dataclasses import replace
from pathlib import Path
import pytest
from lmfinding import icl_vs_ft, probing, stability, train
from lmfinding.runs import RunMismatch


class Calls:
    "Wrap `module.name` so that each call is recorded (by `what(args, kwargs)`), then do what it did."
    def __init__(self, monkeypatch, module, name, what):
        self.seen, inner = [], getattr(module, name)
        def wrapped(*a, **kw):
            self.seen.append(what(a, kw))
            return inner(*a, **kw)
        monkeypatch.setattr(module, name, wrapped)

    def take(self) -> list:
        seen, self.seen = self.seen, []
        return seen


def _under(out: Path, path) -> str:
    return Path(path).relative_to(out).as_posix()


def test_probing_grows_by_a_probe_task_and_a_seed(tmp_path, monkeypatch):
    cfg = probing.config('tiny', sizes=dict(probing.PRESETS['tiny']['sizes'],
                                            odd_man_out=dict(train=60, dev=30, test=30)))
    trainings = Calls(monkeypatch, train, 'train', lambda a, kw: kw['seed'])       # finetune_encoder's loop
    passes = Calls(monkeypatch, probing, 'extract', lambda a, kw: len(a[2]))       # one forward pass per sentence
    probing.run(cfg, tmp_path)
    assert trainings.take() == [0, 1] and passes.take() == [120] * 3               # 2 fine-tunings, 3 checkpoints

    grown = probing.run(replace(cfg, probe_tasks=['bigram_shift', 'odd_man_out']), tmp_path)
    assert trainings.take() == [] and passes.take() == [120] * 3                  # the kept encoders, new task only
    assert sorted(grown.probe.probe_task.unique()) == ['bigram_shift', 'odd_man_out']

    probing.run(replace(cfg, probe_tasks=['bigram_shift', 'odd_man_out'], seeds=[0, 1, 2]), tmp_path)
    assert trainings.take() == [2] and passes.take() == [120] * 2                 # the new seed's checkpoint only

    with pytest.raises(RunMismatch, match=r'brown_genre-seed0: recipe: \{') as e:
        probing.run(replace(cfg, recipe=replace(cfg.recipe, lr=1e-2)), tmp_path)
    assert 'brown_genre-seed1' in str(e.value) and trainings.take() == [] and passes.take() == []


def test_stability_grows_by_a_seed_and_a_recipe(tmp_path, monkeypatch):
    cfg = stability.config('tiny')
    trainings = Calls(monkeypatch, stability, 'train', lambda a, kw: _under(tmp_path, kw['checkpoint'].parent))
    first = stability.run(cfg, tmp_path)
    assert len([t for t in trainings.take() if t.startswith('runs/')]) == 3 * 2      # recipes x seeds

    grown = stability.run(replace(cfg, seeds=[0, 1, 2]), tmp_path)
    new = trainings.take()
    assert sorted(t for t in new if not t.startswith('surface/')) == sorted(
        [f'runs/brown_nli/{r}/seed2' for r in cfg.recipes] +
        [f'downsampled/brown_nli/brown_nli/{r}/seed2' for r in ('few_epochs', 'full_steps')])
    pair = lambda res: stability.surface_pair(res.runs, [r for r, rc in cfg.recipes.items() if not rc.mixout])
    assert [t for t in new if t.startswith('surface/')] == [] or pair(grown) != pair(first)   # a new pair: its surface

    slow = dict(cfg.recipes, slow=replace(cfg.recipes['devlin'], lr=1e-5))
    third = stability.run(replace(cfg, seeds=[0, 1, 2], recipes=slow), tmp_path)
    new = trainings.take()
    assert sorted(t for t in new if t.startswith(('runs/', 'downsampled/'))) == [
        f'runs/brown_nli/slow/seed{s}' for s in range(3)]
    assert set(third.runs.recipe) == set(slow) and len(third.runs) == 4 * 3

    changed = dict(cfg.recipes, devlin=replace(cfg.recipes['devlin'], lr=1e-2))
    with pytest.raises(RunMismatch, match=r'brown_nli/devlin/seed0: recipe: \{') as e:
        stability.run(replace(cfg, recipes=changed), tmp_path)
    assert '/lee/' not in str(e.value) and '/mosbach/' not in str(e.value) and trainings.take() == []


def test_icl_vs_ft_grows_by_a_model_and_a_data_seed(tmp_path, monkeypatch):
    cfg = icl_vs_ft.config('tiny', models=['tiny-llama'])
    icl = Calls(monkeypatch, icl_vs_ft, 'icl_answers', lambda a, kw: type(a[0]).__name__)
    ft = Calls(monkeypatch, icl_vs_ft, 'finetune_lm', lambda a, kw: (type(a[0]).__name__, kw['seed'], bool(kw['lora'])))
    icl_vs_ft.run(cfg, tmp_path)
    assert len(icl.take()) == 2 * 2 and len(ft.take()) == 2 * 2     # 2 data seeds; ICL answers in- and out-of-domain

    grown = icl_vs_ft.run(replace(cfg, models=['tiny-llama', 'tiny-opt']), tmp_path)
    assert icl.take() == ['OPTForCausalLM'] * 4                                   # the new model only
    assert sorted(ft.take()) == sorted(('OPTForCausalLM', s, l) for s in (0, 1) for l in (False, True))
    assert set(grown.summary.family) == {'llama', 'opt'}

    icl_vs_ft.run(replace(cfg, models=['tiny-llama', 'tiny-opt'], data_seeds=[0, 1, 2]), tmp_path)
    assert len(icl.take()) == 2 * 2 and sorted(s for _, s, _ in ft.take()) == [2] * 4   # seed 2 of both models

    with pytest.raises(RunMismatch, match=r'tiny-llama/ft/gpt-3/n4/seed0: recipe: \{') as e:
        icl_vs_ft.run(replace(cfg, recipe=replace(cfg.recipe, lr=1e-2)), tmp_path)
    assert '/icl/' not in str(e.value) and icl.take() == [] and ft.take() == []
