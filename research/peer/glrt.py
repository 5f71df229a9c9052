# Exploration (e): structured GLRT for "one extra odour source".
# Known model: env-corrected ln R/R0 features (per-feature OLS on the 14 RH/T features), global PCA top-k on
# known training; complement whitened. An added compound gives, per gas channel u, response s_u * h_tau(window)
# (first-order rise, tau = 8, 16, 32 s for the three stickiness classes). Score = max over tau of the energy of the
# whitened residual explained by span{signature columns} (16 dof per unit-level, 4 dof type-level).
import sys
from common import *
from detectors import cv_run
from sklearn.decomposition import PCA
def hk(tau):
    j = np.arange(6); return 1 - tau / 10 * (np.exp(-10 * j / tau) - np.exp(-10 * (j + 1) / tau))
def sig_cols(tau, level):
    h = hk(tau); cols = []
    groups = [[u] for u in range(16)] if level == 'unit' else [[4 * t + u for u in range(4)] for t in range(4)]
    for g in groups:
        m = np.zeros((6, 16)); m[:, g] = h[:, None]; cols.append(m.reshape(96))  # feature order: window-major
    return np.array(cols).T  # 96 x ncols
def fit_glrt(Xtr, ytr, k=15, level='unit', taus=(8, 16, 32), floor=1e-3, mode='glrt'):
    G = Xtr[:, :96]; E = Xtr[:, 96:]; em = E.mean(0)
    B, *_ = np.linalg.lstsq(np.hstack([E - em, np.ones((len(E), 1))]), G, rcond=None)
    tf = lambda X: X[:, :96] - (X[:, 96:] - em) @ B[:-1]
    T = tf(Xtr); mu = T.mean(0); p = PCA().fit(T - mu)
    Vc = p.components_[k:]; lam = np.maximum(p.explained_variance_[k:], floor * p.explained_variance_[k])
    Wc = Vc / np.sqrt(lam)[:, None]   # (96-k) x 96 whitening of the complement
    Ps = []
    for tau in taus:
        A = Wc @ sig_cols(tau, level); Q, _ = np.linalg.qr(A); Ps.append(Q)
    def score(X):
        z = (tf(X) - mu) @ Wc.T
        if mode == 'omni': return (z ** 2).sum(1)
        return np.max([((z @ Q) ** 2).sum(1) for Q in Ps], axis=0)
    return score
if __name__ == '__main__':
    trn = sys.argv[1] if len(sys.argv) > 1 else 'train'
    Xtr, ytr = data(trn); Xev, yev = data('eval')
    cfgs = [('omni', 'unit', k, 1e-3) for k in [10, 15, 20]] + \
           [('glrt', lv, k, fl) for lv in ['unit', 'type'] for k in [5, 10, 15, 20, 30] for fl in [1e-3, 1e-2]]
    for mode, lv, k, fl in cfgs:
        res = {}
        for h in SUBS:
            m = ytr != h
            cal, se = cv_run(lambda a, b: fit_glrt(a, b, k, lv, floor=fl, mode=mode), Xtr[m], ytr[m], Xev)
            res[h] = evaluate(cal, se, yev, h)
        print(fmt_table('%s %s k=%d floor=%g' % (mode, lv, k, fl), res, qs=(0.95,)), flush=True)
