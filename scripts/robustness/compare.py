#!/usr/bin/env python3
"""compare.py BIN [OUTDIR] [-v VARIANT]

Runs BIN analyze --json on OUTDIR/<variant>/ for every variant and compares
kind / original.message_id / original.recipients / original.subject with
OUTDIR/orig.  Prints a table; -v VARIANT lists the changed files of one
variant.
"""
import csv, json, os, subprocess, sys
from collections import Counter
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from structural import run  # noqa: E402

csv.field_size_limit(10**8)
CORPUS = os.environ['ROBUST_CORPUS']


def load_tsv(p):
    with open(p, newline='', encoding='utf-8', errors='replace') as f:
        return list(csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE))


def key(o):
    o = o or {}
    orig = o.get('original') or {}
    return (o.get('kind', 'MISSING'), orig.get('message_id'),
            tuple(sorted(x.lower() for x in (orig.get('recipients') or []))), orig.get('subject'))


def main():
    args = sys.argv[1:]
    binp = args[0]
    outdir = os.path.join(os.environ['ROBUST_OUT'], 'encoding')
    verbose = None
    rest = args[1:]
    while rest:
        if rest[0] == '-v':
            verbose = rest[1].split(','); rest = rest[2:]
        else:
            outdir = rest[0]; rest = rest[1:]
    bounces = [r['path'] for r in load_tsv(os.path.join(CORPUS, 'bounces.tsv')) if r['is_bounce'] == 'yes']
    others = [r['path'] for r in load_tsv(os.path.join(CORPUS, 'bounces.tsv')) if r['is_bounce'] != 'yes']
    ham = [r['path'] for r in load_tsv(os.path.join(CORPUS, 'ham.tsv')) if r['expected'].startswith('ham')]
    allr = bounces + others + ham
    base = run(binp, os.path.join(outdir, 'orig'), allr)
    variants = sorted(d for d in os.listdir(outdir) if d != 'orig' and os.path.isdir(os.path.join(outdir, d)))
    print(f"{'variant':10} {'changed':>7} {'det->not':>8} {'kind~':>6} {'mid lost':>8} {'mid chg':>7} {'mid new':>7} {'rcpt lost':>9} {'rcpt chg':>8} {'subj chg':>8} {'ham->b':>6} {'oth~':>5}")
    for v in variants:
        if verbose and v not in verbose:
            continue
        res = run(binp, os.path.join(outdir, v), allr)
        c = Counter()
        changed_files = []
        for rel in bounces:
            a, b = key(base.get(rel)), key(res.get(rel))
            what = []
            if a[0] != 'not_bounce' and b[0] == 'not_bounce':
                what.append('det->not')
            elif a[0] != b[0]:
                what.append('kind~')
            if a[1] and not b[1]:
                what.append('mid lost')
            elif a[1] and b[1] != a[1]:
                what.append('mid chg')
            elif not a[1] and b[1]:
                what.append('mid new')
            if a[2] and not b[2]:
                what.append('rcpt lost')
            elif a[2] != b[2]:
                what.append('rcpt chg')
            if a[3] != b[3]:
                what.append('subj chg')
            for w in what:
                c[w] += 1
            if what:
                c['changed'] += 1
                changed_files.append((rel, what, a, b))
        for rel in ham:
            if key(res.get(rel))[0] != 'not_bounce':
                c['ham->b'] += 1
                changed_files.append((rel, ['ham->b'], key(base.get(rel)), key(res.get(rel))))
        for rel in others:
            if key(res.get(rel))[0] != key(base.get(rel))[0]:
                c['oth~'] += 1
                changed_files.append((rel, ['oth~'], key(base.get(rel)), key(res.get(rel))))
        print(f"{v:10} {c['changed']:7} {c['det->not']:8} {c['kind~']:6} {c['mid lost']:8} {c['mid chg']:7} {c['mid new']:7} {c['rcpt lost']:9} {c['rcpt chg']:8} {c['subj chg']:8} {c['ham->b']:6} {c['oth~']:5}")
        if verbose:
            for rel, what, a, b in changed_files:
                print('   ', rel, what)
                print('       orig:', a)
                print('       var: ', b)


if __name__ == '__main__':
    main()
