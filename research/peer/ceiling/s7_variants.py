# s7: simulator-knob variants (../dump.mjs --options, seed 1; train 6000 days 1-20, eval 5000 days 21-30 with idx<100 the
# official-eval containers): how far each error source limits detection. usage: s7_variants.py VARIANT[,..] MODEL
import sys
from common import *
from sklearn.neural_network import MLPClassifier
S = 's7_variants.py'
sp = [('base', {'W': 6}), 'R', 'envR']
models = {'LR100': LR(100), 'MLP128x2': make_pipeline(StandardScaler(), MLPClassifier((128, 64), alpha=1e-3, max_iter=2000, early_stopping=True, random_state=0))}
for v in sys.argv[1].split(','):
    t, mt = load('v_%s_tr' % v); e, me = load('v_%s_ev' % v)
    A = build(Raw(t), sp); B = build(Raw(e), sp); k1 = np.array([q['idx'] < 100 for q in me])
    for mn in sys.argv[2].split(','):
        evaluate('b6R6 %s variant=%s' % (mn, v), models[mn], A, labels(mt), days(mt), B, labels(me), script=S, big=k1, cv=False)
