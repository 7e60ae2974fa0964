/** Calls per second of `op`, awaited one after another; each call gets its index. */
export async function opsPerSecond(iterations: number, op: (i: number) => unknown): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(i);
  return iterations / (Number(process.hrtime.bigint() - started) / 1e9);
}

export interface AlternatingRounds {
  rounds: number;
  iterations: number;
  /** Calls of each, ours then the floor's, before the first round. */
  warmup: number;
}

/**
 * Ours against a floor in alternating rounds (floor first), so a shared machine's slower minute
 * weighs on both; the best round of each counts.
 */
export async function bestOfAlternating(ours: (i: number) => unknown, floor: (i: number) => unknown, r: AlternatingRounds): Promise<{ value: number; floor: number }> {
  for (let i = 0; i < r.warmup; i++) {
    await ours(i);
    await floor(i);
  }
  let best = 0;
  let bestFloor = 0;
  for (let round = 0; round < r.rounds; round++) {
    bestFloor = Math.max(bestFloor, await opsPerSecond(r.iterations, floor));
    best = Math.max(best, await opsPerSecond(r.iterations, ours));
  }
  return { value: Math.round(best), floor: Math.round(bestFloor) };
}
