"""Issue 22 research: a FINAL decision earlier in the recovery. The binary MLPs of research/early-model.py (the
exposure and the first k recovery windows, 60,000 training containers, three seeds) used not as strict early-clear
checkpoints but as the cycle's final model at 90 + 10 k s: threshold chosen on the threshold set for false alarms
<= 1 % at 95 % confidence (Wilson upper bound), then detection and false alarms on the evaluation draws, against
the shipped default model's own score (150 s) measured the same way. A cycle that fails the quality gates is
inconclusive (neither detected nor an alarm), as the engine's gates would make it.
The same recipe on all six recovery windows (150 s) is the control: the gap is the evidence, not the model.
Run after research/early-model.py's --tag mlp60k / mlp60k-s2 / mlp60k-s3 runs (and, for the control,
`--train train-n60000 --candidates mlp --checkpoints 150 --tag mlp60k --epochs 40`):
/usr/bin/python3 research/short-recovery.py [eval-s1-n20000 ...]
"""
import math
import pickle
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from early_tables import DIR, columns, load  # noqa: E402

Z = 1.6448536269514722


def wilson_upper(k, n):
    p = k / n
    d = 1 + Z * Z / n
    return (p + Z * Z / (2 * n) + Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))) / d


def threshold_for(score, drug, ok):
    """Lowest threshold whose false alarms' Wilson upper bound on the clear containers is <= 1 %."""
    clear = np.sort(score[ok & ~drug])[::-1]
    n = int((~drug).sum())
    k = 0
    while k < len(clear) and wilson_upper(k + 1, n) <= 0.01:
        k += 1
    return clear[k] if k < len(clear) else 0.0  # alarms: score > threshold


def measure(score, t, drug, ok):
    alarm = ok & (score > t)
    return (alarm & drug).sum() / drug.sum(), (alarm & ~drug).sum() / (~drug).sum(), (~ok).sum()


th = load('threshold-n32000')
evals = [load(n) for n in ([a for a in sys.argv[1:] if not a.startswith('--')] or ['eval-s1-n20000'])]
names = th['names']


def ok_of(t):
    return t['quality'] & np.all(np.isfinite(t['x']), axis=1)


def scores(tag, at_s, t):
    cols = columns(names, windows=6, rwindows=(at_s - 90) // 10)
    model = pickle.load(open(f'{DIR}/model-{tag}-{at_s}.pkl', 'rb'))
    x = np.nan_to_num(t['x'][:, cols])
    return model.predict_proba(x)[:, 1]


rows = []
for at_s in () if '--shipped-only' in sys.argv else (100, 110, 120, 150):
    for tags in (['mlp60k'],) if at_s == 150 else (['mlp60k'], ['mlp60k-s2'], ['mlp60k-s3'], ['mlp60k', 'mlp60k-s2', 'mlp60k-s3']):
        s_th = np.mean([scores(tag, at_s, th) for tag in tags], axis=0)
        t = threshold_for(s_th, th['drug'], ok_of(th))
        out = [f'{at_s} s', '+'.join(tags), f'{t:.4f}']
        for e in evals:
            s_ev = np.mean([scores(tag, at_s, e) for tag in tags], axis=0)
            d, f, inc = measure(s_ev, t, e['drug'], ok_of(e))
            out.append(f'{100 * d:.2f} % / {100 * f:.2f} %')
        rows.append(out)
        print(' | '.join(out), flush=True)
# The shipped default model (150 s), its score thresholded the same way
fs = lambda t: np.array([np.nan if v is None else v for v in t['fScore']], dtype=float)
t = threshold_for(np.nan_to_num(fs(th), nan=-1), th['drug'], ok_of(th) & np.isfinite(fs(th)))
out = ['150 s', 'shipped default model (score rethresholded here)', f'{t:.4f}']
for e in evals:
    d, f, inc = measure(np.nan_to_num(fs(e), nan=-1), t, e['drug'], ok_of(e) & np.isfinite(fs(e)))
    out.append(f'{100 * d:.2f} % / {100 * f:.2f} %')
print(' | '.join(out))
