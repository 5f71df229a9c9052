"""SmellNet offline reference (scikit-learn): seven plain statistics per channel over the whole recording.

Reproduces the figures in ../shared/datasets/smellnet-offline/README.md, so that `enose train`'s own figure
is compared with a peer computed here: one row per recording, per channel mean, std (population), min, max,
mean of the first 30 s, mean of the last 60 s, least-squares slope per minute; z-score, PCA 99 %; LDA, kNN 5,
logistic regression; with and without sign(x) ln(1 + |x|). Run: /usr/bin/python3 research/smellnet_reference.py
"""
import csv
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'datasets', 'smellnet-offline')


def load(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header = rows[0]
    samples = {}
    for r in rows[1:]:
        s = samples.setdefault(r[0], {'label': r[1], 't': [], 'v': []})
        s['t'].append(float(r[2]))
        s['v'].append([float(x) for x in r[3:]])
    x, y = [], []
    for s in samples.values():
        t = np.array(s['t'])
        t = t - t[0]
        v = np.array(s['v'])
        feats = []
        for j in range(v.shape[1]):
            c = v[:, j]
            slope = np.polyfit(t, c, 1)[0] * 60
            feats += [c.mean(), c.std(), c.min(), c.max(), c[t < 30].mean(), c[-60:].mean(), slope]
        x.append(feats)
        y.append(s['label'])
    return np.array(x), np.array(y), header[3:]


def main():
    xtr, ytr, channels = load(os.path.join(ROOT, 'frames_train.csv'))
    xte, yte, _ = load(os.path.join(ROOT, 'frames_test.csv'))
    print(f'{len(ytr)} training and {len(yte)} test recordings, channels {",".join(channels)}, {xtr.shape[1]} features')
    slog = lambda a: np.sign(a) * np.log1p(np.abs(a))
    for name, tf in [('plain', lambda a: a), ('signed-log', slog)]:
        for cname, clf in [('lda', LinearDiscriminantAnalysis()), ('knn5', KNeighborsClassifier(5)), ('logreg', LogisticRegression(max_iter=5000))]:
            model = make_pipeline(StandardScaler(), PCA(0.99, svd_solver='full'), clf).fit(tf(xtr), ytr)
            print(f'{name:10s} {cname:7s} test accuracy {np.mean(model.predict(tf(xte)) == yte):.3f}')


if __name__ == '__main__':
    main()
