# s6: drift vs physics. Same pipeline trained on days 1-20 vs on eval days 21-30 (disjoint containers), scored
# on BIG (5000 eval-day containers, idx<500) and on the official eval (1000). usage: s6_drift.py MODEL N[,N..]
import sys
from common import *
from sklearn.neural_network import MLPClassifier
from sklearn.model_selection import StratifiedKFold
S = 's6_drift.py'
MOD = sys.argv[1]; NS = [int(v) for v in sys.argv[2].split(',')]
model = {'LR100': LR(100), 'MLP128x2': make_pipeline(StandardScaler(), MLPClassifier((128, 64), alpha=1e-3, max_iter=2000, early_stopping=True, random_state=0))}[MOD]
sp = [('base', {'W': 6}), 'R', 'envR']
a, m = load('evy'); idx = np.array([q['idx'] for q in m]); X = build(Raw(a), sp); y = labels(m); d = days(m); del a
big = idx < 500; k1 = idx[big] < 100
if 'literal' in sys.argv:
    # brief's literal reference: 5-fold CV within the official eval (1000): out-of-fold scores, own 1% threshold
    Xe = X[idx < 100]; ye = y[idx < 100]; oof = np.zeros(len(ye))
    for tri, tei in StratifiedKFold(5, shuffle=True, random_state=0).split(Xe, ye):
        oof[tei] = score_of(fit_kind(model, Xe[tri], ye[tri], 'multi'), Xe[tei])
    drug = ye != 'clear'; thr = np.quantile(oof[~drug], 0.99); det, per, _ = det_at(oof, ye, thr)
    row = {'tag': 'b6R6 %s 5-fold CV within eval (train 800 eval-day)' % MOD, 'script': S, 'ntr': 800, 'eval': {'auc': round(roc_auc_score(drug, oof), 4), 'det': round(det, 4), 'per': per}}
    print(row, flush=True); open(RES, 'a').write(json.dumps(row) + '\n')
    t, mt = train_set(800)
    evaluate('b6R6 %s days1-20 n800 (same size)' % MOD, model, build(Raw(t), sp), labels(mt), days(mt), X[big], y[big], script=S, big=k1, cv=False)
for N in NS:
    k = (idx >= 500) & (idx < 500 + N // 10)
    evaluate('b6R6 %s EVAL-DAYS-trained n%d' % (MOD, N), model, X[k], y[k], d[k], X[big], y[big], script=S, big=k1, cv=False)
    t, mt = train_set(N)
    evaluate('b6R6 %s days1-20-trained n%d' % (MOD, N), model, build(Raw(t), sp), labels(mt), days(mt), X[big], y[big], script=S, big=k1, cv=False)
