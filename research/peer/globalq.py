# Exploration of a physically-motivated detector: regress the 14 environment features (RH/T steps, baseline RH/T)
# out of the 96 gas features (per-feature OLS, known training only), optionally map to conductance increments
# G = exp(-resid) - 1 (linear in compound sources), then ONE global PCA on all known training (no standardising),
# score = Q residual (squared norm outside the top-k components), optionally Q weighted per feature.
import sys, time
from common import *
from detectors import cv_run
from sklearn.decomposition import PCA
def fit_gq(Xtr, ytr, k=20, space='lr', weight=False, t2=0.0):
    G = Xtr[:, :96]; E = Xtr[:, 96:]; em = E.mean(0); Ec = np.hstack([E - em, np.ones((len(E), 1))])
    B, *_ = np.linalg.lstsq(Ec, G, rcond=None); B[-1] = 0  # keep the mean response
    def tf(X):
        R = X[:, :96] - (X[:, 96:] - em) @ B[:-1]
        return np.exp(-R) - 1 if space == 'cond' else R
    T = tf(Xtr); mu = T.mean(0); p = PCA(k).fit(T - mu); V = p.components_; lam = p.explained_variance_
    res = (T - mu) - ((T - mu) @ V.T) @ V
    w = 1 / res.var(0) if weight else np.ones(96)
    def score(X):
        D = tf(X) - mu; S = D @ V.T; r = D - S @ V; q = (r ** 2 * w).sum(1)
        return q + t2 * (S ** 2 / lam).sum(1)
    return score
if __name__ == '__main__':
    trn = sys.argv[1] if len(sys.argv) > 1 else 'train'
    Xtr, ytr = data(trn); Xev, yev = data('eval')
    for space in ['lr', 'cond']:
      for weight in [False, True]:
        for k in [5, 10, 15, 20, 30, 40]:
            res = {}
            for h in SUBS:
                m = ytr != h
                cal, se = cv_run(lambda a, b: fit_gq(a, b, k, space, weight), Xtr[m], ytr[m], Xev)
                res[h] = evaluate(cal, se, yev, h)
            print(fmt_table('globalQ %s k=%d w=%d' % (space, k, weight), res, qs=(0.95,)), flush=True)
