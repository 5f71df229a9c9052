# s16: unknown odours from the MLP's own representation (recovery features b6R6). For each substance h: an MLP
# (128-64, as the shipped recipe) trained on days 1-20 WITHOUT h (trw idx<3000: 60,000 containers minus h), limits
# fitted on held-out training-day containers (trw idx 7000-7999, known labels only, 95th percentile), scored on the
# eval days (BIG, 5000). Detectors: max softmax probability, energy, min class-Mahalanobis in the last hidden layer
# (shared covariance, Lee et al. 2018), 1-NN distance in the last hidden layer.
import sys
from common import *
from sklearn.neural_network import MLPClassifier
from sklearn.neighbors import NearestNeighbors
z = np.load('trw_b6R6.npz'); e = np.load('evy_b6R6.npz')
NTR = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
def hidden(m, X):
    sc, net = m[0], m[-1]; a = sc.transform(X)
    for W, b in zip(net.coefs_[:-1], net.intercepts_[:-1]): a = np.maximum(a @ W + b, 0)
    return a
def logits(m, X):
    net = m[-1]; return hidden(m, X) @ net.coefs_[-1] + net.intercepts_[-1]
big = e['idx'] < 500; Xe, ye = e['X'][big], e['y'][big]
for h in SUBS:
    t0 = time.time()
    tr = (z['idx'] < NTR) & (z['y'] != h); ca = (z['idx'] >= 7000) & (z['y'] != h)
    m = make_pipeline(StandardScaler(), MLPClassifier((128, 64), alpha=1e-3, max_iter=300, early_stopping=True, n_iter_no_change=10, random_state=0)).fit(z['X'][tr], z['y'][tr])
    Htr, Hca, He = hidden(m, z['X'][tr]), hidden(m, z['X'][ca]), hidden(m, Xe)
    cls = m[-1].classes_; ytr = z['y'][tr]
    mu = np.stack([Htr[ytr == c].mean(0) for c in cls]); R = Htr - mu[np.searchsorted(cls, ytr)]
    cov = np.cov(R.T) + 1e-6 * np.eye(R.shape[1]); Pm = np.linalg.inv(cov)
    def maha(H): return np.min(np.stack([np.einsum('ij,jk,ik->i', H - u, Pm, H - u) for u in mu], 1), 1)
    sub = np.random.default_rng(0).choice(len(Htr), min(len(Htr), 20000), replace=False)
    nn = NearestNeighbors(n_neighbors=1).fit(Htr[sub])
    def knn(H): return nn.kneighbors(H)[0][:, 0]
    def msp(X): L = logits(m, X); L = L - L.max(1, keepdims=True); return -np.max(np.exp(L) / np.exp(L).sum(1, keepdims=True), 1)
    def energy(X): L = logits(m, X); return -np.log(np.exp(L - L.max(1, keepdims=True)).sum(1)) - L.max(1)
    dets = {'MSP': (msp(z['X'][ca]), msp(Xe)), 'energy': (energy(z['X'][ca]), energy(Xe)), 'maha-hidden': (maha(Hca), maha(He)), '1nn-hidden': (knn(Hca), knn(He))}
    acc = (m.predict(Xe[ye != h]) == ye[ye != h]).mean()
    msg = '%-9s ep%d acc-known %.3f' % (h, m[-1].n_iter_, acc)
    for k, (sc, se) in dets.items():
        thr = np.quantile(sc, 0.95)
        msg += ' | %s held %.1f%% known %.1f%%' % (k, 100 * (se[ye == h] > thr).mean(), 100 * (se[ye != h] > thr).mean())
    print(msg + ' (%ds)' % (time.time() - t0), flush=True)
