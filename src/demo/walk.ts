import { isDeepStrictEqual } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import type { AuditEvent, Bundle, Composition, Consent, Coverage, Encounter, Extension, Organization, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { compactVerify, createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { ASSURANCE_EXTENSION, SOURCE_VERIFIED_EXTENSION } from '../checkin/materialize.js';
import { assessAssurance } from '../identity/assurance.js';
import { renderLinkQr } from '../qr.js';
import { FHIR_TYPE, SHC_TYPE } from '../shl/receiver.js';
import { decryptFile, keyBytes } from '../shl/jwe.js';
import { DEMO_CLINIC, DEMO_NETWORK_ORGANIZATION, DEMO_NETWORK_PURPOSE } from './clients.js';
import type { Demo } from './demo.js';
import { patientConsent } from './network.js';
import { DEMO_PATIENTS, visitDocument, type DemoPatient } from './patients.js';
import { visitSummaryParameters } from './visit-parameters.js';

/**
 * The demo's flow without a browser: every step does what a kiosk, wallet, EHR, network or patient
 * would do against the running gateway, and checks what it claims (signatures verified,
 * ciphertext decrypted, content compared), not just status codes.
 */

export interface WalkStep {
  name: string;
  run(w: WalkState): Promise<string>;
}

interface WalkState {
  demo: Demo;
  /** Shares a link from the wallet (SHL path); `cardHolder` shows a health card to the kiosk (SHC path). */
  linkHolder: DemoPatient;
  cardHolder: DemoPatient;
  identityToken?: string;
  session?: { id: string; url: string };
  checkins: { id: string; bundle: Bundle }[];
  visit?: { visitId: string; shlink: string; viewerUrl: string; document: Bundle };
  files?: { contentType: string; content: string }[];
}

class StepFailed extends Error {}

function check(condition: unknown, why: string): asserts condition {
  if (!condition) throw new StepFailed(why);
}

interface Answer {
  status: number;
  body: unknown;
}

async function call(w: WalkState, method: string, path: string, o: { token?: string; json?: unknown; fhir?: boolean } = {}): Promise<Answer> {
  const res = await fetch(`${w.demo.baseUrl}${path}`, {
    method,
    headers: {
      ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
      ...(o.json !== undefined ? { 'Content-Type': o.fhir ? 'application/fhir+json' : 'application/json' } : {}),
      Accept: 'application/json, application/fhir+json',
    },
    ...(o.json !== undefined ? { body: JSON.stringify(o.json) } : {}),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

/** The body, typed as the route's contract says, when the status is the expected one; else why not. */
function expectStatus<T>(r: Answer, status: number, what: string): T {
  if (r.status !== status) {
    const b = r.body as { issue?: { diagnostics?: string }[]; error_description?: string } | undefined;
    const why = b?.issue?.[0]?.diagnostics ?? b?.error_description ?? JSON.stringify(r.body).slice(0, 200);
    throw new StepFailed(`${what} answered ${r.status}, not ${status}: ${why}`);
  }
  return r.body as T;
}

/** Shapes of the gateway's JSON answers the walk reads (API.md). */
interface SessionCreated {
  id: string;
  url: string;
  expiresAt: string;
  qr: { svg: string; png: string };
}
interface SessionView {
  status: string;
  checkinId?: string;
}
interface VisitCreated {
  visitId: string;
  shlink: string;
  viewerUrl: string;
  qr: { svg: string; png: string };
  healthCard: { inLink: boolean };
  plainLanguageSummary?: { language: string; aiGenerated: boolean; label: string };
}
interface Manifest {
  files: { contentType: string; embedded?: string; location?: string }[];
}
interface Statement {
  text: string;
  sources: string[];
}
interface SummaryAnswer {
  aiGenerated: boolean;
  model?: string | null;
  fallbackReason?: string;
  label: string;
  disclaimer: string;
  summary: { whatHappened: Statement; diagnoses: Statement[]; medications: Statement[]; nextSteps: Statement[]; whenToSeekCare: Statement };
}
interface HealthCardFile {
  verifiableCredential: string[];
}

const resources = (b: Bundle) => (b.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
const ofType = <T extends Resource>(b: Bundle, type: T['resourceType']) => resources(b).filter((r): r is T => r.resourceType === type);
const fullName = (p: DemoPatient) => `${p.given.join(' ')} ${p.family}`;
const part = (ext: Extension | undefined, url: string) => ext?.extension?.find((e) => e.url === url);

function provenanceOf(bundle: Bundle): Provenance {
  const [provenance] = ofType<Provenance>(bundle, 'Provenance');
  check(provenance, 'the check-in has no Provenance');
  return provenance;
}

/** Who the Provenance says vouched for the patient, at which assurance, and whether the source was verified. */
function provenanceFacts(bundle: Bundle) {
  const provenance = provenanceOf(bundle);
  const informant = provenance.agent?.find((a) => a.type?.coding?.[0]?.code === 'informant');
  const assurance = informant?.extension?.find((e) => e.url === ASSURANCE_EXTENSION);
  const source = provenance.entity?.find((e) => e.role === 'source');
  return {
    provenance,
    issuer: informant?.who?.identifier?.system,
    subject: informant?.who?.identifier?.value,
    ial: part(assurance, 'ial')?.valueInteger,
    aal: part(assurance, 'aal')?.valueInteger,
    source: source?.what?.identifier?.value,
    verified: source?.extension?.find((e) => e.url === SOURCE_VERIFIED_EXTENSION)?.valueBoolean,
  };
}

const identityTokenIssued: WalkStep = {
  name: 'identity token issued',
  async run(w) {
    const { idp } = w.demo;
    const p = w.linkHolder;
    w.identityToken = (await w.demo.wallet.signIn(p)).identityToken;
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    check(res.ok, `the identity provider's discovery document answered ${res.status}`);
    const discovery = (await res.json()) as { jwks_uri: string };
    const { payload, protectedHeader } = await jwtVerify(w.identityToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: idp.issuer,
      audience: idp.audience,
      algorithms: ['ES256'],
    });
    check(payload.sub === p.id && payload.birthdate === p.birthDate, 'the token names someone else');
    const assurance = assessAssurance(payload, idp.providerConfig().assurance, Math.floor(w.demo.services.clock.now() / 1000));
    check(assurance.ial === 2 && assurance.aal === 2, `the token proves IAL${assurance.ial}/AAL${assurance.aal}, not IAL2/AAL2`);
    return `${fullName(p)}: ${protectedHeader.alg} signature verified with the provider's JWKS; IAL2 (acr) and AAL2 (amr ${String(payload.amr)})`;
  },
};

const kioskSessionOpened: WalkStep = {
  name: 'kiosk session opened',
  async run(w) {
    const kiosk = await w.demo.token('kiosk');
    const session = expectStatus<SessionCreated>(await call(w, 'POST', '/checkin/sessions', { token: kiosk }), 201, 'POST /checkin/sessions');
    check(session.url === `${w.demo.baseUrl}/checkin/sessions/${session.id}/submit`, 'the session’s URL is not its submit URL');
    check(session.qr.png.startsWith('data:image/png;base64,') && session.qr.svg === (await renderLinkQr(session.url)).svg, 'the QR does not encode the session’s URL');
    const status = expectStatus<SessionView>(await call(w, 'GET', `/checkin/sessions/${session.id}`, { token: kiosk }), 200, 'GET the session');
    check(status.status === 'waiting', `the new session is ${status.status}`);
    w.session = { id: session.id, url: session.url };
    return `QR for ${session.url.replace(session.id, '…')}, waiting until ${session.expiresAt}`;
  },
};

const walletSubmittedShl: WalkStep = {
  name: 'wallet submitted SHL',
  async run(w) {
    check(w.session && w.identityToken, 'no session or identity token from the steps before');
    const p = w.linkHolder;
    const shlink = await w.demo.wallet.shareHistory(p);
    const manifestPath = new URL((JSON.parse(Buffer.from(shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { url: string }).url).pathname;
    const submitPath = new URL(w.session.url).pathname;
    const bundle = expectStatus<Bundle>(await call(w, 'POST', submitPath, { token: w.identityToken, json: { shlink } }), 201, 'the wallet’s submission');
    const patient = ofType(bundle, 'Patient')[0] as { name?: { given?: string[] }[]; birthDate?: string } | undefined;
    check(patient?.birthDate === p.birthDate && patient.name?.[0]?.given?.[0] === p.given[0], 'the stored Patient is not the one who signed in');
    const coverage = ofType<Coverage>(bundle, 'Coverage')[0];
    check(coverage?.subscriberId === p.insurance.memberId, 'the insurance card did not arrive');
    const kiosk = await w.demo.token('kiosk');
    const session = expectStatus<SessionView>(await call(w, 'GET', `/checkin/sessions/${w.session.id}`, { token: kiosk }), 200, 'GET the session');
    check(session.status === 'completed' && session.checkinId === bundle.id, 'the kiosk’s session did not turn to completed with this check-in');
    const fetched = w.demo.walletHost.requests.find((r) => r.method === 'POST' && r.path === manifestPath);
    check(fetched?.recipient?.includes('ktc-gateway'), 'the gateway did not fetch the link’s manifest from the wallet’s host');
    w.checkins.push({ id: bundle.id as string, bundle });
    const count = (t: Resource['resourceType']) => ofType(bundle, t).length;
    return `gateway fetched the link from the wallet's host; check-in ${bundle.id}: Patient, Coverage, ${['Condition', 'AllergyIntolerance', 'MedicationStatement'].map((t) => `${t} x${count(t as Resource['resourceType'])}`).join(', ')}; kiosk session completed`;
  },
};

const storedWithProvenance: WalkStep = {
  name: 'check-in stored with Provenance',
  async run(w) {
    const [first] = w.checkins;
    check(first, 'no check-in from the steps before');
    const stored = expectStatus<Bundle>(await call(w, 'GET', `/checkin/${first.id}`, { token: await w.demo.token('ehr') }), 200, 'the EHR’s GET /checkin/{id}');
    check(isDeepStrictEqual(stored, first.bundle), 'the EHR reads something else than the wallet was answered');
    const f = provenanceFacts(stored);
    check(f.issuer === w.demo.idp.issuer && f.subject === w.linkHolder.id, 'the Provenance does not name the identity provider and subject');
    check(f.ial === 2 && f.aal === 2, `the Provenance records IAL${f.ial}/AAL${f.aal}`);
    check(f.source === w.demo.walletHost.baseUrl && f.verified === false, 'the Provenance does not record the wallet’s link host as an unverified source');
    const targets = new Set(f.provenance.target?.map((t) => t.reference));
    const missing = resources(stored).filter((r) => r.resourceType !== 'Provenance' && !targets.has(`${r.resourceType}/${r.id}`));
    check(missing.length === 0, `the Provenance leaves out ${missing.map((r) => r.resourceType).join(', ')}`);
    return `read back by the EHR: identity ${f.issuer} IAL${f.ial}/AAL${f.aal}, source ${f.source} (unverified FHIR file), ${targets.size} targets`;
  },
};

const kioskScannedShc: WalkStep = {
  name: "kiosk scanned wallet's SHC",
  async run(w) {
    const p = w.cardHolder;
    const card = await w.demo.wallet.healthCard(p);
    const { identityToken } = await w.demo.wallet.signIn(p);
    const kiosk = await w.demo.token('kiosk');
    const bundle = expectStatus<Bundle>(await call(w, 'POST', '/checkin', { token: kiosk, json: { identityToken, shc: [card.qrText] } }), 201, 'the kiosk’s POST /checkin');
    const f = provenanceFacts(bundle);
    check(f.verified === true && f.source === w.demo.issuer.iss, 'the card was not recorded as verified from the demo issuer');
    check(f.subject === p.id, 'the check-in is bound to someone else');
    check(ofType<Coverage>(bundle, 'Coverage')[0]?.subscriberId === p.insurance.memberId, 'the insurance card on the health card did not arrive');
    w.checkins.push({ id: bundle.id as string, bundle });
    return `${fullName(p)}: ${card.qrText.length}-character shc:/ QR, signature verified by the gateway (issuer ${f.source}), check-in ${bundle.id}`;
  },
};

/** The event notifications the network's subscriber was delivered, each as the resources it carries. */
function networkDeliveries(w: WalkState): Resource[][] {
  const { subscriber, subscriptionId } = w.demo.network;
  return subscriber.delivered.filter((n) => n.subscriptionId === subscriptionId && n.type === 'event-notification').map((n) => resources(n.bundle));
}

const networkNotified: WalkStep = {
  name: 'network notified',
  async run(w) {
    const { subscriber, subscriptionId } = w.demo.network;
    const arrivals = w.checkins.map((c) => ofType<Encounter>(c.bundle, 'Encounter')[0]);
    check(arrivals.length === 2 && arrivals.every(Boolean), 'the check-ins have no arrival Encounter');
    const carrying = (a: Encounter | undefined) => networkDeliveries(w).find((rs) => rs.some((r) => r.resourceType === 'Encounter' && r.id === a?.id));
    await subscriber
      .waitFor('the encounter-start notifications', () => arrivals.every((a) => carrying(a)), 60_000)
      .catch((e: Error) => {
        throw new StepFailed(e.message);
      });
    // The CMS e-notification minimum for another organization: the encounter, who, and who sends it.
    for (const [i, a] of arrivals.entries()) {
      const rs = carrying(a) as Resource[];
      const seen = rs.find((r): r is Encounter => r.resourceType === 'Encounter');
      check(seen?.status === 'arrived' && seen.subject?.reference === a?.subject?.reference, 'a notification carries another Encounter than the check-in stored');
      const who = i === 0 ? w.linkHolder : w.cardHolder;
      const patient = rs.find((r): r is Patient => r.resourceType === 'Patient');
      check(patient?.name?.[0]?.family === who.family && patient.name[0].given?.[0] === who.given[0], `the notification does not name the patient ${fullName(who)}`);
      const sender = rs.find((r): r is Organization => r.resourceType === 'Organization');
      check(sender?.name === DEMO_CLINIC, `the notification does not name the sending organization (${DEMO_CLINIC})`);
    }
    return `${DEMO_NETWORK_ORGANIZATION}'s Subscription ${subscriptionId} (rest-hook, encounter-start, full-resource, by patient identity; ${DEMO_NETWORK_PURPOSE} under the clinic's agreement): both arrivals delivered to ${subscriber.url} with Encounter, Patient name and "${DEMO_CLINIC}", event numbers ${subscriber.events(subscriptionId).join(', ')}`;
  },
};

const networkReadEncounter: WalkStep = {
  name: 'network read the notified Encounter',
  async run(w) {
    const [first] = w.checkins;
    check(first, 'no check-in from the steps before');
    const arrival = ofType<Encounter>(first.bundle, 'Encounter')[0];
    check(arrival, 'the check-in has no arrival Encounter');
    const token = await w.demo.token('network');
    const read = expectStatus<Encounter>(await call(w, 'GET', `/fhir/Encounter/${arrival.id}`, { token }), 200, 'the network’s GET /fhir/Encounter/{id}');
    check(read.id === arrival.id && read.subject?.reference === arrival.subject?.reference, 'the network read another Encounter than it was notified of');
    const unknown = await call(w, 'GET', '/fhir/Encounter/00000000-0000-4000-8000-000000000000', { token });
    check(unknown.status === 404, `an Encounter it was not told of answered ${unknown.status}, not 404`);
    return `RetrieveResource GET /fhir/Encounter/${arrival.id} by ${DEMO_NETWORK_ORGANIZATION} (token purpose ${DEMO_NETWORK_PURPOSE}): 200, the notified Encounter; an unknown id: 404`;
  },
};

/** Whether the network may state PATRQT now: only some patient's active Consent naming it can grant it. */
async function patientRequestGranted(w: WalkState): Promise<boolean> {
  const { status, body } = await w.demo.networkTokenRequest(['PATRQT']);
  if (status === 200 && body.access_token) return (decodeJwt(body.access_token).purpose_of_use as string[] | undefined)?.includes('PATRQT') === true;
  check(status === 400 && body.error === 'invalid_grant', `the network's PATRQT token request answered ${status} ${body.error ?? ''}, not 200 or 400 invalid_grant`);
  return false;
}

const patientConsentAndDisclosures: WalkStep = {
  name: 'patient consent and disclosures',
  async run(w) {
    const p = w.linkHolder;
    const { identityToken } = await w.demo.wallet.signIn(p);
    check(!(await patientRequestGranted(w)), 'the network got PATRQT before any patient consented');
    const consent = expectStatus<Consent>(
      await call(w, 'POST', '/fhir/Consent', { token: identityToken, json: patientConsent(DEMO_NETWORK_ORGANIZATION), fhir: true }),
      201,
      'the patient’s POST /fhir/Consent',
    );
    check(consent.patient?.identifier?.system === w.demo.idp.issuer && consent.patient.identifier.value === p.id, 'the Consent is not bound to the patient’s verified identity');
    check(await patientRequestGranted(w), 'the patient’s Consent did not let the network state PATRQT');

    const trail = expectStatus<Bundle>(await call(w, 'GET', '/fhir/AuditEvent', { token: identityToken }), 200, 'the patient’s GET /fhir/AuditEvent');
    const disclosures = ofType<AuditEvent>(trail, 'AuditEvent').filter((a) => a.type?.code === '110106');
    const toNetwork = disclosures.filter(
      (a) => a.agent.some((x) => x.who?.display === DEMO_NETWORK_ORGANIZATION) && a.purposeOfEvent?.[0]?.coding?.[0]?.code === DEMO_NETWORK_PURPOSE,
    );
    check(
      toNetwork.length >= 2 && toNetwork.length === disclosures.length,
      `the patient sees ${toNetwork.length} disclosures to ${DEMO_NETWORK_ORGANIZATION} (of ${disclosures.length}), not the notification and the read`,
    );

    const revoked = await call(w, 'DELETE', `/fhir/Consent/${consent.id}`, { token: identityToken });
    check(revoked.status === 204, `revoking the Consent answered ${revoked.status}`);
    const listed = expectStatus<Bundle>(await call(w, 'GET', '/fhir/Consent', { token: identityToken }), 200, 'the patient’s GET /fhir/Consent');
    check(ofType<Consent>(listed, 'Consent').find((c) => c.id === consent.id)?.status === 'inactive', 'the revoked Consent is not listed as inactive');
    check(!(await patientRequestGranted(w)), 'the network still gets PATRQT after the patient revoked');
    return `${fullName(p)} consented to ${DEMO_NETWORK_ORGANIZATION} (PATRQT, bound to ${p.id} at the identity provider): its token could then state PATRQT; ${disclosures.length} disclosures to it in the patient's AuditEvent trail (purpose ${DEMO_NETWORK_PURPOSE}); revoked: inactive, PATRQT refused again`;
  },
};

const visitSummaryPosted: WalkStep = {
  name: 'visit summary posted',
  async run(w) {
    const [first] = w.checkins;
    check(first, 'no check-in from the steps before');
    const patientId = ofType(first.bundle, 'Patient')[0]?.id as string;
    const document = visitDocument(w.linkHolder, patientId, new Date(w.demo.services.clock.now()));
    const ehr = await w.demo.token('ehr');
    const request = visitSummaryParameters(document);
    const result = expectStatus<VisitCreated>(await call(w, 'POST', `/checkin/${first.id}/visit-summary`, { token: ehr, json: request, fhir: true }), 201, 'POST visit-summary');
    check(result.shlink.startsWith('shlink:/') && result.viewerUrl === `${w.demo.baseUrl}/view#${result.shlink}`, 'no link or viewer URL came back');
    const summary = result.plainLanguageSummary;
    check(result.healthCard.inLink && summary, 'the answer does not say the card and the plain-language summary are in the link');
    check(result.qr.svg === (await renderLinkQr(result.shlink)).svg, 'the visit QR does not encode the link');
    const stored = expectStatus<Bundle>(await call(w, 'GET', `/visits/${result.visitId}`, { token: ehr }), 200, 'GET /visits/{id}');
    check(isDeepStrictEqual(stored, document), 'the stored visit document differs from the one posted');
    w.visit = { visitId: result.visitId, shlink: result.shlink, viewerUrl: result.viewerUrl, document };
    return `Parameters with plainLanguageSummary: visit ${result.visitId} for check-in ${first.id}, summary (${summary.language}, ${summary.aiGenerated ? 'AI-written' : 'deterministic'}) and signed card in the link; patient viewer ${w.demo.baseUrl}/view#shlink:/…`;
  },
};

const shlOpenedAndDecrypted: WalkStep = {
  name: 'SHL opened and decrypted',
  async run(w) {
    check(w.visit, 'no visit from the step before');
    const link = JSON.parse(Buffer.from(w.visit.shlink.slice('shlink:/'.length), 'base64url').toString('utf8')) as { url: string; key: string; flag?: string };
    check(link.url.startsWith(`${w.demo.baseUrl}/shl/`) && !link.flag?.includes('P'), 'the link does not point at the gateway’s SHL host');
    const res = await fetch(link.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ recipient: 'Demo wallet' }) });
    const manifest = expectStatus<Manifest>({ status: res.status, body: await res.json() }, 200, 'the manifest request');
    const key = keyBytes(link.key);
    w.files = [];
    for (const f of manifest.files) {
      const jwe = f.embedded ?? (await (await fetch(f.location as string)).text());
      const { content } = await decryptFile(jwe, key);
      w.files.push({ contentType: f.contentType, content });
    }
    const fhir = w.files.filter((f) => f.contentType === FHIR_TYPE).map((f) => JSON.parse(f.content) as Resource);
    check(
      fhir.some((r) => isDeepStrictEqual(r, w.visit?.document)),
      'no decrypted FHIR file is the visit document',
    );
    const summary = fhir.find((r): r is Composition => r.resourceType === 'Composition');
    const patient = ofType<Composition>(w.visit.document, 'Composition')[0]?.subject?.reference;
    check(summary && summary.subject?.reference === patient && summary.section?.length, 'the link has no plain-language summary Composition about the patient');
    check(
      w.files.some((f) => f.contentType === SHC_TYPE),
      'the link has no application/smart-health-card file',
    );
    return `manifest with the visit document, the plain-language summary Composition and the signed card (${manifest.files.map((f) => f.contentType).join(', ')}), each a dir/A256GCM JWE decrypted with the link's key`;
  },
};

const healthCardVerified: WalkStep = {
  name: "health card verified against the gateway's JWKS",
  async run(w) {
    check(w.visit, 'no visit from the steps before');
    const inLink = w.files?.find((f) => f.contentType === SHC_TYPE)?.content;
    check(inLink, 'the link leaves out the health card');
    const [jws] = (JSON.parse(inLink) as HealthCardFile).verifiableCredential;
    const jwks = (await (await fetch(`${w.demo.baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await compactVerify(jws as string, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
    const card = JSON.parse(inflateRawSync(payload).toString('utf8')) as { iss: string; vc: { credentialSubject: { fhirBundle: Bundle } } };
    check(card.iss === w.demo.baseUrl, `the card's iss is ${card.iss}, not the gateway`);
    const composition = ofType(card.vc.credentialSubject.fhirBundle, 'Composition')[0] as { title?: string } | undefined;
    check(composition?.title === (ofType(w.visit.document, 'Composition')[0] as { title?: string }).title, 'the card holds another document');
    return `card from the link: ES256 signature (kid ${String(protectedHeader.kid).slice(0, 12)}…) verified with ${w.demo.baseUrl}/.well-known/jwks.json; iss is the gateway; it holds the visit document`;
  },
};

const plainLanguageSummary: WalkStep = {
  name: 'plain-language summary',
  async run(w) {
    check(w.visit, 'no visit from the steps before');
    const { identityToken } = await w.demo.wallet.signIn(w.linkHolder);
    const answer = expectStatus<SummaryAnswer>(
      await call(w, 'POST', `/visits/${w.visit.visitId}/$plain-language-summary`, { token: identityToken, json: {} }),
      200,
      'the patient’s summary request',
    );
    const keyless = !w.demo.services.config.anthropic.apiKey;
    if (keyless) check(answer.aiGenerated === false && answer.fallbackReason === 'no-api-key', 'without an API key the deterministic fallback did not answer');
    const refs = new Set((w.visit.document.entry ?? []).flatMap((e) => [e.fullUrl, e.resource?.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined]));
    const statements = [answer.summary.whatHappened, ...answer.summary.diagnoses, ...answer.summary.medications, ...answer.summary.nextSteps];
    check(
      statements.every((s) => s.sources.length > 0 && s.sources.every((r) => refs.has(r))),
      'a statement cites nothing, or something not in the visit',
    );
    const diagnosis = w.linkHolder.visit.diagnosis[2];
    check(
      answer.summary.diagnoses.some((s) => s.text.includes(diagnosis)),
      `the summary does not name the diagnosis (${diagnosis})`,
    );
    check(typeof answer.disclaimer === 'string' && answer.summary.whenToSeekCare.text, 'no disclaimer or when-to-seek-care advice');
    return `${answer.aiGenerated ? `AI-written by ${answer.model}` : `deterministic fallback (${answer.fallbackReason})`}: ${statements.length} statements, each citing the visit's entries`;
  },
};

export const WALK_STEPS: readonly WalkStep[] = [
  identityTokenIssued,
  kioskSessionOpened,
  walletSubmittedShl,
  storedWithProvenance,
  kioskScannedShc,
  networkNotified,
  networkReadEncounter,
  patientConsentAndDisclosures,
  visitSummaryPosted,
  shlOpenedAndDecrypted,
  healthCardVerified,
  plainLanguageSummary,
];

export interface WalkResult {
  ok: number;
  total: number;
  failed?: { step: string; why: string };
}

/** Runs the steps in order, printing one line each; stops at the first failure (later steps need earlier ones). */
export async function walk(demo: Demo, print: (line: string) => void): Promise<WalkResult> {
  const [linkHolder, cardHolder] = DEMO_PATIENTS as [DemoPatient, DemoPatient];
  const w: WalkState = { demo, linkHolder, cardHolder, checkins: [] };
  const total = WALK_STEPS.length;
  let ok = 0;
  for (const [i, step] of WALK_STEPS.entries()) {
    const at = `${String(i + 1).padStart(2)}/${total}`;
    try {
      print(`ok   ${at} ${step.name}: ${await step.run(w)}`);
      ok++;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      print(`FAIL ${at} ${step.name}: ${why}`);
      print(`demo walk: ${ok}/${total} steps ok`);
      return { ok, total, failed: { step: step.name, why } };
    }
  }
  print(`demo walk: ${ok}/${total} steps ok`);
  return { ok, total };
}
