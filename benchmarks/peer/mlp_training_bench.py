"""scikit-learn peer of benchmarks/mlp-training.bench.ts: MLPClassifier training time per epoch.

Input JSON: {"x": path to float64 little-endian rows (n x d), "y": path to int32 labels, "n", "d",
             "hidden": [[128, 64], ...], "epochs": E, "threads": [1, 2]}
For each hidden setting and thread count: MLPClassifier(hidden, alpha=1e-3, batch_size=200, learning_rate_init=1e-3,
early_stopping=True (10% validation, as the engine), max_iter=E, n_iter_no_change=10**6, tol=0, random_state=0)
fitted on every row, BLAS limited to that many threads; prints {"runs": [{hidden, threads, epochs, seconds,
cpuSeconds (process CPU time: on a loaded machine steadier than wall time), trainAccuracy}]} (the accuracy on the rows themselves, to check that both sides learn the same problem).
Run: /usr/bin/python3 benchmarks/peer/mlp_training_bench.py <input.json>
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits


def main():
    spec = json.load(open(sys.argv[1]))
    n, d = spec["n"], spec["d"]
    x = np.fromfile(spec["x"], dtype="<f8").reshape(n, d)
    y = np.fromfile(spec["y"], dtype="<i4")
    runs = []
    warnings.simplefilter("ignore", ConvergenceWarning)
    for hidden in spec["hidden"]:
        for threads in spec["threads"]:
            with threadpool_limits(limits=threads):
                m = MLPClassifier(tuple(hidden), alpha=1e-3, batch_size=200, learning_rate_init=1e-3, early_stopping=True,
                                  validation_fraction=0.1, max_iter=spec["epochs"], n_iter_no_change=10**6, tol=0, random_state=0)
                t0 = time.perf_counter()
                c0 = time.process_time()
                m.fit(x, y)
                seconds = time.perf_counter() - t0
                cpu_seconds = time.process_time() - c0
            runs.append({"hidden": hidden, "threads": threads, "epochs": int(m.n_iter_), "seconds": seconds, "cpuSeconds": cpu_seconds,
                         "trainAccuracy": float((m.predict(x) == y).mean())})
    json.dump({"runs": runs}, sys.stdout)


if __name__ == "__main__":
    main()
