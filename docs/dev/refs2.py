import re,os,sys,collections
root='/work/main/crates/yongxin-web/src'
files=[]
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'): files.append(os.path.join(d,f))
def modname(p):
    r=os.path.relpath(p,root)[:-3]
    if r=='lib': return 'crate'
    if r.endswith('/mod'): r=r[:-4]
    return r.replace('/','::')
def strip_comments(s):
    s=re.sub(r'//[^\n]*','',s)
    return s
def expand(tree,prefix):
    # tree: string inside use after 'crate::'
    tree=tree.strip()
    out=[]
    # split top-level by commas
    def split(s):
        parts=[];depth=0;cur=''
        for c in s:
            if c=='{':depth+=1
            if c=='}':depth-=1
            if c==',' and depth==0:
                parts.append(cur);cur=''
            else: cur+=c
        if cur.strip(): parts.append(cur)
        return parts
    m=re.match(r'^([\w:]*?)\{(.*)\}$',tree,re.S)
    if m:
        pre=m.group(1)
        for p in split(m.group(2)):
            out+=expand(p,prefix+pre)
    else:
        t=re.sub(r'\s+as\s+\w+','',tree)
        out.append(prefix+t.strip())
    return out
res=collections.defaultdict(lambda: collections.defaultdict(set))
for f in sorted(files):
    raw=open(f).read()
    cut=raw.find('#[cfg(test)]')
    raw=raw if cut<0 else raw[:cut]
    src=strip_comments(raw)
    me=modname(f)
    # test module split
    for m in re.finditer(r'use\s+(crate|super)::([^;]*);',src,re.S):
        base=m.group(1)
        tree=re.sub(r'\s+',' ',m.group(2))
        for p in expand(tree,''):
            p=p.replace(' ','')
            if base=='super':
                parent=me.rsplit('::',1)[0] if '::' in me else 'crate'
                # super inside mod tests => me itself; approximate: if line in tests
                line=src[:m.start()].count('\n')
                p=(parent+'::'+p) if parent!='crate' else p
            parts=p.split('::')
            res[me][tuple(parts)].add('use')
    for m in re.finditer(r'(?<![\w:])(crate|super)::((?:\w+::)*\w+)',src):
        # inline paths not in use statements
        line_start=src.rfind('\n',0,m.start())+1
        line=src[line_start:src.find('\n',m.start())]
        if re.match(r'\s*(pub\s+)?use\s',line): continue
        base=m.group(1);p=m.group(2)
        if base=='super':
            parent=me.rsplit('::',1)[0] if '::' in me else 'crate'
            p=(parent+'::'+p) if parent!='crate' else p
        res[me][tuple(p.split('::'))].add('inline')
mods=set(modname(f) for f in files)
def target_mod(parts):
    # longest prefix that's a module
    for i in range(len(parts),0,-1):
        cand='::'.join(parts[:i])
        if cand in mods: return cand,'::'.join(parts[i:]) or '(module)'
    return 'crate','::'.join(parts)
graph=collections.defaultdict(lambda: collections.defaultdict(set))
for me,refs in res.items():
    for parts in refs:
        t,item=target_mod(list(parts))
        if t==me: continue
        graph[me][t].add(item)
for me in sorted(graph):
    print(f'## {me}')
    for t in sorted(graph[me]):
        print(f'  -> {t}: {", ".join(sorted(graph[me][t]))}')
import json
#json.dump({a:{b:sorted(c) for b,c in d.items()} for a,d in graph.items()},open('/tmp/webplan/graph.json','w'),indent=1)

import json
json.dump({a:{b:sorted(c) for b,c in d.items()} for a,d in graph.items()},open('/tmp/webplan/graph.json','w'),indent=1)
