# mkfeat: b6R6 features of a big dump, in chunks -> <name>_b6R6.npz (X, y, day, idx). usage: mkfeat.py NAME
import sys
from common import *
n = sys.argv[1]; m = json.load(open(n + '.json'))['meta']; N = len(m)
mm = np.memmap(n + '.f32', dtype=np.float32, mode='r', shape=(N, 18, 150))
sp = [('base', {'W': 6}), 'R', 'envR']
X = np.vstack([build(Raw(np.array(mm[i:i + 5000])), sp) for i in range(0, N, 5000)])
np.savez(n + '_b6R6.npz', X=X, y=labels(m), day=days(m), idx=np.array([q['idx'] for q in m]))
print(X.shape)
