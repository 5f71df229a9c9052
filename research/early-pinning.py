"""Issue 22 research: the drug containers that pin the strict early-clear threshold of the shipped exposure model.

Among the drug containers of the threshold set (SHIPPED_SETS.thresholdSet) that the full cycle does not clear and
that the exposure model calls a clean clear, the k lowest exposure-model scores: each is a clearBelow the strict
rule would take if the k below it were allowed through; printed with the share of clear containers it clears at
90 s, and what those drug containers are (substance, marker concentration, confounders, faults, full-cycle call).
Run (after research/early-model-extract.mjs threshold): /usr/bin/python3 research/early-pinning.py [table] [k]
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from early_tables import load  # noqa: E402

MARKERS = {'cocaine': 'methyl_benzoate', 'mdma': 'piperonal', 'heroin': 'acetic_acid', 'cannabis': 'myrcene'}
name = sys.argv[1] if len(sys.argv) > 1 else 'threshold-n32000'
k = int(sys.argv[2]) if len(sys.argv) > 2 else 20
t = load(name)
d, s = t['drug'], t['eScore']
clean = t['eClean'] & np.isfinite(s)
pin = d & (t['fVerdict'] != 'clear') & clean
idx = np.where(pin)[0][np.argsort(s[pin])]
clr = ~d
print(f'{name}: {len(d)} containers, {d.sum()} drug, {clr.sum()} clear; drug containers the full cycle does not clear '
      f'and the exposure model calls a clean clear: {pin.sum()} (full cycle: {dict(zip(*np.unique(t["fVerdict"][pin], return_counts=True)))})')


def marker(r):
    m = MARKERS.get(r['label'])
    return r['conc'].get(m, 0.0) if m else float('nan')


allm = {lab: np.array([marker(r) for r, dd in zip(t['rows'], d) if dd and r['label'] == lab]) for lab in MARKERS}
print('| k | clearBelow | clear cleared at 90 s | substance | marker ppb (its percentile among that drug) | confounders ppb | faults | full cycle (score) |')
print('|---|---|---|---|---|---|---|---|')
for j, i in enumerate(idx[:k]):
    r = t['rows'][i]
    m = marker(r)
    pct = 100 * (allm[r['label']] < m).mean()
    conf = ', '.join(f'{c} {r["conc"][c]:.0f}' for c in r['confounders'] if c in r['conc'])
    share = ((s < s[i]) & clean & clr).sum() / clr.sum()
    print(f"| {j} | {s[i]:.5f} | {100 * share:.1f} % | {r['label']} | {m:.2f} ({pct:.0f} %) | {conf or '-'} | {', '.join(r['faults']) or '-'} | {r['fVerdict']} ({r['fScore']:.3f}) |")
low = idx[:100]
print(f'the 100 lowest: substances {dict(zip(*np.unique([t["rows"][i]["label"] for i in low], return_counts=True)))}; '
      f'full cycle {dict(zip(*np.unique(t["fVerdict"][low], return_counts=True)))}; with faults {sum(1 for i in low if t["rows"][i]["faults"])}; '
      f'median marker percentile {np.median([100 * (allm[t["rows"][i]["label"]] < marker(t["rows"][i])).mean() for i in low]):.0f} %')
print('| substance | containers | suspicious at 90 s (exposure model) | suspicious at 150 s (full cycle) | not cleared by the full cycle but a clean clear at 90 s |')
print('|---|---|---|---|---|')
for lab in MARKERS:
    m = np.array([r['label'] == lab for r in t['rows']])
    ev = np.array([r['eVerdict'] == 'suspicious' for r in t['rows']])
    print(f"| {lab} | {m.sum()} | {100 * (ev & m).sum() / m.sum():.1f} % | {100 * ((t['fVerdict'] == 'suspicious') & m).sum() / m.sum():.1f} % | {(pin & m).sum()} |")
# The price of clearing more at 90 s with this model: passing the k lowest of these drug containers (a budget, not
# the rule), on this table: the whole decision's detection and the mean time to a clear verdict (90 s or 150 s).
full_det = (t['fVerdict'][d] == 'suspicious').mean()
print(f'full cycle alone: detection {100 * full_det:.2f} %')
print('| drug containers passed (k) | clearBelow | clear cleared at 90 s | detection | meanDecisionClearS |')
print('|---|---|---|---|---|')
for kk in [0, 5, 10, 20, 50, 100, 150, 200, 300]:
    if kk >= len(idx): break
    cb = s[idx[kk]]
    early = clean & (s < cb)
    verdict = np.where(early, 'clear', t['fVerdict'])
    det = (verdict[d] == 'suspicious').mean()
    mean_clear = np.where(early, 90.0, 150.0)[clr].mean()
    print(f'| {kk} | {cb:.5f} | {100 * (early & clr).sum() / clr.sum():.1f} % | {100 * det:.2f} % | {mean_clear:.1f} |')
