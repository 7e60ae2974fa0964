import type { OperationOutcome } from '@medplum/fhirtypes';
import { DomainError } from '../errors.js';
import { HttpError } from '../fhir/outcome.js';
import { httpErrorOf } from '../http/errors.js';
import { withCappedIssues } from '../limits/bounds.js';
import { tasks, type TaskName } from './tasks.js';

/** What crosses the thread boundary: a task's value, or the error it threw as its HTTP answer, as plain data. */
export type Envelope = { ok: true; value: unknown } | { ok: false; status: number; outcome: OperationOutcome; headers: Record<string, string> };

export interface TaskMessage {
  task: TaskName;
  input: unknown;
  maxIssues: number;
}

/** Runs one task; an HttpError comes back with its issues capped, so a huge outcome never crosses. */
export async function runTask({ task, input, maxIssues }: TaskMessage): Promise<Envelope> {
  const run = tasks[task] as (i: unknown) => unknown;
  if (typeof run !== 'function') throw new Error(`unknown CPU task ${String(task)}`);
  try {
    return { ok: true, value: await run(input) };
  } catch (e) {
    // A library's domain error crosses as the edge's answer to it: the thread boundary keeps plain data only.
    const capped = withCappedIssues(e instanceof DomainError ? httpErrorOf(e) : e, maxIssues);
    if (capped instanceof HttpError) return { ok: false, status: capped.status, outcome: capped.outcome, headers: capped.headers };
    throw e;
  }
}

export function unwrap(envelope: Envelope): unknown {
  if (envelope.ok) return envelope.value;
  throw new HttpError(envelope.status, envelope.outcome, envelope.headers);
}
