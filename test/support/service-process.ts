/**
 * The ledger service as real child processes (the compiled dist/ build), driven over HTTP: for tests and benchmarks
 * of what only separate processes show (roles, the projector lease, kill -9).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const serviceMain = join(repoRoot, 'dist/apps/ledger/src/main.js');

export interface Reply {
  status: number;
  body: any;
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** GET /health's body. */
  health(): Promise<any>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Compiles the service into dist/ (tsc -p tsconfig.build.json). */
export function buildService(): void {
  const build = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 170_000,
  });
  if (build.error !== undefined || build.status !== 0) {
    throw new Error(`Build failed (tsc -p tsconfig.build.json, exit ${build.status}):\n${build.stdout}\n${build.stderr}\n${build.error ?? ''}`);
  }
}

/** One HTTP request on a fresh connection (no pooled socket survives a kill). */
export function call(port: number, method: string, path: string, options: { body?: unknown; token?: string; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        timeout: options.timeoutMs ?? 30_000,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // keep the raw text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Spawns `node dist/apps/ledger/src/main.js` with `environment` on `port`, without waiting for it. */
export function spawnServiceProcess(environment: Record<string, string>, port: number): ServiceProcess {
  const child = spawn(process.execPath, [serviceMain], {
    cwd: repoRoot,
    env: { ...process.env, LEDGER_HOST: '127.0.0.1', LEDGER_LOG_LEVEL: 'warn', ...environment, LEDGER_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const service: ServiceProcess = {
    child,
    port,
    exited,
    output: () => output,
    health: async () => (await call(port, 'GET', '/health')).body,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (hasExited) return;
      child.kill(signal);
      await exited;
    },
  };
  return service;
}

/**
 * Starts the service (spawnServiceProcess) on `options.port` or a free port and waits until /health answers 200. A
 * restart on the same data keeps its port if the caller passes it.
 */
export async function startServiceProcess(environment: Record<string, string>, options: { timeoutMs?: number; port?: number } = {}): Promise<ServiceProcess> {
  const service = spawnServiceProcess(environment, options.port ?? (await freePort()));
  const { child, port } = service;
  let hasExited = false;
  void service.exited.then(() => (hasExited = true));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (hasExited) throw new Error(`The service exited while starting:\n${service.output()}`);
    try {
      const health = await call(port, 'GET', '/health');
      if (health.status === 200 && health.body?.status === 'ok') return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The service did not become healthy in time:\n${service.output()}`);
    }
    await sleep(100);
  }
}
