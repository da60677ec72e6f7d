import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import {
  OVERLAY_PAYEE_NOT_FOUND,
  overlaysInForce,
  territoryOverlayIdOf,
  territoryOverlaySplits,
  territoryOverlaysDecider,
  territoryOverlaysStreamId,
  type AssignTerritoryOverlay,
  type EndTerritoryOverlay,
  type TerritoryOverlayAssigned,
  type TerritoryOverlayEvent,
} from './territory-overlays.decider.js';

const given = DeciderSpecification.for(territoryOverlaysDecider);

const assign: AssignTerritoryOverlay = {
  type: 'AssignTerritoryOverlay',
  territory: 'EMEA',
  payeeId: 'sam',
  role: 'overlay_specialist',
  effectiveFrom: '2026-01-01',
  effectiveUntil: null,
  payee: { found: true, startDate: '2026-01-01' },
};

const assigned = (payeeId: string, effectiveFrom: string, effectiveUntil: string | null = null, extra: Partial<TerritoryOverlayAssigned['data']> = {}): TerritoryOverlayAssigned => ({
  type: 'TerritoryOverlayAssigned',
  data: { assignmentId: `${payeeId}@${effectiveFrom}`, territory: 'EMEA', payeeId, role: 'overlay_specialist', sharePercent: '100', effectiveFrom, effectiveUntil, ...extra },
});

const end = (assignmentId: string, effectiveUntil: string): EndTerritoryOverlay => ({ type: 'EndTerritoryOverlay', territory: 'EMEA', assignmentId, effectiveUntil });

const ended = (payeeId: string, effectiveFrom: string, effectiveUntil: string): TerritoryOverlayEvent => ({
  type: 'TerritoryOverlayEnded',
  data: { territory: 'EMEA', assignmentId: `${payeeId}@${effectiveFrom}`, payeeId, effectiveUntil },
});

describe('territory overlays decider: AssignTerritoryOverlay', () => {
  it('registers an open-ended overlay at 100% by default, with the id payeeId@effectiveFrom in the territory stream', () => {
    given([]).when(assign).then([assigned('sam', '2026-01-01')]);
    expect(territoryOverlayIdOf('sam', '2026-01-01')).toBe('sam@2026-01-01');
    expect(territoryOverlaysStreamId('EMEA')).toBe('territory-overlays-EMEA');
  });

  it('registers a bounded overlay with its own role and share', () => {
    given([])
      .when({ ...assign, role: 'territory_manager', sharePercent: '25', effectiveUntil: '2026-07-01' })
      .then([assigned('sam', '2026-01-01', '2026-07-01', { role: 'territory_manager', sharePercent: '25' })]);
  });

  it('registers several payees on one territory, and the same payee again right where the last overlay ends', () => {
    given([assigned('sam', '2026-01-01', '2026-07-01')])
      .when({ ...assign, payeeId: 'tess' })
      .then([assigned('tess', '2026-01-01')]);
    given([assigned('sam', '2026-01-01', '2026-07-01')])
      .when({ ...assign, effectiveFrom: '2026-07-01', role: 'territory_manager' })
      .then([assigned('sam', '2026-07-01', null, { role: 'territory_manager' })]);
  });

  it('records nothing when the same overlay is sent again', () => {
    given([assigned('sam', '2026-01-01')]).when(assign).then([]);
  });

  it.each([
    ['another end date', { effectiveUntil: '2026-03-01' }],
    ['another role', { role: 'territory_manager' }],
    ['another share', { sharePercent: '50' }],
  ])('rejects the same overlay with %s (ending it is a separate command)', (_name, change) => {
    given([assigned('sam', '2026-01-01')]).when({ ...assign, ...change }).thenThrows('TERRITORY_OVERLAY.OVERLAPS', 'conflict');
  });

  it.each([
    ['an open overlay starting later', [assigned('sam', '2026-01-01')], { effectiveFrom: '2026-05-01' }],
    ['a bounded overlay it runs into', [assigned('sam', '2026-03-01', '2026-06-01')], { effectiveUntil: '2026-03-02' }],
    ['a later overlay an open one would cover', [assigned('sam', '2026-09-01')], {}],
  ])('rejects overlapping %s of the same payee on the territory', (_name, history, change) => {
    const error = given(history).when({ ...assign, ...change }).thenThrows('TERRITORY_OVERLAY.OVERLAPS', 'conflict');
    expect(error.message).toContain(history[0]!.data.assignmentId);
  });

  it('rejects an unknown payee, and a start before the payee starts', () => {
    given([]).when({ ...assign, payee: OVERLAY_PAYEE_NOT_FOUND }).thenThrows('PAYEE.NOT_FOUND', 'not_found');
    const error = given([]).when({ ...assign, payee: { found: true, startDate: '2026-02-01' } }).thenThrows('TERRITORY_OVERLAY.BEFORE_PAYEE_START', 'validation');
    expect(error.fields).toEqual([expect.objectContaining({ field: 'effectiveFrom' })]);
  });

  it('rejects an end on or before the start', () => {
    given([]).when({ ...assign, effectiveUntil: '2026-01-01' }).thenThrows('TERRITORY_OVERLAY.RANGE_EMPTY', 'validation');
    given([]).when({ ...assign, effectiveUntil: '2025-12-31' }).thenThrows('TERRITORY_OVERLAY.RANGE_EMPTY', 'validation');
  });

  it.each([
    ['a blank territory', { territory: ' ' }, 'VALIDATION.TEXT'],
    ['an overlong territory', { territory: 'x'.repeat(101) }, 'VALIDATION.TEXT'],
    ['a payee id that cannot be a stream id', { payeeId: 'sam smith' }, 'VALIDATION.IDENTIFIER'],
    ['a role that is not a role name', { role: 'Overlay Specialist' }, 'VALIDATION.ROLE'],
    ['a share of zero', { sharePercent: '0' }, 'CREDIT.SHARE_OUT_OF_RANGE'],
    ['a share over 100', { sharePercent: '100.01' }, 'CREDIT.SHARE_OUT_OF_RANGE'],
    ['a share that is not a decimal', { sharePercent: 'half' }, 'VALIDATION.DECIMAL'],
    ['a start that is not a date', { effectiveFrom: '2026-02-30' }, 'VALIDATION.DATE'],
    ['an end that is not a date', { effectiveUntil: '2026-13-01' }, 'VALIDATION.DATE'],
  ])('rejects %s', (_name, change, code) => {
    given([]).when({ ...assign, ...change }).thenThrows(code, 'validation');
  });
});

describe('territory overlays decider: EndTerritoryOverlay', () => {
  it('ends an open overlay on a date (exclusive)', () => {
    given([assigned('sam', '2026-01-01')]).when(end('sam@2026-01-01', '2026-04-01')).then([ended('sam', '2026-01-01', '2026-04-01')]);
  });

  it('moves the end of a bounded overlay, earlier or later', () => {
    given([assigned('sam', '2026-01-01', '2026-06-01')]).when(end('sam@2026-01-01', '2026-03-01')).then([ended('sam', '2026-01-01', '2026-03-01')]);
    given([assigned('sam', '2026-01-01', '2026-06-01')]).when(end('sam@2026-01-01', '2026-09-01')).then([ended('sam', '2026-01-01', '2026-09-01')]);
  });

  it('records nothing when the end is already that date', () => {
    given([assigned('sam', '2026-01-01'), ended('sam', '2026-01-01', '2026-04-01')]).when(end('sam@2026-01-01', '2026-04-01')).then([]);
  });

  it("rejects moving the end into the payee's next overlay on the territory", () => {
    given([assigned('sam', '2026-01-01', '2026-06-01'), assigned('sam', '2026-06-01')]).when(end('sam@2026-01-01', '2026-06-02')).thenThrows('TERRITORY_OVERLAY.OVERLAPS', 'conflict');
  });

  it('rejects an unknown overlay, and an end on or before its start', () => {
    given([assigned('sam', '2026-01-01')]).when(end('tess@2026-01-01', '2026-04-01')).thenThrows('TERRITORY_OVERLAY.NOT_FOUND', 'not_found');
    given([assigned('sam', '2026-03-01')]).when(end('sam@2026-03-01', '2026-03-01')).thenThrows('TERRITORY_OVERLAY.RANGE_EMPTY', 'validation');
    given([assigned('sam', '2026-03-01')]).when(end('sam@2026-03-01', 'soon')).thenThrows('VALIDATION.DATE', 'validation');
  });

  it('fails loudly on an end recorded for an overlay never assigned (a corrupt stream)', () => {
    expect(() => territoryOverlaysDecider.evolve(territoryOverlaysDecider.initialState(), ended('sam', '2026-01-01', '2026-04-01'))).toThrow('never assigned');
  });
});

describe('territory overlays on a date', () => {
  const holders = [
    assigned('sam', '2026-01-01', '2026-03-01').data,
    assigned('tess', '2026-02-01', null, { role: 'territory_manager', sharePercent: '50' }).data,
    assigned('sam', '2026-04-01').data,
  ];

  it('are the overlays whose range holds the date, until exclusive', () => {
    expect(overlaysInForce(holders, '2025-12-31')).toEqual([]);
    expect(overlaysInForce(holders, '2026-02-28').map((holder) => holder.assignmentId)).toEqual(['sam@2026-01-01', 'tess@2026-02-01']);
    expect(overlaysInForce(holders, '2026-03-01').map((holder) => holder.assignmentId)).toEqual(['tess@2026-02-01']);
    expect(overlaysInForce(holders, '2026-04-01').map((holder) => holder.assignmentId)).toEqual(['tess@2026-02-01', 'sam@2026-04-01']);
  });

  it('credit each holder in force once with their role and share, skipping payees already credited', () => {
    expect(territoryOverlaySplits(holders, '2026-02-15', ['ada'])).toEqual([
      { payeeId: 'sam', sharePercent: '100', role: 'overlay_specialist' },
      { payeeId: 'tess', sharePercent: '50', role: 'territory_manager' },
    ]);
    expect(territoryOverlaySplits(holders, '2026-02-15', ['ada', 'tess'])).toEqual([{ payeeId: 'sam', sharePercent: '100', role: 'overlay_specialist' }]);
  });
});
