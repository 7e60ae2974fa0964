import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { TOOL_NAME } from '../../src/summaries/prompt.js';
import { FALLBACK_LABEL } from '../../src/summaries/safety.js';
import type { PlainLanguageSummary } from '../../src/summaries/schema.js';
import { testDatabases } from '../helpers/db.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startIdp, type Idp } from '../helpers/idp.js';
import { startFakeAnthropic, toolReply, type FakeAnthropic } from './fake-anthropic.js';
import { EHR_A, MODEL, factsIn, goodOutput, modelEnv, newVisit, refOf, summarize } from './summary-fixtures.js';
import { HARMFUL_REPLIES, INJECTIONS, type UnsafeCase } from './unsafe-replies.js';
import { visitBundle } from './visit-bundle.js';

/**
 * The safety checks end to end: the real SDK against the fake Anthropic server, which answers
 * what a careless or an obedient (prompt-injected) model would. Every such reply must end in the
 * labelled fallback with fallbackReason "unsafe-advice", and its text must be nowhere: not in the
 * answer, the cache, the audit trail or the log.
 */

for (const tdb of testDatabases()) {
  describe(`unsafe AI advice never reaches the patient (${tdb.name})`, () => {
    let idp: Idp;
    let fake: FakeAnthropic;
    let gw: TestGateway;
    let ehrA: string;

    before(async () => {
      idp = await startIdp();
      fake = await startFakeAnthropic();
      gw = await startTestGateway({ db: await tdb.open(), trust: { identityProviders: [idp.providerConfig()], outboundAllowlist: ['127.0.0.1'] }, env: modelEnv(fake.baseUrl) });
      ehrA = await gw.clientToken(EHR_A);
    });
    after(async () => {
      await gw.close();
      await fake.close();
      await idp.close();
      await tdb.cleanup();
    });

    async function auditDetail(visitId: string): Promise<Record<string, unknown>> {
      const { rows } = await gw.services.db.query<{ detail: Record<string, unknown> }>(
        "SELECT detail FROM audit_event WHERE subtype = 'visit.plain-language-summary' AND entity_id = $1 ORDER BY id",
        [visitId],
      );
      assert.equal(rows.length, 1);
      return rows[0]!.detail;
    }

    async function expectRefused(c: UnsafeCase): Promise<void> {
      fake.script((req) => toolReply(MODEL, TOOL_NAME, c.reply(factsIn(req))));
      const logsBefore = gw.logs.length;
      const id = await newVisit(gw, idp.issuer, c.bundle);
      const r = await summarize(gw, id, ehrA, c.language ? { language: c.language } : {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const a = r.body as PlainLanguageSummary;
      assert.equal(a.aiGenerated, false);
      assert.equal(a.fallbackReason, 'unsafe-advice');
      assert.equal(a.label, FALLBACK_LABEL);
      assert.equal(a.model, null);

      assert.equal(fake.requests.length, 2, 'one retry, then the fallback');
      const feedback = JSON.stringify(fake.requests[1]!.body.messages[2]);
      assert.match(feedback, new RegExp(`breaks rule \\\\"${c.rule}\\\\"`), 'the retry names the rule broken');
      assert.ok(!feedback.includes(c.unsafe), 'the feedback does not quote the reply');

      assert.ok(!JSON.stringify(a).includes(c.unsafe), 'not in the answer');
      const cached = await gw.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM visit_summary_cache WHERE visit_id = $1', [id]);
      assert.equal(cached.rows[0]!.n, 0, 'not cached');
      const detail = await auditDetail(id);
      assert.equal(detail.fallbackReason, 'unsafe-advice');
      assert.ok((detail.safetyRules as string[]).includes(c.rule), `audited with rule ${c.rule}: ${JSON.stringify(detail.safetyRules)}`);
      assert.ok(!JSON.stringify(detail).includes(c.unsafe), 'not in the audit detail');
      const logs = JSON.stringify(gw.logs.slice(logsBefore));
      assert.ok(gw.logs.length > logsBefore, 'the request was logged');
      assert.ok(!logs.includes(c.unsafe) && !logs.toLowerCase().includes(c.unsafe.toLowerCase().slice(0, 24)), 'not in the log');
    }

    for (const c of HARMFUL_REPLIES) test(`refused: ${c.name}`, () => expectRefused(c));
    for (const c of INJECTIONS) test(`prompt injection stopped: ${c.name}`, () => expectRefused(c));

    test("a faithful reply restating the care team's own medicine change, with its numbers, passes as AI-written (English and Spanish)", async () => {
      const bundle = visitBundle({ instructions: 'Stop ibuprofen. Increase lisinopril to 20 mg once a day. Come back in 6 months.' });
      const replies = {
        en: 'Your care team said to stop taking ibuprofen and to increase lisinopril to 20 mg once a day.',
        es: 'Su equipo de atención le dijo que deje de tomar ibuprofeno y que aumente el lisinopril a 20 mg una vez al día.',
      };
      for (const [language, text] of Object.entries(replies)) {
        fake.script((req) => {
          const facts = factsIn(req);
          return toolReply(MODEL, TOOL_NAME, { ...goodOutput(facts), clinicalGuidance: [{ text, sources: [refOf(facts, 'note')] }] });
        });
        const id = await newVisit(gw, idp.issuer, bundle);
        const a = (await summarize(gw, id, ehrA, { language })).body as PlainLanguageSummary;
        assert.equal(a.aiGenerated, true, language);
        assert.equal(a.fallbackReason, undefined);
        assert.equal(a.clinicalGuidance[0]!.text, text);
        assert.equal(fake.requests.length, 1, 'accepted at the first attempt');
        assert.equal((await auditDetail(id)).safetyRules, undefined);
      }
    });

    test('an unsafe first reply and a safe retry: the retry is used', async () => {
      const [c] = INJECTIONS;
      fake.script(
        (req) => toolReply(MODEL, TOOL_NAME, c!.reply(factsIn(req))),
        (req) => toolReply(MODEL, TOOL_NAME, goodOutput(factsIn(req))),
      );
      const id = await newVisit(gw, idp.issuer, c!.bundle);
      const a = (await summarize(gw, id, ehrA)).body as PlainLanguageSummary;
      assert.equal(a.aiGenerated, true);
      assert.ok(!JSON.stringify(a).includes(c!.unsafe));
      assert.deepEqual((await auditDetail(id)).safetyRules, ['medicine-change'], 'the refusal is audited even when the retry passes');
    });

    test('a cached answer that no longer passes the checks (written before a rule existed) is dropped and written again, never served', async () => {
      fake.script((req) => toolReply(MODEL, TOOL_NAME, goodOutput(factsIn(req))));
      const id = await newVisit(gw, idp.issuer);
      const first = (await summarize(gw, id, ehrA)).body as PlainLanguageSummary;
      const unsafe = 'Stop taking your lisinopril pills tonight.';
      const old = { ...first, summary: { ...first.summary, medications: [{ text: unsafe, sources: first.summary.medications[0]!.sources }] } };
      await gw.services.db.query('UPDATE visit_summary_cache SET answer = $2 WHERE visit_id = $1', [id, JSON.stringify(old)]);

      const again = (await summarize(gw, id, ehrA)).body as PlainLanguageSummary;
      assert.equal(again.aiGenerated, true);
      assert.ok(!JSON.stringify(again).includes(unsafe));
      assert.equal(fake.requests.length, 2, 'written again by the model');
      const { rows } = await gw.services.db.query<{ answer: unknown }>('SELECT answer FROM visit_summary_cache WHERE visit_id = $1', [id]);
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows[0]!.answer).includes(unsafe), 'the new answer took its place');
    });

    test('a language without word lists is not sent to the model: the fallback answers', async () => {
      fake.script((req) => toolReply(MODEL, TOOL_NAME, goodOutput(factsIn(req))));
      const a = (await summarize(gw, await newVisit(gw, idp.issuer), ehrA, { language: 'fr' })).body as PlainLanguageSummary;
      assert.equal(a.aiGenerated, false);
      assert.equal(a.fallbackReason, 'unchecked-language');
      assert.equal(fake.requests.length, 0);
    });

    test('refusals are counted in /metrics by rule and as fallbacks', async () => {
      const metrics = (await request(gw.app).get('/metrics')).text;
      assert.match(metrics, /plain_language_summary_fallbacks_total\{reason="unsafe-advice"\} [1-9]\d*/);
      assert.match(metrics, /ai_calls_total\{outcome="unsafe-advice"\} [1-9]\d*/);
      for (const rule of new Set([...HARMFUL_REPLIES, ...INJECTIONS].map((c) => c.rule))) {
        assert.match(metrics, new RegExp(`ai_unsafe_statements_total\\{rule="${rule}"\\} [1-9]\\d*`), rule);
      }
    });
  });
}
