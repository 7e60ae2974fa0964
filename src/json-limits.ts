/**
 * Deepest JSON nesting the gateway accepts, in a request body and in a resource it validates. Parsing,
 * validating and storing (JSON.stringify) all recurse; past this the stack, not a rule, would decide.
 */
export const MAX_JSON_DEPTH = 100;
