# mkfeat2: env-compensated conductance-domain windows (ccond E 6 x 10 s + R 6 x 10 s, 192 cols) -> <name>_cc.npz.
# env (per-channel dlnR/dRH, dlnR/dT) fitted once on trx idx<1000 (20000 days-1-20 containers, non-reefer) -> env_cc.npy
import sys, subprocess
from dyn import *
if not os.path.exists('env_cc.npy'):
    tr, mt = train_set(20000); env = fit_env(Raw(tr), np.array([not q['reefer'] for q in mt])); np.save('env_cc.npy', np.vstack([env['aH'], env['aT']])); del tr
E = np.load('env_cc.npy'); env = {'aH': E[0], 'aT': E[1]}
for n in sys.argv[1:]:
    m = json.load(open(n + '.json'))['meta']; N = len(m)
    mm = np.memmap(n + '.f32', dtype=np.float32, mode='r', shape=(N, 18, 150)); out = []
    for i in range(0, N, 5000):
        r = Raw(np.array(mm[i:i + 5000])); zz = zsig(r, env)
        out.append(np.hstack([wmean(zz, 30, 90, 6).reshape(r.n, -1), wmean(zz, 90, 150, 6).reshape(r.n, -1)]))
    np.savez(n + '_cc.npz', X=np.vstack(out), idx=np.array([q['idx'] for q in m]), day=days(m)); print(n, N)
