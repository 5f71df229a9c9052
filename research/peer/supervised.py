# Upper bound: supervised logreg C=100 on standardised features trained WITH all classes (train),
# score = log P(not clear)/P(clear); threshold at 95%/99% quantile of eval CLEAR scores (5%/1% clear flagged).
# Also: h-vs-known binary logreg (trained with h labels) thresholded so 5%/1% of eval KNOWN (non-h) are flagged
#   (the direct Neyman-Pearson bound for "h vs everything known").
import sys, numpy as np
from common import *
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
trn = sys.argv[1] if len(sys.argv) > 1 else 'train'
Xtr, ytr = data(trn); Xev, yev = data('eval')
p = make_pipeline(StandardScaler(), LogisticRegression(C=100, max_iter=20000)).fit(Xtr, ytr)
P = p.predict_proba(Xev); ci = list(p.classes_).index('clear')
s = np.log(np.maximum(1-P[:, ci], 1e-300)) - np.log(np.maximum(P[:, ci], 1e-300))
print('train=%s multiclass acc on eval %.3f' % (trn, (p.predict(Xev) == yev).mean()))
for q in [0.95, 0.99]:
    lim = np.quantile(s[yev == 'clear'], q)
    print('A drug-vs-clear  %d%% eval clear flagged: ' % round(100*(1-q)) + ' '.join('%s %5.1f' % (h, 100*(s[yev == h] > lim).mean()) for h in SUBS))
for q in [0.95, 0.99]:
    row = []
    for h in SUBS:
        b = make_pipeline(StandardScaler(), LogisticRegression(C=100, max_iter=20000)).fit(Xtr, ytr == h)
        sh = b.decision_function(Xev); lim = np.quantile(sh[yev != h], q)
        row.append('%s %5.1f' % (h, 100*(sh[yev == h] > lim).mean()))
    print('B h-vs-known     %d%% eval known flagged: ' % round(100*(1-q)) + ' '.join(row))
# B2: same multiclass model as A, score = log P(h)/(1-P(h)), threshold so 5%/1% of eval non-h are flagged.
for q in [0.95, 0.99]:
    row = []
    for h in SUBS:
        i = list(p.classes_).index(h); sh = np.log(P[:, i] + 1e-300) - np.log(1 - P[:, i] + 1e-300)
        lim = np.quantile(sh[yev != h], q); row.append('%s %5.1f' % (h, 100 * (sh[yev == h] > lim).mean()))
    print('B2 multiclass P(h) %d%% eval known flagged: ' % round(100*(1-q)) + ' '.join(row))
