import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { periodKindOf } from './calendar.js';
import {
  requireAmount,
  requireCurrency,
  requireEmail,
  requireIdentifier,
  requireIsoDate,
  requireMeasure,
  requireText,
} from './field-rules.js';

/**
 * Glossary
 * - Payee: a person who earns incentive compensation (a sales rep, a manager, a specialist).
 * - Manager: the payee a payee reports to; managers receive overlay credit and see their team's numbers.
 * - Territory: the sales territory a payee covers; plans and reports group by it.
 * - Quota: the target a payee is measured against for one period and one measure (e.g. bookings in
 *   2026-Q1). Attainment = credited amount / quota.
 * - Effective date: the business date from which a change holds. Changes are kept as a dated history,
 *   so a later report can say who managed whom on any date.
 *
 * Stream: `payee-<payeeId>`.
 */

export const payeeStreamId = (payeeId: string): string => `payee-${payeeId}`;
export const PAYEE_STREAM_PREFIX = 'payee-';

/** What the handler found when it looked the proposed manager up; the decider cannot read other streams. */
export interface ManagerLookup {
  /** The proposed manager is an onboarded payee. */
  found: boolean;
  /** The proposed manager's own managers, nearest first, as recorded now (used to refuse a reporting cycle). */
  managersAbove: readonly string[];
}

export const NO_MANAGER: ManagerLookup = { found: false, managersAbove: [] };

export type OnboardPayee = {
  type: 'OnboardPayee';
  payeeId: string;
  name: string;
  email?: string | null;
  managerId: string | null;
  territory: string;
  currency: string;
  startDate: string;
  manager: ManagerLookup;
};

export type ChangePayeeManager = {
  type: 'ChangePayeeManager';
  payeeId: string;
  managerId: string | null;
  effectiveDate: string;
  manager: ManagerLookup;
};

export type ChangePayeeTerritory = {
  type: 'ChangePayeeTerritory';
  payeeId: string;
  territory: string;
  effectiveDate: string;
};

export type SetQuota = {
  type: 'SetQuota';
  payeeId: string;
  /** '2026-03' (month), '2026-Q1' (quarter) or '2026' (year). */
  periodId: string;
  measure: string;
  /** Decimal string, zero or more. */
  amount: string;
  currency: string;
};

export type PayeeCommand = OnboardPayee | ChangePayeeManager | ChangePayeeTerritory | SetQuota;

export type PayeeOnboarded = DomainEvent<
  'PayeeOnboarded',
  {
    payeeId: string;
    name: string;
    email: string | null;
    managerId: string | null;
    territory: string;
    currency: string;
    startDate: string;
  }
>;
export type PayeeManagerChanged = DomainEvent<
  'PayeeManagerChanged',
  { payeeId: string; managerId: string | null; previousManagerId: string | null; effectiveDate: string }
>;
export type PayeeTerritoryChanged = DomainEvent<
  'PayeeTerritoryChanged',
  { payeeId: string; territory: string; previousTerritory: string; effectiveDate: string }
>;
export type QuotaSet = DomainEvent<
  'QuotaSet',
  { payeeId: string; periodId: string; measure: string; amount: string; currency: string; previousAmount: string | null }
>;

export type PayeeEvent = PayeeOnboarded | PayeeManagerChanged | PayeeTerritoryChanged | QuotaSet;

export const PAYEE_EVENT_TYPES: readonly PayeeEvent['type'][] = ['PayeeOnboarded', 'PayeeManagerChanged', 'PayeeTerritoryChanged', 'QuotaSet'];

export interface DatedValue<Value> {
  value: Value;
  effectiveDate: string;
}

export type PayeeState =
  | { status: 'not_onboarded' }
  | {
      status: 'onboarded';
      payeeId: string;
      name: string;
      email: string | null;
      currency: string;
      startDate: string;
      /** Ordered by effective date, then by when the change was recorded; the first entry is the start. */
      managerHistory: DatedValue<string | null>[];
      territoryHistory: DatedValue<string>[];
      /** Quota amount by `${periodId}|${measure}`. */
      quotas: Record<string, string>;
    };

export type OnboardedPayee = Extract<PayeeState, { status: 'onboarded' }>;

export const quotaKey = (periodId: string, measure: string): string => `${periodId}|${measure}`;

/** The value in force on a date: the last change effective on or before it (the start value before any change). */
export function valueOn<Value>(history: readonly DatedValue<Value>[], isoDate: string): Value {
  let inForce = history[0].value;
  for (const entry of history) if (entry.effectiveDate <= isoDate) inForce = entry.value;
  return inForce;
}

/** The value of the change with the latest effective date: what holds once every scheduled change has taken effect. */
export const latestValue = <Value>(history: readonly DatedValue<Value>[]): Value => history[history.length - 1].value;

function insertDated<Value>(history: readonly DatedValue<Value>[], entry: DatedValue<Value>): DatedValue<Value>[] {
  // Stable: a change recorded later for the same date comes after the earlier one, and so wins.
  const index = history.findIndex((existing) => existing.effectiveDate > entry.effectiveDate);
  return index < 0 ? [...history, entry] : [...history.slice(0, index), entry, ...history.slice(index)];
}

function requireOnboarded(state: PayeeState, payeeId: string): OnboardedPayee {
  if (state.status !== 'onboarded') throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
  return state;
}

function checkManager(payeeId: string, managerId: string | null, lookup: ManagerLookup): void {
  if (managerId === null) return;
  requireIdentifier(managerId, 'managerId');
  if (managerId === payeeId) {
    throw validationError('PAYEE.SELF_MANAGER', `Payee ${payeeId} cannot be their own manager`, [
      { field: 'managerId', message: 'must not be the payee itself' },
    ]);
  }
  if (!lookup.found) throw notFoundError('PAYEE.MANAGER_NOT_FOUND', `Manager ${managerId} is not an onboarded payee`);
  if (lookup.managersAbove.includes(payeeId)) {
    throw conflictError('PAYEE.MANAGER_CYCLE', `${managerId} reports (directly or not) to ${payeeId}; the reporting line would be a cycle`);
  }
}

function requireNotBeforeStart(payee: OnboardedPayee, effectiveDate: string): void {
  if (effectiveDate < payee.startDate) {
    throw validationError('PAYEE.EFFECTIVE_BEFORE_START', `A change cannot take effect before the payee's start date ${payee.startDate}`, [
      { field: 'effectiveDate', message: `must be on or after ${payee.startDate}` },
    ]);
  }
}

/** A stream whose first event is not PayeeOnboarded is corrupt: fail loudly rather than fold it. */
const eventBeforeOnboarding = (event: PayeeEvent): Error =>
  new Error(`${event.type} recorded for a payee that was never onboarded`);

function decide(command: PayeeCommand, state: PayeeState): PayeeEvent[] {
  switch (command.type) {
    case 'OnboardPayee': {
      const payeeId = requireIdentifier(command.payeeId, 'payeeId');
      if (state.status === 'onboarded') throw conflictError('PAYEE.ALREADY_ONBOARDED', `Payee ${payeeId} is already onboarded`);
      const name = requireText(command.name, 'name');
      const email = command.email === undefined || command.email === null ? null : requireEmail(command.email, 'email');
      const territory = requireText(command.territory, 'territory', 100);
      const currency = requireCurrency(command.currency, 'currency');
      const startDate = requireIsoDate(command.startDate, 'startDate');
      checkManager(payeeId, command.managerId, command.manager);
      return [
        { type: 'PayeeOnboarded', data: { payeeId, name, email, managerId: command.managerId, territory, currency, startDate } },
      ];
    }
    case 'ChangePayeeManager': {
      const payee = requireOnboarded(state, command.payeeId);
      const effectiveDate = requireIsoDate(command.effectiveDate, 'effectiveDate');
      requireNotBeforeStart(payee, effectiveDate);
      checkManager(payee.payeeId, command.managerId, command.manager);
      const previousManagerId = valueOn(payee.managerHistory, effectiveDate);
      const isLatest = payee.managerHistory.every((entry) => entry.effectiveDate <= effectiveDate);
      // Re-stating the manager already in force with nothing scheduled after it changes nothing.
      if (previousManagerId === command.managerId && isLatest) return [];
      return [{ type: 'PayeeManagerChanged', data: { payeeId: payee.payeeId, managerId: command.managerId, previousManagerId, effectiveDate } }];
    }
    case 'ChangePayeeTerritory': {
      const payee = requireOnboarded(state, command.payeeId);
      const territory = requireText(command.territory, 'territory', 100);
      const effectiveDate = requireIsoDate(command.effectiveDate, 'effectiveDate');
      requireNotBeforeStart(payee, effectiveDate);
      const previousTerritory = valueOn(payee.territoryHistory, effectiveDate);
      const isLatest = payee.territoryHistory.every((entry) => entry.effectiveDate <= effectiveDate);
      if (previousTerritory === territory && isLatest) return [];
      return [{ type: 'PayeeTerritoryChanged', data: { payeeId: payee.payeeId, territory, previousTerritory, effectiveDate } }];
    }
    case 'SetQuota': {
      const payee = requireOnboarded(state, command.payeeId);
      if (periodKindOf(command.periodId) === null) {
        throw validationError('QUOTA.INVALID_PERIOD', `"${String(command.periodId)}" is not a period id`, [
          { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
        ]);
      }
      const measure = requireMeasure(command.measure, 'measure');
      const amount = requireAmount(command.amount, 'amount');
      const currency = requireCurrency(command.currency, 'currency');
      if (currency !== payee.currency) {
        // Attainment compares credits in the payee's currency with the quota; a quota in another currency
        // could only be compared through an FX rate, which the ledger does not hold yet.
        throw validationError('QUOTA.CURRENCY_MISMATCH', `Quota currency ${currency} differs from the payee's currency ${payee.currency}`, [
          { field: 'currency', message: `must be the payee's currency ${payee.currency}` },
        ]);
      }
      const previousAmount = payee.quotas[quotaKey(command.periodId, measure)] ?? null;
      if (previousAmount !== null && amount.equals(previousAmount)) return [];
      return [
        {
          type: 'QuotaSet',
          data: { payeeId: payee.payeeId, periodId: command.periodId, measure, amount: command.amount, currency, previousAmount },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: PayeeState, event: PayeeEvent): PayeeState {
  switch (event.type) {
    case 'PayeeOnboarded': {
      const { payeeId, name, email, managerId, territory, currency, startDate } = event.data;
      return {
        status: 'onboarded',
        payeeId,
        name,
        email,
        currency,
        startDate,
        managerHistory: [{ value: managerId, effectiveDate: startDate }],
        territoryHistory: [{ value: territory, effectiveDate: startDate }],
        quotas: {},
      };
    }
    case 'PayeeManagerChanged': {
      if (state.status !== 'onboarded') throw eventBeforeOnboarding(event);
      const entry = { value: event.data.managerId, effectiveDate: event.data.effectiveDate };
      return { ...state, managerHistory: insertDated(state.managerHistory, entry) };
    }
    case 'PayeeTerritoryChanged': {
      if (state.status !== 'onboarded') throw eventBeforeOnboarding(event);
      const entry = { value: event.data.territory, effectiveDate: event.data.effectiveDate };
      return { ...state, territoryHistory: insertDated(state.territoryHistory, entry) };
    }
    case 'QuotaSet': {
      if (state.status !== 'onboarded') throw eventBeforeOnboarding(event);
      return { ...state, quotas: { ...state.quotas, [quotaKey(event.data.periodId, event.data.measure)]: event.data.amount } };
    }
    default:
      return assertNever(event);
  }
}

export const payeeDecider: Decider<PayeeCommand, PayeeEvent, PayeeState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'not_onboarded' }),
};
