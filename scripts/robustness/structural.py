#!/usr/bin/env python3
"""structural.py gen|cmp [BIN] [-v VARIANT,...]

Round 2 audit: STRUCTURAL variants of every corpus message (bounces.tsv + ham.tsv)
into $ROBUST_OUT/structural/<variant>/<path>;  'cmp BIN' compares each variant's answer
with the unchanged message (kind, original.message_id, recipients).
Extra column 'mid real': Message-ID lost/changed although its text is still in
the variant file (candidate real loss); 'mid gone' = lost and absent (expected).
"""
import email, email.policy, json, os, re, subprocess, sys
from collections import Counter
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from variants import (load_tsv, detect_eol, split_head_body, parse_fields, field_value, parse_ct,
                      Hook, transform, set_field, ensure_last_eol, split_lines_keep)

CORPUS = os.environ['ROBUST_CORPUS']
OUT = os.path.join(os.environ['ROBUST_OUT'], 'structural')
ORIG_TYPES = ('message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers')


class OrigBody(Hook):
    """Apply fn(fields, body, eol, ctx) to the top-level bounce's attached original part."""
    def __init__(self, fn, types=ORIG_TYPES):
        self.fn, self.types = fn, types

    def whole_leaf(self, ct, ctx):
        return ct in self.types and not ctx['in_orig']

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] not in self.types or ctx['in_orig'] or ctx['cte'] not in ('7bit', '8bit', 'binary'):
            return fields, body
        return self.fn(fields, body, eol, ctx)


def _trunc_hdrs(fields, body, eol, ctx):
    if ctx['ct'] != 'message/rfc822':
        return fields, body
    h, sep, b = split_head_body(body)
    return fields, h + sep


def _trunc_mid(fields, body, eol, ctx):
    h, sep, b = split_head_body(body)
    fs = parse_fields(h)
    if len(fs) < 2:
        return fields, body
    k = len(fs) // 2
    cut = fs[k][1]
    first = split_lines_keep(cut)[0].rstrip(b'\r\n')
    return fields, b''.join(r for _, r in fs[:k]) + first[:max(1, len(first) // 2)]


def _trunc_1k(fields, body, eol, ctx):
    return fields, body[:1024]


def _ct(new, disp=None):
    def f(fields, body, eol, ctx):
        for x in fields:
            if x[0] and x[0].lower() == 'content-type':
                x[1] = b'Content-Type: ' + new + eol
        if disp:
            fields = ensure_last_eol(fields, eol)
            set_field(fields, 'Content-Disposition', disp, eol)
        return fields, body
    return f


class MidForm(Hook):
    def __init__(self, how):
        self.how = how

    def headers(self, fields, eol, ctx):
        if not ctx['in_orig']:
            return fields
        for f in fields:
            if f[0] and f[0].lower() == 'message-id':
                m = re.match(rb'([^:]*:)[ \t]*(?:\r\n|\n|\r)?[ \t]*<([^<>\s]+)>[ \t]*(\r\n|\n|\r)?$', f[1])
                if not m:
                    continue
                name, mid, t = m.group(1), m.group(2), m.group(3) or b''
                if self.how == 'fold':
                    f[1] = name + eol + b' <' + mid + b'>' + t
                elif self.how == 'noangle':
                    f[1] = name + b' ' + mid + t
                elif self.how == 'cmt':
                    f[1] = name + b' (queued as 4XyZ) <' + mid + b'>' + t
        return fields


def remove_parts(b, ctype):
    """Drop every MIME part of type ctype (any depth outside originals)."""
    eol = detect_eol(b)
    def walk(ent, in_orig):
        head, sep, body = split_head_body(ent)
        fields = parse_fields(head)
        ct, params = parse_ct(field_value(fields, 'content-type'))
        if ct.startswith('multipart/') and params.get('boundary') and not in_orig:
            bd = params['boundary'].encode('latin-1')
            pat = re.compile(rb'(^|\r\n|\n|\r)--' + re.escape(bd) + rb'(--)?[ \t]*(?=\r\n|\n|\r|$)')
            ms = list(pat.finditer(body))
            if not ms:
                return ent
            out = [body[:ms[0].start()]]
            for i, m in enumerate(ms):
                end = ms[i + 1].start() if i + 1 < len(ms) else len(body)
                seg = body[m.end():end]
                if not m.group(2) and i + 1 < len(ms):
                    t = re.match(rb'\r\n|\n|\r', seg)
                    if t:
                        pf = parse_fields(split_head_body(seg[t.end():])[0])
                        pct, _ = parse_ct(field_value(pf, 'content-type'))
                        if pct == ctype:
                            continue
                        seg = t.group(0) + walk(seg[t.end():], in_orig)
                out.append(m.group(0) + seg)
            body = b''.join(out)
        return head + sep + body
    return walk(b, False)


def _msg(b):
    return email.message_from_bytes(b, policy=email.policy.compat32)


def _text_of(part):
    try:
        p = part.get_payload(decode=True) or b''
    except Exception:
        return ''
    return p.decode(part.get_content_charset() or 'latin-1', 'replace') if isinstance(p, bytes) else ''


def flat_quote(prefix, sep_line):
    """The bounce as one text/plain: its prose + the original's header block quoted."""
    def f(b):
        m = _msg(b)
        if not m.is_multipart():
            return b
        prose, orig = None, None
        for part in m.walk():
            ct = part.get_content_type()
            if ct == 'text/plain' and prose is None and orig is None:
                prose = _text_of(part)
            if ct in ORIG_TYPES and orig is None:
                pl = part.get_payload()
                if isinstance(pl, list) and pl:
                    orig = pl[0].as_bytes(policy=email.policy.compat32) if ct == 'message/rfc822' else None
                if orig is None:
                    try:
                        orig = part.get_payload(decode=True)
                    except Exception:
                        orig = None
                    if not orig and isinstance(pl, str):
                        orig = pl.encode('latin-1', 'replace')
        if prose is None or not orig:
            return b
        oh = split_head_body(orig)[0].decode('latin-1')
        quoted = ''.join(prefix + ln + '\n' for ln in oh.splitlines())
        body = prose.rstrip('\n') + '\n\n' + sep_line + '\n\n' + quoted
        eol = detect_eol(b)
        h = split_head_body(b)[0]
        fs = [x for x in parse_fields(h) if not (x[0] and x[0].lower().startswith('content-'))]
        fs = ensure_last_eol(fs, eol)
        hdr = b''.join(r for _, r in fs) + b'Content-Type: text/plain; charset=utf-8' + eol + b'Content-Transfer-Encoding: 8bit' + eol
        return hdr + eol + re.sub(rb'\r\n|\r|\n', eol, body.encode('utf-8'))
    return f


def wrap_bounce(b):
    eol = detect_eol(b)
    inner = b if b.endswith((b'\n', b'\r')) else b + eol
    lines = [b'Return-Path: <>', b'Received: by gw.example.invalid (Postfix) id 7F3A21C0; Sat, 28 Nov 2026 01:02:03 +0000 (UTC)',
             b'Date: Sat, 28 Nov 2026 01:02:03 +0000 (UTC)', b'From: MAILER-DAEMON@gw.example.invalid (Mail Delivery System)',
             b'Subject: Undelivered Mail Returned to Sender', b'To: <>', b'Auto-Submitted: auto-replied',
             b'Message-Id: <20261128010203.7F3A21C0@gw.example.invalid>', b'MIME-Version: 1.0',
             b'Content-Type: multipart/mixed; boundary="gw-wrap-7F3A21C0"', b'', b'--gw-wrap-7F3A21C0',
             b'Content-Type: text/plain; charset=us-ascii', b'', b'This is the mail system at host gw.example.invalid.', b'',
             b"I'm sorry to have to inform you that your message could not", b'be delivered to one or more recipients. It\'s attached below.', b'',
             b'<fwd-box@forward.example.invalid>: host mx.forward.example.invalid[192.0.2.9] said: 550 5.1.1',
             b'    user unknown (in reply to RCPT TO command)', b'', b'--gw-wrap-7F3A21C0',
             b'Content-Type: message/rfc822', b'Content-Description: Undelivered Message', b'', b'']
    return eol.join(lines) + inner + b'--gw-wrap-7F3A21C0--' + eol


PROSE = ("This is the mail system at host mail.example.org.\n\nI'm sorry to have to inform you that your message could not\n"
         "be delivered to one or more recipients. It's attached below.\n\n<someone@example.org>: host mx.example.org[192.0.2.1]\n"
         "    said: 550 5.1.1 <someone@example.org>: Recipient address rejected: User unknown\n\n"
         "Final-Recipient: rfc822; someone@example.org\nAction: failed\nStatus: 5.1.1\n")


PROSE_ONLY = PROSE.split('\nFinal-Recipient')[0] + '\n'


def ham_quote(prefix, prose=None):
    def f(b):
        PROSE_ = prose or PROSE
        eol = detect_eol(b)
        intro = 'Hi all,\n\nI keep getting this when I write to Bob, any idea why?\n\n'
        add = (intro + ''.join(prefix + l + '\n' for l in PROSE_.splitlines()) + '\nThanks,\nAnn\n\n').encode()
        add = re.sub(rb'\n', eol, add)
        class H(Hook):
            done = False
            def leaf(self, fields, body, eol2, ctx):
                if H.done or ctx['ct'] != 'text/plain' or ctx['cte'] not in ('7bit', '8bit', 'binary') or ctx['in_orig']:
                    return fields, body
                H.done = True
                return fields, add + body
        return transform(b, H())
    return f


def ham_fwd(b):
    eol = detect_eol(b)
    inner = b if b.endswith((b'\n', b'\r')) else b + eol
    lines = [b'Date: Sat, 28 Nov 2026 09:10:11 +0100', b'From: Ann Example <ann@example.org>', b'To: Bob Example <bob@example.net>',
             b'Subject: Fwd: have a look', b'Message-ID: <fwd-1234@mail.example.org>', b'MIME-Version: 1.0',
             b'Content-Type: multipart/mixed; boundary="fwd-b-1"', b'', b'--fwd-b-1', b'Content-Type: text/plain; charset=us-ascii', b'',
             b'Bob, see the forwarded mail below.', b'', b'Ann', b'', b'--fwd-b-1', b'Content-Type: message/rfc822', b'', b'']
    return eol.join(lines) + inner + b'--fwd-b-1--' + eol


def ham_undeliv(b, prefix='Undeliverable: '):
    eol = detect_eol(b)
    h, sep, body = split_head_body(b)
    fs = parse_fields(h)
    fs = ensure_last_eol(fs, eol)
    subj = field_value(fs, 'subject') or 'your mail'
    fs = [x for x in fs if not (x[0] and x[0].lower() == 'subject')]
    fs.append(['Subject', ('Subject: ' + prefix + subj).encode('latin-1', 'replace') + eol])
    fs.append(['In-Reply-To', b'In-Reply-To: <prev-4711@example.org>' + eol])
    return b''.join(r for _, r in fs) + sep + body


VARIANTS = {
    't_hdrs': lambda b: transform(b, OrigBody(_trunc_hdrs)),
    't_mid': lambda b: transform(b, OrigBody(_trunc_mid)),
    't_1k': lambda b: transform(b, OrigBody(_trunc_1k)),
    'as_text': lambda b: transform(b, OrigBody(_ct(b'text/plain; charset=us-ascii'), ('message/rfc822',))),
    'as_octet': lambda b: transform(b, OrigBody(_ct(b'application/octet-stream; name="original.eml"', 'attachment; filename="original.eml"'), ('message/rfc822',))),
    'as_texth': lambda b: transform(b, OrigBody(_ct(b'text/plain; charset=us-ascii'), ('text/rfc822-headers', 'message/rfc822-headers'))),
    'q_sp': flat_quote('  ', '----- Original message -----'),
    'q_tab': flat_quote('\t', '----- Original message -----'),
    'q_gt': flat_quote('> ', '----- Original message -----'),
    'q_copy': flat_quote('', '------ This is a copy of the message, including all the headers. ------'),
    'no_dsn': lambda b: remove_parts(b, 'message/delivery-status'),
    'mid_fold': lambda b: transform(b, MidForm('fold')),
    'mid_noang': lambda b: transform(b, MidForm('noangle')),
    'mid_cmt2': lambda b: transform(b, MidForm('cmt')),
    'wrap': wrap_bounce,
    'H_quote': ham_quote(''),
    'H_quote_gt': ham_quote('> '),
    'H_prose': ham_quote('', PROSE_ONLY),
    'H_fwd': ham_fwd,
    'H_undeliv': ham_undeliv,
    'H_re_undel': lambda b: ham_undeliv(b, 'Re: Undeliverable: '),
}


def rows():
    b = load_tsv(os.path.join(CORPUS, 'bounces.tsv'))
    h = load_tsv(os.path.join(CORPUS, 'ham.tsv'))
    return ([r['path'] for r in b if r['is_bounce'] == 'yes'], [r['path'] for r in b if r['is_bounce'] != 'yes'],
            [r['path'] for r in h if r['expected'].startswith('ham')])


def gen(only):
    bounces, others, ham = rows()
    for v in ['orig'] + [v for v in VARIANTS if not only or v in only]:
        todo = (bounces + others + ham) if v == 'orig' else (ham if v.startswith('H_') else bounces)
        for rel in todo:
            with open(os.path.join(CORPUS, rel), 'rb') as f:
                b = f.read()
            if v != 'orig':
                try:
                    nb = VARIANTS[v](b)
                except Exception as e:
                    print('variant', v, 'failed on', rel, repr(e), file=sys.stderr)
                    nb = b
                if nb == b:
                    continue  # variant does not apply
                b = nb
            dst = os.path.join(OUT, v, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, 'wb') as f:
                f.write(b)


def run(binp, base, rels):
    out = {}
    rels = [r for r in rels if os.path.exists(os.path.join(base, r))]
    for i in range(0, len(rels), 200):
        chunk = rels[i:i + 200]
        p = subprocess.run([binp, 'analyze', '--json'] + [os.path.join(base, r) for r in chunk], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for line in p.stdout.decode('utf-8', 'replace').splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if o.get('index', 0) == 0:
                out[os.path.relpath(o['path'], base)] = o
    return out


def key(o):
    o = o or {}
    orig = o.get('original') or {}
    return (o.get('kind', 'MISSING'), orig.get('message_id'), tuple(sorted(x.lower() for x in (orig.get('recipients') or []))))


def cmp(binp, only):
    bounces, others, ham = rows()
    base = run(binp, os.path.join(OUT, 'orig'), bounces + ham)
    print(f"{'variant':10} {'files':>5} {'changed':>7} {'det->not':>8} {'kind~':>5} {'mid real':>8} {'mid gone':>8} {'mid new':>7} {'rcpt lost':>9} {'rcpt chg':>8} {'ham->b':>6}")
    for v in VARIANTS:
        if only and v not in only:
            continue
        d = os.path.join(OUT, v)
        todo = ham if v.startswith('H_') else bounces
        res = run(binp, d, todo)
        c = Counter()
        lst = []
        for rel in todo:
            if rel not in res:
                continue
            c['files'] += 1
            a, b = key(base.get(rel)), key(res.get(rel))
            if v.startswith('H_'):
                if b[0] != 'not_bounce':
                    c['ham->b'] += 1; c['changed'] += 1; lst.append((rel, ['ham->b'], a, b))
                continue
            what = []
            if a[0] != 'not_bounce' and b[0] == 'not_bounce':
                what.append('det->not')
            elif a[0] != b[0] and v != 'wrap':
                what.append('kind~')
            if a[1] and b[1] != a[1]:
                raw = open(os.path.join(d, rel), 'rb').read()
                what.append('mid real' if a[1].strip('<>').encode() in raw else 'mid gone')
            elif not a[1] and b[1]:
                what.append('mid new')
            if a[2] and not b[2]:
                what.append('rcpt lost')
            elif a[2] != b[2]:
                what.append('rcpt chg')
            for w in what:
                c[w] += 1
            if what:
                c['changed'] += 1
                lst.append((rel, what, a, b))
        print(f"{v:10} {c['files']:5} {c['changed']:7} {c['det->not']:8} {c['kind~']:5} {c['mid real']:8} {c['mid gone']:8} {c['mid new']:7} {c['rcpt lost']:9} {c['rcpt chg']:8} {c['ham->b']:6}", flush=True)
        if VERBOSE and v in VERBOSE:
            for rel, what, a, b in lst:
                print('   ', rel, what, '\n       orig:', a, '\n       var: ', b)


if __name__ == '__main__':
    args = sys.argv[1:]
    VERBOSE = []
    only = None
    if '-v' in args:
        i = args.index('-v'); VERBOSE = args[i + 1].split(','); only = VERBOSE; del args[i:i + 2]
    if os.environ.get('VARIANTS'):
        only = os.environ['VARIANTS'].split(',')
    if args[0] == 'gen':
        gen(only)
    else:
        cmp(args[1] if len(args) > 1 else os.environ['ROBUST_BIN'], only)
