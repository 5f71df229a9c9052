#!/usr/bin/python3
"""scikit-learn peer for the drift-data protocol "train on batch 1, test on each other batch".

Prints one JSON object: per-batch accuracy (%) of z-score + PCA(20) + kNN(5), z-score + logistic
regression (C=1, all features) and z-score + PCA(0.99) + LDA, with the scikit-learn version.
Run: /usr/bin/python3 benchmarks/peer/drift_reference.py [raw dir]
"""
import json
import sys
import warnings

import sklearn
from sklearn.datasets import load_svmlight_file
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")
raw = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/uci-gas-drift/raw"
batches = [1, 2, 3, 4, 5, 6, 8, 9]
data = {b: load_svmlight_file(f"{raw}/batch{b}.dat", n_features=128) for b in batches}
x1, y1 = data[1][0].toarray(), data[1][1]
pipes = {
    "knn": make_pipeline(StandardScaler(), PCA(20), KNeighborsClassifier(5)),
    "logreg": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=100)),
    "logreg-converged": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)),
    "lda": make_pipeline(StandardScaler(), PCA(0.99), LinearDiscriminantAnalysis()),
}
out = {"sklearn": sklearn.__version__, "accuracy": {}}
for name, pipe in pipes.items():
    pipe.fit(x1, y1)
    out["accuracy"][name] = {
        f"batch{b}": round(100 * float((pipe.predict(data[b][0].toarray()) == data[b][1]).mean()), 2)
        for b in batches[1:]
    }
print(json.dumps(out, indent=1))
