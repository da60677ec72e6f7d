import { describe, expect, it } from '@jest/globals';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import {
  PAYEE_NOT_FOUND,
  PLAN_NOT_FOUND,
  planAssignmentDecider,
  planAssignmentsStreamId,
  rangesOverlap,
  type AssignPlan,
  type EndAssignment,
  type PlanAssigned,
  type PlanAssignmentEvent,
} from './plan-assignment.decider.js';

const given = DeciderSpecification.for(planAssignmentDecider);

const assign: AssignPlan = {
  type: 'AssignPlan',
  payeeId: 'ada',
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  effectiveUntil: null,
  payee: { found: true, startDate: '2026-01-01', currency: 'USD' },
  plan: { found: true, publishedVersions: [{ version: 1, effectiveFrom: '2026-01-01', currency: 'USD' }] },
};

const assigned = (planId: string, effectiveFrom: string, effectiveUntil: string | null = null): PlanAssigned => ({
  type: 'PlanAssigned',
  data: { assignmentId: `${planId}@${effectiveFrom}`, payeeId: 'ada', planId, effectiveFrom, effectiveUntil },
});

const end = (assignmentId: string, effectiveUntil: string): EndAssignment => ({ type: 'EndAssignment', payeeId: 'ada', assignmentId, effectiveUntil });

const ended = (planId: string, effectiveFrom: string, effectiveUntil: string): PlanAssignmentEvent => ({
  type: 'PlanAssignmentEnded',
  data: { assignmentId: `${planId}@${effectiveFrom}`, payeeId: 'ada', planId, effectiveUntil },
});

describe('plan assignment decider: AssignPlan', () => {
  it('assigns an open-ended plan, with the id planId@effectiveFrom', () => {
    given([]).when(assign).then([assigned('ae-2026', '2026-01-01')]);
  });

  it('assigns a plan for a bounded range', () => {
    given([]).when({ ...assign, effectiveUntil: '2026-07-01' }).then([assigned('ae-2026', '2026-01-01', '2026-07-01')]);
  });

  it('assigns another plan right where the previous assignment ends (until is exclusive)', () => {
    given([assigned('ae-2026', '2026-01-01', '2026-07-01')])
      .when({ ...assign, planId: 'se-2026', effectiveFrom: '2026-07-01' })
      .then([assigned('se-2026', '2026-07-01')]);
  });

  it('records nothing when the same assignment is sent again', () => {
    given([assigned('ae-2026', '2026-01-01')]).when(assign).then([]);
  });

  it('rejects the same assignment with another end date (ending it is a separate command)', () => {
    given([assigned('ae-2026', '2026-01-01')]).when({ ...assign, effectiveUntil: '2026-03-01' }).thenThrows('ASSIGNMENT.OVERLAPS', 'conflict');
  });

  it.each([
    ['an open assignment starting later', [assigned('ae-2026', '2026-01-01')], { planId: 'se-2026', effectiveFrom: '2026-05-01' }],
    ['a bounded assignment it runs into', [assigned('ae-2026', '2026-03-01', '2026-06-01')], { planId: 'se-2026', effectiveUntil: '2026-03-02' }],
    ['a later assignment an open one would cover', [assigned('ae-2026', '2026-09-01')], { planId: 'se-2026' }],
  ])('rejects overlapping %s, whatever the plan', (_name, history, change) => {
    const error = given(history).when({ ...assign, ...change }).thenThrows('ASSIGNMENT.OVERLAPS', 'conflict');
    expect(error.message).toContain(history[0].data.assignmentId);
  });

  it('rejects an unknown payee', () => {
    given([]).when({ ...assign, payee: PAYEE_NOT_FOUND }).thenThrows('PAYEE.NOT_FOUND', 'not_found');
  });

  it('rejects a start before the payee starts', () => {
    given([]).when({ ...assign, payee: { found: true, startDate: '2026-02-01', currency: 'USD' } }).thenThrows('ASSIGNMENT.BEFORE_PAYEE_START', 'validation');
  });

  it('rejects an unknown plan', () => {
    given([]).when({ ...assign, plan: PLAN_NOT_FOUND }).thenThrows('PLAN.NOT_FOUND', 'not_found');
  });

  it('rejects a plan with only a draft', () => {
    given([]).when({ ...assign, plan: { found: true, publishedVersions: [] } }).thenThrows('PLAN.NOT_PUBLISHED', 'conflict');
  });

  it('rejects a start before the plan has a version in force', () => {
    const plan = {
      found: true,
      publishedVersions: [
        { version: 2, effectiveFrom: '2026-07-01', currency: 'USD' },
        { version: 1, effectiveFrom: '2026-02-01', currency: 'USD' },
      ],
    };
    const error = given([]).when({ ...assign, plan }).thenThrows('ASSIGNMENT.BEFORE_PLAN_EFFECTIVE', 'validation');
    expect(error.fields).toEqual([expect.objectContaining({ field: 'effectiveFrom', message: expect.stringContaining('2026-02-01') })]);
  });

  it("rejects a plan in another currency than the payee's", () => {
    const error = given([]).when({ ...assign, payee: { ...assign.payee, currency: 'EUR' } }).thenThrows('ASSIGNMENT.CURRENCY_MISMATCH', 'validation');
    expect(error.fields).toEqual([expect.objectContaining({ field: 'planId' })]);
  });

  it.each([
    ['payeeId', { payeeId: 'a b' }, 'VALIDATION.IDENTIFIER'],
    ['planId', { planId: 'ae@2026' }, 'VALIDATION.IDENTIFIER'],
    ['effectiveFrom', { effectiveFrom: '2026-13-01' }, 'VALIDATION.DATE'],
    ['effectiveUntil', { effectiveUntil: '2026-02-30' }, 'VALIDATION.DATE'],
    ['range', { effectiveUntil: '2026-01-01' }, 'ASSIGNMENT.RANGE_EMPTY'],
  ])('rejects a bad %s', (_field, change, code) => {
    given([]).when({ ...assign, ...change } as AssignPlan).thenThrows(code, 'validation');
  });
});

describe('plan assignment decider: EndAssignment', () => {
  it('ends an open assignment', () => {
    given([assigned('ae-2026', '2026-01-01')]).when(end('ae-2026@2026-01-01', '2026-07-01')).then([ended('ae-2026', '2026-01-01', '2026-07-01')]);
  });

  it('moves the end of an ended assignment', () => {
    given([assigned('ae-2026', '2026-01-01'), ended('ae-2026', '2026-01-01', '2026-07-01')])
      .when(end('ae-2026@2026-01-01', '2026-05-01'))
      .then([ended('ae-2026', '2026-01-01', '2026-05-01')]);
  });

  it('records nothing when the end date is unchanged', () => {
    given([assigned('ae-2026', '2026-01-01', '2026-07-01')]).when(end('ae-2026@2026-01-01', '2026-07-01')).then([]);
  });

  it('rejects moving the end into the next assignment', () => {
    given([assigned('ae-2026', '2026-01-01', '2026-07-01'), assigned('se-2026', '2026-07-01')])
      .when(end('ae-2026@2026-01-01', '2026-08-01'))
      .thenThrows('ASSIGNMENT.OVERLAPS', 'conflict');
  });

  it('rejects an unknown assignment', () => {
    given([assigned('ae-2026', '2026-01-01')]).when(end('ae-2026@2026-02-01', '2026-07-01')).thenThrows('ASSIGNMENT.NOT_FOUND', 'not_found');
  });

  it('rejects an end on or before the start', () => {
    given([assigned('ae-2026', '2026-01-01')]).when(end('ae-2026@2026-01-01', '2026-01-01')).thenThrows('ASSIGNMENT.RANGE_EMPTY', 'validation');
  });

  it('rejects a bad end date', () => {
    given([assigned('ae-2026', '2026-01-01')]).when(end('ae-2026@2026-01-01', '1 July')).thenThrows('VALIDATION.DATE', 'validation');
  });
});

describe('plan assignments state', () => {
  it('holds every assignment with its current end', () => {
    const state = foldEvents(planAssignmentDecider, [assigned('ae-2026', '2026-01-01'), ended('ae-2026', '2026-01-01', '2026-07-01'), assigned('se-2026', '2026-07-01')]);
    expect(state.assignments).toEqual([
      { assignmentId: 'ae-2026@2026-01-01', payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: '2026-07-01' },
      { assignmentId: 'se-2026@2026-07-01', payeeId: 'ada', planId: 'se-2026', effectiveFrom: '2026-07-01', effectiveUntil: null },
    ]);
  });

  it('refuses to fold an end of an assignment that was never made', () => {
    expect(() => foldEvents(planAssignmentDecider, [ended('ae-2026', '2026-01-01', '2026-07-01')])).toThrow('never assigned');
  });

  it('treats ranges as [from, until) with null open-ended', () => {
    const range = (effectiveFrom: string, effectiveUntil: string | null) => ({ effectiveFrom, effectiveUntil });
    expect(rangesOverlap(range('2026-01-01', '2026-02-01'), range('2026-02-01', null))).toBe(false);
    expect(rangesOverlap(range('2026-01-01', '2026-02-02'), range('2026-02-01', null))).toBe(true);
    expect(rangesOverlap(range('2026-01-01', null), range('2025-01-01', null))).toBe(true);
    expect(rangesOverlap(range('2026-03-01', '2026-04-01'), range('2026-01-01', '2026-03-01'))).toBe(false);
  });

  it('names the stream plan-assignments-<payeeId>', () => {
    expect(planAssignmentsStreamId('ada')).toBe('plan-assignments-ada');
  });
});
