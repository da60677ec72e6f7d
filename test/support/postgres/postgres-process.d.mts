/** The environment variable naming the test server's admin URL. */
export declare const TEST_POSTGRES_URL: 'LEDGER_TEST_POSTGRES_URL';
/** True when POSTGRES_REQUIRED=1: missing PostgreSQL is then an error, never a skip. */
export declare function postgresRequired(): boolean;
/** The admin URL of the test server (LEDGER_TEST_POSTGRES_URL), or null. */
export declare function testPostgresUrl(): string | null;
/** Frames lines in "!!!" for loud console output. */
export declare function banner(lines: string[]): string;
/** The folder holding initdb and postgres, or null when PostgreSQL is not installed. */
export declare function postgresBinDir(): string | null;
export interface StartedPostgresServer {
  /** postgres://ledger@127.0.0.1:<port>/postgres (superuser, trust authentication on loopback). */
  url: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}
export interface PostgresServerOptions {
  port?: number;
  maxConnections?: number;
  sharedBuffers?: string;
  settings?: Record<string, string>;
}
/** Starts a throw-away PostgreSQL server (initdb into a temporary folder, a free loopback port). */
export declare function startPostgresServer(options?: PostgresServerOptions): Promise<StartedPostgresServer>;
export declare function stopServer(pid: number, dir: string): Promise<void>;
/** For a jest globalSetup: LEDGER_TEST_POSTGRES_URL, else a server of its own, else null (no binaries). */
export declare function startPostgresForTests(): Promise<string | null>;
/** For a jest globalTeardown: stops the server startPostgresForTests started, if any. */
export declare function stopPostgresForTests(): Promise<void>;
