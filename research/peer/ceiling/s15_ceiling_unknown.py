# s15: the supervised bound for the unknown-odour test on the recovery features (b6R6), with the best model of s10
# (sklearn MLP 256-128-64 trained on 140,000 containers WITH every substance). For each substance h: score P(h)
# on the eval days (BIG, 5000), threshold at the 95th percentile of the other labels, fraction of h above it.
from common import *
import pickle
e = np.load('evy_b6R6.npz'); big = e['idx'] < 500; X = e['X'][big]; y = e['y'][big]
for f in ['mlp_256-128-64_0.001_0.pkl', 'mlp_256-128-64_0.001_1.pkl']:
    m = pickle.load(open(f, 'rb')); P = m.predict_proba(X); cl = list(m.classes_)
    out = []
    for h in SUBS:
        s = np.log(np.maximum(P[:, cl.index(h)], 1e-300)); known = y != h
        for q in (0.95, 0.99):
            thr = np.quantile(s[known], q); out.append('%s@%g %.1f%%' % (h, 1 - q, 100 * (s[~known] > thr).mean()))
    print(f, ' | '.join(out), flush=True)
