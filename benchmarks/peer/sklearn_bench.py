#!/usr/bin/python3
"""scikit-learn peer of the engine's model pipeline, timed the way benchmarks/peer.bench.ts times the engine.

Input: a JSON file (argument 1) written by peer.bench.ts:
  {"raw": <folder of libsvm batches>, "files": [names in the engine's read order], "train": [row indices],
   "test": [row indices], "pipelines": {"lda": {"components": k}, ...}, "repeats": r, "quick": bool,
   "growth": {"folder": <zscored folder>, "files": [...], "order": [row indices], "sizes": [n, ...],
              "kinds": [...], "components": {kind: [k per size]}, "repeats": r} (optional)}
Output: one JSON object on stdout: versions, the scaler mean seen on the training rows (the engine checks it
equals its own, so both read the same rows), and per pipeline: fit seconds (median of repeats), single-sample
predict times in ns (one call of pipe.predict on a 1-row matrix each), batch predict seconds per sample
(median of repeats), test accuracy and the predicted labels; per size of the growth series, fit seconds.

Pipelines, the same as the engine's: StandardScaler -> PCA(k, full SVD) -> LinearDiscriminantAnalysis |
LogisticRegression(C=1, lbfgs, run to convergence: tol 1e-8, max_iter 10000, as the engine's L-BFGS) |
KNeighborsClassifier(5).
Run: /usr/bin/python3 benchmarks/peer/sklearn_bench.py <input.json>
"""
import json
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_svmlight_file
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")


def load(folder, files):
    xs, ys = [], []
    for name in files:
        x, y = load_svmlight_file(f"{folder}/{name}", n_features=128)
        xs.append(x.toarray())
        ys.append(y)
    return np.vstack(xs), np.concatenate(ys)


def make(kind, components):
    head = [StandardScaler(), PCA(components, svd_solver="full")]
    if kind == "lda":
        return make_pipeline(*head, LinearDiscriminantAnalysis())
    if kind == "logreg":
        return make_pipeline(*head, LogisticRegression(C=1.0, tol=1e-8, max_iter=10000))
    if kind == "knn":
        return make_pipeline(*head, KNeighborsClassifier(5))
    raise ValueError(kind)


def timed(fn):
    t0 = time.perf_counter_ns()
    value = fn()
    return (time.perf_counter_ns() - t0) / 1e9, value


def main():
    spec = json.load(open(sys.argv[1]))
    repeats = spec.get("repeats", 1)
    out = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "pipelines": {},
    }
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = [f"{i.get('internal_api')} {i.get('version')} threads={i.get('num_threads')}" for i in threadpool_info()]
    except Exception as error:  # threadpoolctl is optional
        out["blas"] = [f"unknown ({error})"]
    if spec.get("pipelines"):
        x, y = load(spec["raw"], spec["files"])
        train = np.array(spec["train"])
        test = np.array(spec["test"])
        xtr, ytr, xte, yte = x[train], y[train], x[test], y[test]
        out["scalerMean"] = StandardScaler().fit(xtr).mean_.tolist()
        for kind, options in spec["pipelines"].items():
            fits = []
            pipe = None
            for _ in range(repeats):
                pipe = make(kind, options["components"])
                seconds, _ = timed(lambda: pipe.fit(xtr, ytr))
                fits.append(seconds)
            predicted = pipe.predict(xte)
            # Single-sample predict: warm up, then one call per test row (several passes in a full run).
            rows = [xte[i : i + 1] for i in range(options.get("singleRows") or len(xte))]
            for r in rows[:200]:
                pipe.predict(r)
            single = []
            for _ in range(options.get("passes", 1)):
                for r in rows:
                    t0 = time.perf_counter_ns()
                    pipe.predict(r)
                    single.append(time.perf_counter_ns() - t0)
            batch = []
            for _ in range(repeats):
                seconds, _ = timed(lambda: pipe.predict(xte))
                batch.append(seconds / len(xte))
            out["pipelines"][kind] = {
                "components": int(pipe.named_steps["pca"].n_components_),
                "fitSeconds": float(np.median(fits)),
                "singleNs": single,
                "batchSecondsPerSample": float(np.median(batch)),
                "accuracy": float((predicted == yte).mean()),
                "predicted": [str(int(v)) if float(v).is_integer() else str(v) for v in predicted],
            }
            if kind == "logreg":
                out["pipelines"][kind]["iterations"] = int(np.max(pipe.named_steps["logisticregression"].n_iter_))
    growth = spec.get("growth")
    if growth:
        gx, gy = load(growth["folder"], growth["files"])
        order = np.array(growth["order"])
        out["growth"] = {}
        for kind in growth["kinds"]:
            series = []
            for index, n in enumerate(growth["sizes"]):
                rows = order[:n]
                fits = []
                for _ in range(growth["repeats"]):
                    pipe = make(kind, growth["components"][kind][index])
                    seconds, _ = timed(lambda: pipe.fit(gx[rows], gy[rows]))
                    fits.append(seconds)
                series.append({"n": int(n), "fitSeconds": float(np.median(fits))})
            out["growth"][kind] = series
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
