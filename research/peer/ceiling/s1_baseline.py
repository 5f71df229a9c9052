# s1: reproduce the current best (feats(a,6,'log') + StandardScaler + LogReg C=100), W and C sweep, 2000 vs 6000.
from common import *
S = 's1_baseline.py'
tr, mt = load('train6k'); ev, me = load('eval')
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); gt = days(mt); ye = labels(me)
# explore3 equality check
exec(open(os.path.join(XD, 'explore3.py')).read().split('tr, mt = load')[0].replace('def load', 'def _load'))
assert np.allclose(feats(ev[:50].astype(float), 6, 'log'), feats_base(Raw(ev[:50]), 6))
i2k = np.array([m['idx'] < 100 for m in mt])  # = train (2000)
for W in [6, 12, 20]:
    Xt = feats_base(rt, W); Xe = feats_base(re_, W)
    for C in ([1, 10, 100, 1000] if W == 6 else [100]):
        evaluate('base W%d LR C%g' % (W, C), LR(C), Xt[i2k], yt[i2k], gt[i2k], Xe, ye, script=S)
    for C in ([10, 100, 1000] if W == 6 else [100]):
        evaluate('base W%d LR C%g' % (W, C), LR(C), Xt, yt, gt, Xe, ye, script=S)
