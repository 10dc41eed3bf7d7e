import re,os,collections
root='/work/main/crates/yongxin-web/src'
files=[]
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'): files.append(os.path.join(d,f))
rel=lambda p: os.path.relpath(p,root)
src={rel(f):open(f).read() for f in files}
def strip(s): return re.sub(r'//[^\n]*','',s)
items=[]
pat=re.compile(r'^(?P<vis>pub(?:\([a-z]+\))? )?(?P<async>async )?(?P<kind>fn|struct|enum|const|static|type|trait)\s+(?P<name>\w+)',re.M)
for f,s in sorted(src.items()):
    # cut test module
    cut=s.find('#[cfg(test)]')
    body=s if cut<0 else s[:cut]
    for m in pat.finditer(body):
        line=body[:m.start()].count('\n')+1
        items.append((f,line,(m.group('vis') or '').strip(),('async ' if m.group('async') else '')+m.group('kind'),m.group('name')))
# usage outside defining file (excluding tests modules)
out=[]
for f,line,vis,kind,name in items:
    users=[]
    for g,s in src.items():
        if g==f: continue
        s2=strip(s)
        if re.search(r'\b'+re.escape(name)+r'\b',s2): users.append(g)
    out.append((f,line,vis,kind,name,users))
for o in out:
    print(f"{o[0]}:{o[1]}\t{o[2] or 'priv'}\t{o[3]}\t{o[4]}\t{' '.join(sorted(o[5]))}")
