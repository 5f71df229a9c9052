# s12: best linear recipe at scale: b6R6 (log) + ccond E6/R6 (env-compensated conductance) + LogReg; and MLP on
# the same features. Train days 1-20 (trz: 3000/day), score BIG/eval. usage: s12_lincc.py MODEL N[,N] [cv]
import sys
from common import *
from sklearn.neural_network import MLPClassifier
S = 's12_lincc.py'
z = np.load('trz_b6R6.npz'); zc = np.load('trz_cc.npz'); e = np.load('evy_b6R6.npz'); ec = np.load('evy_cc.npz')
assert (z['idx'] == zc['idx']).all() and (e['idx'] == ec['idx']).all()
Xz = np.hstack([z['X'], zc['X']]); Xe_all = np.hstack([e['X'], ec['X']])
big = e['idx'] < 500; Xe = Xe_all[big]; ye = e['y'][big]; k1 = e['idx'][big] < 100
M = {'LR100': LR(100), 'LR10': LR(10), 'LR1000': LR(1000),
     'MLP256x3': make_pipeline(StandardScaler(), MLPClassifier((256, 128, 64), alpha=1e-3, max_iter=300, early_stopping=True, n_iter_no_change=15, random_state=0))}
for N in [int(v) for v in sys.argv[2].split(',')]:
    k = z['idx'] < N // 20
    evaluate('b6R6+cc12 %s' % sys.argv[1], M[sys.argv[1]], Xz[k], z['y'][k], z['day'][k], Xe, ye, script=S, big=k1, cv='cv' in sys.argv[3:])
