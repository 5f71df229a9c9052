# s14: does the cc block need fitted RH/T coefficients? b6R6+cc12 LR C100, train 6000 days 1-20 -> BIG/eval, with
# aH/aT from (a) time-centred fit on non-reefer training containers, (b) same on all containers (no reefer flag),
# (c) nominal datasheet-model values from src/sim/sensors.ts (no fit), (d) zero (plain conductance windows).
from dyn import *
S = 's14_envvar.py'
tr, mt = train_set(6000); rt = Raw(tr); yt = labels(mt); gt = days(mt); del tr
a, me = load('evy'); ik = np.array([q['idx'] < 500 for q in me]); re_ = Raw(a[ik]); del a
me = [me[i] for i in np.nonzero(ik)[0]]; ye = labels(me); k1 = np.array([q['idx'] < 100 for q in me])
nom = {'aH': np.repeat([-0.008, -0.008, -0.005, -0.006], 4), 'aT': np.repeat([-0.015, -0.013, -0.012, -0.012], 4)}
envs = {'fit-nonreefer': fit_env(rt, np.array([not q['reefer'] for q in mt])), 'fit-all': fit_env(rt), 'nominal': nom,
        'zero': {'aH': np.zeros(16), 'aT': np.zeros(16)}}
b = [('base', {'W': 6}), 'R', 'envR']; Bt = build(rt, b); Be = build(re_, b)
for k, env in envs.items():
    print(k, 'aH', np.round(env['aH'], 4), 'aT', np.round(env['aT'], 4))
    F = lambda r: np.hstack([wmean(zsig(r, env), 30, 90, 6).reshape(r.n, -1), wmean(zsig(r, env), 90, 150, 6).reshape(r.n, -1)])
    evaluate('b6R6+cc12[env %s] LR100' % k, LR(100), np.hstack([Bt, F(rt)]), yt, gt, np.hstack([Be, F(re_)]), ye, script=S, big=k1, cv=False)
