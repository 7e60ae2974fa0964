import type { OperationOutcome } from '@medplum/fhirtypes';
import { DomainError } from '../errors.js';
import { HttpError } from '../fhir/outcome.js';
import { capIssues, withCappedIssues } from '../limits/bounds.js';
import { tasks, type TaskName } from './tasks.js';

type DomainErrorData = Pick<DomainError, 'code' | 'message' | 'detail' | 'expression' | 'issues' | 'data'>;

/**
 * What crosses the thread boundary, as plain data: a task's value, or the error it threw: a domain
 * error as its fields (rebuilt on this side, so callers see the same DomainError as inline), an
 * HttpError as its answer.
 */
export type Envelope =
  | { ok: true; value: unknown }
  | { ok: false; domain: DomainErrorData }
  | { ok: false; status: number; outcome: OperationOutcome; headers: Record<string, string> };

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
    if (e instanceof DomainError) {
      const { code, message, detail, expression, issues, data } = e;
      return { ok: false, domain: { code, message, detail, expression, issues: issues && capIssues(issues, maxIssues), data } };
    }
    const capped = withCappedIssues(e, maxIssues);
    if (capped instanceof HttpError) return { ok: false, status: capped.status, outcome: capped.outcome, headers: capped.headers };
    throw e;
  }
}

export function unwrap(envelope: Envelope): unknown {
  if (envelope.ok) return envelope.value;
  if ('domain' in envelope) {
    const { code, message, ...options } = envelope.domain;
    throw new DomainError(code, message, options);
  }
  throw new HttpError(envelope.status, envelope.outcome, envelope.headers);
}
