# s8: carry-over. Adds the previous container(s)' own features (same day; zeros + flag for the first of a day) to
# b6R6, since sticky compounds of earlier containers carry into the current cycle. usage: s8_prev.py N[,N] MODEL [nocv]
import sys
from common import *
from sklearn.neural_network import MLPClassifier
S = 's8_prev.py'
sp = [('base', {'W': 6}), 'R', 'envR']
def with_prev(X, meta, lags=(1,)):
    key = {(q['day'], q['idx']): i for i, q in enumerate(meta)}; out = [X]
    for L in lags:
        P = np.zeros_like(X); f = np.zeros((len(X), 1))
        for i, q in enumerate(meta):
            j = key.get((q['day'], q['idx'] - L))
            if j is not None: P[i] = X[j]; f[i] = 1
        out += [P, f]
    return np.hstack(out)
models = {'LR100': LR(100), 'MLP128x2': make_pipeline(StandardScaler(), MLPClassifier((128, 64), alpha=1e-3, max_iter=2000, early_stopping=True, random_state=0))}
(ev, me, k1), _ = eval_sets(); Xe0 = build(Raw(ev), sp); ye = labels(me)
for N in [int(v) for v in sys.argv[1].split(',')]:
    tr, mt = train_set(N); Xt0 = build(Raw(tr), sp); yt = labels(mt); gt = days(mt)
    for lags in [(1,), (1, 2)]:
        for mn in sys.argv[2].split(','):
            evaluate('b6R6+prev%s %s' % (''.join(map(str, lags)), mn), models[mn], with_prev(Xt0, mt, lags), yt, gt, with_prev(Xe0, me, lags), ye,
                     script=S, big=k1, cv='nocv' not in sys.argv)
