"""Loads the tables of research/early-model-extract.mjs (issue 22 research, docs/early-model-research.md)."""
import json
import numpy as np

DIR = '/tmp/h22m'


def load(name):
    meta = json.load(open(f'{DIR}/{name}.json'))
    x = np.fromfile(f'{DIR}/{name}.f64', dtype='<f8').reshape(-1, 220)
    rows = meta['rows']
    names = meta['featureNames']
    keep = np.array([r['label'] != '' for r in rows])
    rows = [r for r, k in zip(rows, keep) if k]
    return {
        'x': x[keep], 'rows': rows, 'names': names,
        'drug': np.array([r['label'] != 'clear' for r in rows]),
        'eScore': np.array([np.nan if r['eScore'] is None else r['eScore'] for r in rows]),
        'eClean': np.array([r['eVerdict'] == 'clear' for r in rows]),
        'fVerdict': np.array([r['fVerdict'] for r in rows]),
        'fScore': np.array([r['fScore'] for r in rows]),
        'quality': np.array([len(r['reasons']) == 0 for r in rows]),
    }


def columns(names, windows=6, rwindows=0, env_summary=None):
    """Feature columns of a checkpoint: exposure windows 1..windows, recovery windows 1..rwindows, RH/T steps of
    the same windows; the RH/T exposure mean and delta only with the whole exposure (they are over the exposure)."""
    if env_summary is None:
        env_summary = windows == 6
    keep = []
    for i, n in enumerate(names):
        ch, f = n.split(':')
        if f.startswith('win') and int(f[3:]) <= windows: keep.append(i)
        elif f.startswith('rwin') and int(f[4:]) <= rwindows: keep.append(i)
        elif f.startswith('dwin') and int(f[4:]) <= windows: keep.append(i)
        elif f.startswith('drwin') and int(f[5:]) <= rwindows: keep.append(i)
        elif f in ('mean', 'delta') and env_summary: keep.append(i)
    return np.array(keep)
