# Novelty detectors. Each detector: fit(X_known_raw, y_known) -> score(X_raw) (higher = more novel),
# plus a calibration routine returning out-of-sample scores for KNOWN training samples
# (LOO for kNN detectors, stratified 5-fold CV for the parametric ones).
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.covariance import LedoitWolf, OAS
from sklearn.model_selection import StratifiedKFold
from sklearn.mixture import GaussianMixture

# ---------- kNN family (LOO calibration) ----------
def knn_detector(Xtr, ytr, Xev, ncomp=20, whiten=False, k=1, eig_floor_rel=0.0):
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr); Ze = sc.transform(Xev)
    p = PCA().fit(Z); ev = p.explained_variance_
    n = ncomp if ncomp else len(ev)
    T = p.transform(Z)[:, :n]; E = p.transform(Ze)[:, :n]
    if whiten:
        s = np.sqrt(np.maximum(ev[:n], eig_floor_rel * ev[0]) + 1e-12)
        T = T / s; E = E / s
    nn = NearestNeighbors(n_neighbors=k + 1).fit(T)
    d, _ = nn.kneighbors(T); cal = d[:, 1:].mean(1)
    d2, _ = nn.kneighbors(E, n_neighbors=k); return cal, d2.mean(1)

def knn_within_whitened(Xtr, ytr, Xev, k=1, shrink='lw', ncomp=None):
    """kNN after whitening by the pooled WITHIN-class covariance (Mahalanobis kNN)."""
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr); Ze = sc.transform(Xev)
    R = np.concatenate([Z[ytr == c] - Z[ytr == c].mean(0) for c in np.unique(ytr)])
    S = LedoitWolf().fit(R).covariance_ if shrink == 'lw' else np.cov(R.T)
    w, V = np.linalg.eigh(S); o = np.argsort(-w); w, V = w[o], V[:, o]
    if ncomp: w, V = w[:ncomp], V[:, :ncomp]
    W = V / np.sqrt(w); T = Z @ W; E = Ze @ W
    nn = NearestNeighbors(n_neighbors=k + 1).fit(T)
    d, _ = nn.kneighbors(T); cal = d[:, 1:].mean(1)
    d2, _ = nn.kneighbors(E, n_neighbors=k); return cal, d2.mean(1)

# ---------- parametric family (CV calibration) ----------
def cv_run(fit, Xtr, ytr, Xev, folds=5, seed=0):
    cal = np.zeros(len(Xtr))
    for a, b in StratifiedKFold(folds, shuffle=True, random_state=seed).split(Xtr, ytr):
        cal[b] = fit(Xtr[a], ytr[a])(Xtr[b])
    return cal, fit(Xtr, ytr)(Xev)

def _cov(R, kind):
    if kind == 'lw': return LedoitWolf().fit(R).covariance_
    if kind == 'oas': return OAS().fit(R).covariance_
    return np.cov(R.T) + 1e-6 * np.eye(R.shape[1])

def fit_maha_min(Xtr, ytr, kind='lw', pooled=False, loglik=False, per_class_norm=False, classes=None):
    """Mahalanobis distance to nearest class mean (class-conditional Gaussians)."""
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr)
    cls = classes if classes is not None else np.unique(ytr)
    mus = {c: Z[ytr == c].mean(0) for c in cls}
    if pooled:
        Sp = _cov(np.concatenate([Z[ytr == c] - mus[c] for c in np.unique(ytr)]), kind)
        covs = {c: Sp for c in cls}
    else:
        covs = {c: _cov(Z[ytr == c] - mus[c], kind) for c in cls}
    P = {c: np.linalg.inv(covs[c]) for c in cls}
    ld = {c: np.linalg.slogdet(covs[c])[1] for c in cls}
    norm = {c: 1.0 for c in cls}
    def raw(Zq):
        out = []
        for c in cls:
            D = Zq - mus[c]; m = np.einsum('ij,jk,ik->i', D, P[c], D)
            out.append(m + ld[c] if loglik else m)
        return np.array(out)
    if per_class_norm:  # divide by in-sample median of own class
        M = raw(Z)
        for i, c in enumerate(cls): norm[c] = np.median(M[i][ytr == c])
    def score(Xq):
        M = raw(sc.transform(Xq))
        if per_class_norm: M = M / np.array([norm[c] for c in cls])[:, None]
        return M.min(0)
    return score

def fit_simca(Xtr, ytr, ncomp=10, q=0.95):
    """per-class PCA: T2/T2lim + Q/Qlim, min over classes (lims = in-class in-sample quantile q)."""
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr); models = []
    for c in np.unique(ytr):
        Zc = Z[ytr == c]; mu = Zc.mean(0); p = PCA(ncomp).fit(Zc - mu)
        V = p.components_; lam = p.explained_variance_
        def tq(Zq, mu=mu, V=V, lam=lam):
            D = Zq - mu; S = D @ V.T; t2 = (S ** 2 / lam).sum(1); r = D - S @ V; return t2, (r ** 2).sum(1)
        t2, qq = tq(Zc); models.append((tq, np.quantile(t2, q), np.quantile(qq, q)))
    def score(Xq):
        Zq = sc.transform(Xq)
        return np.min([t2 / a + qq / b for (tq, a, b) in models for (t2, qq) in [tq(Zq)]], axis=0)
    return score

def fit_clear_only(Xtr, ytr, kind='lw'):
    return fit_maha_min(Xtr[ytr == 'clear'], ytr[ytr == 'clear'], kind=kind)

def fit_lda_residual(Xtr, ytr, kind='lw', add_lda=True):
    """Whiten by pooled within-class covariance; the known classes' means span a (K-1)-dim subspace B.
    score = ||residual orthogonal to B||^2 (+ squared distance to nearest class mean inside B)."""
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr); cls = np.unique(ytr)
    mus = np.array([Z[ytr == c].mean(0) for c in cls])
    S = _cov(np.concatenate([Z[ytr == c] - mus[i] for i, c in enumerate(cls)]), kind)
    w, V = np.linalg.eigh(S); W = V / np.sqrt(w)
    M = mus @ W; g = M.mean(0); U, s, Vt = np.linalg.svd(M - g, full_matrices=False); B = Vt[:len(cls) - 1]
    def score(Xq):
        T = sc.transform(Xq) @ W - g; inB = T @ B.T; res = T - inB @ B
        out = (res ** 2).sum(1)
        if add_lda: out = out + np.min([((inB - (m - g) @ B.T) ** 2).sum(1) for m in M], axis=0)
        return out
    return score

def fit_gmm(Xtr, ytr, ncomp_max=4, pca_dims=None, reg=1e-3, seed=0):
    """per-class GMM (BIC-selected 1..ncomp_max, full cov) in standardised (optionally PCA) space; score = -max_c logp_c."""
    sc = StandardScaler().fit(Xtr); Z = sc.transform(Xtr)
    pca = PCA(pca_dims).fit(Z) if pca_dims else None
    T = pca.transform(Z) if pca else Z
    gs = []
    for c in np.unique(ytr):
        best = None
        for n in range(1, ncomp_max + 1):
            g = GaussianMixture(n, covariance_type='full', reg_covar=reg, random_state=seed, max_iter=200).fit(T[ytr == c])
            b = g.bic(T[ytr == c])
            if best is None or b < best[0]: best = (b, g)
        gs.append(best[1])
    def score(Xq):
        Tq = sc.transform(Xq); Tq = pca.transform(Tq) if pca else Tq
        return -np.max([g.score_samples(Tq) for g in gs], axis=0)
    return score
