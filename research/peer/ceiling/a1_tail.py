# a1: who are the top-scoring clear containers (the 1% FA tail) and the missed drugs? base6+R6 LR C100, train 2000.
from common import *
import collections
tr, mt = train_set(2000); (ev, me, k1), _ = eval_sets()
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); ye = labels(me)
sp = [('base', {'W': 6}), 'R', 'envR']
m = fit_kind(LR(100), build(rt, sp), yt, 'multi'); s = score_of(m, build(re_, sp))
evx_meta = me; prev = {}
for i, q in enumerate(me): prev[(q['day'], q['idx'])] = q
cl = np.nonzero(ye == 'clear')[0]; thr = np.quantile(s[cl], 0.99)
top = cl[np.argsort(-s[cl])][:40]
print('thr', thr)
for i in top:
    q = me[i]; p = prev.get((q['day'], q['idx'] - 1)); p2 = prev.get((q['day'], q['idx'] - 2))
    print('%.2f' % s[i], q['day'], q['idx'], 'reefer' if q['reefer'] else '', 'faults=%d' % q['faults'], {k: round(v) for k, v in q['conc'].items()},
          '| prev:', p['label'] if p else None, {k: round(v, 1) for k, v in p['conc'].items() if k in ('acetic_acid', 'piperonal', 'methyl_benzoate', 'beta_caryophyllene', 'ammonia', 'diesel')} if p else '', '| prev2:', p2['label'] if p2 else None)
# clear: score vs previous-is-drug and confounders
def feat(q):
    p = prev.get((q['day'], q['idx'] - 1)); return (p is not None and p['label'] != 'clear')
pd_ = np.array([feat(me[i]) for i in cl]); hi = s[cl] > thr
print('clear with previous=drug: share overall %.2f, share in tail %.2f' % (pd_.mean(), pd_[hi].mean()))
for c in ['ammonia', 'diesel', 'methyl_bromide', 'ethylene_oxide', 'benzene', 'phosphine', 'toluene', 'formaldehyde', 'ethylene', 'fruit_esters']:
    has = np.array([c in me[i]['conc'] for i in cl]); print('%-15s share %.3f  in tail %.2f' % (c, has.mean(), has[hi].mean()))
fa = np.array([me[i]['faults'] > 0 for i in cl]); print('faults share %.3f in tail %.2f' % (fa.mean(), fa[hi].mean()))
# missed drugs
for sub in SUBS:
    d = np.nonzero(ye == sub)[0]; miss = s[d] <= thr
    mk = {'cocaine': 'methyl_benzoate', 'cannabis': 'myrcene', 'heroin': 'acetic_acid', 'mdma': 'piperonal'}[sub]
    c = np.array([me[i]['conc'][mk] for i in d])
    print(sub, 'missed %.2f' % miss.mean(), 'median marker ppb missed %.1f detected %.1f' % (np.median(c[miss]) if miss.any() else -1, np.median(c[~miss])))
