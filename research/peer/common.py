# Shared loader and features for the scikit-learn prototypes: the default model's features (log response, six
# 10 s window means of the exposure per gas channel, RH/T steps per window, baseline RH/T; 110 columns) computed
# from per-second means dumped by dump.mjs into $ENOSE_DUMP_DIR (default .enose-tmp/sim-dumps under the repo).
import json, os, numpy as np, warnings
warnings.filterwarnings('ignore')
X_DIR = os.environ.get('ENOSE_DUMP_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '.enose-tmp', 'sim-dumps'))
SUBS = ['cocaine', 'cannabis', 'heroin', 'mdma']
def load(n):
    m = json.load(open(os.path.join(X_DIR, n + '.json'))); C = len(m['channels']); S = m['S']
    a = np.fromfile(os.path.join(X_DIR, n + '.f32'), dtype=np.float32).reshape(len(m['meta']), C, S).astype(float)
    return a, m
def feats(a, W=6, resp_kind='log'):
    g = a[:, :16, :]; rh = a[:, 17, :]; T = a[:, 16, :]
    base = np.nanmedian(g[:, :, 0:30], axis=2)
    lr = g - base[:, :, None]
    resp = lr
    rhb = np.nanmean(rh[:, 0:30], axis=1); tb = np.nanmean(T[:, 0:30], axis=1)
    w = 60 // W
    f = [np.nanmean(resp[:, :, 30+j*w:30+(j+1)*w], axis=2) for j in range(W)]
    f += [np.nanmean(rh[:, 30+j*w:30+(j+1)*w], axis=1)[:, None]-rhb[:, None] for j in range(W)]
    f += [np.nanmean(T[:, 30+j*w:30+(j+1)*w], axis=1)[:, None]-tb[:, None] for j in range(W)]
    f += [rhb[:, None], tb[:, None]]
    return np.nan_to_num(np.hstack(f))
_cache = {}
def data(n):
    """returns X (n,110), y labels, meta list; cached to npz."""
    if n in _cache: return _cache[n]
    p = os.path.join(X_DIR, 'feat_%s.npz' % n)
    if os.path.exists(p):
        z = np.load(p, allow_pickle=True); r = (z['X'], z['y'])
    else:
        a, m = load(n); X = feats(a, 6, 'log'); y = np.array([q['label'] for q in m['meta']])
        np.savez(p, X=X, y=y); r = (X, y)
    _cache[n] = r; return r

def evaluate(score_tr_cal, score_ev, yev, h, qs=(0.95, 0.99)):
    """score_tr_cal: out-of-sample scores of KNOWN training samples (LOO or CV); limit = quantile.
    Returns dict q -> (held %, known %, clear %)."""
    out = {}
    for q in qs:
        lim = np.quantile(score_tr_cal, q)
        f = score_ev > lim
        out[q] = (100*f[yev == h].mean(), 100*f[yev != h].mean(), 100*f[yev == 'clear'].mean())
    return out

def fmt_table(name, res, qs=(0.95, 0.99)):
    """res: dict h -> evaluate() output"""
    lines = []
    for q in qs:
        held = ' '.join('%5.1f' % res[h][q][0] for h in SUBS)
        known = ' '.join('%5.1f' % res[h][q][1] for h in SUBS)
        clear = ' '.join('%5.1f' % res[h][q][2] for h in SUBS)
        lines.append('%-42s q=%.2f | held[coc can her mdm] %s | known %s | clear %s | meanheld %5.1f meanknown %5.1f' % (
            name, q, held, known, clear, np.mean([res[h][q][0] for h in SUBS]), np.mean([res[h][q][1] for h in SUBS])))
    return '\n'.join(lines)
