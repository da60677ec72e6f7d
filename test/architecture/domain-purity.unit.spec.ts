/**
 * The dependency rule: domain code (libs/<context>/domain) is plain TypeScript with no framework, no I/O, no
 * environment, no clock and no randomness, so that every number it produces can be reproduced from its inputs.
 * Domain files may import only other domain code, decimal.js, and relative files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

const forbiddenPatterns: { pattern: RegExp; reason: string }[] = [
  { pattern: /process\.env/, reason: 'reads the environment' },
  { pattern: /Date\.now\(|new Date\(\s*\)/, reason: 'reads the clock' },
  { pattern: /Math\.random|randomUUID|crypto\.getRandomValues/, reason: 'uses randomness' },
  { pattern: /\bsetTimeout\(|\bsetInterval\(|\bfetch\(/, reason: 'does I/O or schedules work' },
];

const importPattern = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Comments may name what the code must not do ("not Math.random"); only code counts. */
const withoutComments = (source: string): string => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

export function violationsIn(rawSource: string): string[] {
  const source = withoutComments(rawSource);
  const violations: string[] = [];
  for (const { pattern, reason } of forbiddenPatterns) if (pattern.test(source)) violations.push(reason);
  for (const match of source.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2];
    const allowed =
      specifier.startsWith('.') ||
      specifier === 'decimal.js' ||
      (specifier.startsWith('#lib/') && /^#lib\/[^/]+\/domain\//.test(specifier));
    if (!allowed) violations.push(`imports ${specifier}`);
  }
  return violations;
}

function domainFiles(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) {
      if (entry === 'node_modules') continue;
      found.push(...domainFiles(path));
    } else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts') && /[/\\]domain[/\\]/.test(path)) {
      found.push(path);
    }
  }
  return found;
}

describe('domain purity', () => {
  it('recognises each kind of violation (the check itself can fail)', () => {
    expect(violationsIn("import { Injectable } from '@nestjs/common';")).toEqual(['imports @nestjs/common']);
    expect(violationsIn("import fs from 'node:fs';")).toEqual(['imports node:fs']);
    expect(violationsIn("import { EventStore } from '#lib/event-store/event-store.port.js';")).toEqual([
      'imports #lib/event-store/event-store.port.js',
    ]);
    expect(violationsIn('const t = Date.now();')).toEqual(['reads the clock']);
    expect(violationsIn('const id = crypto.randomUUID();')).toEqual(['uses randomness']);
    expect(violationsIn('const k = process.env.KEY;')).toEqual(['reads the environment']);
    expect(violationsIn("import { Money } from '#lib/shared/domain/money.js';\nimport { x } from './x.js';")).toEqual([]);
    expect(violationsIn('/** seeded, not Math.random */\nconst next = (s: number) => s * 16807; // never Date.now()')).toEqual([]);
  });

  it('holds for every domain file in libs/', () => {
    const files = domainFiles(join(root, 'libs'));
    expect(files.length).toBeGreaterThan(0);
    const offenders = files
      .map((file) => ({ file: relative(root, file), violations: violationsIn(readFileSync(file, 'utf8')) }))
      .filter(({ violations }) => violations.length > 0);
    expect(offenders).toEqual([]);
  });
});
