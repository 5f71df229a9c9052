# s10b: average of the s10 MLP seeds' scores (ensemble), same thresholds as s10.
from common import *
import pickle, glob, sys
z = np.load('trw_b6R6.npz'); e = np.load('evy_b6R6.npz'); ca = z['idx'] >= 7000; big = e['idx'] < 500
ms = [pickle.load(open(f, 'rb')) for f in sys.argv[1:]]
sc = np.mean([score_of(m, z['X'][ca]) for m in ms], 0); se = np.mean([score_of(m, e['X'][big]) for m in ms], 0)
yc = z['y'][ca]; ye = e['y'][big]; k1 = e['idx'][big] < 100; thr = np.quantile(sc[yc == 'clear'], 0.99)
row = {'tag': 'ensemble of ' + ' '.join(sys.argv[1:]), 'script': 's10b_ens.py', 'ntr': 140000}; msg = row['tag']
for nm, k in [('eval', k1), ('big', np.ones(len(ye), bool))]:
    s, y = se[k], ye[k]; drug = y != 'clear'; auc = roc_auc_score(drug, s)
    detA, perA, _ = det_at(s, y, np.quantile(s[~drug], 0.99)); detB, perB, faB = det_at(s, y, thr)
    row[nm] = {'auc': round(auc, 4), 'det': round(detA, 4), 'per': perA, 'detCV': round(detB, 4), 'faCV': round(faB, 4)}
    msg += ' |%s auc %.4f det %.3f [%s] holdout-thr %.3f@fa%.3f' % (nm[0].upper(), auc, detA, ' '.join('%.2f' % perA[q] for q in SUBS), detB, faB)
print(msg); open(RES, 'a').write(json.dumps(row) + '\n')
