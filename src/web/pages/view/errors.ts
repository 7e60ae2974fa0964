import type { Messages } from '../i18n/en.js';

export type ProblemKey = { [K in keyof Messages['view']['errors']]: Messages['view']['errors'][K] extends string ? K : never }[keyof Messages['view']['errors']];

/** A problem to show to the patient, named by its message so it is shown in the page's language. */
export class ViewerError extends Error {
  constructor(readonly problem: ProblemKey) {
    super(problem);
  }
}

/** The manifest refused the passcode (HTTP 401). */
export class PasscodeError extends Error {
  constructor(readonly remainingAttempts: number | undefined) {
    super('wrong passcode');
  }
}
