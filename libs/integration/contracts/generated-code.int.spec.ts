/**
 * The TypeScript in libs/integration/contracts/generated is checked in and must be what `buf generate` makes from
 * proto/ today: a .proto change without regenerating (npm run proto:generate) fails here, not in a consumer.
 * Runs the real buf binary from node_modules (its platform package) and protoc-gen-es, offline.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const generatedDir = 'libs/integration/contracts/generated';

function filesUnder(directory: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(directory, path), readFileSync(path, 'utf8'));
    }
  };
  walk(directory);
  return files;
}

describe('generated protobuf code', () => {
  it('lints the contracts with buf', () => {
    const lint = spawnSync(process.execPath, [join(repoRoot, 'node_modules/@bufbuild/buf/bin/buf'), 'lint', 'proto'], { cwd: repoRoot, encoding: 'utf8' });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('is what buf generate makes from proto/ now', () => {
    const temp = createTempDir('proto-generate');
    try {
      const generate = spawnSync(process.execPath, [join(repoRoot, 'node_modules/@bufbuild/buf/bin/buf'), 'generate', '--output', temp.path], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect({ status: generate.status, stderr: generate.stderr }).toEqual({ status: 0, stderr: '' });
      const fresh = filesUnder(join(temp.path, generatedDir));
      const committed = filesUnder(join(repoRoot, generatedDir));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [path, content] of fresh) expect({ path, content: committed.get(path) }).toEqual({ path, content });
      expect(fresh.size).toBeGreaterThanOrEqual(5);
    } finally {
      temp.remove();
    }
  });
});
