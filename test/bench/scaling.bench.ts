import { fork } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import { benchSizes, type BenchFigure, type BenchSize } from './bench-types.js';
import { orgShape, orgSizes, orgStatementInputs, writeOrgLog } from './synthetic-org.js';

/**
 * Cost as work grows: the synthetic org at sizes ten times apart (small and medium; large too when asked for), and for
 * each size three steps, each in a child process of its own so its peak resident memory (maxRSS) is that step's alone:
 * - append: the org's whole log written to a fresh store (payees, quotas, plan, FX, deals, amendments, cancellations,
 *   disputes; many streams at a time, durable commits);
 * - rebuild: the statements read model rebuilt from that log;
 * - recompute: the commission engine over every payee-period of the org, one thread (inputs built first and the first
 *   300 payee-periods computed once to warm up, not timed).
 * Per size: the time, the cost per event (or per credit) and the peak RSS; then the cost per unit against the size ten
 * times smaller (1.0: the total grows linearly).
 */
export interface ScalingBenchOptions {
  dir: string;
  /** The largest size measured; default medium. */
  upTo?: BenchSize;
}

type Step = 'append' | 'rebuild' | 'recompute';

interface StepResult {
  /** Events appended or rebuilt, or credits recomputed. */
  units: number;
  ms: number;
  cpuMs: number;
  maxRssKb: number;
}

const unitOf: Record<Step, string> = { append: 'event', rebuild: 'event', recompute: 'credit' };

export async function runScalingBench(options: ScalingBenchOptions): Promise<BenchFigure[]> {
  const upTo = options.upTo === 'large' ? 'large' : 'medium';
  const sizes = benchSizes.slice(0, benchSizes.indexOf(upTo) + 1);
  const figures: BenchFigure[] = [];
  const previousCost = new Map<Step, { size: BenchSize; perUnit: number }>();
  for (const size of sizes) {
    const dir = join(options.dir, size);
    mkdirSync(dir, { recursive: true });
    for (const step of ['append', 'rebuild', 'recompute'] as const) {
      const result = await inChildProcess(step, size, dir);
      const perUnit = (result.ms * 1000) / result.units;
      const label = `${step} at ${size} (${result.units} ${unitOf[step]}s)`;
      figures.push(
        { name: `${label}: time`, value: round3(result.ms / 1000), unit: 's' },
        { name: `${label}: cost per ${unitOf[step]}`, value: round2(perUnit), unit: 'µs' },
        { name: `${label}: CPU per ${unitOf[step]}, all threads`, value: round2((result.cpuMs * 1000) / result.units), unit: 'µs' },
        { name: `${label}: peak RSS of its process`, value: Math.round(result.maxRssKb / 1024), unit: 'MiB' },
      );
      const previous = previousCost.get(step);
      if (previous !== undefined) figures.push({ name: `${step}: cost per ${unitOf[step]} at ${size} / at ${previous.size} (1.0: linear)`, value: round2(perUnit / previous.perUnit), unit: 'x' });
      previousCost.set(step, { size, perUnit });
    }
  }
  return figures;
}

function inChildProcess(step: Step, size: BenchSize, dir: string): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    // Flags such as --input-type (for a caller's `node -e`) do not apply to a module loaded from a file.
    const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval');
    const child = fork(fileURLToPath(import.meta.url), ['--scaling-step', step, size, dir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: StepResult | undefined;
    child.once('message', (message: StepResult) => (result = message));
    child.once('error', reject);
    child.once('exit', (code) => (result !== undefined && code === 0 ? resolve(result) : reject(new Error(`scaling step ${step} at ${size} exited with ${code}`))));
  });
}

async function runStep(step: Step, size: BenchSize, dir: string): Promise<StepResult> {
  const { payees, deals } = orgSizes[size];
  const storePath = join(dir, 'org.events.sqlite');
  let units: number;
  let ms: number;
  let cpu: NodeJS.CpuUsage;
  if (step === 'append') {
    const store = SqliteEventStore.open({ path: storePath });
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    try {
      units = await writeOrgLog(store, { payees, deals });
    } finally {
      await store.close();
    }
    ms = performance.now() - started;
    cpu = process.cpuUsage(cpuAtStart);
  } else if (step === 'rebuild') {
    const store = SqliteEventStore.open({ path: storePath });
    const db = SqliteReadModelDb.open({ path: join(dir, 'org.read.sqlite') });
    try {
      units = await store.headPosition();
      const cpuAtStart = process.cpuUsage();
      const started = performance.now();
      await new ProjectionRunner(store, db, [createStatementsProjection()]).rebuild();
      ms = performance.now() - started;
      cpu = process.cpuUsage(cpuAtStart);
    } finally {
      await db.close();
      await store.close();
    }
  } else {
    const inputs = orgStatementInputs(0, payees, orgShape(payees, deals));
    units = inputs.reduce((sum, input) => sum + input.credits.length, 0);
    // Warm up (the engine is pure): the first payee-periods once, untimed, so the small size is not all JIT warm-up.
    for (const input of inputs.slice(0, 300)) computeStatement(input);
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    let lines = 0;
    for (const input of inputs) lines += computeStatement(input).lines.length;
    ms = performance.now() - started;
    cpu = process.cpuUsage(cpuAtStart);
    if (lines === 0) throw new Error('the recompute priced no lines');
  }
  return { units, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: peakRssKb() };
}

/**
 * This process's peak resident set. On Linux, getrusage's maxRSS (process.resourceUsage().maxRSS) survives fork and
 * exec, so a child forked from a large parent reports the parent's peak; the address space's own high-water mark
 * (VmHWM in /proc/self/status) starts again at exec. Elsewhere, maxRSS.
 */
function peakRssKb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match !== null) return Number(match[1]);
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[2] === '--scaling-step' && process.send !== undefined) {
  const [step, size, dir] = process.argv.slice(3) as [Step, BenchSize, string];
  const result = await runStep(step, size, dir);
  process.send(result, () => process.exit(0));
}
