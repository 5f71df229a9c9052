# s3: dynamic-class decomposition features (dyn.py) + LogReg, train (2000) -> eval.
# calibration tiers: 'fit' = env coefficients and tau multipliers estimated from the training data;
#                    'true' = the rig's own values (rig.json, from rigtau.mjs: an oracle / factory calibration).
from dyn import *
S = 's3_dyn.py'
tr, mt = load('train'); ev, me = load('eval')
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); gt = days(mt); ye = labels(me)
nr = np.array([not m['reefer'] for m in mt])
jt = np.array([u[1] for u in RIG])
envf = fit_env(rt, nr); envt = env_true()
jf = fit_j(zsig(rt, envf)[:800], grid=np.exp(np.linspace(-0.6, 0.6, 49)))
np.save('cal_fit.npy', np.vstack([envf['aH'], envf['aT'], jf]))
E1 = build(rt, ['envE', 'envR']); E2 = build(re_, ['envE', 'envR'])
for cal, env, js in [('fit', envf, jf), ('true', envt, jt), ('trueEnv+fitTau', envt, jf)]:
    zt = zsig(rt, env); ze = zsig(re_, env)
    Ft = dynfeats(zt, js, resid=True); Fe = dynfeats(ze, js, resid=True)
    for C in [10, 100]:
        evaluate('dyn7[%s] LR C%g' % (cal, C), LR(C), Ft[:, :112], yt, gt, Fe[:, :112], ye, script=S)
    evaluate('dyn7+env[%s] LR C10' % cal, LR(10), np.hstack([Ft[:, :112], E1]), yt, gt, np.hstack([Fe[:, :112], E2]), ye, script=S)
    evaluate('dyn T+carry (96)[%s] LR C10' % cal, LR(10), Ft[:, :96], yt, gt, Fe[:, :96], ye, script=S)
    # compensated-cond windows (the linear-window equivalent of the decomposition)
    for W, K in [(6, 6), (12, 12)]:
        sp = [('ccond', {'W': W})]
        A = np.hstack([build(rt, sp, env), wmean(zt, 90, 150, K).reshape(rt.n, -1), E1])
        B = np.hstack([build(re_, sp, env), wmean(ze, 90, 150, K).reshape(re_.n, -1), E2])
        evaluate('ccond%d+R%d+env[%s] LR C100' % (W, K, cal), LR(100), A, yt, gt, B, ye, script=S)
    sp = [('clr', {'W': 6}), ('clrR', {'K': 6}), 'envE', 'envR']
    evaluate('clr6+clrR6+env[%s] LR C100' % cal, LR(100), build(rt, sp, env), yt, gt, build(re_, sp, env), ye, script=S)
