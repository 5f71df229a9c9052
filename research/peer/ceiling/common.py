# Shared loading, features and scoring for the ceiling exploration (.enose-tmp/ceil).
# load()/feats() of ../x/explore3.py are reproduced by feats_base(); rep() of ../x/explore5.py by score_report().
import json, os, sys, time, numpy as np, warnings
warnings.filterwarnings('ignore')
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.base import clone

HERE = os.path.dirname(os.path.abspath(__file__))
XD = os.path.join(HERE, '..', 'x')
SUBS = ['cocaine', 'cannabis', 'heroin', 'mdma']
RES = os.path.join(HERE, 'results.jsonl')


def load(n):
    """train/train6k/eval from ../x; evx/trx (extra draws generated with ../dump.mjs --options, seed 1) from here."""
    d = XD if os.path.exists(os.path.join(XD, n + '.json')) else HERE
    m = json.load(open(os.path.join(d, n + '.json'))); C = len(m['channels']); S = m['S']
    a = np.fromfile(os.path.join(d, n + '.f32'), dtype=np.float32).reshape(len(m['meta']), C, S)
    return a, m['meta']


def subset(a, meta, keep):
    keep = np.asarray(keep)
    return a[keep], [meta[i] for i in np.nonzero(keep)[0]] if keep.dtype == bool else [meta[i] for i in keep]


def labels(meta): return np.array([m['label'] for m in meta])
def days(meta): return np.array([m['day'] for m in meta])


def wmean(x, s0, s1, W):
    """W equal windows over seconds [s0, s1) of x[..., t]; returns (..., W)."""
    w = (s1 - s0) // W
    return np.stack([np.nanmean(x[..., s0 + j * w:s0 + (j + 1) * w], axis=-1) for j in range(W)], axis=-1)


class Raw:
    """Pre-computed per-container quantities shared by all feature blocks."""
    def __init__(self, a):
        a = a.astype(np.float64)
        g = a[:, :16, :]; self.T = a[:, 16, :]; self.rh = a[:, 17, :]
        self.base = np.nanmedian(g[:, :, 0:30], axis=2)
        self.lr = g - self.base[:, :, None]                      # ln(R/R_baseline)
        self.rhb = np.nanmean(self.rh[:, 0:30], axis=1); self.tb = np.nanmean(self.T[:, 0:30], axis=1)
        self.drh = self.rh - self.rhb[:, None]; self.dT = self.T - self.tb[:, None]
        self.n = len(a)


def feats_base(r, W=6):
    """== explore3.feats(a, W, 'log'): 16*W gas windows, W rh, W T, rhb, tb."""
    f = [wmean(r.lr, 30, 90, W).transpose(0, 2, 1).reshape(r.n, -1)]  # window-major like explore3
    f += [wmean(r.drh, 30, 90, W), wmean(r.dT, 30, 90, W), r.rhb[:, None], r.tb[:, None]]
    return np.nan_to_num(np.hstack(f))


def block(r, name, W=6, K=6, env=None):
    """Feature blocks (each (n, k)). env: dict with per-channel aH, aT for compensated blocks."""
    n = r.n
    if name == 'E':
        return wmean(r.lr, 30, 90, W).reshape(n, -1)
    if name == 'envE':
        return np.hstack([wmean(r.drh, 30, 90, W), wmean(r.dT, 30, 90, W), r.rhb[:, None], r.tb[:, None]])
    if name == 'R':
        return wmean(r.lr, 90, 150, K).reshape(n, -1)
    if name == 'envR':
        return np.hstack([wmean(r.drh, 90, 150, K), wmean(r.dT, 90, 150, K)])
    if name == 'B':   # baseline windows (3 x 10 s) relative to the median
        return wmean(r.lr, 0, 30, 3).reshape(n, -1)
    if name == 'bslope':  # least-squares slope of ln R over s 0-29 (per s), 16 + rh + T
        t = np.arange(30) - 14.5
        sl = lambda x: np.nansum(x[..., 0:30] * t, axis=-1) / (t * t).sum()
        return np.hstack([sl(r.lr), sl(r.rh)[:, None], sl(r.T)[:, None]])
    if name == 'udiff':  # unit minus its type's mean, per E window
        e = wmean(r.lr, 30, 90, W).reshape(n, 4, 4, W)
        return (e - e.mean(axis=2, keepdims=True)).reshape(n, -1)
    if name == 'kin':  # first differences of the E windows
        e = wmean(r.lr, 30, 90, W)
        return np.diff(e, axis=2).reshape(n, -1)
    if name in ('ratio', 'shape', 'cond', 'ccond'):
        lr = r.lr
        if name == 'ccond' or env is not None and name != 'cond':
            lr = lr - env['aH'][None, :, None] * r.drh[:, None, :] - env['aT'][None, :, None] * r.dT[:, None, :]
        y = np.exp(-lr) - 1                                      # conductance increment relative to baseline
        e = wmean(y, 30, 90, W)                                  # (n,16,W)
        if name in ('cond', 'ccond'):
            return e.reshape(n, -1)
        if name == 'ratio':   # type-mean response / TGS2602-mean response (clipped)
            tm = e.reshape(n, 4, 4, W).mean(axis=2)
            den = tm[:, 1:2, :]
            den = np.sign(den) * np.maximum(np.abs(den), 1e-3)
            return np.clip(tm[:, [0, 2, 3], :] / den, -20, 20).reshape(n, -1)
        if name == 'shape':   # per window, channel / sum of |channels|
            s = np.abs(e).sum(axis=1, keepdims=True)
            return (e / np.maximum(s, 1e-4)).reshape(n, -1)
    if name == 'clr':  # env-compensated log response windows
        lr = r.lr - env['aH'][None, :, None] * r.drh[:, None, :] - env['aT'][None, :, None] * r.dT[:, None, :]
        return wmean(lr, 30, 90, W).reshape(n, -1)
    if name == 'clrR':
        lr = r.lr - env['aH'][None, :, None] * r.drh[:, None, :] - env['aT'][None, :, None] * r.dT[:, None, :]
        return wmean(lr, 90, 150, K).reshape(n, -1)
    raise ValueError(name)


def fit_env(r, mask=None, sl=slice(30, 150)):
    """Per-channel d lnR / dRH and d lnR / dT by least squares over the seconds of E and R of the given containers
    (pass mask = non-reefer: reefer cargo makes gas and cold/humid air co-occur), after removing the mean over
    containers of each second (the mean gas response and the mean RH/T step share the same time profile)."""
    m = np.ones(r.n, bool) if mask is None else np.asarray(mask)
    H = r.drh[m][:, sl]; Tm = r.dT[m][:, sl]
    H = H - np.nanmean(H, 0); Tm = Tm - np.nanmean(Tm, 0)
    X = np.nan_to_num(np.stack([H.ravel(), Tm.ravel()], 1))
    aH = np.zeros(16); aT = np.zeros(16)
    for g in range(16):
        L = np.nan_to_num(r.lr[m][:, g, sl]); L = L - L.mean(0)
        aH[g], aT[g] = np.linalg.lstsq(X, L.ravel(), rcond=None)[0]
    return {'aH': aH, 'aT': aT}


RIG = json.load(open(os.path.join(HERE, 'rig.json'))) if os.path.exists(os.path.join(HERE, 'rig.json')) else None
def env_true():
    """The seed-1 rig's own coefficients (oracle calibration, from rigtau.mjs)."""
    return {'aH': np.array([u[2] for u in RIG]), 'aT': np.array([u[3] for u in RIG])}


def build(r, spec, env=None):
    """spec: list of (blockname, kwargs) or 'base6' etc."""
    out = []
    for b in spec:
        if isinstance(b, str): b = (b, {})
        if b[0] == 'base':
            out.append(feats_base(r, **b[1]))
        else:
            out.append(block(r, b[0], env=env, **b[1]))
    return np.nan_to_num(np.hstack(out))


def score_of(model, X, kind='multi'):
    """score = log P(not clear) - log P(clear); for 'ovc' a dict of per-drug binary models -> max logit."""
    if kind == 'ovc':
        return np.max(np.stack([m.decision_function(X) if hasattr(m, 'decision_function') else lg(m.predict_proba(X)[:, 1]) for m in model.values()], 1), 1)
    P = model.predict_proba(X); ci = list(model.classes_).index('clear')
    return np.log(np.maximum(1 - P[:, ci], 1e-300)) - np.log(np.maximum(P[:, ci], 1e-300))


def lg(p): return np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(1 - p, 1e-300))


def fit_kind(model, X, y, kind):
    if kind == 'multi':
        return clone(model).fit(X, y)
    if kind == 'binary':
        return clone(model).fit(X, np.where(y == 'clear', 'clear', 'drug'))
    if kind == 'ovc':
        out = {}
        for s in SUBS:
            k = (y == 'clear') | (y == s)
            out[s] = clone(model).fit(X[k], (y[k] == s).astype(int))
        return out


def det_at(score, y, thr):
    drug = y != 'clear'
    per = {s: float((score[y == s] > thr).mean()) for s in SUBS}
    return float((score[drug] > thr).mean()), per, float((score[~drug] > thr).mean())


def evaluate(tag, model, Xtr, ytr, gtr, Xev, yev, kind='multi', cv=True, script='', extra=None, quiet=False, big=None):
    """Fits on (Xtr,ytr) and scores the eval-days set (Xev,yev).
    big: boolean mask of the official eval rows (idx<100) within Xev; then 'eval' = those 1000 and 'big' = all
    rows of Xev (the 5000 eval-day containers with idx<500).
    Threshold A: 0.99 quantile of the set's own clear scores (rep of explore5).
    Threshold B (operational): 0.99 quantile of out-of-fold clear scores of a 5-fold GroupKFold-by-day CV on
    the training set. Prints and appends a row to results.jsonl."""
    t0 = time.time()
    m = fit_kind(model, Xtr, ytr, kind)
    s_all = score_of(m, Xev, kind)
    sets = {'eval': big if big is not None else np.ones(len(yev), bool)}
    if big is not None: sets['big'] = np.ones(len(yev), bool)
    row = {'tag': tag, 'script': script, 'ntr': int(len(ytr)), 'nfeat': int(Xtr.shape[1])}
    if cv:
        oof = np.zeros(len(ytr))
        for tri, tei in GroupKFold(5).split(Xtr, ytr, gtr):
            mm = fit_kind(model, Xtr[tri], ytr[tri], kind)
            oof[tei] = score_of(mm, Xtr[tei], kind)
        thrB = np.quantile(oof[ytr == 'clear'], 0.99)
        row['cv_auc'] = round(roc_auc_score(ytr != 'clear', oof), 4)
    msg = '%-46s n%-5d f%-4d' % (tag, row['ntr'], row['nfeat'])
    for nm, k in sets.items():
        s = s_all[k]; y = yev[k]; drug = y != 'clear'
        auc = roc_auc_score(drug, s); thrA = np.quantile(s[~drug], 0.99)
        detA, perA, _ = det_at(s, y, thrA)
        r = {'auc': round(auc, 4), 'det': round(detA, 4), 'per': {q: round(v, 3) for q, v in perA.items()}}
        msg += ' |%s auc %.4f det %.3f [%s]' % (nm[0].upper(), auc, detA, ' '.join('%.2f' % perA[q] for q in SUBS))
        if cv:
            detB, perB, faB = det_at(s, y, thrB)
            r.update({'detCV': round(detB, 4), 'faCV': round(faB, 4), 'perCV': {q: round(v, 3) for q, v in perB.items()}})
            msg += ' cvthr %.3f@fa%.3f' % (detB, faB)
        row[nm] = r
    if extra: row.update(extra)
    row['sec'] = round(time.time() - t0, 1)
    if not quiet: print(msg + ' (%ds)' % row['sec'], flush=True)
    with open(RES, 'a') as f: f.write(json.dumps(row) + '\n')
    return m, s_all, row


def eval_sets():
    """evx = days 21-30, 1000 per day (seed 1). idx<100: the official eval (identical to ../x/eval);
    idx<500: BIG eval (5000); idx>=500: eval-days TRAINING pool (5000, disjoint from both)."""
    a, m = load('evx'); idx = np.array([q['idx'] for q in m])
    ev = idx < 500; tr = ~ev
    return (a[ev], [m[i] for i in np.nonzero(ev)[0]], idx[ev] < 100), (a[tr], [m[i] for i in np.nonzero(tr)[0]])


def train_set(n):
    """trx = days 1-20, 1000 per day (seed 1); idx<100 == ../x/train, idx<300 == ../x/train6k."""
    a, m = load('trx'); idx = np.array([q['idx'] for q in m]); k = idx < n // 20
    return a[k], [m[i] for i in np.nonzero(k)[0]]


def LR(C=100): return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=20000))
