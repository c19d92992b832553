#!/usr/bin/env python3
"""lang.py gen | cmp BIN [-v FAMILY:LANG,...]
Round 3: LANGUAGE variants. Families:
  D   bounce Subject + prose replaced by a localized notice, DSN part and original kept
  P   same, DSN part dropped (localized prose + original only)
  A   auto-reply (4 corpus vacation rows + 40 ham-derived) with localized OOO text + Auto-Submitted
  AN  same without Auto-Submitted (and without X-Autoreply/Precedence)
  H   ham whose text talks about an undeliverable parcel (must stay not_bounce)
"""
import csv, email, email.policy, json, os, re, subprocess, sys, hashlib
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header
from collections import Counter, defaultdict
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from structural import run, key  # noqa: E402

CORPUS = os.environ['ROBUST_CORPUS']
OUT = os.path.join(os.environ['ROBUST_OUT'], 'language')
LANGS = ['de', 'fr', 'es', 'it', 'pt', 'nl', 'ru', 'ja', 'zh']

# (subject prefix, body template) x 2 per language; {a}=failed address, {h}=host
B = {
 'de': [("Unzustellbar: ", "Die Nachricht konnte nicht an folgende Empfänger zugestellt werden:\n\n{a}\nDie E-Mail-Adresse wurde nicht gefunden.\n\nDiagnoseinformationen für Administratoren:\nGenerierender Server: {h}\n\n{a}\nRemoteserver hat '550 5.1.1 User unknown' zurückgegeben\n"),
        ("Nicht zustellbar: ", "Dies ist eine automatisch erstellte Nachricht des Mailservers {h}.\n\nIhre Nachricht konnte an einen oder mehrere Empfänger nicht zugestellt werden.\nDies ist ein permanenter Fehler.\n\nEmpfänger: {a}\nFehlermeldung: 550 5.1.1 Mailbox unavailable\n")],
 'fr': [("Non remis : ", "Votre message n'a pas pu être remis aux destinataires suivants :\n\n{a}\nL'adresse e-mail est introuvable.\n\nInformations de diagnostic pour les administrateurs :\nServeur de génération : {h}\n\n{a}\nLe serveur distant a retourné '550 5.1.1 User unknown'\n"),
        ("Échec de la remise : ", "Ceci est un message automatique du serveur {h}.\n\nVotre message n'a pas pu être distribué au destinataire suivant : {a}\nErreur permanente. Raison : 550 5.1.1 Boîte aux lettres inexistante\n")],
 'es': [("No se puede entregar: ", "No se pudo entregar el mensaje a los siguientes destinatarios:\n\n{a}\nNo se encontró la dirección de correo electrónico.\n\nInformación de diagnóstico para administradores:\nServidor de generación: {h}\n\n{a}\nEl servidor remoto devolvió '550 5.1.1 User unknown'\n"),
        ("Mensaje no entregado: ", "Este es un mensaje automático del servidor {h}.\n\nSu mensaje no ha podido ser entregado al destinatario: {a}\nError permanente: 550 5.1.1 El buzón no existe\n")],
 'it': [("Impossibile recapitare: ", "Impossibile recapitare il messaggio ai destinatari seguenti:\n\n{a}\nL'indirizzo di posta elettronica non è stato trovato.\n\nInformazioni di diagnostica per gli amministratori:\nServer di generazione: {h}\n\n{a}\nIl server remoto ha restituito '550 5.1.1 User unknown'\n"),
        ("Messaggio non consegnato: ", "Questo è un messaggio automatico del server {h}.\n\nNon è stato possibile consegnare il messaggio al destinatario: {a}\nErrore permanente: 550 5.1.1 Casella inesistente\n")],
 'pt': [("Não entregue: ", "A mensagem não pôde ser entregue aos seguintes destinatários:\n\n{a}\nO endereço de email não foi encontrado.\n\nInformações de diagnóstico para administradores:\nServidor de geração: {h}\n\n{a}\nO servidor remoto retornou '550 5.1.1 User unknown'\n"),
        ("Não é possível entregar: ", "Esta é uma mensagem automática do servidor {h}.\n\nNão foi possível entregar a sua mensagem ao destinatário: {a}\nErro permanente: 550 5.1.1 Caixa postal inexistente\n")],
 'nl': [("Onbestelbaar: ", "Uw bericht kan niet worden bezorgd bij de volgende geadresseerden:\n\n{a}\nHet e-mailadres is niet gevonden.\n\nDiagnostische gegevens voor beheerders:\nGenererende server: {h}\n\n{a}\nExterne server retourneerde '550 5.1.1 User unknown'\n"),
        ("Niet afgeleverd: ", "Dit is een automatisch bericht van de mailserver {h}.\n\nUw bericht kon niet worden afgeleverd aan de ontvanger: {a}\nPermanente fout: 550 5.1.1 Mailbox bestaat niet\n")],
 'ru': [("Недоставленное сообщение: ", "Не удалось доставить сообщение следующим получателям:\n\n{a}\nАдрес электронной почты не найден.\n\nДиагностические сведения для администраторов:\nСервер создания: {h}\n\n{a}\nУдаленный сервер вернул '550 5.1.1 User unknown'\n"),
        ("Не доставлено: ", "Это автоматическое сообщение почтового сервера {h}.\n\nВаше письмо не может быть доставлено получателю: {a}\nПостоянная ошибка: 550 5.1.1 Почтовый ящик не существует\n")],
 'ja': [("配信不能: ", "次の受信者またはグループへの配信に失敗しました:\n\n{a}\nメール アドレスが見つかりませんでした。\n\n管理者向けの診断情報:\n生成元サーバー: {h}\n\n{a}\nリモート サーバーから '550 5.1.1 User unknown' が返されました\n"),
        ("配信エラー: ", "このメールは {h} から自動送信されています。\n\n以下の宛先へメールを配送できませんでした。\n宛先: {a}\nエラー内容: 550 5.1.1 User unknown\n")],
 'zh': [("无法投递: ", "无法将邮件投递到以下收件人：\n\n{a}\n找不到该电子邮件地址。\n\n管理员诊断信息：\n生成服务器：{h}\n\n{a}\n远程服务器返回“550 5.1.1 User unknown”\n"),
        ("系统退信：", "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\n\n收件人：{a}\n退信原因：550 5.1.1 用户不存在\n\n此邮件由系统自动发出，请勿直接回复。\n")],
}
OOO = {
 'de': ("Abwesenheitsnotiz: ", "Vielen Dank für Ihre Nachricht. Ich bin bis zum 15. Juli nicht im Büro und habe keinen Zugriff auf meine E-Mails.\nIn dringenden Fällen wenden Sie sich bitte an meine Kollegin.\n"),
 'fr': ("Réponse automatique : ", "Bonjour,\nJe suis absent du bureau jusqu'au 15 juillet avec un accès limité à mes e-mails.\nPour toute urgence, veuillez contacter ma collègue.\n"),
 'es': ("Respuesta automática: ", "Gracias por su mensaje. Estoy fuera de la oficina hasta el 15 de julio.\nPara asuntos urgentes, contacte con mi compañera.\n"),
 'it': ("Risposta automatica: ", "Grazie per il messaggio. Sono fuori ufficio fino al 15 luglio.\nPer urgenze contattare la mia collega.\n"),
 'pt': ("Resposta automática: ", "Obrigado pela sua mensagem. Estou fora do escritório até 15 de julho.\nEm caso de urgência, contacte a minha colega.\n"),
 'nl': ("Automatisch antwoord: ", "Bedankt voor uw bericht. Ik ben afwezig tot en met 15 juli.\nVoor dringende zaken kunt u contact opnemen met mijn collega.\n"),
 'ru': ("Автоматический ответ: ", "Спасибо за ваше письмо. Я нахожусь в отпуске до 15 июля.\nПо срочным вопросам обращайтесь к моей коллеге.\n"),
 'ja': ("自動応答: ", "メールありがとうございます。7月15日まで不在にしております。\nお急ぎの場合は同僚までご連絡ください。\n"),
 'zh': ("自动回复: ", "您好，您的邮件已收到。我于7月15日前休假，无法及时回复。\n如有急事请联系我的同事。\n"),
}
HAM = {
 'de': ("Ihre Bestellung 48213: Paket nicht zustellbar", "Hallo Anna,\n\nleider konnte das Paket mit deiner Bestellung nicht zugestellt werden, weil niemand zu Hause war. Der Bote hat es zur Filiale gebracht.\nDie Zustellung wird morgen erneut versucht.\n\nViele Grüße\nJonas\n"),
 'fr': ("Colis non distribué", "Bonjour Claire,\n\nle livreur n'a pas pu remettre le colis : personne n'était présent. Il a été déposé au point relais.\nLa livraison n'a pas pu être effectuée, nouvelle tentative demain.\n\nAmicalement,\nLuc\n"),
 'es': ("Paquete no entregado", "Hola Marta,\n\nno se pudo entregar el paquete porque no había nadie en casa. Lo dejaron en la oficina de correos.\nEl mensajero volverá a intentar la entrega mañana.\n\nUn saludo,\nPablo\n"),
 'it': ("Pacco non consegnato", "Ciao Giulia,\n\nnon è stato possibile consegnare il pacco perché non c'era nessuno in casa. Impossibile recapitare oggi, riproveranno domani.\n\nA presto,\nMarco\n"),
 'pt': ("Encomenda não entregue", "Olá Ana,\n\na encomenda não pôde ser entregue porque não havia ninguém em casa. Foi deixada nos correios.\nNova tentativa de entrega amanhã.\n\nAbraço,\nRui\n"),
 'nl': ("Pakket onbestelbaar", "Hoi Sanne,\n\nhet pakket kon niet worden bezorgd omdat er niemand thuis was. Het ligt nu bij het postkantoor.\nMorgen wordt opnieuw geprobeerd te bezorgen.\n\nGroet,\nDaan\n"),
 'ru': ("Посылка не доставлена", "Привет, Оля!\n\nКурьер не смог доставить посылку: никого не было дома. Посылку отнесли в отделение почты.\nПовторная доставка завтра.\n\nПока,\nИван\n"),
 'ja': ("荷物の配達について", "田中様\n\nご不在のため、お荷物を配達できませんでした。配信不能ではなく、再配達のご依頼を承ります。\n明日もう一度お届けします。\n\n佐藤\n"),
 'zh': ("包裹无法投递", "李先生您好，\n\n由于家中无人，快递员无法投递您的包裹，已退回网点。明天将再次派送。\n\n王\n"),
}
ORIG_CT = ('message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers')
DSN_CT = ('message/delivery-status', 'message/global-delivery-status')
DROP = ('content-type', 'content-transfer-encoding', 'mime-version', 'subject', 'content-disposition')


def load(p):
    with open(p, newline='', encoding='utf-8', errors='replace') as f:
        return list(csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE))


def rows():
    b = load(os.path.join(CORPUS, 'bounces.tsv'))
    h = load(os.path.join(CORPUS, 'ham.tsv'))
    global HAMROWS
    HAMROWS = [r['path'] for r in h if r['expected'].startswith('ham (')]
    return b, [r['path'] for r in h]


def parse(rel):
    return email.message_from_bytes(open(os.path.join(CORPUS, rel), 'rb').read(), policy=email.policy.compat32)


def parts(m):
    dsn, orig = None, None
    for p in m.walk():
        ct = p.get_content_type()
        if ct in DSN_CT and dsn is None:
            dsn = p
        if ct in ORIG_CT and orig is None:
            orig = p
    return dsn, orig


def text(s):
    t = MIMEText(s, 'plain', 'utf-8')
    return t


def copy_headers(src, dst, drop=DROP):
    for k, v in src._headers:
        if k.lower() not in drop:
            dst[k] = v


def gen():
    bounces, ham = rows()
    base = run(BIN, CORPUS, [r['path'] for r in bounces if r['is_bounce'] == 'yes'])
    n = Counter()
    for i, r in enumerate(bounces):
        rel = r['path']
        try:
            m = parse(rel)
        except Exception:
            continue
        dsn, orig = parts(m)
        if r['is_bounce'] in ('vacation',):
            continue
        if r['is_bounce'] != 'yes' or (dsn is None and orig is None):
            continue
        o = base.get(rel) or {}
        rc = ((o.get('original') or {}).get('recipients') or [])
        addr = '\n'.join(rc[:5]) if rc else (r['recipients'].split()[0] if r['recipients'] else 'nobody@example.invalid')
        subj = r['orig_subject'] or 'Hello'
        for lang in LANGS:
            pre, body = B[lang][i % 2]
            for fam in ('D', 'P'):
                if fam == 'D' and dsn is None:
                    continue
                nm = MIMEMultipart('report' if fam == 'D' else 'mixed')
                if fam == 'D':
                    nm.set_param('report-type', 'delivery-status')
                copy_headers(m, nm)
                nm['Subject'] = Header(pre + subj, 'utf-8')
                nm.attach(text(body.format(a=addr, h='mx1.example.net')))
                if fam == 'D':
                    nm.attach(dsn)
                if orig is not None:
                    nm.attach(orig)
                write(f'{fam}_{lang}', rel, nm)
                n[fam] += 1
    # auto-replies: corpus vacation rows + ham-derived
    srcs = [r['path'] for r in bounces if r['is_bounce'] == 'vacation'] + ham[:40]
    ham = HAMROWS
    for rel in srcs:
        try:
            m = parse(rel)
        except Exception:
            continue
        subj = str(m.get('Subject', 'Meeting')).replace('\n', ' ')[:60] if not isinstance(m.get('Subject'), Header) else 'Meeting'
        if re.search(r'=\?', subj) or not subj.isascii():
            subj = 'Meeting'
        for lang in LANGS:
            pre, body = OOO[lang]
            for fam in ('A', 'AN'):
                drop = DROP + ('auto-submitted', 'x-autoreply', 'x-autorespond', 'precedence', 'x-auto-response-suppress')
                nm = MIMEText(body, 'plain', 'utf-8')
                copy_headers(m, nm, drop)
                nm['Subject'] = Header(pre + subj, 'utf-8')
                if fam == 'A':
                    nm['Auto-Submitted'] = 'auto-replied'
                write(f'{fam}_{lang}', rel, nm)
    for rel in ham:
        try:
            m = parse(rel)
        except Exception:
            continue
        for lang in LANGS:
            s, body = HAM[lang]
            nm = MIMEText(body, 'plain', 'utf-8')
            copy_headers(m, nm)
            nm['Subject'] = Header(s, 'utf-8')
            write(f'H_{lang}', rel, nm)
    print(n)


def write(v, rel, msg):
    dst = os.path.join(OUT, v, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        b = msg.as_bytes()
    except Exception:
        b = msg.as_string().encode('utf-8', 'surrogateescape')
    open(dst, 'wb').write(b)


def cmp(binp, verbose):
    bounces, ham = rows()
    brel = [r['path'] for r in bounces if r['is_bounce'] == 'yes']
    vac = [r['path'] for r in bounces if r['is_bounce'] == 'vacation']
    base = run(binp, CORPUS, brel)
    print(f"{'fam':3} {'lang':4} {'files':>5} {'changed':>7} {'det->not':>8} {'kind~':>5} {'mid lost':>8} {'mid chg':>7} {'rcpt lost':>9} {'rcpt chg':>8} | {'auto':>5} {'not':>4} {'other':>5}")
    for fam in ('D', 'P', 'A', 'AN', 'H'):
        for lang in LANGS:
            v = f'{fam}_{lang}'
            d = os.path.join(OUT, v)
            todo = brel if fam in ('D', 'P') else (vac + ham) if fam != 'H' else HAMROWS
            res = run(binp, d, todo)
            c = Counter(); lst = []
            for rel, o in res.items():
                c['files'] += 1
                b = key(o)
                if fam in ('A', 'AN', 'H'):
                    k = b[0]
                    c['auto' if k == 'auto_reply' else 'not' if k == 'not_bounce' else 'other'] += 1
                    bad = (fam == 'H' and k != 'not_bounce') or (fam != 'H' and k not in ('auto_reply',))
                    if bad:
                        c['changed'] += 1; lst.append((rel, [k], None, b))
                    continue
                a = key(base.get(rel))
                what = []
                if a[0] != 'not_bounce' and b[0] == 'not_bounce':
                    what.append('det->not')
                elif a[0] != b[0] and a[0] != 'delivery_delay':  # the notice says 'failed'
                    what.append('kind~')
                if a[1] and not b[1]:
                    what.append('mid lost')
                elif a[1] and b[1] != a[1]:
                    what.append('mid chg')
                if a[2] and not b[2]:
                    what.append('rcpt lost')
                elif a[2] != b[2]:
                    what.append('rcpt chg')
                for w in what:
                    c[w] += 1
                if what:
                    c['changed'] += 1; lst.append((rel, what, a, b))
            print(f"{fam:3} {lang:4} {c['files']:5} {c['changed']:7} {c['det->not']:8} {c['kind~']:5} {c['mid lost']:8} {c['mid chg']:7} {c['rcpt lost']:9} {c['rcpt chg']:8} | {c['auto']:5} {c['not']:4} {c['other']:5}", flush=True)
            if v in verbose or fam in verbose:
                for rel, what, a, b in lst:
                    print('   ', rel, what, '\n       orig:', a, '\n       var: ', b)


if __name__ == '__main__':
    args = sys.argv[1:]
    BIN = os.environ['ROBUST_BIN']
    verbose = []
    if '-v' in args:
        i = args.index('-v'); verbose = args[i + 1].split(','); del args[i:i + 2]
    if args[0] == 'gen':
        if len(args) > 1: BIN = args[1]
        gen()
    else:
        cmp(args[1] if len(args) > 1 else BIN, verbose)
