# s11: can a linear-at-predict-time model approach the MLP? (a) additive per-feature splines + LogReg (a GAM),
# (b) log-domain + env-compensated conductance-domain windows together. Train days 1-20, score BIG/eval.
# usage: s11_linplus.py N what
import sys
from common import *
from sklearn.preprocessing import SplineTransformer, QuantileTransformer
S = 's11_linplus.py'
N = int(sys.argv[1]); what = sys.argv[2]
e = np.load('evy_b6R6.npz'); big = e['idx'] < 500; Xe = e['X'][big]; ye = e['y'][big]; k1 = e['idx'][big] < 100
z = np.load('trw_b6R6.npz'); k = z['idx'] < N // 20; Xt, yt, gt = z['X'][k], z['y'][k], z['day'][k]
if what == 'spline':
    for nk, C in [(5, 10), (5, 100)]:
        m = make_pipeline(SplineTransformer(n_knots=nk, degree=3, knots='quantile', extrapolation='linear'), StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        evaluate('b6R6 spline%d+LR C%g' % (nk, C), m, Xt, yt, gt, Xe, ye, script=S, big=k1, cv=False)
if what == 'quant':
    m = make_pipeline(QuantileTransformer(n_quantiles=200, output_distribution='normal'), LogisticRegression(C=100, max_iter=5000))
    evaluate('b6R6 quantile-normal+LR C100', m, Xt, yt, gt, Xe, ye, script=S, big=k1, cv=False)
if what == 'logcond':
    tr, mt = train_set(N); rt = Raw(tr); nr = np.array([not q['reefer'] for q in mt]); env = fit_env(rt, nr)
    a, me = load('evy'); ik = np.array([q['idx'] < 500 for q in me]); re_ = Raw(a[ik]); del a
    from dyn import zsig
    def F(r): return np.hstack([build(r, [('base', {'W': 6}), 'R', 'envR', 'ccond'], env), wmean(zsig(r, env), 90, 150, 6).reshape(r.n, -1)])
    evaluate('b6R6 + ccond6+ccondR6 LR C100', LR(100), F(rt), labels(mt), days(mt), F(re_), ye, script=S, big=k1, cv=False)
