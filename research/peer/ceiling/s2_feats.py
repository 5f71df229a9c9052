# s2: feature-block sweep, LogReg C=100 on train (2000, days 1-20) -> eval (days 21-30).
from common import *
S = 's2_feats.py'
tr, mt = load('train'); ev, me = load('eval')
rt = Raw(tr); re_ = Raw(ev); yt = labels(mt); gt = days(mt); ye = labels(me)
env = fit_env(rt)
print('aH', np.round(env['aH'], 4)); print('aT', np.round(env['aT'], 4))
E = [('base', {'W': 6})]
sets = {
  'base6': E,
  'base6+R6': E + ['R', 'envR'],
  'base6+bslope': E + ['bslope'],
  'base6+B3': E + ['B'],
  'base6+udiff': E + ['udiff'],
  'base6+ratio': E + ['ratio'],
  'base6+shape': E + ['shape'],
  'base6+kin': E + ['kin'],
  'cond6+env': ['cond', 'envE'],
  'ccond6+env (env-compensated cond)': ['ccond', 'envE'],
  'clr6+env (env-compensated log)': ['clr', 'envE'],
  'base6+R6+bslope': E + ['R', 'envR', 'bslope'],
  'clr6+clrR6+bslope+env': ['clr', 'clrR', 'envE', 'envR', 'bslope'],
  'base12+R6+bslope': [('base', {'W': 12}), 'R', 'envR', 'bslope'],
  'clr12+clrR6+bslope+env': [('clr', {'W': 12}), 'clrR', ('envE', {'W': 12}), 'envR', 'bslope'],
}
for k, spec in sets.items():
    evaluate(k + ' LR C100', LR(100), build(rt, spec, env), yt, gt, build(re_, spec, env), ye, script=S)
