/** One line of the bench table: our figure against a floor measured in the same run. */
export interface BenchRow {
  name: string;
  /** What we measured (e.g. requests/s through the gateway). */
  value: number;
  /** The floor measured in the same run (e.g. bare jose verify loop), same unit. */
  floor: number;
  unit: string;
  /** true: value/floor is the ratio (throughput); false: floor/value (latency, memory). */
  higherIsBetter: boolean;
  /** The goal as text, e.g. ">= 0.9". */
  goal?: string;
  /** Extra figures (p50/p99, RSS) or why the row was skipped. */
  note?: string;
}

export interface Bench {
  name: string;
  run(): Promise<BenchRow[]>;
}
