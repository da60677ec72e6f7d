import { describe, expect, it, jest } from '@jest/globals';
import { aggregateRuns, parseArgs, runBenchmarks, type Bench } from './bench-runner.js';
import type { BenchFigure } from './bench-types.js';

const figure = (value: number, extra: Partial<BenchFigure> = {}): BenchFigure => ({ name: 'rate', value, unit: 'events/s', ...extra });

/** A bench whose n-th run answers the n-th list of figures. */
function scripted(key: string, runs: BenchFigure[][], extra: Partial<Bench> = {}): Bench & { sizes_seen: (string | undefined)[] } {
  let call = 0;
  const sizes_seen: (string | undefined)[] = [];
  return {
    key,
    name: `${key} bench`,
    sizes_seen,
    run: async (_dir, options) => {
      sizes_seen.push(options.size);
      return runs[call++ % runs.length]!;
    },
    ...extra,
  };
}

async function run(benches: Bench[], argv: string[]): Promise<{ code: number; output: string[] }> {
  const output: string[] = [];
  const code = await runBenchmarks(benches, argv, (text) => output.push(...text.split('\n')));
  return { code, output };
}

describe('the benchmark runner', () => {
  it('reads keys, --size and --runs in either spelling, and refuses what it does not know', () => {
    expect(parseArgs(['event-store', '--size', 'small', '--runs=2'])).toEqual({ keys: ['event-store'], size: 'small', runs: 2 });
    expect(parseArgs([])).toEqual({ keys: [], size: undefined, runs: undefined });
    expect(() => parseArgs(['--size', 'huge'])).toThrow('--size takes small, medium, large');
    expect(() => parseArgs(['--runs', '0'])).toThrow('--runs');
    expect(() => parseArgs(['--fast'])).toThrow('Unknown option --fast');
  });

  it('reports each figure as the median of the runs with min and max', () => {
    const [row] = aggregateRuns('store', [[figure(30)], [figure(10)], [figure(20)]], 'small');
    expect(row).toMatchObject({ bench: 'store', figure: 'rate', median: 20, min: 10, max: 30, target: '', result: '' });
    const [even] = aggregateRuns('store', [[figure(10)], [figure(40)]], 'small');
    expect(even).toMatchObject({ median: 25, min: 10, max: 40 });
  });

  it('keeps two figures of a run that share a name apart instead of mixing their values', () => {
    const rows = aggregateRuns('store', [[figure(1), figure(100)], [figure(3), figure(300)]], 'small');
    expect(rows.map((row) => [row.figure, row.min, row.max])).toEqual([['rate', 1, 3], ['rate (2)', 100, 300]]);
  });

  it('judges a target only at the size it is set at, and by the median run', () => {
    const target = { target: '>= 15', targetSize: 'medium' as const };
    const runs = [[figure(10, { ...target, pass: false })], [figure(20, { ...target, pass: true })], [figure(30, { ...target, pass: true })]];
    expect(aggregateRuns('store', runs, 'medium')[0]).toMatchObject({ target: '>= 15', result: 'ok' });
    expect(aggregateRuns('store', runs, undefined)[0]).toMatchObject({ target: '>= 15', result: 'ok' });
    expect(aggregateRuns('store', runs, 'small')[0]).toMatchObject({ target: 'n/a (set at medium)', result: '' });
    const missed = [[figure(10, { ...target, pass: false })], [figure(12, { ...target, pass: false })], [figure(30, { ...target, pass: true })]];
    expect(aggregateRuns('store', missed, 'medium')[0]).toMatchObject({ result: 'MISSED' });
  });

  it('skips a bench whose server is not reachable and says which, instead of failing', async () => {
    const kafka = scripted('kafka', [[figure(1)]], { needs: [{ name: 'Kafka', address: () => null }] });
    const store = scripted('store', [[figure(5)]]);
    const { code, output } = await run([kafka, store], ['--size', 'small', '--runs', '1']);
    expect(code).toBe(0);
    expect(kafka.sizes_seen).toEqual([]);
    expect(output.find((line) => line.startsWith('kafka '))).toMatch(/kafka bench\s+skipped: needs Kafka$/);
    expect(output.find((line) => line.startsWith('store '))).toMatch(/^store\s+rate\s+5\s+5\s+5\s+events\/s$/);
  });

  it('runs a bench that cannot scale only at the sizes it lists', async () => {
    const fixed = scripted('fixed', [[figure(1)]], { sizes: ['large'] });
    const { output } = await run([fixed], ['--size', 'small']);
    expect(fixed.sizes_seen).toEqual([]);
    expect(output.some((line) => /skipped: runs at large only$/.test(line))).toBe(true);
  });

  it('passes the size, repeats the runs (three by default, one at large) and fails on a missed target or a failed bench', async () => {
    const store = scripted('store', [[figure(10, { target: '>= 15', pass: false })]]);
    const first = await run([store], []);
    expect(store.sizes_seen).toEqual([undefined, undefined, undefined]);
    expect(first.code).toBe(1);
    expect(first.output.some((line) => line.includes('1 figure(s) missed their target'))).toBe(true);

    const large = scripted('store', [[figure(10)]]);
    await run([large], ['--size', 'large']);
    expect(large.sizes_seen).toEqual(['large']);

    const broken: Bench = { key: 'broken', name: 'broken bench', run: async () => Promise.reject(new Error('disk full')) };
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const second = await run([broken], ['--runs', '1']);
    errors.mockRestore();
    expect(second.code).toBe(1);
    expect(second.output.some((line) => /broken bench\s+failed: disk full$/.test(line))).toBe(true);
  });

  it('prints the machine and the load average before and after', async () => {
    const { output } = await run([scripted('store', [[figure(1)]])], ['--runs', '1']);
    expect(output.filter((line) => /^machine: \d+ cores \(.*\), \d+ GiB memory, Node v\d+/.test(line))).toHaveLength(2);
    expect(output.some((line) => /^load average before: [\d.]+ [\d.]+ [\d.]+; after: [\d.]+ [\d.]+ [\d.]+$/.test(line))).toBe(true);
  });
});
