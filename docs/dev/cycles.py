# Usage: python3 refs2.py > /dev/null && python3 cycles.py   (reads graph.json written by refs2.py)
import json, sys
sys.setrecursionlimit(10000)
g = json.load(open('/tmp/webplan/graph.json'))
nodes = (set(g) | {t for d in g.values() for t in d}) - {'crate'}
adj = {n: {t for t in g.get(n, {}) if t != 'crate'} for n in nodes}
idx, low, st, on, out, c = {}, {}, [], set(), [], [0]
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in adj[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        out.append(comp)
for v in sorted(nodes):
    if v not in idx: sc(v)
big = [sorted(x) for x in out if len(x) > 1]
print(big or "no cycle")
