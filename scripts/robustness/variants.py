#!/usr/bin/env python3
"""variants.py [CORPUS] [OUTDIR]

Writes equivalent variants of every corpus message (bounces.tsv + ham.tsv
rows) into OUTDIR/<variant>/<path>.  OUTDIR/orig/<path> is a verbatim copy.
Byte-level MIME walker: only the parts a variant is about are touched; the
rest of the message keeps its bytes.
"""
import base64, binascii, csv, os, re, sys

csv.field_size_limit(10**8)
CORPUS = sys.argv[1] if len(sys.argv) > 1 else os.environ['ROBUST_CORPUS']
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.environ['ROBUST_OUT'], 'encoding')


def load_tsv(p):
    with open(p, newline='', encoding='utf-8', errors='replace') as f:
        return list(csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE))


def detect_eol(b):
    if b'\r\n' in b:
        return b'\r\n'
    if b'\n' in b:
        return b'\n'
    if b'\r' in b:
        return b'\r'
    return b'\n'


def split_lines_keep(b):
    """Lines with their terminators (\r\n, \n or bare \r)."""
    return re.findall(rb'[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$', b)


def set_eol(b, eol):
    return re.sub(rb'\r\n|\r|\n', eol, b)


def split_head_body(b):
    # blank line: a line terminator directly followed by another one
    t = re.match(rb'\r\n|\n|\r', b)
    if t:  # no header at all: the entity starts with its blank line
        return b'', t.group(0), b[t.end():]
    m = re.search(rb'(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))', b)
    if not m:
        return b, b'', b''
    # head includes its first terminator
    first_eol = re.match(rb'\r\n|\n|\r', b[m.start():]).group(0)
    h_end = m.start() + len(first_eol)
    return b[:h_end], b[h_end:m.end()], b[m.end():]


def parse_fields(head):
    """List of [name or None, raw bytes]; continuation lines attach to the previous field."""
    fields = []
    for line in split_lines_keep(head):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1][1] += line
        else:
            m = re.match(rb'([!-9;-~]+)[ \t]*:', line)
            fields.append([m.group(1).decode('latin-1') if m else None, line])
    return fields


def field_value(fields, name):
    for n, raw in fields:
        if n and n.lower() == name:
            v = raw.split(b':', 1)[1]
            return re.sub(rb'(\r\n|\n|\r)[ \t]', b' ', v).strip().decode('latin-1')
    return None


def parse_ct(v):
    if not v:
        return 'text/plain', {}
    parts = re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', v)
    ct = parts[0].strip().lower()
    params = {}
    for p in parts[1:]:
        if '=' in p:
            k, val = p.split('=', 1)
            val = val.strip()
            if val.startswith('"') and val.endswith('"') and len(val) >= 2:
                val = val[1:-1]
            params[k.strip().lower()] = val
    return ct, params


class Hook:
    """Override pieces to make a variant."""
    def headers(self, fields, eol, ctx):
        return fields

    def leaf(self, fields, body, eol, ctx):
        return fields, body

    def status_block(self, fields, eol):
        return fields


def walk(ent, hook, eol, ctx):
    head, sep, body = split_head_body(ent)
    fields = parse_fields(head)
    ct, params = parse_ct(field_value(fields, 'content-type'))
    cte = (field_value(fields, 'content-transfer-encoding') or '7bit').lower()
    if ct.startswith('multipart/') and params.get('boundary'):
        body = walk_multipart(body, params['boundary'].encode('latin-1'), hook, eol, ctx)
    elif getattr(hook, 'whole_leaf', None) and hook.whole_leaf(ct, ctx):
        fields, body = hook.leaf(fields, body, eol, dict(ctx, ct=ct, params=params, cte=cte))
    elif ct in ('message/rfc822', 'message/global') and cte in ('7bit', '8bit', 'binary'):
        body = walk(body, hook, eol, dict(ctx, depth=ctx['depth'] + 1, in_orig=True))
    elif ct in ('text/rfc822-headers', 'message/rfc822-headers') and cte in ('7bit', '8bit', 'binary'):
        h2, s2, b2 = split_head_body(body)
        f2 = hook.headers(parse_fields(h2), eol, dict(ctx, in_orig=True, hdrs_only=True))
        body = b''.join(r for _, r in f2) + s2 + b2
    elif ct in ('message/delivery-status', 'message/global-delivery-status') and cte in ('7bit', '8bit'):
        blocks = re.split(rb'((?:\r\n|\n|\r)(?:[ \t]*(?:\r\n|\n|\r))+)', body)
        out = []
        for i, blk in enumerate(blocks):
            if i % 2 == 1:
                out.append(blk)
                continue
            # re-attach the terminator of the block's last line so fields stay whole
            f = parse_fields(blk)
            f = hook.status_block(f, eol)
            out.append(b''.join(r for _, r in f))
        body = b''.join(out)
    elif not ct.startswith('multipart/') and not ct.startswith('message/'):
        fields, body = hook.leaf(fields, body, eol, dict(ctx, ct=ct, params=params, cte=cte))
    fields = hook.headers(fields, eol, ctx)
    return b''.join(r for _, r in fields) + sep + body


def walk_multipart(body, boundary, hook, eol, ctx):
    pat = re.compile(rb'(^|\r\n|\n|\r)--' + re.escape(boundary) + rb'(--)?[ \t]*(?=\r\n|\n|\r|$)')
    ms = list(pat.finditer(body))
    if not ms:
        return body
    out = [body[:ms[0].start()]]
    for i, m in enumerate(ms):
        out.append(m.group(0))
        end = ms[i + 1].start() if i + 1 < len(ms) else len(body)
        seg = body[m.end():end]
        if m.group(2) or i + 1 == len(ms):
            out.append(seg)
            continue
        # seg starts with the delimiter line's terminator
        t = re.match(rb'\r\n|\n|\r', seg)
        if not t:
            out.append(seg)
            continue
        out.append(t.group(0))
        out.append(walk(seg[t.end():], hook, eol, dict(ctx, depth=ctx['depth'] + 1)))
    return b''.join(out)


def transform(msg, hook):
    eol = detect_eol(msg)
    return walk(msg, hook, eol, {'depth': 0, 'in_orig': False})


# ---------------------------------------------------------------- helpers

def decode_body(body, cte):
    if cte == 'base64':
        try:
            return base64.b64decode(re.sub(rb'[^A-Za-z0-9+/=]', b'', body) + b'===', validate=False)
        except (binascii.Error, ValueError):
            return None
    if cte == 'quoted-printable':
        return binascii.a2b_qp(body)
    return body


def set_field(fields, name, value, eol):
    line = name.encode() + b': ' + value.encode() + eol
    for f in fields:
        if f[0] and f[0].lower() == name.lower():
            f[1] = line
            return fields
    # insert after Content-Type if present, else at end
    for i, f in enumerate(fields):
        if f[0] and f[0].lower() == 'content-type':
            fields.insert(i + 1, [name, line])
            return fields
    fields.append([name, line])
    return fields


def ensure_last_eol(fields, eol):
    if fields and not re.search(rb'(\r\n|\n|\r)$', fields[-1][1]):
        fields[-1][1] += eol
    return fields


class Reencode(Hook):
    def __init__(self, how, types=('text/plain',), cte_name=None, b64_line=76, qp_soft=None):
        self.how = how
        self.types = types
        self.cte_name = cte_name or how
        self.b64_line = b64_line
        self.qp_soft = qp_soft

    def whole_leaf(self, ct, ctx):
        return ct in self.types and ct.startswith(('message/', 'text/rfc822'))

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] not in self.types or ctx['in_orig']:
            return fields, body
        if ctx['cte'] not in ('7bit', '8bit', 'binary', 'base64', 'quoted-printable'):
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None or ctx['cte'] == self.how:
            return fields, body
        # the body's last line break belongs to the boundary delimiter in a multipart
        canon = re.sub(rb'\r\n|\r|\n', b'\r\n', data)
        if self.how == 'base64':
            one = base64.b64encode(canon)
            if self.b64_line:
                enc = b''.join(one[i:i + self.b64_line] + eol for i in range(0, len(one), self.b64_line))
            else:
                enc = one + eol
        else:
            enc = binascii.b2a_qp(canon.replace(b'\r\n', b'\n'), istext=True)
            if self.qp_soft:
                enc = qp_soften(enc, self.qp_soft)
            enc = enc.replace(b'\n', eol)
            if not enc.endswith(eol) and data.endswith((b'\n', b'\r')):
                enc += eol
        if not data.endswith((b'\n', b'\r')) and enc.endswith(eol) and ctx['depth'] > 0:
            enc = enc[:-len(eol)]
        fields = ensure_last_eol(fields, eol)
        # no Content-Type at all in a non-MIME message: add MIME-Version + text/plain
        if field_value(fields, 'content-type') is None:
            set_field(fields, 'Content-Type', 'text/plain; charset=us-ascii' if all(c < 128 for c in data) else 'text/plain; charset=utf-8', eol)
            if ctx['depth'] == 0 and field_value(fields, 'mime-version') is None:
                set_field(fields, 'MIME-Version', '1.0', eol)
        set_field(fields, 'Content-Transfer-Encoding', self.cte_name, eol)
        return fields, enc


def qp_soften(enc, n):
    """Insert a soft line break every n characters of each QP line (not inside an =XX)."""
    out = []
    for line in enc.split(b'\n'):
        cur = b''
        i = 0
        while i < len(line):
            tok = line[i:i + 3] if line[i:i + 1] == b'=' and i + 3 <= len(line) else line[i:i + 1]
            if len(cur) + len(tok) > n and i + len(tok) < len(line):
                out.append(cur + b'=\n')
                cur = b''
            cur += tok
            i += len(tok)
        out.append(cur + b'\n')
    return b''.join(out)[:-1]


def encode_words(text, q):
    """RFC 2047 encoded-words for text, each <= 75 chars, joined by ' ' (folded by caller)."""
    raw = text.encode('utf-8')
    words = []
    chunk = b''
    def emit(c):
        if q:
            s = ''.join(chr(b) if (0x30 <= b <= 0x39 or 0x41 <= b <= 0x5a or 0x61 <= b <= 0x7a) else ('_' if b == 0x20 else '=%02X' % b) for b in c)
            words.append('=?UTF-8?Q?' + s + '?=')
        else:
            words.append('=?UTF-8?B?' + base64.b64encode(c).decode() + '?=')
    # split on character boundaries
    for ch in text:
        cb = ch.encode('utf-8')
        if len(chunk) + len(cb) > (20 if q else 40):
            emit(chunk)
            chunk = b''
        chunk += cb
    if chunk:
        emit(chunk)
    return words


class SubjectEnc(Hook):
    def __init__(self, q):
        self.q = q

    def _enc(self, fields, eol):
        for f in fields:
            if f[0] and f[0].lower() == 'subject':
                v = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', f[1].split(b':', 1)[1]).strip()
                if not v or b'=?' in v or any(c >= 128 for c in v):
                    continue
                words = encode_words(v.decode('ascii'), self.q)
                f[1] = (f[0] + ': ' + (eol.decode() + ' ').join(words)).encode() + eol
        return fields

    def headers(self, fields, eol, ctx):
        return self._enc(fields, eol)

    def leaf(self, fields, body, eol, ctx):
        # inline-quoted original headers in a plain 7bit/8bit text body
        if ctx['ct'] == 'text/plain' and ctx['cte'] in ('7bit', '8bit', 'binary'):
            def rep(m):
                v = m.group(2).strip()
                if not v or b'=?' in v or any(c >= 128 for c in v):
                    return m.group(0)
                return m.group(1) + ' '.join(encode_words(v.decode('ascii'), self.q)).encode() + m.group(3)
            body = re.sub(rb'(?m)^(Subject:[ \t]*)([^\r\n]*)(\r\n|\n|\r)', rep, body)
        return fields, body


def fold_field(raw, eol, name):
    name_b = raw.split(b':', 1)[0]
    v = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', raw.split(b':', 1)[1])
    term = re.search(rb'(\r\n|\n|\r)$', v)
    t = term.group(0) if term else b''
    v = v[:len(v) - len(t)].strip()
    if not v:
        return raw
    # fold before every run of white space, and right after the colon
    parts = re.split(rb'[ \t]+', v)
    return name_b + b':' + eol + b' ' + (eol + b' ').join(parts) + (t or b'')


class Fold(Hook):
    def __init__(self, top_only=False):
        self.top_only = top_only

    def headers(self, fields, eol, ctx):
        if self.top_only and (ctx['depth'] > 0 or ctx['in_orig']):
            return fields
        for f in fields:
            if f[0] and f[0].lower() not in ('received',):
                f[1] = fold_field(f[1], eol, f[0])
        return fields

    def status_block(self, fields, eol):
        # DSN fields may be folded like header fields (RFC 3464 2.1)
        for f in fields:
            if f[0]:
                f[1] = fold_field(f[1], eol, f[0])
        return fields


class Ws(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0]:
                n, v = f[1].split(b':', 1)
                f[1] = n + b':  \t ' + v.lstrip(b' \t')
        return fields

    def status_block(self, fields, eol):
        return self.headers(fields, eol, None)


class Case(Hook):
    def __init__(self, fn):
        self.fn = fn

    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0]:
                n, v = f[1].split(b':', 1)
                f[1] = self.fn(n.decode('latin-1')).encode('latin-1') + b':' + v
        return fields

    def status_block(self, fields, eol):
        return self.headers(fields, eol, None)


class Charset(Hook):
    def __init__(self, label):
        self.label = label

    def leaf(self, fields, body, eol, ctx):
        if not ctx['ct'].startswith('text/') or 'charset' not in ctx['params']:
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None or any(c >= 128 for c in data) or b'=?' in data or b'\x1b' in data:
            return fields, body
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)(charset[ \t]*=[ \t]*)("[^"]*"|[^;\s]+)', lambda m: m.group(1) + self.label.encode(), f[1])
        return fields, body


class Trace(Hook):
    def headers(self, fields, eol, ctx):
        if ctx['depth'] != 0 or ctx['in_orig']:
            return fields
        extra = [
            b'Received: from relay.example.invalid (relay.example.invalid [192.0.2.7])' + eol +
            b'\tby mx.example.invalid (Postfix) with ESMTPS id 4AbCdEf' + eol +
            b'\tfor <someone@example.invalid>; Sat, 28 Nov 2026 01:02:03 +0000 (UTC)' + eol,
            b'X-Spam-Status: No, score=-0.1 required=5.0 tests=NONE' + eol,
            b'X-Virus-Scanned: clamav-milter 0.103.8 at mx.example.invalid' + eol,
            b'Authentication-Results: mx.example.invalid; spf=none smtp.mailfrom=<>' + eol,
            b'X-Original-To: someone@example.invalid' + eol,
            b'Delivered-To: someone@example.invalid' + eol,
        ]
        return [[None, e] for e in extra] + fields



class CtCase(Hook):
    """Media types, parameter names and charset values in upper case; white space around ; and =."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() in ('content-type', 'content-transfer-encoding', 'content-disposition'):
                n, v = f[1].split(b':', 1)
                # upper-case everything outside quoted strings except the boundary value
                out = []
                for i, piece in enumerate(re.split(rb'("[^"]*")', v)):
                    if i % 2 == 1:
                        out.append(piece)
                    else:
                        piece = re.sub(rb'(?i)(boundary\s*=\s*)([^";\s]+)', lambda m: m.group(1).upper() + b'"' + m.group(2) + b'"', piece)
                        # upper-case tokens not part of a quoted boundary we just made
                        parts2 = re.split(rb'("[^"]*")', piece)
                        piece = b''.join(p if j % 2 else p.upper() for j, p in enumerate(parts2))
                        piece = re.sub(rb';[ \t]*', b' ; ', piece)
                        out.append(piece)
                f[1] = n + b':' + b''.join(out)
        return fields


class Boundary(Hook):
    """Rename every multipart boundary to an unusual but valid one."""
    n = 0

    def headers(self, fields, eol, ctx):
        return fields


def rename_boundaries(b):
    eol = detect_eol(b)
    names = []
    class H(Hook):
        def headers(self, fields, eol, ctx):
            for f in fields:
                if f[0] and f[0].lower() == 'content-type':
                    m = re.search(rb'(?i)boundary\s*=\s*("([^"]*)"|[^;\s]+)', f[1])
                    if m:
                        old = m.group(2) if m.group(2) is not None else m.group(1)
                        new = b"=_?NS+Part'(%d).x:=/y_" % len(names) + b'z' * 5
                        names.append((old, new))
                        f[1] = f[1][:m.start()] + b'boundary="' + new + b'"' + f[1][m.end():]
            return fields
    # first pass just to learn the names, second to do the replacement on delimiter lines
    transform(b, H())
    out = b
    for old, new in names:
        out = re.sub(rb'(?m)^(--)' + re.escape(old) + rb'(--)?(?=[ \t]*(\r\n|\n|\r|$))', lambda m: b'--' + new + (m.group(2) or b''), out)
        out = re.sub(rb'(?i)boundary\s*=\s*("' + re.escape(old) + rb'"|' + re.escape(old) + rb'(?=[;\s]|$))', b'boundary="' + new + b'"', out)
    return out


class Preamble(Hook):
    def __init__(self, add):
        self.add = add


def preamble(b, add):
    eol = detect_eol(b)
    def pre(body, boundary):
        m = re.search(rb'(?m)^--' + re.escape(boundary) + rb'[ \t]*(?=\r\n|\n|\r|$)', body)
        if not m:
            return body
        if add:
            return b'This is a multi-part message in MIME format.' + eol + eol + b'Ce message est au format MIME.' + eol + body
        return body[m.start():]
    class H(Hook):
        pass
    # operate via walk_multipart hook: patch walk temporarily
    return _with_pre(b, pre)


def _with_pre(b, pre):
    global walk_multipart
    orig = walk_multipart
    def wm(body, boundary, hook, eol, ctx):
        return orig(pre(body, boundary), boundary, hook, eol, ctx)
    walk_multipart = wm
    try:
        return transform(b, Hook())
    finally:
        walk_multipart = orig


class TrailingWs(Hook):
    def _f(self, fields):
        for f in fields:
            if f[0]:
                f[1] = re.sub(rb'(\r\n|\n|\r)', lambda m: b' \t' + m.group(1), f[1])
        return fields

    def headers(self, fields, eol, ctx):
        return self._f(fields)

    def status_block(self, fields, eol):
        return self._f(fields)


class NoWs(Hook):
    def _f(self, fields):
        for f in fields:
            if f[0]:
                n, v = f[1].split(b':', 1)
                f[1] = n + b':' + v.lstrip(b' \t')
        return fields

    def headers(self, fields, eol, ctx):
        return self._f(fields)

    def status_block(self, fields, eol):
        return self._f(fields)


class DispName(Hook):
    """"Name" <addr> / Name <addr> in From/To/Cc become an encoded-word display name."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() in ('from', 'to', 'cc', 'reply-to', 'sender'):
                n, v = f[1].split(b':', 1)
                def rep(m):
                    name = m.group(1).strip().strip(b'"').strip()
                    if not name or b'=?' in name or any(c >= 128 for c in name) or b'\\' in name:
                        return m.group(0)
                    return b' ' + encode_words(name.decode('ascii'), False)[0].encode() + b' <'
                v2 = re.sub(rb'(?:^|(?<=,))[ \t]*((?:"[^"]*"|[^<>,"@\r\n])+?)[ \t]*<', rep, v)
                f[1] = n + b':' + v2
        return fields


class DsnTypes(Hook):
    def status_block(self, fields, eol):
        for f in fields:
            if f[0]:
                n, v = f[1].split(b':', 1)
                v = re.sub(rb'(?i)^([ \t]*)(rfc822|smtp|dns|x-postfix|x-unix|utf-8)[ \t]*;[ \t]*', lambda m: m.group(1) + m.group(2).upper() + b';', v)
                f[1] = n + b':' + v
        return fields


def mixed_eol(b, outer, inner):
    """The attached original (message/rfc822, text/rfc822-headers) in `inner` line endings,
    the rest in `outer`."""
    b = set_eol(b, outer)
    class H(Hook):
        pass
    global walk
    orig = walk
    def w(ent, hook, eol, ctx):
        head, sep, body = split_head_body(ent)
        fields = parse_fields(head)
        ct, params = parse_ct(field_value(fields, 'content-type'))
        if ctx.get('conv'):
            return orig(ent, hook, eol, ctx)
        if ct in ('message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers'):
            # keep the final terminator (belongs to the boundary) in outer form
            return head + sep + set_eol(body, inner)
        return orig(ent, hook, eol, ctx)
    walk = w
    try:
        return transform(b, Hook())
    finally:
        walk = orig


def reorder(b):
    class H(Hook):
        def headers(self, fields, eol, ctx):
            if ctx['depth'] != 0 or ctx['in_orig']:
                return fields
            first = [f for f in fields if f[0] and f[0].lower() in ('mime-version', 'content-type', 'subject', 'from', 'to', 'date', 'message-id')]
            rest = [f for f in fields if f not in first]
            return first + rest
    return transform(b, H())


class SubjEW(Hook):
    """Subject encoded-words with lower-case charset and encoding letters, ISO-8859-1."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'subject':
                v = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', f[1].split(b':', 1)[1]).strip()
                if not v or b'=?' in v or any(c >= 128 for c in v):
                    continue
                words = ['=?iso-8859-1?q?' + w[len('=?UTF-8?Q?'):] for w in encode_words(v.decode('ascii'), True)]
                f[1] = (f[0] + ': ' + ('\t' + eol.decode() + '\t').join(words)).encode() + eol
        return fields


class MimeComment(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'mime-version':
                n, v = f[1].split(b':', 1)
                t = re.search(rb'(\r\n|\n|\r)$', v)
                f[1] = n + b': 1.0 (Produced by Example MTA 9.1)' + (t.group(0) if t else b'')
        return fields


class TabFold(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() not in ('received',):
                f[1] = fold_field(f[1], eol, f[0]).replace(eol + b' ', eol + b'\t')
        return fields

    def status_block(self, fields, eol):
        for f in fields:
            if f[0]:
                f[1] = fold_field(f[1], eol, f[0]).replace(eol + b' ', eol + b'\t')
        return fields


class ContentEol(Reencode):
    """text/plain re-encoded in base64 whose decoded content uses `ceol` line breaks (and an
    optional UTF-8 BOM)."""
    def __init__(self, ceol, bom=False, how='base64'):
        Reencode.__init__(self, how)
        self.ceol = ceol
        self.bom = bom

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'text/plain' or ctx['in_orig']:
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None:
            return fields, body
        cs = (ctx['params'].get('charset') or 'us-ascii').lower()
        if self.bom and cs not in ('utf-8', 'us-ascii', 'ascii'):
            return fields, body
        canon = re.sub(rb'\r\n|\r|\n', self.ceol, data)
        if self.bom:
            canon = b'\xef\xbb\xbf' + canon
            for f in fields:
                if f[0] and f[0].lower() == 'content-type':
                    if re.search(rb'(?i)charset', f[1]):
                        f[1] = re.sub(rb'(?i)(charset[ \t]*=[ \t]*)("[^"]*"|[^;\s]+)', rb'\1utf-8', f[1])
        if self.how == 'base64':
            one = base64.b64encode(canon)
            enc = b''.join(one[i:i + 76] + eol for i in range(0, len(one), 76))
        else:
            # quoted-printable with every CR and LF encoded, soft breaks for the lines
            out = b''
            line = b''
            for c in canon:
                t = bytes([c]) if (33 <= c <= 126 and c != 61) or c == 32 else b'=%02X' % c
                if len(line) + len(t) > 72:
                    out += line + b'=' + eol
                    line = b''
                line += t
                if c == 10:
                    out += line + b'=' + eol
                    line = b''
            enc = out + line + eol
        if ctx['depth'] > 0:
            enc = enc[:-len(eol)]
        fields = ensure_last_eol(fields, eol)
        if field_value(fields, 'content-type') is None:
            set_field(fields, 'Content-Type', 'text/plain; charset=utf-8', eol)
            if ctx['depth'] == 0 and field_value(fields, 'mime-version') is None:
                set_field(fields, 'MIME-Version', '1.0', eol)
        set_field(fields, 'Content-Transfer-Encoding', self.how, eol)
        return fields, enc


LEGACY = {'ja': 'shift_jis', 'ru': 'koi8-r', 'zh': 'gb18030', 'ko': 'euc-kr', 'latin': 'windows-1252'}


class Transcode(Hook):
    """Non-ASCII text parts re-encoded into another charset (utf-8 <-> legacy), base64."""
    def __init__(self, to_utf8):
        self.to_utf8 = to_utf8

    def leaf(self, fields, body, eol, ctx):
        if not ctx['ct'].startswith('text/') or ctx['ct'] == 'text/rfc822-headers':
            return fields, body
        cs = ctx['params'].get('charset')
        if not cs:
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None or all(c < 128 for c in data) and b'\x1b' not in data:
            return fields, body
        try:
            text = data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            return fields, body
        if self.to_utf8:
            if cs.lower() in ('utf-8', 'utf8'):
                return fields, body
            target = 'utf-8'
        else:
            target = None
            for t in ('iso-8859-1', 'windows-1252', 'shift_jis', 'euc-jp', 'koi8-r', 'windows-1251', 'gb18030', 'euc-kr', 'iso-8859-2', 'iso-8859-15'):
                if t == cs.lower():
                    continue
                try:
                    text.encode(t)
                    target = t
                    break
                except UnicodeEncodeError:
                    pass
            if not target:
                return fields, body
        new = text.encode(target)
        canon = re.sub(rb'\r\n|\r|\n', b'\r\n', new)
        one = base64.b64encode(canon)
        enc = b''.join(one[i:i + 76] + eol for i in range(0, len(one), 76))
        if ctx['depth'] > 0 and not data.endswith((b'\n', b'\r')):
            enc = enc[:-len(eol)]
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)(charset[ \t]*=[ \t]*)("[^"]*"|[^;\s]+)', lambda m: m.group(1) + target.encode(), f[1])
        set_field(fields, 'Content-Transfer-Encoding', 'base64', eol)
        return fields, enc


def decode_words(v):
    import email.header
    try:
        parts = email.header.decode_header(v)
        return ''.join(p.decode(c or 'ascii') if isinstance(p, bytes) else p for p, c in parts)
    except Exception:
        return None


class SubjRecode(Hook):
    """Subjects already encoded (or raw 8-bit) re-encoded as UTF-8 B encoded-words."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'subject':
                v = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', f[1].split(b':', 1)[1]).strip()
                if b'=?' not in v and all(c < 128 for c in v):
                    continue
                if b'=?' in v:
                    t = decode_words(v.decode('latin-1'))
                else:
                    try:
                        t = v.decode('utf-8')
                    except UnicodeDecodeError:
                        t = None
                if not t:
                    continue
                f[1] = (f[0] + ': ' + (eol.decode() + ' ').join(encode_words(t, False))).encode() + eol
        return fields


class DsnAngle(Hook):
    def status_block(self, fields, eol):
        for f in fields:
            if f[0] and f[0].lower() in ('final-recipient', 'original-recipient'):
                f[1] = re.sub(rb'(;[ \t]*)([^<>\s;]+@[^<>\s;]+)', rb'\1<\2>', f[1])
        return fields


class MidComment(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'message-id':
                f[1] = re.sub(rb'(<[^<>\s]+>)[ \t]*(\r\n|\n|\r)?$', rb'\1 (added by relay)\2', f[1])
        return fields


def bnd_pad(b):
    names = []
    class H(Hook):
        def headers(self, fields, eol, ctx):
            for f in fields:
                if f[0] and f[0].lower() == 'content-type':
                    m = re.search(rb'(?i)boundary\s*=\s*("([^"]*)"|[^;\s]+)', f[1])
                    if m:
                        names.append(m.group(2) if m.group(2) is not None else m.group(1))
            return fields
    transform(b, H())
    for old in names:
        b = re.sub(rb'(?m)^(--' + re.escape(old) + rb'(?:--)?)(?=\r\n|\n|\r|$)', rb'\1 \t ', b)
    return b


class ParamOrder(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                n, v = f[1].split(b':', 1)
                t = re.search(rb'(\r\n|\n|\r)$', v)
                flat = re.sub(rb'(\r\n|\n|\r)[ \t]', b' ', v[:len(v) - len(t.group(0)) if t else None]).strip()
                parts = re.split(rb';(?=(?:[^"]*"[^"]*")*[^"]*$)', flat)
                parts = [p.strip() for p in parts if p.strip()]
                if len(parts) > 2:
                    parts = [parts[0]] + parts[1:][::-1]
                    f[1] = n + b': ' + (b';' + eol + b'\t').join(parts) + (t.group(0) if t else b'')
        return fields


class QpLower(Reencode):
    def __init__(self):
        Reencode.__init__(self, 'quoted-printable', types=('text/plain',))

    def leaf(self, fields, body, eol, ctx):
        fields, body2 = Reencode.leaf(self, fields, body, eol, ctx)
        if body2 is not body:
            body2 = re.sub(rb'=([0-9A-F]{2})', lambda m: b'=' + m.group(1).lower(), body2)
        return fields, body2


class WsBeforeColon(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() in ('subject', 'message-id', 'to', 'from', 'content-type', 'content-transfer-encoding'):
                n, v = f[1].split(b':', 1)
                f[1] = n + b' :' + v
        return fields


def combo(b, *fs):
    for fn in fs:
        b = fn(b)
    return b


class Rfc822Enc(Hook):
    """The attached original (message/rfc822) sent base64 / quoted-printable encoded."""
    def __init__(self, how):
        self.how = how

    def whole_leaf(self, ct, ctx):
        return ct == 'message/rfc822' and not ctx['in_orig']

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'message/rfc822' or ctx['cte'] not in ('7bit', '8bit', 'binary'):
            return fields, body
        canon = re.sub(rb'\r\n|\r|\n', b'\r\n', body)
        if self.how == 'base64':
            one = base64.b64encode(canon)
            enc = b''.join(one[i:i + 76] + eol for i in range(0, len(one), 76))
        else:
            enc = binascii.b2a_qp(canon.replace(b'\r\n', b'\n'), istext=True).replace(b'\n', eol)
        if ctx['depth'] > 0 and not body.endswith((b'\n', b'\r')) and enc.endswith(eol):
            enc = enc[:-len(eol)]
        fields = ensure_last_eol(fields, eol)
        set_field(fields, 'Content-Transfer-Encoding', self.how, eol)
        return fields, enc


class HtmlOnly(Hook):
    """The bounce's text/plain parts turned into text/html (escaped, <br> per line)."""
    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'text/plain' or ctx['in_orig']:
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None:
            return fields, body
        cs = ctx['params'].get('charset') or 'us-ascii'
        try:
            text = data.decode(cs)
        except (LookupError, UnicodeDecodeError):
            return fields, body
        import html
        lines = re.split(r'\r\n|\r|\n', text)
        h = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>\n<div style="font-family:Calibri">\n'
        h += '\n'.join(html.escape(l, quote=False).replace('  ', '&nbsp; ') + '<br>' for l in lines)
        h += '\n</div>\n</body></html>\n'
        canon = h.encode('utf-8').replace(b'\n', b'\r\n')
        one = base64.b64encode(canon)
        enc = b''.join(one[i:i + 76] + eol for i in range(0, len(one), 76))
        if ctx['depth'] > 0:
            enc = enc[:-len(eol)]
        fields = ensure_last_eol(fields, eol)
        if field_value(fields, 'content-type') is None:
            set_field(fields, 'Content-Type', 'text/html; charset=utf-8', eol)
            if ctx['depth'] == 0 and field_value(fields, 'mime-version') is None:
                set_field(fields, 'MIME-Version', '1.0', eol)
        else:
            set_field(fields, 'Content-Type', 'text/html; charset=utf-8', eol)
        set_field(fields, 'Content-Transfer-Encoding', 'base64', eol)
        return fields, enc


class MpMixed(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)multipart/report', b'multipart/mixed', f[1])
                f[1] = re.sub(rb'(?i);\s*report-type\s*=\s*("[^"]*"|[^;\s]+)', b'', f[1])
        return fields


class DsnAsText(Hook):
    def headers(self, fields, eol, ctx):
        if ctx['in_orig']:
            return fields
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)message/delivery-status', b'text/plain', f[1])
        return fields


class OrigHdrs(Hook):
    """message/rfc822 replaced by text/rfc822-headers holding the original's header only."""
    def whole_leaf(self, ct, ctx):
        return ct == 'message/rfc822' and not ctx['in_orig']

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'message/rfc822' or ctx['cte'] not in ('7bit', '8bit', 'binary'):
            return fields, body
        h, sep, b = split_head_body(body)
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)message/rfc822', b'text/rfc822-headers', f[1])
        return fields, h + (sep if not ctx['depth'] else b'')


class Unfold(Hook):
    def _u(self, fields):
        for f in fields:
            if f[0]:
                f[1] = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', f[1])
        return fields

    def headers(self, fields, eol, ctx):
        return self._u(fields)

    def status_block(self, fields, eol):
        return self._u(fields)


def no_close(b):
    return re.sub(rb'(?m)^--[^\r\n]*--[ \t]*(\r\n|\n|\r|$)', lambda m: b'' if looks_close(b, m.group(0)) else m.group(0), b)


def looks_close(b, line):
    bd = line.strip()[2:-2]
    return bool(bd) and re.search(rb'(?i)boundary\s*=\s*"?' + re.escape(bd) + rb'"?', b) is not None


def part_order(b):
    """Reverse the parts of the top-level multipart/report."""
    head, sep, body = split_head_body(b)
    fields = parse_fields(head)
    ct, params = parse_ct(field_value(fields, 'content-type'))
    if ct != 'multipart/report' or not params.get('boundary'):
        return b
    bd = params['boundary'].encode('latin-1')
    pat = re.compile(rb'(^|\r\n|\n|\r)--' + re.escape(bd) + rb'(--)?[ \t]*(?=\r\n|\n|\r|$)')
    ms = list(pat.finditer(body))
    if len(ms) < 3 or not ms[-1].group(2):
        return b
    parts = [body[ms[i].end():ms[i + 1].start()] for i in range(len(ms) - 1)]
    first = ms[0]
    delim = detect_eol(b) + b'--' + bd
    out = body[:first.start()] + first.group(0) + parts[1] + b''.join(delim + p for p in [parts[0]] + parts[2:]) + body[ms[-1].start():]
    return head + sep + out


class B64Ws(Reencode):
    def __init__(self):
        Reencode.__init__(self, 'base64', b64_line=60)

    def leaf(self, fields, body, eol, ctx):
        fields, b2 = Reencode.leaf(self, fields, body, eol, ctx)
        if b2 is not body:
            b2 = re.sub(rb'(\r\n|\n|\r)', rb'  \1', b2)
        return fields, b2


ALIAS = {'utf-8': 'UTF8', 'iso-8859-1': 'latin1', 'iso-2022-jp': 'csISO2022JP', 'us-ascii': 'ANSI_X3.4-1968',
         'windows-1252': 'cp1252', 'shift_jis': 'sjis', 'euc-jp': 'eucjp', 'gb2312': 'GB_2312-80', 'koi8-r': 'csKOI8R',
         'windows-1251': 'cp1251', 'iso-8859-15': 'latin-9', 'euc-kr': 'ks_c_5601-1987'}


class CsAlias(Hook):
    """Charset labels (text parts and encoded-words) replaced by common aliases."""
    def leaf(self, fields, body, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                def rep(m):
                    v = m.group(2).strip('"').lower()
                    return m.group(1) + (ALIAS.get(v) or m.group(2)).encode()
                f[1] = re.sub(rb'(?i)(charset[ \t]*=[ \t]*)("[^"]*"|[^;\s]+)', lambda m: m.group(1) + (ALIAS.get(m.group(2).decode('latin-1').strip('"').lower()) or m.group(2).decode('latin-1')).encode('latin-1'), f[1])
        return fields, body

    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() in ('subject', 'from', 'to'):
                f[1] = re.sub(rb'=\?([^?\s]+)\?', lambda m: b'=?' + (ALIAS.get(m.group(1).decode('latin-1').lower()) or m.group(1).decode('latin-1')).encode('latin-1') + b'?', f[1])
        return fields


class ImplicitCt(Hook):
    """text/plain; charset=us-ascii (the default) removed from ASCII parts."""
    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'text/plain' or ctx['in_orig'] or ctx['depth'] == 0:
            return fields, body
        if (ctx['params'].get('charset') or 'us-ascii').lower() != 'us-ascii' or len(ctx['params']) > 1:
            return fields, body
        data = decode_body(body, ctx['cte'])
        if data is None or any(c >= 128 for c in data):
            return fields, body
        new = [f for f in fields if not (f[0] and f[0].lower() == 'content-type')]
        if not new:
            # a part with no header at all starts with its blank line: keep one harmless field
            new = [['Content-Description', b'Content-Description: Notification' + eol]]
        return new, body


class DsnBlank(Hook):
    def status_block(self, fields, eol):
        if fields and fields[0][0]:
            fields[0][1] = eol + fields[0][1]
        return fields


def bounce_text(body, ctx):
    """The text of the bounce's own text/plain leaf (not the original's), decoded from its
    transfer encoding and charset; None for other leaves or undecodable text."""
    if ctx['ct'] != 'text/plain' or ctx['in_orig']:
        return None
    data = decode_body(body, ctx['cte'])
    try:
        return data.decode(ctx['params'].get('charset') or 'us-ascii')
    except (LookupError, UnicodeDecodeError, AttributeError):
        return None


class Utf16(Hook):
    def leaf(self, fields, body, eol, ctx):
        text = bounce_text(body, ctx)
        if text is None:
            return fields, body
        canon = re.sub(r'\r\n|\r|\n', '\r\n', text).encode('utf-16')
        one = base64.b64encode(canon)
        enc = b''.join(one[i:i + 76] + eol for i in range(0, len(one), 76))
        if ctx['depth'] > 0:
            enc = enc[:-len(eol)]
        fields = ensure_last_eol(fields, eol)
        set_field(fields, 'Content-Type', 'text/plain; charset=utf-16', eol)
        if ctx['depth'] == 0 and field_value(fields, 'mime-version') is None:
            set_field(fields, 'MIME-Version', '1.0', eol)
        set_field(fields, 'Content-Transfer-Encoding', 'base64', eol)
        return fields, enc


def subject_text(f):
    """The text of Subject field `f` (name, raw bytes) when it has non-ASCII text or encoded
    words; None when it is plain ASCII or not decodable."""
    v = re.sub(rb'(\r\n|\n|\r)(?=[ \t])', b'', f[1].split(b':', 1)[1]).strip()
    if b'=?' not in v and all(c < 128 for c in v):
        return None
    t = decode_words(v.decode('latin-1')) if b'=?' in v else None
    if t is None:
        try:
            t = v.decode('utf-8')
        except UnicodeDecodeError:
            return None
    return t


class SubjSplit(SubjRecode):
    """Non-ASCII subjects re-encoded as UTF-8 B words cut every 7 bytes (mid-character)."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'subject':
                t = subject_text(f)
                if t is None:
                    continue
                raw = t.encode('utf-8')
                words = ['=?UTF-8?B?' + base64.b64encode(raw[i:i + 7]).decode() + '?=' for i in range(0, len(raw), 7)]
                f[1] = (f[0] + ': ' + (eol.decode() + ' ').join(words)).encode() + eol
        return fields


class GlobalTypes(Hook):
    def headers(self, fields, eol, ctx):
        if ctx['in_orig']:
            return fields
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i)message/delivery-status', b'message/global-delivery-status', f[1])
                f[1] = re.sub(rb'(?i)message/rfc822\b', b'message/global', f[1])
                f[1] = re.sub(rb'(?i)text/rfc822-headers', b'message/global-headers', f[1])
        return fields


class PartParams(Hook):
    def headers(self, fields, eol, ctx):
        if ctx['in_orig'] or ctx['depth'] == 0:
            return fields
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                m = re.match(rb'(?is)(content-type:\s*)(message/delivery-status|message/rfc822|text/rfc822-headers)', f[1])
                if m:
                    f[1] = re.sub(rb'(\r\n|\n|\r)$', b'; name="details.txt"' + eol, f[1], count=1)
                    f.append(None)
        out = []
        for f in fields:
            out.append(f[:2])
            if len(f) > 2:
                out.append(['Content-Disposition', b'Content-Disposition: attachment; filename="details.txt"' + eol])
        return out


class CteOdd(Hook):
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'content-transfer-encoding':
                f[1] = re.sub(rb'(?i)\b7bit\b', b'7-bit', f[1])
                f[1] = re.sub(rb'(?i)\b8bit\b', b'8-bit', f[1])
        return fields


class Utf7(Hook):
    def leaf(self, fields, body, eol, ctx):
        text = bounce_text(body, ctx)
        if text is None:
            return fields, body
        enc = re.sub(rb'\r\n|\r|\n', eol, text.encode('utf-7'))
        fields = ensure_last_eol(fields, eol)
        set_field(fields, 'Content-Type', 'text/plain; charset=unicode-1-1-utf-7', eol)
        if ctx['depth'] == 0 and field_value(fields, 'mime-version') is None:
            set_field(fields, 'MIME-Version', '1.0', eol)
        set_field(fields, 'Content-Transfer-Encoding', '7bit', eol)
        return fields, enc


def _big_trace(eol, n):
    out = b''
    for k in range(n):
        out += (b'Received: from relay%d.example.invalid (relay%d.example.invalid [192.0.2.%d])' % (k, k, k % 250) + eol +
                b'\tby relay%d.example.invalid (Postfix) with ESMTPS id 4Ab%05dCdEf' % (k + 1, k) + eol +
                b'\tfor <someone@example.invalid>; Sat, 28 Nov 2026 01:02:03 +0000 (UTC)' + eol)
    sig = b'ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.invalid; s=arc-20160816;' + eol
    for k in range(8):
        sig += b'        h=' + b'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyz+/' + eol
    return out + sig * 3


class BigTraceOrig(Hook):
    """40 Received fields and three long ARC signatures at the top of the attached original's header
    (message/rfc822 and text/rfc822-headers) and of header blocks quoted in the text."""
    def headers(self, fields, eol, ctx):
        if ctx['in_orig'] and (ctx.get('hdrs_only') or True) and ctx['depth'] >= 0 and fields and not ctx.get('done'):
            if any(f[0] and f[0].lower() in ('message-id', 'subject') for f in fields):
                return [[None, _big_trace(eol, 40)]] + fields
        return fields

    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] == 'text/plain' and not ctx['in_orig'] and ctx['cte'] in ('7bit', '8bit', 'binary'):
            m = re.search(rb'(?m)^Received: ', body)
            if m and re.search(rb'(?mi)^message-id:', body[m.start():]):
                body = body[:m.start()] + _big_trace(eol, 40) + body[m.start():]
        return fields, body


class SubjLegacy(Hook):
    """Non-ASCII subjects re-encoded in a legacy charset that can hold them (B words)."""
    def headers(self, fields, eol, ctx):
        for f in fields:
            if f[0] and f[0].lower() == 'subject':
                t = subject_text(f)
                if t is None:
                    continue
                if all(ord(c) < 128 for c in t):
                    continue
                for cs in ('iso-8859-1', 'windows-1252', 'iso-2022-jp', 'shift_jis', 'euc-jp', 'koi8-r', 'windows-1251', 'gb2312', 'big5', 'euc-kr', 'iso-8859-2'):
                    try:
                        raw = t.encode(cs)
                        break
                    except UnicodeEncodeError:
                        raw = None
                if raw is None:
                    continue
                # whole-character chunks so each word decodes alone
                words, cur = [], ''
                for ch in t:
                    if len((cur + ch).encode(cs)) > 30:
                        words.append(cur); cur = ''
                    cur += ch
                words.append(cur)
                enc = ['=?' + cs + '?B?' + base64.b64encode(w.encode(cs)).decode() + '?=' for w in words if w]
                f[1] = (f[0] + ': ' + (eol.decode() + ' ').join(enc)).encode() + eol
        return fields


class NoMimeVersion(Hook):
    def headers(self, fields, eol, ctx):
        return [f for f in fields if not (f[0] and f[0].lower() == 'mime-version')]


class NoCharset8bit(Hook):
    """Text parts with non-ASCII text moved to windows-1252 (when possible), sent 8bit with the
    charset label removed (MIME default us-ascii, in practice the sender's 8-bit charset)."""
    def leaf(self, fields, body, eol, ctx):
        if ctx['ct'] != 'text/plain' or ctx['in_orig']:
            return fields, body
        cs = ctx['params'].get('charset')
        data = decode_body(body, ctx['cte'])
        if not cs or data is None or all(c < 128 for c in data):
            return fields, body
        try:
            text = data.decode(cs)
            new = text.encode('windows-1252')
        except (LookupError, UnicodeError):
            return fields, body
        new = re.sub(rb'\r\n|\r|\n', eol, new)
        for f in fields:
            if f[0] and f[0].lower() == 'content-type':
                f[1] = re.sub(rb'(?i);?[ \t]*charset[ \t]*=[ \t]*("[^"]*"|[^;\s]+)', b'', f[1])
        set_field(fields, 'Content-Transfer-Encoding', '8bit', eol)
        return fields, new

VARIANTS = {
    'crlf': lambda b: set_eol(b, b'\r\n'),
    'lf': lambda b: set_eol(b, b'\n'),
    'cr': lambda b: set_eol(b, b'\r'),
    'b64': lambda b: transform(b, Reencode('base64')),
    'qp': lambda b: transform(b, Reencode('quoted-printable')),
    'subj_b': lambda b: transform(b, SubjectEnc(False)),
    'subj_q': lambda b: transform(b, SubjectEnc(True)),
    'fold_top': lambda b: transform(b, Fold(True)),
    'fold_all': lambda b: transform(b, Fold(False)),
    'ws': lambda b: transform(b, Ws()),
    'lower': lambda b: transform(b, Case(str.lower)),
    'upper': lambda b: transform(b, Case(str.upper)),
    'cs_ascii': lambda b: transform(b, Charset('us-ascii')),
    'cs_latin1': lambda b: transform(b, Charset('iso-8859-1')),
    'cs_utf8': lambda b: transform(b, Charset('"UTF-8"')),
    'cs_1252': lambda b: transform(b, Charset('windows-1252')),
    'trace': lambda b: transform(b, Trace()),
    'b64_crlf': lambda b: transform(set_eol(b, b'\r\n'), Reencode('base64')),
    'qp_cr': lambda b: transform(set_eol(b, b'\r'), Reencode('quoted-printable')),
    'dsn_b64': lambda b: transform(b, Reencode('base64', types=('message/delivery-status', 'text/rfc822-headers'))),
    'dsn_qp': lambda b: transform(b, Reencode('quoted-printable', types=('message/delivery-status', 'text/rfc822-headers'))),
    'all_b64': lambda b: transform(b, Reencode('base64', types=('text/plain', 'text/html', 'message/delivery-status', 'text/rfc822-headers', 'message/feedback-report'), cte_name='BASE64', b64_line=0)),
    'qp_soft': lambda b: transform(b, Reencode('quoted-printable', types=('text/plain', 'text/html'), cte_name='Quoted-Printable', qp_soft=17)),
    'ct_case': lambda b: transform(b, CtCase()),
    'boundary': rename_boundaries,
    'pre_add': lambda b: _with_pre(b, lambda body, bd: _pre_add(body, bd, detect_eol(b))),
    'pre_del': lambda b: _with_pre(b, _pre_del),
    'trail_ws': lambda b: transform(b, TrailingWs()),
    'no_ws': lambda b: transform(b, NoWs()),
    'dispname': lambda b: transform(b, DispName()),
    'dsn_types': lambda b: transform(b, DsnTypes()),
    'mix_crlf_lf': lambda b: mixed_eol(b, b'\r\n', b'\n'),
    'mix_lf_crlf': lambda b: mixed_eol(b, b'\n', b'\r\n'),
    'reorder': reorder,
    'subj_ew': lambda b: transform(b, SubjEW()),
    'mime_cmt': lambda b: transform(b, MimeComment()),
    'tab_fold': lambda b: transform(b, TabFold()),
    'b64_lfc': lambda b: transform(b, ContentEol(b'\n')),
    'b64_crc': lambda b: transform(b, ContentEol(b'\r')),
    'b64_bom': lambda b: transform(b, ContentEol(b'\r\n', bom=True)),
    'qp_0d0a': lambda b: transform(b, ContentEol(b'\r\n', how='quoted-printable')),
    'tc_utf8': lambda b: transform(b, Transcode(True)),
    'tc_legacy': lambda b: transform(b, Transcode(False)),
    'subj_rec': lambda b: transform(b, SubjRecode()),
    'dsn_angle': lambda b: transform(b, DsnAngle()),
    'mid_cmt': lambda b: transform(b, MidComment()),
    'bnd_pad': bnd_pad,
    'param_ord': lambda b: transform(b, ParamOrder()),
    'qp_lower': lambda b: transform(b, QpLower()),
    'ws_colon': lambda b: transform(b, WsBeforeColon()),
    'crcrlf': lambda b: re.sub(rb'\r\n|\r|\n', b'\r\r\n', b),
    'rfc822_b64': lambda b: transform(b, Rfc822Enc('base64')),
    'rfc822_qp': lambda b: transform(b, Rfc822Enc('quoted-printable')),
    'html_only': lambda b: transform(b, HtmlOnly()),
    'mp_mixed': lambda b: transform(b, MpMixed()),
    'L_dsn_text': lambda b: transform(b, DsnAsText()),
    'orig_hdrs': lambda b: transform(b, OrigHdrs()),
    'unfold': lambda b: transform(b, Unfold()),
    'no_close': no_close,
    'L_part_order': part_order,
    'b64_ws': lambda b: transform(b, B64Ws()),
    'mix_crlf_cr': lambda b: mixed_eol(b, b'\r\n', b'\r'),
    'mix_lf_cr': lambda b: mixed_eol(b, b'\n', b'\r'),
    'mix_cr_lf': lambda b: mixed_eol(b, b'\r', b'\n'),
    'subj_split': lambda b: transform(b, SubjSplit()),
    'L_global': lambda b: transform(b, GlobalTypes()),
    'part_params': lambda b: transform(b, PartParams()),
    'cte_odd': lambda b: transform(b, CteOdd()),
    'utf7': lambda b: transform(b, Utf7()),
    'big_trace': lambda b: transform(b, BigTraceOrig()),
    'subj_legacy': lambda b: transform(b, SubjLegacy()),
    'no_mimever': lambda b: transform(b, NoMimeVersion()),
    'cs_none8': lambda b: transform(b, NoCharset8bit()),
    'cs_alias': lambda b: transform(b, CsAlias()),
    'implicit_ct': lambda b: transform(b, ImplicitCt()),
    'dsn_blank': lambda b: transform(b, DsnBlank()),
    'L_utf16': lambda b: transform(b, Utf16()),
    'cmb_cr_b64_fold': lambda b: combo(b, VARIANTS['fold_all'], VARIANTS['b64'], VARIANTS['cr']),
    'cmb_lower_qp_ct': lambda b: combo(b, VARIANTS['ct_case'], VARIANTS['qp_soft'], VARIANTS['lower'], VARIANTS['crlf']),
    'cmb_dsn_b64_mix': lambda b: combo(b, VARIANTS['mix_crlf_lf'], VARIANTS['dsn_b64'], VARIANTS['bnd_pad'], VARIANTS['param_ord']),
}


def _pre_add(body, boundary, eol):
    m = re.search(rb'(?m)^--' + re.escape(boundary) + rb'[ \t]*(?=\r\n|\n|\r|$)', body)
    if not m:
        return body
    return b'This is a multi-part message in MIME format.' + eol + eol + b'--' + b'-' * 3 + b' not a delimiter' + eol + body[m.start():]


def _pre_del(body, boundary):
    m = re.search(rb'(?m)^--' + re.escape(boundary) + rb'[ \t]*(?=\r\n|\n|\r|$)', body)
    if not m:
        return body
    return body[m.start():]



SAFE = ['b64', 'qp', 'subj_b', 'subj_q', 'fold_all', 'ws', 'lower', 'upper', 'cs_1252', 'trace', 'dsn_b64', 'dsn_qp',
        'qp_soft', 'ct_case', 'boundary', 'pre_add', 'trail_ws', 'no_ws', 'dispname', 'dsn_types', 'mix_crlf_lf',
        'mix_lf_crlf', 'reorder', 'subj_ew', 'mime_cmt', 'tab_fold', 'b64_lfc', 'qp_0d0a', 'tc_utf8', 'subj_rec',
        'dsn_angle', 'mid_cmt', 'bnd_pad', 'param_ord', 'qp_lower', 'ws_colon', 'rfc822_b64', 'unfold', 'no_close',
        'b64_ws', 'cs_alias', 'implicit_ct', 'dsn_blank', 'html_only', 'b64_bom']


def rand_chain(seed):
    import random, zlib
    def f(b):
        rng = random.Random(seed * 1000003 + zlib.crc32(b[:2000]))
        chain = rng.sample(SAFE, 4) + [rng.choice(['crlf', 'lf', 'cr', 'crcrlf'])]
        for v in chain:
            try:
                b = VARIANTS[v](b)
            except Exception:
                pass
        return b
    return f

def main():
    rows = [r['path'] for r in load_tsv(os.path.join(CORPUS, 'bounces.tsv'))]
    rows += [r['path'] for r in load_tsv(os.path.join(CORPUS, 'ham.tsv'))]
    for k in range(1, 7):
        VARIANTS['rnd%d' % k] = rand_chain(k)
    only = os.environ.get('VARIANTS')
    names = ['orig'] + [v for v in VARIANTS if not only or v in only.split(',')]
    for v in names:
        for rel in rows:
            src = os.path.join(CORPUS, rel)
            with open(src, 'rb') as f:
                b = f.read()
            if v != 'orig':
                try:
                    b = VARIANTS[v](b)
                except Exception as e:  # keep going; the report lists it
                    print('variant', v, 'failed on', rel, e, file=sys.stderr)
            dst = os.path.join(OUT, v, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, 'wb') as f:
                f.write(b)


if __name__ == '__main__':
    main()
