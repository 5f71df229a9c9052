# s9: training-size scaling with cached b6R6 features (trz: days 1-20, 3000/day; evy: days 21-30).
# usage: s9_scale.py MODEL N[,N..]
import sys
from common import *
from sklearn.neural_network import MLPClassifier
S = 's9_scale.py'
z = np.load(os.environ.get('TRF', 'trz') + '_b6R6.npz'); e = np.load('evy_b6R6.npz')
big = e['idx'] < 500; Xe = e['X'][big]; ye = e['y'][big]; k1 = e['idx'][big] < 100
t0, _ = train_set(2000); assert np.allclose(build(Raw(t0[:50]), [('base', {'W': 6}), 'R', 'envR']), z['X'][z['idx'] < 100][:50])
mlp = lambda h, a=1e-3, s=0: make_pipeline(StandardScaler(), MLPClassifier(h, alpha=a, max_iter=2000, early_stopping=True, random_state=s))
M = {'LR100': LR(100), 'MLP128x2': mlp((128, 64)), 'MLP256x2': mlp((256, 128)), 'MLP256x3': mlp((256, 128, 64)), 'MLP128x2a1e-2': mlp((128, 64), 1e-2),
     'MLP512x2': mlp((512, 256))}
for N in [int(v) for v in sys.argv[2].split(',')]:
    k = z['idx'] < N // 20
    evaluate('b6R6 %s days1-20' % sys.argv[1], M[sys.argv[1]], z['X'][k], z['y'][k], z['day'][k], Xe, ye, script=S, big=k1, cv=False)
