/**
 * The relay writes records field by field; they must be exactly what the generated code makes of the same message
 * (`create` + `toBinary`), byte for byte, for every kind of record and every optional field set or not.
 */
import { describe, expect, it } from '@jest/globals';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { SourceSchema } from '../contracts/generated/incentive_ledger/common/v1/common_pb.js';
import { AttainmentChangedSchema } from '../contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { PayoutEventSchema } from '../contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import type { AttainmentChange } from '../domain/attainment-feed.js';
import type { PayoutChange } from '../domain/payout-feed.js';
import type { PayoutFigures } from '#lib/payouts/domain/payout.js';
import { encodeAttainmentChange, encodePayoutChange } from './feed-encoding.js';

const recorded: RecordedEvent = {
  eventId: '2f1c0a52-9a3e-4c41-8d0b-0f5b3c2a1e77',
  type: 'PayoutsApproved',
  schemaVersion: 1,
  streamId: 'period-fy26-monthly-2026-03',
  revision: 4,
  position: 9_007_199_254,
  recordedAt: '2026-04-02T08:15:30.123Z',
  data: {},
  metadata: { actor: { id: 'finance-1', role: 'finance' }, correlationId: 'c0ffee00-0000-4000-8000-000000000001', causationId: null, commandId: 'k-1', occurredAt: '2026-04-02T08:15:30.000Z' },
};

const sourceOf = (event: RecordedEvent) =>
  create(SourceSchema, {
    ledgerEventId: event.eventId,
    ledgerEventType: event.type,
    ledgerPosition: BigInt(event.position),
    ledgerStreamId: event.streamId,
    correlationId: event.metadata.correlationId,
    actor: { id: event.metadata.actor.id, role: event.metadata.actor.role },
    occurredAt: timestampFromDate(new Date(event.metadata.occurredAt)),
    recordedAt: timestampFromDate(new Date(event.recordedAt)),
  });

const period = { payeeId: 'ana', calendarId: 'fy26-monthly', periodId: '2026-03' };

describe('feed record encoding', () => {
  const figures: PayoutFigures = {
    grossEarned: '1200.50',
    capitalized: [
      { benefitMonths: 24, amount: '200.00' },
      { benefitMonths: 60, amount: '0.50' },
    ],
    adjustments: '-80.00',
    clawbacks: '-500.00',
    earningsDeficitApplied: '0.00',
    drawKind: 'recoverable',
    drawPaid: '1379.50',
    drawRecovered: '0.00',
    carryOpening: { drawBalance: '0.00', earningsDeficit: '0.00' },
    carryClosing: { drawBalance: '1379.50', earningsDeficit: '0.00' },
  };
  const generatedFigures = (of: PayoutFigures) => ({
    grossEarned: of.grossEarned,
    capitalized: of.capitalized,
    adjustments: of.adjustments,
    clawbacks: of.clawbacks,
    earningsDeficitApplied: of.earningsDeficitApplied,
    drawKind: of.drawKind ?? '',
    drawPaid: of.drawPaid,
    drawRecovered: of.drawRecovered,
    drawBalanceClosing: of.carryClosing.drawBalance,
    earningsDeficitClosing: of.carryClosing.earningsDeficit,
  });
  const noDraw: PayoutFigures = { ...figures, capitalized: [], drawKind: null, drawPaid: '0.00', carryClosing: { drawBalance: '0.00', earningsDeficit: '0' } };
  const payoutCases: [string, PayoutChange, object][] = [
    [
      'approved',
      { kind: 'approved', ...period, payoutId: 'payout:ana:2026-03:d', statementDigest: 'sha256:d', currency: 'USD', netPayable: '2000.00', approvedBy: 'finance-1', figures },
      {
        case: 'approved',
        value: { payoutId: 'payout:ana:2026-03:d', statementDigest: 'sha256:d', currency: 'USD', netPayable: '2000.00', approvedBy: 'finance-1', figures: generatedFigures(figures) },
      },
    ],
    [
      'approved without a draw',
      { kind: 'approved', ...period, payoutId: 'p-0', statementDigest: 'sha256:e', currency: 'USD', netPayable: '620.50', approvedBy: 'finance-1', figures: noDraw },
      { case: 'approved', value: { payoutId: 'p-0', statementDigest: 'sha256:e', currency: 'USD', netPayable: '620.50', approvedBy: 'finance-1', figures: generatedFigures(noDraw) } },
    ],
    [
      'paid',
      { kind: 'paid', ...period, payoutId: 'p-1', payrollReference: 'RUN-7', confirmedBy: 'payroll-confirmations', paidOn: '2026-04-05', currency: 'USD', netPayable: '2750.00' },
      { case: 'paid', value: { payoutId: 'p-1', payrollReference: 'RUN-7', confirmedBy: 'payroll-confirmations', paidOn: '2026-04-05', currency: 'USD', netPayable: '2750.00' } },
    ],
    [
      'adjusted',
      {
        kind: 'adjusted',
        ...period,
        currency: 'EUR',
        postedBy: 'analyst-1',
        lines: [
          { lineId: 'ppa:1', kind: 'adjustment', amount: '-80.00', dealId: 'D-9', sourcePeriodId: '2026-02', cause: { kind: 'deal_amended', reference: 'D-9' }, explanation: 'Deal amended (D-9)' },
          { lineId: 'cb:2', kind: 'clawback', amount: '-1.50', dealId: null },
          { lineId: 'x:3', kind: 'adjustment', amount: '0.00', sourcePeriodId: '', explanation: '' },
        ],
      },
      {
        case: 'adjusted',
        value: {
          currency: 'EUR',
          postedBy: 'analyst-1',
          lines: [
            { lineId: 'ppa:1', kind: 'adjustment', amount: '-80.00', dealId: 'D-9', sourcePeriodId: '2026-02', causeKind: 'deal_amended', causeReference: 'D-9', explanation: 'Deal amended (D-9)' },
            { lineId: 'cb:2', kind: 'clawback', amount: '-1.50' },
            { lineId: 'x:3', kind: 'adjustment', amount: '0.00', sourcePeriodId: '', explanation: '' },
          ],
        },
      },
    ],
    ['approval voided', { kind: 'approval_voided', ...period, payoutId: 'p-2', reason: 'late deal', reopenedBy: 'finance-2' }, { case: 'approvalVoided', value: { payoutId: 'p-2', reason: 'late deal', reopenedBy: 'finance-2' } }],
  ];

  it.each(payoutCases)('writes the %s payout record as the generated code does', (_, change, expectedChange) => {
    const record = encodePayoutChange(recorded, change, 'icm.payouts.v1');
    const expected = toBinary(
      PayoutEventSchema,
      create(PayoutEventSchema, { eventId: record.headers['event-id'], ...period, source: sourceOf(recorded), change: expectedChange as never }),
    );
    expect(Buffer.from(record.value).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  });

  it.each<[string, Partial<AttainmentChange>]>([
    ['with a quota and a deal', { quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, dealId: 'D-1', reason: 'credited' }],
    ['without a quota or a deal, no deals counted', { quota: null, attainmentPercent: null, dealsCounted: 0, dealId: null, reason: 'quota' }],
  ])('writes an attainment record %s as the generated code does', (_, overrides) => {
    const change: AttainmentChange = {
      payeeId: 'ana',
      periodId: '2026-Q1',
      measure: 'bookings',
      currency: 'USD',
      credited: '56000.125',
      quota: null,
      attainmentPercent: null,
      dealsCounted: 0,
      reason: 'credited',
      dealId: null,
      ...overrides,
    };
    const record = encodeAttainmentChange(recorded, change, 'icm.attainment.v1');
    const expected = toBinary(
      AttainmentChangedSchema,
      create(AttainmentChangedSchema, {
        eventId: record.headers['event-id'],
        payeeId: change.payeeId,
        periodId: change.periodId,
        measure: change.measure,
        currency: change.currency,
        credited: change.credited,
        ...(change.quota !== null ? { quota: change.quota } : {}),
        ...(change.attainmentPercent !== null ? { attainmentPercent: change.attainmentPercent } : {}),
        dealsCounted: change.dealsCounted,
        reason: change.reason,
        ...(change.dealId !== null ? { dealId: change.dealId } : {}),
        source: sourceOf(recorded),
      }),
    );
    expect(Buffer.from(record.value).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  });

  it('derives the same record id for the same event and change, and another for another payee', () => {
    const change: PayoutChange = { kind: 'paid', ...period, payoutId: 'p-1', payrollReference: 'RUN-7', confirmedBy: 'payroll-1', paidOn: '2026-04-05', currency: 'USD', netPayable: '10.00' };
    const again = encodePayoutChange(recorded, change, 'icm.payouts.v1');
    expect(encodePayoutChange(recorded, change, 'icm.payouts.v1').headers['event-id']).toBe(again.headers['event-id']);
    expect(encodePayoutChange(recorded, { ...change, payeeId: 'ben' }, 'icm.payouts.v1').headers['event-id']).not.toBe(again.headers['event-id']);
  });
});
