import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { PlanVersionInput } from '#lib/commissions/domain/index.js';
import { payeeExists } from '#lib/organization/application/payee-commands.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import {
  planAssignmentDecider,
  planAssignmentsStreamId,
  planStreamId,
  type PlanAssignment,
  type PlanAssignmentEvent,
  type PlanEvent,
  type PlanVersionStatus,
} from '../domain/index.js';

/**
 * Reads of one plan or one payee's assignments, folded straight from their own stream: always current (no
 * projection lag), and small (a plan has a handful of versions, a payee a handful of assignments).
 */

export interface PlanVersionView {
  version: number;
  status: PlanVersionStatus;
  effectiveFrom: string;
  /** For a published version: the next published version's effectiveFrom (exclusive), or null while it is the latest. */
  effectiveUntil: string | null;
  /** When the version was published (system time), or null for a draft. */
  publishedAt: string | null;
  planVersion: PlanVersionInput;
}

export interface PlanView {
  planId: string;
  /** Revision of the plan's stream: its ETag, and what If-Match on a revision expects. */
  revision: number;
  versions: PlanVersionView[];
}

export async function getPlan(store: EventStore, planId: string): Promise<PlanView | null> {
  const events = await store.readStream(planStreamId(planId));
  if (events.length === 0) return null;
  const versions = new Map<number, PlanVersionView>();
  for (const event of events) {
    const { type, data } = event as unknown as PlanEvent;
    const published = type === 'PlanVersionPublished';
    versions.set(data.version, {
      version: data.version,
      status: published ? 'published' : 'draft',
      effectiveFrom: data.planVersion.effectiveFrom,
      effectiveUntil: null,
      publishedAt: published ? event.recordedAt : null,
      planVersion: data.planVersion,
    });
  }
  const ordered = [...versions.values()].sort((left, right) => left.version - right.version);
  const publishedOnes = ordered.filter((view) => view.status === 'published');
  publishedOnes.forEach((view, index) => {
    view.effectiveUntil = publishedOnes[index + 1]?.effectiveFrom ?? null;
  });
  return { planId, revision: events[events.length - 1].revision, versions: ordered };
}

export interface PlanAssignmentsView {
  payeeId: string;
  /** Revision of the payee's assignment stream (-1 before the first assignment). */
  revision: number;
  /** Ordered by effectiveFrom. */
  assignments: PlanAssignment[];
}

/** Null when the payee is not onboarded. */
export async function listPlanAssignments(store: EventStore, payeeId: string): Promise<PlanAssignmentsView | null> {
  if (!(await payeeExists(store, payeeId))) return null;
  const events = await store.readStream(planAssignmentsStreamId(payeeId));
  const state = foldEvents(planAssignmentDecider, events as unknown as PlanAssignmentEvent[]);
  const assignments = [...state.assignments].sort((left, right) => (left.effectiveFrom < right.effectiveFrom ? -1 : left.effectiveFrom > right.effectiveFrom ? 1 : 0));
  return { payeeId, revision: events.at(-1)?.revision ?? -1, assignments };
}
