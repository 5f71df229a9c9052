# s10: big-data MLP. Train on days 1-20 (trw idx<7000: 140000 containers), operational 1% threshold from held-out
# days-1-20 containers (trw idx 7000-7999: 20000, 10000 clear), scored on BIG (5000) and official eval (1000).
# usage: s10_mlp.py CONFIG [CONFIG..]; CONFIG = h1-h2-..:alpha:seed[:prev]
import sys
from common import *
from sklearn.neural_network import MLPClassifier
S = 's10_mlp.py'
z = np.load('trw_b6R6.npz'); e = np.load('evy_b6R6.npz')
def with_prev(X, day, idx):
    key = {(d, i): j for j, (d, i) in enumerate(zip(day, idx))}; P = np.zeros_like(X); f = np.zeros((len(X), 1))
    for j, (d, i) in enumerate(zip(day, idx)):
        p = key.get((d, i - 1))
        if p is not None: P[j] = X[p]; f[j] = 1
    return np.hstack([X, P, f])
for cfg in sys.argv[1:]:
    p = cfg.split(':'); h = tuple(int(v) for v in p[0].split('-')); a = float(p[1]); sd = int(p[2]); prev = len(p) > 3
    Xz, Xe = z['X'], e['X']
    if prev: Xz = with_prev(Xz, z['day'], z['idx']); Xe = with_prev(Xe, e['day'], e['idx'])
    tr = z['idx'] < 7000; ca = ~tr; big = e['idx'] < 500
    t0 = time.time()
    m = make_pipeline(StandardScaler(), MLPClassifier(h, alpha=a, max_iter=300, early_stopping=True, n_iter_no_change=15, random_state=sd)).fit(Xz[tr], z['y'][tr])
    sc = score_of(m, Xz[ca]); yc = z['y'][ca]; thr = np.quantile(sc[yc == 'clear'], 0.99)
    se = score_of(m, Xe[big]); ye = e['y'][big]; k1 = e['idx'][big] < 100
    row = {'tag': 'b6R6%s MLP%s a%g s%d' % ('+prev1' if prev else '', p[0], a, sd), 'script': S, 'ntr': int(tr.sum()), 'nfeat': int(Xz.shape[1]), 'epochs': int(m[-1].n_iter_)}
    msg = '%-40s n%d ep%d' % (row['tag'], row['ntr'], row['epochs'])
    for nm, k in [('eval', k1), ('big', np.ones(len(ye), bool))]:
        s, y = se[k], ye[k]; drug = y != 'clear'
        auc = roc_auc_score(drug, s); detA, perA, _ = det_at(s, y, np.quantile(s[~drug], 0.99)); detB, perB, faB = det_at(s, y, thr)
        row[nm] = {'auc': round(auc, 4), 'det': round(detA, 4), 'per': perA, 'detCV': round(detB, 4), 'faCV': round(faB, 4), 'perCV': perB}
        msg += ' |%s auc %.4f det %.3f [%s] holdout-thr %.3f@fa%.3f' % (nm[0].upper(), auc, detA, ' '.join('%.2f' % perA[q] for q in SUBS), detB, faB)
    row['sec'] = round(time.time() - t0); print(msg + ' (%ds)' % row['sec'], flush=True)
    open(RES, 'a').write(json.dumps(row) + '\n')
    import pickle; pickle.dump(m, open('mlp_%s.pkl' % cfg.replace(':', '_'), 'wb'))
