// A real PostgreSQL server for the tests and the benchmark, from the machine's PostgreSQL binaries (Debian's
// postgresql package: /usr/lib/postgresql/<version>/bin). Plain ESM JavaScript, because jest loads globalSetup and
// globalTeardown without the TypeScript module mapping; test code imports these through postgres-test-db.ts (types
// in postgres-process.d.mts), the benchmark from the repository's test/support folder.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The server the test workers use; set by the global setup, or by a developer to use a server of their own. */
export const TEST_POSTGRES_URL = 'LEDGER_TEST_POSTGRES_URL';
// Set by startPostgresForTests to "<pid> <dir>" of a server it started, so the teardown stops only that one.
const STARTED_MARKER = 'INCENTIVE_LEDGER_POSTGRES_STARTED';

/** True when CI (or a developer) demands PostgreSQL: missing binaries are then an error, never a skip. */
export function postgresRequired() {
  return process.env.POSTGRES_REQUIRED === '1' || process.env.POSTGRES_REQUIRED === 'true';
}

/** The admin URL of the test server (LEDGER_TEST_POSTGRES_URL), or null. */
export function testPostgresUrl() {
  const raw = process.env[TEST_POSTGRES_URL]?.trim();
  return raw ? raw : null;
}

/** Frames lines in "!!!" so a skipped suite is hard to overlook in test output. */
export function banner(lines) {
  const width = Math.max(...lines.map((l) => l.length));
  const rule = '!'.repeat(width + 8);
  return [rule, ...lines.map((l) => `!!! ${l.padEnd(width)} !!!`), rule].join('\n');
}

/** The folder holding initdb and postgres: LEDGER_POSTGRES_BIN, else the newest /usr/lib/postgresql/<version>/bin, else pg_config's. */
export function postgresBinDir() {
  const candidates = [];
  if (process.env.LEDGER_POSTGRES_BIN) candidates.push(process.env.LEDGER_POSTGRES_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(`/usr/lib/postgresql/${version}/bin`);
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) ?? null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user (Debian's package creates it). */
function unprivilegedUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const user = process.env.LEDGER_POSTGRES_USER || 'postgres';
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`PostgreSQL will not run as root and there is no "${user}" user to run it as (set LEDGER_POSTGRES_USER to another one)`);
  }
  return { name: user, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function commandAs(user, command, args) {
  return user === null ? [command, args] : ['runuser', ['-u', user.name, '--', command, ...args]];
}

async function waitUntilReady(bin, port, socketDir, child, logFile) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
    if (ready.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8');
  } catch {
    // no log yet
  }
  throw new Error(`PostgreSQL did not start on port ${port} (socket dir ${socketDir}):\n${log}`);
}

/**
 * Starts a throw-away PostgreSQL server: initdb into a temporary folder (C collation, UTF-8, trust authentication
 * on loopback only), then postgres on a free loopback port with its socket in the same folder, tuned for tests
 * (no fsync: the data dies with the run). Resolves { url, pid, dir, stop() }; url names the `postgres` database of
 * superuser `ledger`.
 */
export async function startPostgresServer(options = {}) {
  const bin = postgresBinDir();
  if (bin === null) throw new Error('No PostgreSQL binaries (initdb, postgres) were found: apt-get install postgresql');
  const user = unprivilegedUser();
  const dir = mkdtempSync(join('/tmp', 'ledger-pg-'));
  const dataDir = join(dir, 'data');
  if (user !== null) chownSync(dir, user.uid, user.gid);
  const initdb = commandAs(user, join(bin, 'initdb'), [
    '-D', dataDir, '-U', 'ledger', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync', '--no-instructions',
  ]);
  const init = spawnSync(initdb[0], initdb[1], { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status}):\n${init.stdout}\n${init.stderr}`);
  }
  const port = options.port ?? (await freePort());
  const logFile = join(dir, 'postgres.log');
  const log = openSync(logFile, 'a');
  if (user !== null) chownSync(logFile, user.uid, user.gid);
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: String(options.maxConnections ?? 400),
    shared_buffers: options.sharedBuffers ?? '128MB',
    ...(options.settings ?? {}),
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
  const [command, commandArgs] = commandAs(user, join(bin, 'postgres'), args);
  const child = spawn(command, commandArgs, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  child.unref();
  try {
    await waitUntilReady(bin, port, dir, child, logFile);
  } catch (error) {
    await stopServer(child.pid, dir);
    throw error;
  }
  return {
    url: `postgres://ledger@127.0.0.1:${port}/postgres`,
    pid: child.pid,
    dir,
    stop: () => stopServer(child.pid, dir),
  };
}

/** Stops the server (fast shutdown: SIGINT to runuser reaches postgres) and deletes its folder. */
export async function stopServer(pid, dir) {
  try {
    // The process group: runuser and the postmaster under it.
    process.kill(-pid, 'SIGINT');
  } catch {
    // already gone
  }
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pid, 0);
    } catch {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // stopped
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For a jest globalSetup: a server for the PostgreSQL suites, exported to the workers as LEDGER_TEST_POSTGRES_URL.
 * - LEDGER_TEST_POSTGRES_URL already set: use that server as is (nothing is started or stopped).
 * - Otherwise, with PostgreSQL binaries: start one (startPostgresServer).
 * - Otherwise: null (PostgreSQL suites then skip loudly, or fail under POSTGRES_REQUIRED=1).
 */
export async function startPostgresForTests() {
  const existing = testPostgresUrl();
  if (existing) return existing;
  if (postgresBinDir() === null) {
    const message = 'No PostgreSQL binaries (initdb, postgres) on this machine: apt-get install postgresql.';
    if (postgresRequired()) throw new Error(`${message} POSTGRES_REQUIRED=1, so this is an error.`);
    console.warn(banner([message, 'PostgreSQL suites (read models, e2e on eventstoredb + postgresql) will be SKIPPED.']));
    return null;
  }
  const server = await startPostgresServer();
  process.env[TEST_POSTGRES_URL] = server.url;
  process.env[STARTED_MARKER] = `${server.pid} ${server.dir}`;
  return server.url;
}

/** For a jest globalTeardown: stop the server startPostgresForTests started, if any. */
export async function stopPostgresForTests() {
  const marker = process.env[STARTED_MARKER];
  if (!marker) return;
  const [pid, dir] = marker.split(' ');
  try {
    await stopServer(Number(pid), dir);
  } finally {
    delete process.env[STARTED_MARKER];
    delete process.env[TEST_POSTGRES_URL];
  }
}
