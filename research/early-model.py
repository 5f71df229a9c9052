"""Issue 22 research: early-model candidates trained FOR the strict early-clear rule, measured on cached tables.

Tables: research/early-model-extract.mjs (train: days 1-20 seed 1; threshold: SHIPPED_SETS.thresholdSet; eval:
days 21-30). Per checkpoint a binary model scores P(suspicious) from the features the cycle has shown by then
(research/early_tables.py columns); its clearBelow is chosen on the threshold set only, as
src/engine/earlyThresholds.ts does: the lowest score of a drug container that the full cycle (the shipped default
model) does not clear and that would leave early as a clean clear. A container leaves at the first checkpoint
whose score is below its clearBelow; otherwise the default model's verdict at 150 s stands (no early suspicious:
this measures the clear side only). Run: /usr/bin/python3 research/early-model.py [--eval eval-s1-n5000]
[--train train-n20000] [--candidates lr,mlp,shipped,saved:<tag>] [--checkpoints 60,70,80,90,100,110,120]
[--tag T] [--seed S] [--target truth|distil|w<k>] [--also tag,...] [--also-mean] [--with-shipped] [--cummax]
(--help lists them). Fitted models are pickled to /tmp/h22m/model-<tag>-<s>.pkl; `saved:<tag>` reuses them.
A clean clear is approximated by: the cycle passes the quality gates and the score is below 0.5 (the candidate's
novelty limit is not modelled here; the engine measurement of a shipped candidate includes it).
"""
import argparse
import math
import pickle
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from early_tables import DIR, columns, load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--train', default='train-n20000')
ap.add_argument('--threshold', default='threshold-n32000')
ap.add_argument('--eval', default='eval-s1-n5000')
ap.add_argument('--candidates', default='lr')
ap.add_argument('--checkpoints', default='60,70,80,90,100,110,120')
ap.add_argument('--target', default='truth', help='truth | distil (the default model does not clear it) | w<k> (drug weight k)')
ap.add_argument('--c', type=float, default=1.0)
ap.add_argument('--margin', type=int, default=0, help='clearBelow below the k-th lowest drug score instead of the lowest (k = margin: 0 the strict rule)')
ap.add_argument('--show', type=int, default=0, help='print the k lowest-scoring pinning drug containers per checkpoint')
ap.add_argument('--tag', default='', help='name of the saved score files (default: the candidate kind)')
ap.add_argument('--with-shipped', action='store_true', help='at 90 s and later, clear only where the shipped exposure model also would (the larger score)')
ap.add_argument('--cummax', action='store_true', help='each checkpoint\'s score is the largest of its model\'s and the earlier checkpoints\' scores')
ap.add_argument('--seed', type=int, default=1, help='random state of the MLP')
ap.add_argument('--also', default='', help='comma-separated tags of saved models whose scores at the same checkpoint are combined by the largest score')
ap.add_argument('--also-mean', action='store_true', help='combine the --also models by the mean score (one averaged model) instead of the largest')
ap.add_argument('--hidden', default='128x64')
ap.add_argument('--alpha', type=float, default=1e-4)
ap.add_argument('--epochs', type=int, default=60)
args = ap.parse_args()

Z = 1.6448536269514722


def wilson_upper(k, n, z=Z):
    if n == 0: return float('nan')
    p = k / n
    d = 1 + z * z / n
    return (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d


def cols_at(names, at_s):
    if at_s <= 90:
        return columns(names, windows=(at_s - 30) // 10)
    return columns(names, windows=6, rwindows=(at_s - 90) // 10)


def make(kind, seed=None):
    seed = args.seed if seed is None else seed
    if kind == 'lr':
        return make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=2000))
    if kind == 'mlp':
        return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=tuple(int(h) for h in args.hidden.split('x')), alpha=args.alpha, max_iter=args.epochs, early_stopping=False, random_state=seed))
    raise ValueError(kind)


t0 = time.time()
tr, th, ev = load(args.train), load(args.threshold), load(args.eval)
names = tr['names']
ok = tr['quality'] & np.all(np.isfinite(tr['x']), axis=1)
if args.target == 'truth' or args.target.startswith('w'):
    y = tr['drug'][ok].astype(int)
elif args.target == 'distil':
    y = (tr['fVerdict'][ok] != 'clear').astype(int)
w = np.ones(len(y))
if args.target.startswith('w'):
    w[y == 1] = float(args.target[1:])
print(f'train {ok.sum()} rows ({y.sum()} positive), threshold {len(th["drug"])}, eval {len(ev["drug"])}; target {args.target}')

checkpoints = [int(s) for s in args.checkpoints.split(',')]
for kind in args.candidates.split(','):
    plan = []
    prev = {}
    for at in ([90] if kind == 'shipped' else checkpoints):
        c = cols_at(names, at)
        if kind == 'shipped':
            if at != 90: raise ValueError('the shipped exposure model decides at 90 s only')
        elif kind.startswith('saved:'):
            m = pickle.load(open(f'{DIR}/model-{kind[6:]}-{at}.pkl', 'rb'))
        else:
            m = make(kind)
            if kind == 'lr':
                m.fit(tr['x'][ok][:, c], y, logisticregression__sample_weight=w)
            else:
                m.fit(tr['x'][ok][:, c], y)
            pickle.dump(m, open(f'{DIR}/model-{args.tag or kind}-{at}.pkl', 'wb'))
        scores = {}
        for nm, t in (('th', th), ('ev', ev)):
            x = t['x'][:, c]
            fin = np.all(np.isfinite(x), axis=1)
            if kind == 'shipped':
                # the shipped exposure model as the engine ran it: its own score and clean-clear verdict
                s = t['eScore'].copy()
                scores[nm] = (s, t['eClean'] & np.isfinite(s))
                continue
            s = np.full(len(x), np.nan)
            s[fin] = m.predict_proba(x[fin])[:, 1]
            clean = t['quality'] & fin & (s < 0.5)
            for tag in [a for a in args.also.split(',') if a]:
                other = pickle.load(open(f'{DIR}/model-{tag}-{at}.pkl', 'rb'))
                so = np.full(len(x), np.nan)
                so[fin] = other.predict_proba(x[fin])[:, 1]
                if args.also_mean:
                    s = s + so  # divided by the number of models below
                else:
                    s = np.fmax(s, so)
                    clean = clean & (so < 0.5)
            if args.also_mean and args.also:
                s = s / (1 + len([a for a in args.also.split(',') if a]))
                clean = t['quality'] & fin & (s < 0.5)
            if args.with_shipped and at >= 90:
                # both must say clear: the larger of the two scores, and the shipped model's verdict a clean clear
                s = np.fmax(s, t['eScore'])
                clean = clean & t['eClean']
            if args.cummax and nm in prev:
                # clear only where every earlier checkpoint's model also scores low (the largest score so far)
                s = np.fmax(s, prev[nm][0])
                clean = clean & prev[nm][1]
            scores[nm] = (s, clean)
        prev = scores
        s, clean = scores['th']
        pin = th['drug'] & (th['fVerdict'] != 'clear') & clean
        ds = np.sort(s[pin])
        if args.show:
            for k in np.where(pin)[0][np.argsort(s[pin])][:args.show]:
                r = th['rows'][k]
                print(f"      pin {s[k]:.5f} {r['sample']} {r['label']} full {r['fVerdict']} {r['fScore']:.3f} conc { {a: round(b, 1) for a, b in r['conc'].items()} } faults {r['faults']}")
        clear_below = ds[args.margin] if len(ds) > args.margin else 0.5
        clr = ~th['drug']
        th_share = ((s < clear_below) & clean & clr).sum() / clr.sum()
        plan.append((at, clear_below, scores['ev']))
        print(f'  {kind} {at:>3} s: {len(c)} features, clearBelow {clear_below:.5f}; threshold set: clear below {100 * th_share:.1f} %  ({time.time() - t0:.0f} s)', flush=True)
    # the sequential plan on the evaluation rows
    n = len(ev['drug'])
    decided = np.full(n, 150.0)
    early = np.zeros(n, bool)
    for at, cb, (s, clean) in plan:
        go = ~early & clean & (s < cb)
        decided[go] = at
        early |= go
    verdict = np.where(early, 'clear', ev['fVerdict'])
    d = ev['drug']
    det = (verdict[d] == 'suspicious').mean()
    fa_k = (verdict[~d] == 'suspicious').sum()
    lost = (early & d & (ev['fVerdict'] != 'clear')).sum()
    at_cp = {at: int(((decided == at) & ~d).sum()) for at, _, _ in plan}
    print(f'{kind} eval ({int((~d).sum())} clear, {int(d.sum())} drug): clear containers cleared at {at_cp}; drug cleared early {int((early & d).sum())} ({lost} not cleared by full); '
          f'detection {100 * det:.2f} %, false alarms {100 * fa_k / (~d).sum():.2f} % ({100 * wilson_upper(fa_k, (~d).sum()):.2f} %), '
          f'meanDecisionClearS {decided[~d].mean():.1f}, meanDecisionS {decided.mean():.1f}', flush=True)
