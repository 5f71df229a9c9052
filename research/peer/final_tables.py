# FINAL comparison table (both 5% and 1% training-quantile limits), train or train6k.
# Usage: python3 final_tables.py train|train6k [filter]
import sys, time
from common import *
from detectors import *
from glrt import fit_glrt
from globalq import fit_gq
trn = sys.argv[1] if len(sys.argv) > 1 else 'train'; filt = sys.argv[2] if len(sys.argv) > 2 else ''
Xtr, ytr = data(trn); Xev, yev = data('eval')
D = {
 'a  current: top20 unwhitened 1NN':        lambda X, y, E: knn_detector(X, y, E, 20, False, 1),
 'b  whitened PCA all 1NN':                 lambda X, y, E: knn_detector(X, y, E, None, True, 1),
 'b  whitened PCA all 5NN':                 lambda X, y, E: knn_detector(X, y, E, None, True, 5),
 'b  whitened PCA 40 1NN':                  lambda X, y, E: knn_detector(X, y, E, 40, True, 1),
 'b  whitened PCA 60 1NN':                  lambda X, y, E: knn_detector(X, y, E, 60, True, 1),
 'b  whitened PCA 80 1NN':                  lambda X, y, E: knn_detector(X, y, E, 80, True, 1),
 'c  Maha nearest class, per-class LW':     lambda X, y, E: cv_run(lambda a, b: fit_maha_min(a, b, 'lw'), X, y, E),
 'c  Maha nearest class, pooled LW':        lambda X, y, E: cv_run(lambda a, b: fit_maha_min(a, b, 'lw', pooled=True), X, y, E),
 'd  SIMCA k=20 (T2/lim+Q/lim, min)':       lambda X, y, E: cv_run(lambda a, b: fit_simca(a, b, 20), X, y, E),
 'e  clear-only Gaussian LW':               lambda X, y, E: cv_run(lambda a, b: fit_clear_only(a, b), X, y, E),
 'e  within-class-whitened 1NN':            lambda X, y, E: knn_within_whitened(X, y, E, 1),
 'e  per-class GMM(<=4) PCA40':             lambda X, y, E: cv_run(lambda a, b: fit_gmm(a, b, 4, 40), X, y, E),
 'e  env-regressed global PCA Q, k=15':     lambda X, y, E: cv_run(lambda a, b: fit_gq(a, b, 15), X, y, E),
 'e  GLRT one-extra-source, unit, k=10':    lambda X, y, E: cv_run(lambda a, b: fit_glrt(a, b, 10, 'unit'), X, y, E),
 'e  GLRT one-extra-source, type, k=10':    lambda X, y, E: cv_run(lambda a, b: fit_glrt(a, b, 10, 'type'), X, y, E),
}
def pv(cal, s):  # empirical upper-tail p-value of s w.r.t. the calibration scores
    c = np.sort(cal); return 1 - np.searchsorted(c, s, side='left') / (len(c) + 1)
COMBO = ['b  whitened PCA all 1NN', 'c  Maha nearest class, per-class LW', 'e  GLRT one-extra-source, unit, k=10']
print('train=%s' % trn)
store = {}
for name, f in D.items():
    if filt and filt not in name and not (filt == 'combo' and name in COMBO): continue
    t = time.time(); res = {}
    for h in SUBS:
        k = ytr != h; cal, se = f(Xtr[k], ytr[k], Xev); res[h] = evaluate(cal, se, yev, h); store[(name, h)] = (cal, se)
    print(fmt_table(name, res) + '  (%.0fs)' % (time.time() - t), flush=True)
if all((n, h) in store for n in COMBO for h in SUBS):
    res = {}
    for h in SUBS:
        cal = -np.log(np.min([pv(store[(n, h)][0], store[(n, h)][0]) for n in COMBO], axis=0))
        se = -np.log(np.min([pv(store[(n, h)][0], store[(n, h)][1]) for n in COMBO], axis=0))
        res[h] = evaluate(cal, se, yev, h)
    print(fmt_table('e  OR-combo (min p) of b-all-1NN, c-LW, GLRT', res))
