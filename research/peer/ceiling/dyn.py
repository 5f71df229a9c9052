# Physics-informed "dynamic-class" decomposition (used by s3+). Per gas channel g, after removing the RH/T
# effect (per-channel coefficients fitted on training data) and the baseline median:
#   z_g(t) = exp(-clr_g(t)) - 1   (conductance increment relative to the baseline; linear in sensor states)
#   z_g(t) ~ sum_d T_gd phi_d(t) + sum_d c_gd psi_d(t) + b_g        d = 0,1,2 (fast, medium, slow; tau x1,x2,x4)
# phi_d: response to a unit target switched on during exposure (s 30-89), off in recovery;
# psi_d: decay of a unit carry-over state present at s 0 (earlier containers' sticky compounds).
# T_gd (per-class steady-state target) and c_gd are least-squares coefficients: one fixed 7x150 matrix per channel.
import numpy as np
from common import *

def basis(j, rate=10, nB=300, nE=600, nR=600):
    tr = np.array([8.0, 16.0, 32.0]) * j; td = np.array([20.0, 40.0, 80.0]) * j
    ar = np.exp(-1 / (rate * tr)); ad = np.exp(-1 / (rate * td))
    N = nB + nE + nR; phi = np.zeros((3, N)); psi = np.zeros((3, N))
    for d in range(3):
        s = 0.0; c = 1.0
        for n in range(N):   # same update order as frames.ts: state advanced, then read
            if nB <= n < nB + nE:
                s = 1 + (s - 1) * ar[d]; c = c * ar[d]
            else:
                s = s * ad[d]; c = c * ad[d]
            phi[d, n] = s; psi[d, n] = c
    sec = lambda x: x.reshape(x.shape[0], -1, rate).mean(-1)
    return np.vstack([sec(phi), sec(psi), np.ones((1, N // rate))])   # (7,150)

def zsig(r, env):
    clr = r.lr - env['aH'][None, :, None] * r.drh[:, None, :] - env['aT'][None, :, None] * r.dT[:, None, :]
    return np.nan_to_num(np.exp(-clr) - 1)

def fit_j(z, grid=np.exp(np.linspace(-0.6, 0.6, 25))):
    """per-channel tau multiplier minimising the total least-squares residual over the given containers."""
    js = np.zeros(16)
    for g in range(16):
        best = None
        for j in grid:
            Bm = basis(j); P = np.linalg.pinv(Bm)         # (150,7)
            res = z[:, g, :] - (z[:, g, :] @ P) @ Bm
            e = (res ** 2).sum()
            if best is None or e < best[0]: best = (e, j)
        js[g] = best[1]
    return js

_bcache = {}
def dynfeats(z, js, which=(0, 1, 2, 3, 4, 5, 6), resid=False):
    out = []; rs = []
    for g in range(16):
        key = round(float(js[g]), 6)
        if key not in _bcache: Bm = basis(js[g]); _bcache[key] = (Bm, np.linalg.pinv(Bm))
        Bm, P = _bcache[key]
        c = z[:, g, :] @ P
        out.append(c[:, list(which)])
        if resid: rs.append(np.sqrt(((z[:, g, :] - c @ Bm) ** 2).mean(1))[:, None])
    F = np.stack(out, 1)   # (n,16,k)
    F = F.transpose(0, 2, 1).reshape(len(z), -1)   # coefficient-major: all 16 channels of T0, then T1, ...
    return np.hstack([F] + rs) if resid else F
