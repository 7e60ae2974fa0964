import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { insertCheckin } from '../../src/checkin/checkin-store.js';
import type { Fact } from '../../src/summaries/facts.js';
import { TOOL_NAME } from '../../src/summaries/prompt.js';
import type { ModelOutput } from '../../src/summaries/schema.js';
import { insertVisit } from '../../src/visits/visit-store.js';
import type { TestGateway } from '../helpers/gateway.js';
import { toolReply, type MessagesRequest } from './fake-anthropic.js';
import { visitBundle } from './visit-bundle.js';

/** What the summary tests share: the gateway's model settings, a stored visit, the request, and a well-behaved model's reply. */

export const API_KEY = 'sk-ant-test-9f8e7d6c5b4a-never-logged';
export const MODEL = 'claude-test-model';
export const EHR_A = { clientId: 'ehr-a', organization: 'Clinic A', scopes: ['system/visit.read'] };

export function modelEnv(baseUrl: string): Record<string, string> {
  return { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_MODEL: MODEL, ANTHROPIC_TIMEOUT_MS: '1000' };
}

/** A checked-in patient (patient-1 at Clinic A) and their visit, stored as the visit-summary route would. */
export async function newVisit(g: TestGateway, patientIssuer: string, bundle: Bundle = visitBundle()): Promise<string> {
  const checkinId = randomUUID();
  const visitId = randomUUID();
  const who = { organization: 'Clinic A', clientId: 'kiosk-a', patientIssuer, patientSubject: 'patient-1' };
  await insertCheckin(g.services.db, {
    id: checkinId,
    ...who,
    patientId: 'p-1',
    method: 'bundle',
    bundleJson: JSON.stringify({ resourceType: 'Bundle', type: 'collection' }),
    source: undefined,
    sourceVerified: false,
    createdAt: new Date(),
  });
  // Summaries never read the link or the health card.
  await insertVisit(g.services.db, { id: visitId, checkinId, ...who, clientId: 'ehr-a', bundle, shlId: null, healthCard: 'unused' }, new Date());
  return visitId;
}

export const summarize = (g: TestGateway, id: string, token: string, body: object = {}, accept = 'application/json') =>
  request(g.app).post(`/visits/${id}/$plain-language-summary`).auth(token, { type: 'bearer' }).set('Accept', accept).send(body);

/** The facts the gateway sent, parsed back out of the user turn. */
export function factsIn(req: MessagesRequest): Fact[] {
  const text = req.messages[0]!.content as string;
  return JSON.parse(text.slice(text.indexOf('\n[') + 1)) as Fact[];
}

export function refOf(facts: Fact[], kind: Fact['kind']): string {
  const f = facts.find((x) => x.kind === kind);
  assert.ok(f, `a ${kind} fact was sent`);
  return f.ref;
}

/** What a well-behaved model answers: plain words, every statement cited with the refs it was given. */
export function goodOutput(facts: Fact[]): ModelOutput {
  const [enc, cond, med, note, appt] = [refOf(facts, 'encounter'), refOf(facts, 'diagnosis'), refOf(facts, 'medication'), refOf(facts, 'note'), refOf(facts, 'appointment')];
  return {
    whatHappened: { text: 'You came in to have your blood pressure checked. It is under good control.', sources: [enc, note] },
    diagnoses: [{ text: 'You have high blood pressure.', sources: [cond] }],
    medications: [{ text: 'Keep taking lisinopril. Take one pill by mouth each day.', sources: [med] }],
    nextSteps: [{ text: 'Come back in six months for a blood pressure check.', sources: [appt, note] }],
    whenToSeekCare: { text: 'Call your care team if you feel worse.', sources: [] },
    educational: [{ text: 'High blood pressure means your blood pushes hard on the walls of your blood tubes. Over time it can hurt your heart.', sources: [cond] }],
    clinicalGuidance: [{ text: 'Your care team said to keep taking lisinopril once a day.', sources: [med, note] }],
  };
}

export const good = (req: MessagesRequest) => toolReply(MODEL, TOOL_NAME, goodOutput(factsIn(req)));
