/**
 * No endpoint can forget authorization: every route the application serves is found (from Nest's controllers, and
 * checked against what Express actually mounted) and must declare who may call it: @Public or @Roles. A route that
 * admits reps or managers must also declare whose payee data it touches (@PayeeScope). Every non-public route then
 * refuses a request without a token.
 */
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { PAYEE_SCOPE_METADATA, PUBLIC_METADATA, ROLES_METADATA, type Role } from '../../apps/ledger/src/http/auth/roles.js';
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';

interface Route {
  method: string;
  path: string;
  where: string;
  isPublic: boolean;
  roles: Role[] | undefined;
  hasPayeeScope: boolean;
}

const joinPath = (...parts: (string | undefined)[]) =>
  '/' +
  parts
    .flatMap((part) => (part ?? '').split('/'))
    .filter((segment) => segment !== '')
    .join('/');

function nestRoutes(test: LedgerTestApp): Route[] {
  const discovery = new DiscoveryService(test.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const routes: Route[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    if (!controller) continue;
    const basePaths = [reflector.get<string | string[]>(PATH_METADATA, controller)].flat();
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, (...args: unknown[]) => unknown>)[name];
      const methodPaths = reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
      if (methodPaths === undefined) continue;
      const method = RequestMethod[reflector.get<RequestMethod>(METHOD_METADATA, handler)].toLowerCase();
      const targets = [handler, controller];
      for (const base of basePaths) {
        for (const path of [methodPaths].flat()) {
          routes.push({
            method,
            path: joinPath(base, path),
            where: `${controller.name}.${name}`,
            isPublic: reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets) === true,
            roles: reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, targets),
            hasPayeeScope: reflector.getAllAndOverride(PAYEE_SCOPE_METADATA, targets) !== undefined,
          });
        }
      }
    }
  }
  return routes;
}

/** What Express serves, but the API docs (Swagger UI and the OpenAPI document, public by design). */
function expressRoutes(test: LedgerTestApp): string[] {
  const instance = test.app.getHttpAdapter().getInstance();
  const stack = (instance.router ?? instance._router).stack as { route?: { path: string; methods: Record<string, boolean> } }[];
  return stack
    .filter((layer) => layer.route !== undefined && !/^\/docs(\/|-json|-yaml|$)/.test(layer.route.path))
    .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method} ${layer.route!.path}`));
}

describe('route authorization', () => {
  let test: LedgerTestApp;
  let routes: Route[];

  beforeAll(async () => {
    test = await startLedgerTestApp();
    routes = nestRoutes(test);
  });
  afterAll(() => test.close());

  it('finds every route Express serves among the controllers it inspects', () => {
    const inspected = routes.map((route) => `${route.method} ${route.path}`).sort();
    expect(inspected.length).toBeGreaterThan(20);
    expect(expressRoutes(test).sort()).toEqual(inspected);
  });

  it('has @Roles or @Public on every route', () => {
    const undeclared = routes.filter((route) => !route.isPublic && route.roles === undefined).map((route) => `${route.method} ${route.path} (${route.where})`);
    expect(undeclared).toEqual([]);
  });

  it('keeps @Public to health', () => {
    expect(routes.filter((route) => route.isPublic).map((route) => `${route.method} ${route.path}`)).toEqual(['get /health']);
  });

  it('has @PayeeScope on every route a rep or a manager may call', () => {
    const unscoped = routes
      .filter((route) => !route.isPublic && (route.roles ?? []).some((role) => role === 'rep' || role === 'manager') && !route.hasPayeeScope)
      .map((route) => `${route.method} ${route.path} (${route.where})`);
    expect(unscoped).toEqual([]);
  });

  it('answers 401 with a Bearer challenge to a request without a token on every non-public route', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((candidate) => !candidate.isPublic)) {
      const path = route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'periodId' ? '2026-03' : name === 'version' ? '1' : `X-${name}`));
      const reply = await (test.anonymous as unknown as Record<string, (path: string) => Promise<{ status: number; body: { code?: string }; headers: Record<string, string> }>>)[route.method](path);
      if (reply.status !== 401 || reply.body.code !== 'AUTH.TOKEN_MISSING' || reply.headers['www-authenticate'] !== 'Bearer realm="incentive-ledger"') {
        failures.push(`${route.method} ${path}: ${reply.status} ${reply.body.code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves health and the API docs without a token', async () => {
    await test.anonymous.get('/health').expect(200);
    const document = await test.anonymous.get('/docs-json').expect(200);
    expect(document.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.body.security).toEqual([{ bearer: [] }]);
    expect(document.body.paths['/health'].get.security).toEqual([{}]);
  });
});
