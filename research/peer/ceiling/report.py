# report: compact table of results.jsonl (last row per tag+ntr). E = official eval (1000), B = BIG eval-day set (5000).
import json
rows = {}
for l in open('results.jsonl'):
    r = json.loads(l); rows[(r['tag'], r['ntr'])] = r
S = ['cocaine', 'cannabis', 'heroin', 'mdma']
print('%-50s %6s | %-32s | %-32s | %s' % ('config', 'ntr', 'EVAL1000 auc det [coc can her mdm]', 'BIG5000 auc det [coc can her mdm]', 'operational thr (E / B): det@FA'))
for (t, n), r in rows.items():
    def f(k):
        x = r.get(k)
        if not x: return '-'
        p = x.get('per', {}); return '%.4f %.3f [%s]' % (x['auc'], x['det'], ' '.join('%.2f' % p[s] for s in S) if p else '')
    def o(k):
        x = r.get(k); return '%.3f@%.3f' % (x['detCV'], x['faCV']) if x and 'detCV' in x else '-'
    if 'eval' not in r:   # rows written before the BIG set existed
        print('%-50s %6d | %.4f %.3f [%s] |  (s2/s3: eval only)  | %s' % (t[:50], n, r['auc'], r['det'], ' '.join('%.2f' % r['per'][s] for s in S), '%.3f@%.3f' % (r['detCV'], r['faCV']) if 'detCV' in r else '-'))
    else:
        print('%-50s %6d | %-32s | %-32s | %s / %s  [%s]' % (t[:50], n, f('eval'), f('big'), o('eval'), o('big'), r['script']))
