# s4: feature sweep with LogReg on train (2000, days 1-20); scored on eval (1000) and BIG eval-days set (5000).
from dyn import *
S = 's4_feats.py'
tr, mt = train_set(2000); (ev, me, k1), _ = eval_sets()
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); gt = days(mt); ye = labels(me)
nr = np.array([not m['reefer'] for m in mt]); env = fit_env(rt, nr)
def T(x): return np.sign(x) * np.log1p(np.abs(x) / 1e-3)   # signed log compression
def run(name, spec, C=100, fn=None):
    A = build(rt, spec, env); B = build(re_, spec, env)
    if fn: A, B = fn(A), fn(B)
    evaluate(name + ' LR C%g' % C, LR(C), A, yt, gt, B, ye, script=S, big=k1)
b6 = [('base', {'W': 6})]
run('base6', b6)
run('base6+R6', b6 + ['R', 'envR'])
run('base6+R6', b6 + ['R', 'envR'], C=10)
run('base6+R6', b6 + ['R', 'envR'], C=1000)
run('base6+R3', b6 + [('R', {'K': 3}), ('envR', {'K': 3})])
run('base6+R12', b6 + [('R', {'K': 12}), ('envR', {'K': 12})])
run('base12+R12', [('base', {'W': 12}), ('R', {'K': 12}), ('envR', {'K': 12})])
run('base3+R3', [('base', {'W': 3}), ('R', {'K': 3}), ('envR', {'K': 3})])
run('base6+R6+bslope', b6 + ['R', 'envR', 'bslope'])
run('base6+R6+B3', b6 + ['R', 'envR', 'B'])
run('base6+R6+kin', b6 + ['R', 'envR', 'kin'])
run('base6+R6+udiff', b6 + ['R', 'envR', 'udiff'])
run('base6+R6+ratio', b6 + ['R', 'envR', 'ratio'])
run('clr6+clrR6+env (compensated)', ['clr', 'clrR', 'envE', 'envR'])
# signed-log compression of the (compensated) conductance windows
A = np.hstack([T(build(rt, ['ccond'], env)), T(wmean(zsig(rt, env), 90, 150, 6).reshape(rt.n, -1)), build(rt, ['envE', 'envR'])])
B = np.hstack([T(build(re_, ['ccond'], env)), T(wmean(zsig(re_, env), 90, 150, 6).reshape(re_.n, -1)), build(re_, ['envE', 'envR'])])
evaluate('slog(ccond6+R6)+env LR C100', LR(100), A, yt, gt, B, ye, script=S, big=k1)
