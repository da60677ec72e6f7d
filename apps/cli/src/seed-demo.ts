import { randomUUID } from 'node:crypto';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { onboardPayee, setQuota } from '#lib/organization/application/payee-commands.js';
import { closeDealWon } from '#lib/crediting/application/deal-commands.js';
import type { LedgerConfig } from '../../ledger/src/config/ledger-config.js';
import { openEventStore } from '../../ledger/src/open-event-store.js';

export interface SeedOptions {
  payees: number;
  deals: number;
  seed: number;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same org, so demos and bug reports reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const territories = ['EMEA', 'NA-East', 'NA-West', 'APAC', 'LATAM'];
const products = ['platform', 'analytics', 'payments', 'support'];
const dealTypes = ['new_business', 'new_business', 'upsell', 'renewal'];
const firstNames = ['Ana', 'Ben', 'Chloe', 'Dev', 'Elif', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kemi', 'Liam', 'Mei', 'Noah', 'Olga', 'Priya'];
const lastNames = ['Silva', 'Okafor', 'Martin', 'Nakamura', 'Schmidt', 'Haddad', 'Kowalski', 'Reyes', 'Larsen', 'Chen'];

/**
 * A demo org through the same application functions the API uses (so every rule applies): one sales VP, a manager
 * per territory, reps under them; monthly bookings quotas for 2026; closed-won deals across the year, about one in
 * five split between two reps, each with an overlay credit for the owner's manager.
 */
export async function seedDemo(config: LedgerConfig, options: SeedOptions): Promise<{ payees: number; quotas: number; deals: number; events: number }> {
  const store = await openEventStore(config);
  try {
    return await seedInto(store, options);
  } finally {
    await store.close();
  }
}

export async function seedInto(store: EventStore, options: SeedOptions): Promise<{ payees: number; quotas: number; deals: number; events: number }> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const prefix = `S${options.seed}`;
  const context = (): CommandContext => ({
    actor: { id: 'seed-demo', role: 'admin' },
    correlationId: `seed-demo-${options.seed}`,
    causationId: null,
    commandId: null,
    now: () => new Date(),
    newId: () => randomUUID(),
  });
  // Counted from the commands' outcomes: positions are not event counts (EventStoreDB numbers them by byte).
  let events = 0;
  const counted = (outcome: { events: readonly unknown[] }) => {
    events += outcome.events.length;
  };
  const payeeCount = Math.max(options.payees, territories.length + 2);
  const vp = `${prefix}-VP`;
  counted(await onboardPayee(store, { payeeId: vp, name: 'Vera Vice-President', email: null, managerId: null, territory: 'GLOBAL', currency: 'USD', startDate: '2025-01-01' }, context()));
  const managers = territories.map((territory, index) => ({ payeeId: `${prefix}-M${index + 1}`, territory }));
  for (const manager of managers) {
    counted(await onboardPayee(store, { payeeId: manager.payeeId, name: `${pick(firstNames)} ${pick(lastNames)}`, email: null, managerId: vp, territory: manager.territory, currency: 'USD', startDate: '2025-01-01' }, context()));
  }
  const reps: { payeeId: string; managerId: string }[] = [];
  for (let index = 0; reps.length < payeeCount - managers.length - 1; index++) {
    const manager = managers[index % managers.length];
    const payeeId = `${prefix}-R${index + 1}`;
    counted(await onboardPayee(store, { payeeId, name: `${pick(firstNames)} ${pick(lastNames)}`, email: null, managerId: manager.payeeId, territory: manager.territory, currency: 'USD', startDate: '2025-06-01' }, context()));
    reps.push({ payeeId, managerId: manager.payeeId });
  }
  let quotas = 0;
  for (const rep of reps) {
    const monthly = 50000 + Math.floor(random() * 10) * 10000;
    for (let month = 1; month <= 12; month++) {
      counted(await setQuota(store, { payeeId: rep.payeeId, periodId: `2026-${String(month).padStart(2, '0')}`, measure: 'bookings', amount: `${monthly}.00`, currency: 'USD' }, context()));
      quotas++;
    }
  }
  for (let index = 0; index < options.deals; index++) {
    const owner = pick(reps);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    const closeDate = `2026-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const amount = `${1000 + Math.floor(random() * 99000)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
    let partner = pick(reps);
    const split = random() < 0.2 && partner.payeeId !== owner.payeeId;
    if (!split) partner = owner;
    counted(
      await closeDealWon(
        store,
        {
          dealId: `${prefix}-D${index + 1}`,
          ownerPayeeId: owner.payeeId,
          amount,
          currency: 'USD',
          closeDate,
          product: pick(products),
          dealType: pick(dealTypes),
          ...(split ? { primarySplits: [{ payeeId: owner.payeeId, sharePercent: '60' }, { payeeId: partner.payeeId, sharePercent: '40' }] } : {}),
          overlays: [{ payeeId: owner.managerId, sharePercent: '100', role: 'manager' }],
        },
        context(),
      ),
    );
  }
  return { payees: 1 + managers.length + reps.length, quotas, deals: options.deals, events };
}
