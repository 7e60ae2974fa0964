// npm run bench: runs every bench/*.bench.ts, prints one table of ratios, writes bench/results.md.
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './types.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

function ratio(r: BenchRow): number {
  if (r.value === 0 || r.floor === 0) return 0;
  return r.higherIsBetter ? r.value / r.floor : r.floor / r.value;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

const rows: { bench: string; row: BenchRow }[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { bench: Bench };
  process.stderr.write(`bench: ${mod.bench.name}\n`);
  try {
    for (const row of await mod.bench.run()) rows.push({ bench: mod.bench.name, row });
  } catch (e) {
    rows.push({ bench: mod.bench.name, row: { name: 'failed', value: 0, floor: 0, unit: '', higherIsBetter: true, note: (e as Error).message } });
  }
}

const header = '| bench | measure | ours | floor | unit | ratio | goal | notes |\n|---|---|---|---|---|---|---|---|';
const lines = rows.map(
  ({ bench, row }) =>
    `| ${bench} | ${row.name} | ${fmt(row.value)} | ${fmt(row.floor)} | ${row.unit} | ${row.value && row.floor ? fmt(ratio(row)) : 'n/a'} | ${row.goal ?? ''} | ${row.note ?? ''} |`,
);
const table = [header, ...lines].join('\n');
const date = new Date().toISOString().slice(0, 10);
const doc = `# Benchmark results\n\nMeasured ${date} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}.\nRatio is ours/floor for throughput and floor/ours for latency and memory, so higher is better; every floor is measured in the same run.\n\n${table}\n`;
process.stdout.write(`${table}\n`);
if (only.length === 0) writeFileSync(path.join(dir, 'results.md'), doc);
process.exit(0);
