#!/usr/bin/python3
"""scikit-learn peer for the engine's MLP classifier, on real data: raw UCI drift batch 2 (1,244 samples,
6 gases, 128 features), 5-fold cross-validation with fold = row index mod 5 (the same folds the engine's test
uses), z-score + MLPClassifier((64,), alpha=1e-3, early_stopping=True) for random_state 0 to 4.

Prints one JSON object (tests/model/golden/sklearn-mlp.json): the accuracy (%) of each seed and their mean.
Run: /usr/bin/python3 benchmarks/peer/mlp_reference.py [raw dir] > tests/model/golden/sklearn-mlp.json
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_svmlight_file
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
raw = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/uci-gas-drift/raw"
x, y = load_svmlight_file(f"{raw}/batch2.dat", n_features=128)
x = x.toarray()
fold = np.arange(len(y)) % 5
per_seed = []
for seed in range(5):
    right = 0
    for f in range(5):
        tr, te = fold != f, fold == f
        m = make_pipeline(StandardScaler(), MLPClassifier((64,), alpha=1e-3, early_stopping=True, max_iter=200, random_state=seed))
        m.fit(x[tr], y[tr])
        right += int((m.predict(x[te]) == y[te]).sum())
    per_seed.append(round(100 * right / len(y), 2))
print(json.dumps({
    "source": "benchmarks/peer/mlp_reference.py on ../shared/datasets/uci-gas-drift/raw/batch2.dat",
    "sklearn": sklearn.__version__,
    "setting": "StandardScaler + MLPClassifier((64,), alpha=1e-3, early_stopping=True, max_iter=200); 5-fold CV, fold = row index mod 5",
    "accuracyPerSeed": per_seed,
    "meanAccuracy": round(float(np.mean(per_seed)), 2),
}, indent=1))
