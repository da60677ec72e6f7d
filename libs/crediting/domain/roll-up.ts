import { valueOn, type DatedValue } from '#lib/organization/domain/payee.decider.js';
import type { OverlaySplit } from './deal.decider.js';

/**
 * Roll-up credit: when a deal is credited without an explicit overlay list, every manager above each primary
 * payee, as the reporting lines stood on the credit date, gets overlay credit for 100% of the deal (role
 * 'manager'). A manager appears once however many of their reports share the deal, and a payee who already holds
 * primary credit on the deal gets no overlay on top of it. An explicit list (even an empty one) replaces the
 * roll-up entirely. See docs/decisions/0006-plans-assignments-fx-and-roll-up.md.
 */

/**
 * Each payee's dated manager history, as the handler found it in the payee streams (the decider cannot read
 * them): the primary payees', and that of every manager any of those histories names, up the chain.
 */
export type ReportingLines = Readonly<Record<string, readonly DatedValue<string | null>[]>>;

export const ROLL_UP_ROLE = 'manager';
export const ROLL_UP_SHARE_PERCENT = '100';

/** A chain longer than this is a data error (a cycle the dated history let through), not an organisation. */
export const MAX_REPORTING_DEPTH = 64;

/** The managers above a payee on a date, nearest first. Stops at the top, at a repeat, or where no history was found. */
export function managersAbove(reportingLines: ReportingLines, payeeId: string, date: string): string[] {
  const chain: string[] = [];
  let history = reportingLines[payeeId];
  while (history !== undefined && history.length > 0 && chain.length < MAX_REPORTING_DEPTH) {
    const manager = valueOn(history, date);
    if (manager === null || manager === payeeId || chain.includes(manager)) break;
    chain.push(manager);
    history = reportingLines[manager];
  }
  return chain;
}

/** The roll-up overlays for a deal's primary payees on its credit date, in the order the chains name them. */
export function rollUpOverlays(primaryPayeeIds: readonly string[], creditDate: string, reportingLines: ReportingLines): OverlaySplit[] {
  const primary = new Set(primaryPayeeIds);
  const managers: string[] = [];
  for (const payeeId of primaryPayeeIds) {
    for (const manager of managersAbove(reportingLines, payeeId, creditDate)) {
      if (!primary.has(manager) && !managers.includes(manager)) managers.push(manager);
    }
  }
  return managers.map((payeeId) => ({ payeeId, sharePercent: ROLL_UP_SHARE_PERCENT, role: ROLL_UP_ROLE }));
}
