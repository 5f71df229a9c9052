# s5: model sweep on a fixed feature set. usage: s5_models.py N FEATSET MODELS(comma)  (N training containers, days 1-20)
import sys
from dyn import *
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA, QuadraticDiscriminantAnalysis as QDA
from sklearn.ensemble import HistGradientBoostingClassifier as HGB
from sklearn.neural_network import MLPClassifier
S = 's5_models.py'
N = int(sys.argv[1]); FS = sys.argv[2]; MODELS = sys.argv[3].split(',')
tr, mt = train_set(N); (ev, me, k1), _ = eval_sets()
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); gt = days(mt); ye = labels(me)
SPECS = {'b6R6': [('base', {'W': 6}), 'R', 'envR'], 'b3R3': [('base', {'W': 3}), ('R', {'K': 3}), ('envR', {'K': 3})],
         'b6R3': [('base', {'W': 6}), ('R', {'K': 3}), ('envR', {'K': 3})], 'b6': [('base', {'W': 6})],
         'b12R12': [('base', {'W': 12}), ('R', {'K': 12}), ('envR', {'K': 12})]}
if FS == 'dyn7':
    nr = np.array([not m['reefer'] for m in mt]); env = fit_env(rt, nr); js = np.array([u[1] for u in RIG])
    A = np.hstack([dynfeats(zsig(rt, env), js), build(rt, ['envE', 'envR'])]); B = np.hstack([dynfeats(zsig(re_, env), js), build(re_, ['envE', 'envR'])])
else:
    A = build(rt, SPECS[FS]); B = build(re_, SPECS[FS])
sc = lambda m: make_pipeline(StandardScaler(), m)
M = {
 'LR10': (LR(10), 'multi'), 'LR100': (LR(100), 'multi'), 'LR1000': (LR(1000), 'multi'),
 'binLR100': (LR(100), 'binary'), 'binLR10': (LR(10), 'binary'), 'ovcLR100': (LR(100), 'ovc'), 'ovcLR10': (LR(10), 'ovc'),
 'LDAshr': (sc(LDA(solver='lsqr', shrinkage='auto')), 'multi'), 'LDA': (sc(LDA()), 'multi'),
 'binLDAshr': (sc(LDA(solver='lsqr', shrinkage='auto')), 'binary'),
 'QDA.01': (sc(QDA(reg_param=0.01)), 'multi'), 'QDA.1': (sc(QDA(reg_param=0.1)), 'multi'), 'QDA.5': (sc(QDA(reg_param=0.5)), 'multi'),
 'HGB': (HGB(max_iter=300, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0, random_state=0), 'multi'),
 'HGBbin': (HGB(max_iter=400, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0, random_state=0), 'binary'),
 'MLP32': (sc(MLPClassifier((32,), alpha=1e-2, max_iter=2000, early_stopping=True, random_state=0)), 'multi'),
 'MLP64': (sc(MLPClassifier((64,), alpha=1e-3, max_iter=2000, early_stopping=True, random_state=0)), 'multi'),
 'MLP128x2': (sc(MLPClassifier((128, 64), alpha=1e-3, max_iter=2000, early_stopping=True, random_state=0)), 'multi'),
}
for k in MODELS:
    m, kind = M[k]
    evaluate('%s %s' % (FS, k), m, A, yt, gt, B, ye, kind=kind, script=S, big=k1, cv='nocv' not in sys.argv)
