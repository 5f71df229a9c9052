# mkbig: extends trz to 160000 containers (days 1-20, 8000/day): dumps idx 0..7999/day and keeps b6R6 features only.
import subprocess, numpy as np, os, json
subprocess.run(['node', '../../research/peer/dump.mjs', '--options', json.dumps({'seed': 1, 'containers': 160000, 'startDay': 1, 'days': 20}), 'trw'], check=True)
subprocess.run(['/usr/bin/python3', 'mkfeat.py', 'trw'], check=True)
os.remove('trw.f32')
