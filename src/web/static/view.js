// Patient viewer: opens a SMART Health Link from the address after `#` (never sent to the server),
// fetches its files, decrypts them here with the link's key (which never leaves the browser) and
// shows the visit in plain words. Everything from the link is shown with textContent only.

const RECIPIENT = 'Patient viewer (ktc-gateway)';
const EMBEDDED_LENGTH_MAX = 100000;
/** Largest file this page inflates: a visit summary is far smaller; a bigger one is refused, not shown. */
const MAX_INFLATED_BYTES = 5 * 1024 * 1024;
const LABEL_MAX = 80;

const $ = (id) => document.getElementById(id);

/** A problem to show to the patient as is. */
class ViewerError extends Error {}

/** The manifest refused the passcode (HTTP 401). */
class PasscodeError extends Error {
  constructor(remainingAttempts) {
    super('wrong passcode');
    this.remainingAttempts = remainingAttempts;
  }
}

const NO_LONGER_WORKS =
  'This link no longer works. It may have expired or been cancelled, or it was locked after too many wrong passcodes. Ask the clinic for a new link.';
const BROKEN_LINK = 'This link is not complete or not correct. Check that you copied all of it, or ask the clinic for a new link.';

// ---------- reading the link ----------

function base64urlBytes(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ViewerError(BROKEN_LINK);
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const binary = atob(b64);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const utf8 = (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

function readLink(fragment) {
  const at = fragment.indexOf('shlink:/');
  if (at < 0) throw new ViewerError('There is no health link in this address. Open the full link the clinic gave you.');
  let payload;
  try {
    payload = JSON.parse(utf8(base64urlBytes(fragment.slice(at + 'shlink:/'.length))));
  } catch {
    throw new ViewerError(BROKEN_LINK);
  }
  if (typeof payload !== 'object' || payload === null) throw new ViewerError(BROKEN_LINK);
  const { url, key, flag = '', exp, label, v = 1 } = payload;
  if (typeof v === 'number' && v > 1) throw new ViewerError('This link uses a newer format than this page can open. Try a health wallet app.');
  if (typeof url !== 'string' || typeof key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(key) || typeof flag !== 'string') {
    throw new ViewerError(BROKEN_LINK);
  }
  if (flag.includes('U') && flag.includes('P')) throw new ViewerError(BROKEN_LINK);
  let manifestUrl;
  try {
    manifestUrl = new URL(url);
  } catch {
    throw new ViewerError(BROKEN_LINK);
  }
  // This page may only talk to its own server (Content-Security-Policy connect-src 'self').
  if (manifestUrl.origin !== location.origin) {
    throw new ViewerError('This link was made by a different service, so this page cannot open it. Open it with a health wallet app.');
  }
  return {
    url: manifestUrl,
    keyBytes: base64urlBytes(key),
    passcode: flag.includes('P'),
    direct: flag.includes('U'),
    expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
    label: typeof label === 'string' ? label.slice(0, LABEL_MAX) : undefined,
  };
}

// ---------- fetching ----------

async function request(url, init) {
  let res;
  try {
    res = await fetch(url, { ...init, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch {
    throw new ViewerError('Cannot reach the server. Check your internet connection and try again.');
  }
  if (res.status === 404 || res.status === 410) throw new ViewerError(NO_LONGER_WORKS);
  if (res.status === 429) throw new ViewerError('Too many tries right now. Wait a minute, then reload this page.');
  return res;
}

async function fetchManifest(link, passcode) {
  const body = { recipient: RECIPIENT, ...(passcode === undefined ? {} : { passcode }), embeddedLengthMax: EMBEDDED_LENGTH_MAX };
  const res = await request(link.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status === 401) {
    const answer = await res.json().catch(() => ({}));
    throw new PasscodeError(typeof answer.remainingAttempts === 'number' ? answer.remainingAttempts : undefined);
  }
  if (!res.ok) throw new ViewerError('The server could not open this link right now. Try again later.');
  const manifest = await res.json().catch(() => undefined);
  if (!Array.isArray(manifest?.files)) throw new ViewerError('The server sent something this page cannot read.');
  return manifest.files;
}

async function fetchJwe(url) {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) throw new ViewerError('Part of this link is kept by a different service, so this page cannot open it.');
  const res = await request(target, { headers: { Accept: 'application/jose' } });
  if (!res.ok) throw new ViewerError('The server could not send your summary right now. Try again later.');
  return res.text();
}

/** The compact JWEs of the link, each with the content type the manifest announced. */
async function encryptedFiles(link, passcode) {
  if (link.direct) {
    const url = new URL(link.url);
    url.searchParams.set('recipient', RECIPIENT);
    return [{ jwe: await fetchJwe(url) }];
  }
  const files = [];
  for (const f of await fetchManifest(link, passcode)) {
    if (typeof f?.embedded === 'string') files.push({ jwe: f.embedded, contentType: f.contentType });
    else if (typeof f?.location === 'string') files.push({ jwe: await fetchJwe(f.location), contentType: f.contentType });
  }
  return files;
}

// ---------- decrypting ----------

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function inflateRaw(bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return concat(chunks);
    total += value.length;
    if (total > MAX_INFLATED_BYTES) {
      await reader.cancel();
      throw new ViewerError('This summary is too large for this page to open.');
    }
    chunks.push(value);
  }
}

const CANNOT_UNLOCK = 'This summary could not be unlocked. The link may be damaged; ask the clinic for a new one.';

/** SMART Health Links files: compact JWE, alg "dir", enc "A256GCM", optional zip "DEF". */
async function decrypt(jwe, keyBytes) {
  const parts = jwe.trim().split('.');
  if (parts.length !== 5 || parts[1] !== '') throw new ViewerError(CANNOT_UNLOCK);
  let header;
  let iv;
  let data;
  try {
    header = JSON.parse(utf8(base64urlBytes(parts[0])));
    iv = base64urlBytes(parts[2]);
    const tag = base64urlBytes(parts[4]);
    if (tag.length !== 16) throw new Error('tag');
    data = concat([base64urlBytes(parts[3]), tag]);
  } catch {
    throw new ViewerError(CANNOT_UNLOCK);
  }
  if (header?.alg !== 'dir' || header.enc !== 'A256GCM' || iv.length !== 12) throw new ViewerError(CANNOT_UNLOCK);
  if (!globalThis.crypto?.subtle) throw new ViewerError('This page must be opened over a secure (https) connection to unlock your summary.');
  let plain;
  try {
    const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'AES-GCM' }, false, ['decrypt']);
    const aad = new TextEncoder().encode(parts[0]);
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, key, data));
  } catch {
    throw new ViewerError(CANNOT_UNLOCK);
  }
  const bytes = header.zip === 'DEF' ? await inflateRaw(plain) : plain;
  try {
    return { contentType: typeof header.cty === 'string' ? header.cty : undefined, text: utf8(bytes) };
  } catch {
    throw new ViewerError(CANNOT_UNLOCK);
  }
}

// ---------- showing ----------

/** Builds an element; string children become text nodes, so nothing from the link is parsed as HTML. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) node[k] = v;
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== ''));
  return node;
}

const LOINC = 'http://loinc.org';
const SECTION_KINDS = {
  next: new Set(['18776-5', '69730-0', '8653-8', '61146-7', '42348-3']),
  diagnoses: new Set(['11450-4', '29548-5', '51848-0', '11535-2', '46241-6']),
  medicines: new Set(['10160-0', '29549-3', '10183-2', '57828-6', '75311-1']),
};
const SECTION_TITLES = {
  next: /instruction|plan|follow|next|what to do|care at home|goal/i,
  diagnoses: /diagnos|problem|assessment|condition/i,
  medicines: /medic|prescri|drug/i,
};
/** A diagnoses or medicines section whose entries are all listed anyway does not repeat them as narrative. */
const LISTED = { diagnoses: new Set(['Condition']), medicines: new Set(['MedicationRequest', 'MedicationStatement']) };

function conceptText(cc) {
  if (!cc || typeof cc !== 'object') return undefined;
  if (typeof cc.text === 'string' && cc.text.trim()) return cc.text.trim();
  const codings = Array.isArray(cc.coding) ? cc.coding : [];
  return codings.find((c) => typeof c?.display === 'string' && c.display.trim())?.display.trim() ?? codings.find((c) => typeof c?.code === 'string')?.code;
}

const conceptsText = (list) => (Array.isArray(list) ? list.map(conceptText).filter(Boolean) : []);

function formatDate(value, withTime = true) {
  if (typeof value !== 'string') return undefined;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  // A date without a time is a calendar day, not midnight UTC.
  if (day) return new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).toLocaleDateString(undefined, { dateStyle: 'full' });
  if (/^\d{4}(-\d{2})?$/.test(value)) return value;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return undefined;
  return withTime ? d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' }) : d.toLocaleDateString(undefined, { dateStyle: 'full' });
}

/** FHIR narrative (XHTML) as plain text blocks. DOMParser documents are inert: no scripts run, nothing loads. */
function narrativeBlocks(xhtml) {
  if (typeof xhtml !== 'string' || !xhtml) return [];
  const body = new DOMParser().parseFromString(xhtml, 'text/html').body;
  const BLOCK = /^(P|DIV|LI|TR|H[1-6]|BR|UL|OL|TABLE|BLOCKQUOTE|PRE|DL|DT|DD|SECTION)$/;
  const blocks = [];
  let line = '';
  let item = false;
  const flush = () => {
    const text = line.replace(/\s+/g, ' ').trim();
    if (text) blocks.push({ text, item });
    line = '';
    item = false;
  };
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) line += child.data;
      else if (child.nodeType === Node.ELEMENT_NODE && !/^(SCRIPT|STYLE|TEMPLATE)$/.test(child.tagName)) {
        const block = BLOCK.test(child.tagName);
        if (block) flush();
        if (child.tagName === 'LI') item = true;
        walk(child);
        if (block) flush();
        else if (/^T[DH]$/.test(child.tagName)) line += ' ';
      }
    }
  };
  walk(body);
  flush();
  return blocks;
}

function renderBlocks(blocks) {
  const out = [];
  let list;
  for (const b of blocks) {
    if (b.item) {
      if (!list) out.push((list = el('ul')));
      list.append(el('li', {}, b.text));
    } else {
      list = undefined;
      out.push(el('p', {}, b.text));
    }
  }
  return out;
}

function sectionKind(section, inherited) {
  const codes = (section.code?.coding ?? []).filter((c) => c?.system === LOINC).map((c) => c.code);
  const title = `${section.title ?? ''} ${conceptText(section.code) ?? ''}`;
  for (const kind of ['next', 'medicines', 'diagnoses']) {
    if (codes.some((c) => SECTION_KINDS[kind].has(c)) || SECTION_TITLES[kind].test(title)) return kind;
  }
  return inherited;
}

/** Reads one Bundle into the parts the page shows. */
function readVisit(bundle, resolve) {
  const resources = (bundle.entry ?? []).map((e) => e?.resource).filter((r) => r && typeof r.resourceType === 'string');
  const ofType = (type) => resources.filter((r) => r.resourceType === type);
  const composition = ofType('Composition')[0];
  const encounter = resolve(composition?.encounter) ?? ofType('Encounter')[0];

  const notes = { happened: [], diagnoses: [], medicines: [], next: [] };
  const addSections = (sections, inherited) => {
    for (const s of Array.isArray(sections) ? sections : []) {
      if (!s || typeof s !== 'object') continue;
      const kind = sectionKind(s, inherited);
      const entries = (s.entry ?? []).map(resolve).filter(Boolean);
      const onlyListed = entries.length > 0 && LISTED[kind] !== undefined && entries.every((r) => LISTED[kind].has(r.resourceType));
      const blocks = onlyListed ? [] : narrativeBlocks(s.text?.div);
      if (blocks.length) notes[kind].push({ title: typeof s.title === 'string' ? s.title : undefined, blocks });
      addSections(s.section, kind);
    }
  };
  addSections(composition?.section, 'happened');

  const medicineName = (m) => conceptText(m.medicationCodeableConcept) ?? conceptText(resolve(m.medicationReference)?.code) ?? m.medicationReference?.display;
  const medicines = [...ofType('MedicationRequest'), ...ofType('MedicationStatement')]
    .filter((m) => m.status !== 'entered-in-error')
    .map((m) => ({
      name: medicineName(m) ?? 'A medicine',
      dosage: (m.dosageInstruction ?? m.dosage ?? []).map((d) => d?.text).filter((t) => typeof t === 'string' && t.trim()),
      stopped: m.status === 'stopped' || m.status === 'cancelled',
    }));

  const diagnoses = ofType('Condition')
    .filter((c) => conceptText(c.verificationStatus) !== 'entered-in-error')
    .map((c) => ({ name: conceptText(c.code) ?? 'A health problem', note: conceptText(c.clinicalStatus) === 'resolved' ? 'Resolved' : undefined }));

  const plans = ofType('CarePlan').map((p) => ({
    title: p.title ?? conceptsText(p.category)[0],
    description: p.description,
    activities: (p.activity ?? []).map((a) => a?.detail?.description ?? conceptText(a?.detail?.code)).filter(Boolean),
  }));

  const appointments = ofType('Appointment')
    .filter((a) => ['proposed', 'pending', 'booked', 'waitlist'].includes(a.status) && typeof a.start === 'string')
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
    .map((a) => ({
      when: formatDate(a.start),
      what: a.description ?? conceptsText(a.serviceType)[0] ?? conceptText(a.appointmentType),
      with: (a.participant ?? [])
        .map((p) => p?.actor)
        .filter((r) => r && resolve(r)?.resourceType !== 'Patient' && !/(^|\/)Patient\//.test(String(r.reference ?? '')))
        .map((r) => r.display ?? resolveName(resolve(r)))
        .filter(Boolean),
    }));

  return {
    title: composition?.title,
    date: formatDate(encounter?.period?.start, false) ?? formatDate(composition?.date, false),
    place: encounter?.serviceProvider?.display ?? resolveName(resolve(encounter?.serviceProvider)) ?? composition?.custodian?.display ?? resolveName(resolve(composition?.custodian)),
    seenBy: names((encounter?.participant ?? []).map((p) => p?.individual), resolve),
    from: names(composition?.author, resolve),
    visitType: conceptsText(encounter?.type),
    reasons: [...conceptsText(encounter?.reasonCode), ...(encounter?.reasonReference ?? []).map((r) => conceptText(resolve(r)?.code) ?? r?.display)].filter(Boolean),
    notes,
    diagnoses,
    medicines,
    plans,
    appointments,
  };
}

/** Display names of references, each once. */
function names(refs, resolve) {
  const all = (Array.isArray(refs) ? refs : []).map((r) => r?.display ?? resolveName(resolve(r))).filter(Boolean);
  return all.filter((v, i) => all.indexOf(v) === i);
}

function resolveName(resource) {
  if (!resource) return undefined;
  if (typeof resource.name === 'string') return resource.name;
  const name = Array.isArray(resource.name) ? resource.name[0] : undefined;
  if (!name) return undefined;
  return name.text ?? [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

/** Looks up a Reference inside the Bundle, by fullUrl or by Type/id. */
function resolverFor(bundle) {
  const byRef = new Map();
  for (const e of bundle.entry ?? []) {
    const r = e?.resource;
    if (!r || typeof r.resourceType !== 'string') continue;
    if (typeof e.fullUrl === 'string') byRef.set(e.fullUrl, r);
    if (typeof r.id === 'string') byRef.set(`${r.resourceType}/${r.id}`, r);
  }
  return (ref) => {
    const key = typeof ref?.reference === 'string' ? ref.reference : undefined;
    if (!key) return undefined;
    return byRef.get(key) ?? byRef.get(key.split('/').slice(-2).join('/'));
  };
}

function fact(name, value) {
  return value ? el('p', {}, el('span', { className: 'fact-name' }, `${name}: `), value) : undefined;
}

function notesOf(list) {
  return list.flatMap((n) => [n.title ? el('h3', {}, n.title) : undefined, ...renderBlocks(n.blocks)]);
}

function part(title, ...content) {
  const shown = content.flat().filter(Boolean);
  return shown.length ? el('section', {}, el('h2', {}, title), ...shown) : undefined;
}

function renderVisit(resource) {
  const bundle = resource.resourceType === 'Bundle' ? resource : { entry: [{ resource }] };
  const v = readVisit(bundle, resolverFor(bundle));
  const facts = [
    fact('Date', v.date),
    fact('Where', v.place),
    fact('Seen by', v.seenBy.join(', ')),
    fact('From', v.from.filter((n) => n !== v.place && !v.seenBy.includes(n)).join(', ')),
    fact('Type of visit', v.visitType.join(', ')),
    fact('Reason for visit', v.reasons.join(', ')),
  ].filter(Boolean);
  const nodes = [
    v.title ? el('h2', {}, v.title) : undefined,
    facts.length ? el('div', { className: 'facts' }, ...facts) : undefined,
    part('What happened', notesOf(v.notes.happened)),
    part(
      'Your diagnoses',
      v.diagnoses.length ? el('ul', {}, ...v.diagnoses.map((d) => el('li', {}, d.name, d.note ? el('span', { className: 'detail' }, d.note) : undefined))) : undefined,
      notesOf(v.notes.diagnoses),
    ),
    part(
      'Your medicines',
      v.medicines.length
        ? el(
            'ul',
            {},
            ...v.medicines.map((m) =>
              el('li', {}, m.name, ...m.dosage.map((d) => el('span', { className: 'detail' }, d)), m.stopped ? el('span', { className: 'detail' }, 'Stopped') : undefined),
            ),
          )
        : undefined,
      notesOf(v.notes.medicines),
    ),
    part(
      'What to do next',
      v.appointments.map((a, i) =>
        el('p', { className: 'note' }, el('span', { className: 'fact-name' }, i === 0 ? 'Next appointment: ' : 'Later appointment: '), [a.when, a.what, a.with.length ? `with ${a.with.join(', ')}` : ''].filter(Boolean).join(' — ')),
      ),
      notesOf(v.notes.next),
      v.plans.flatMap((p) => [
        p.title ? el('h3', {}, p.title) : undefined,
        p.description ? el('p', {}, p.description) : undefined,
        p.activities.length ? el('ul', {}, ...p.activities.map((a) => el('li', {}, a))) : undefined,
      ]),
    ),
  ];
  return nodes.filter(Boolean);
}

/** Older hosts send neither `cty` nor a manifest content type (U-flag links); the JSON itself tells. */
function sniffType(text) {
  try {
    const json = JSON.parse(text);
    if (Array.isArray(json?.verifiableCredential)) return 'application/smart-health-card';
    if (typeof json?.resourceType === 'string') return 'application/fhir+json';
  } catch {
    // Not JSON: a type this page does not show.
  }
  return undefined;
}

function renderFiles(files) {
  const nodes = [];
  let cards = 0;
  for (const f of files) {
    const type = (f.contentType ?? sniffType(f.text) ?? '').split(';')[0].trim();
    if (type === 'application/fhir+json') {
      let resource;
      try {
        resource = JSON.parse(f.text);
      } catch {
        throw new ViewerError('Your summary could not be read. Ask the clinic for a new link.');
      }
      if (resource && typeof resource.resourceType === 'string') nodes.push(...renderVisit(resource));
    } else if (type === 'application/smart-health-card') {
      try {
        const vc = JSON.parse(f.text).verifiableCredential;
        cards += Array.isArray(vc) ? vc.length : 0;
      } catch {
        // A damaged card is left out; the rest of the summary still shows.
      }
    } else {
      nodes.push(el('p', { className: 'note' }, 'This link also has a kind of file this page cannot show.'));
    }
  }
  if (cards) {
    nodes.push(
      el(
        'p',
        { className: 'note' },
        el('span', { className: 'fact-name' }, 'Verifiable copy included. '),
        cards === 1
          ? 'This link also holds a SMART Health Card: a signed copy of this record that other health apps can check came from the clinic.'
          : `This link also holds ${cards} SMART Health Cards: signed copies of this record that other health apps can check came from the clinic.`,
      ),
    );
  }
  if (!nodes.length) throw new ViewerError('This link has nothing this page can show.');
  if (cards && nodes.length === 1) nodes.push(el('p', {}, 'To see what is inside a card, open this link in a health wallet app.'));
  return nodes;
}

// ---------- page flow ----------

function say(text, problem = false) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('problem', problem);
}

function askPasscode(message) {
  $('passcode-form').hidden = false;
  $('passcode-error').textContent = message ?? '';
  $('passcode-submit').disabled = false;
  say('This link needs a passcode.');
  const input = $('passcode');
  input.value = '';
  input.focus();
}

function passcodeMessage(remaining) {
  if (remaining === undefined) return 'That passcode is not right. Try again.';
  if (remaining <= 0) return undefined;
  return `That passcode is not right. You can try ${remaining} more ${remaining === 1 ? 'time' : 'times'}.`;
}

async function open(link, passcode) {
  say('Opening your summary…');
  try {
    const files = [];
    for (const f of await encryptedFiles(link, passcode)) {
      const plain = await decrypt(f.jwe, link.keyBytes);
      files.push({ contentType: plain.contentType ?? f.contentType, text: plain.text });
    }
    const summary = $('summary');
    summary.replaceChildren(...renderFiles(files));
    $('passcode-form').hidden = true;
    summary.hidden = false;
    $('actions').hidden = false;
    say('');
  } catch (err) {
    if (err instanceof PasscodeError) {
      const message = passcodeMessage(err.remainingAttempts);
      if (message) return askPasscode(message);
      $('passcode-form').hidden = true;
      return say('That passcode is not right, and this link is now locked. Ask the clinic for a new link.', true);
    }
    $('passcode-form').hidden = true;
    say(err instanceof ViewerError ? err.message : 'Something went wrong while opening your summary. Reload the page to try again.', true);
  }
}

function start() {
  let link;
  try {
    link = readLink(location.hash);
  } catch (err) {
    return say(err instanceof ViewerError ? err.message : BROKEN_LINK, true);
  }
  if (link.label) {
    $('label').textContent = link.label;
    $('label').hidden = false;
  }
  if (link.expiresAt && link.expiresAt.getTime() <= Date.now()) {
    return say(`This link expired on ${formatDate(link.expiresAt.toISOString(), false)}. Ask the clinic for a new link.`, true);
  }
  if (!link.passcode) return void open(link);

  askPasscode();
  $('passcode-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const passcode = $('passcode').value;
    if (!passcode) {
      $('passcode-error').textContent = 'Type the passcode first.';
      $('passcode').focus();
      return;
    }
    $('passcode-submit').disabled = true;
    void open(link, passcode);
  });
}

$('print').addEventListener('click', () => window.print());
window.addEventListener('hashchange', () => location.reload());

start();
