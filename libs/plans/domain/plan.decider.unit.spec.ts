import { describe, expect, it } from '@jest/globals';
import type { PlanVersionInput, RateTableComponentInput } from '#lib/commissions/domain/index.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import {
  planDecider,
  planStreamId,
  type DraftPlanVersion,
  type PlanEvent,
  type PlanVersionContent,
  type PlanVersionPublished,
  type PublishPlanVersion,
  type RevisePlanDraft,
} from './plan.decider.js';

const given = DeciderSpecification.for(planDecider);

const threeTiers: RateTableComponentInput = {
  kind: 'rate_table',
  id: 'commission',
  measure: 'bookings',
  basis: 'attainment',
  mode: 'marginal',
  tiers: [
    { from: '0', to: '50', rate: '0.05' },
    { from: '50', to: '100', rate: '0.10' },
    { from: '100', to: null, rate: '0.15' },
  ],
  capPerPeriod: '20000.00',
};

const content: PlanVersionContent = {
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [threeTiers],
  capitalizable: false,
  benefitMonths: null,
};

const versionOf = (version: number, overrides: Partial<PlanVersionContent> = {}): PlanVersionInput => ({
  id: `ae-2026@${version}`,
  planId: 'ae-2026',
  version,
  ...content,
  ...overrides,
});

const draft: DraftPlanVersion = { type: 'DraftPlanVersion', planId: 'ae-2026', ...content };
const publish = (version: number): PublishPlanVersion => ({ type: 'PublishPlanVersion', planId: 'ae-2026', version });
const revise = (version: number, overrides: Partial<PlanVersionContent> = {}): RevisePlanDraft => ({
  type: 'RevisePlanDraft',
  planId: 'ae-2026',
  version,
  ...content,
  ...overrides,
});

const drafted = (version: number, overrides: Partial<PlanVersionContent> = {}): PlanEvent => ({
  type: 'PlanVersionDrafted',
  data: { planId: 'ae-2026', version, planVersion: versionOf(version, overrides) },
});
const published = (version: number, overrides: Partial<PlanVersionContent> = {}): PlanVersionPublished => ({
  type: 'PlanVersionPublished',
  data: { planId: 'ae-2026', version, planVersion: versionOf(version, overrides) },
});

const withTiers = (tiers: RateTableComponentInput['tiers'], extra: Partial<RateTableComponentInput> = {}): Partial<PlanVersionContent> => ({
  components: [{ ...threeTiers, tiers, ...extra }],
});

describe('plan decider: DraftPlanVersion', () => {
  it('drafts version 1 of a new plan with the full content and id planId@1', () => {
    given([]).when(draft).then([drafted(1)]);
  });

  it('drafts the next version after the published ones', () => {
    given([drafted(1), published(1)])
      .when({ ...draft, effectiveFrom: '2026-07-01' })
      .then([drafted(2, { effectiveFrom: '2026-07-01' })]);
  });

  it('keeps only the fields the engine knows and defaults benefitMonths to null', () => {
    const loose = { ...draft, benefitMonths: undefined, notes: 'ignored' } as unknown as DraftPlanVersion;
    given([]).when(loose).then([drafted(1)]);
  });

  it('records the payout settings as given: calendar, clawback terms, draw and a capitalizable component', () => {
    const settings: Partial<PlanVersionContent> = {
      calendarId: 'field-sales',
      clawback: { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '50', reducesAttainment: false },
      draw: { kind: 'recoverable', amountPerPeriod: '2000.00' },
      components: [{ ...threeTiers, benefitMonths: 60 }],
    };
    given([]).when({ ...draft, ...settings }).then([drafted(1, settings)]);
    given([]).when({ ...draft, clawback: null, draw: null }).then([drafted(1)]);
  });

  it('keeps a plan in its calendar across versions', () => {
    given([drafted(1), published(1)]).when({ ...draft, effectiveFrom: '2026-07-01', calendarId: 'field-sales' }).thenThrows('PLAN.CALENDAR_CHANGED', 'validation');
    given([drafted(1), published(1)]).when({ ...draft, effectiveFrom: '2026-07-01', calendarId: 'monthly' }).then([drafted(2, { effectiveFrom: '2026-07-01', calendarId: 'monthly' })]);
  });

  it('rejects a second draft while one is pending', () => {
    given([drafted(1)]).when({ ...draft, effectiveFrom: '2026-07-01' }).thenThrows('PLAN.DRAFT_PENDING', 'conflict');
  });

  it('rejects a draft dated on or before the latest published version', () => {
    const error = given([drafted(1), published(1)]).when(draft).thenThrows('PLAN.VERSION_ORDER', 'validation');
    expect(error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'effectiveFrom' })]));
  });

  it('rejects a currency or period frequency that differs from the published versions', () => {
    given([drafted(1), published(1)]).when({ ...draft, effectiveFrom: '2026-07-01', currency: 'EUR' }).thenThrows('PLAN.CURRENCY_CHANGED');
    given([drafted(1), published(1)]).when({ ...draft, effectiveFrom: '2026-07-01', periodFrequency: 'quarter' }).thenThrows('PLAN.FREQUENCY_CHANGED');
  });

  it('rejects a bad plan id', () => {
    given([]).when({ ...draft, planId: 'ae 2026' }).thenThrows('VALIDATION.IDENTIFIER', 'validation');
  });

  it.each([
    [
      'overlapping tiers',
      withTiers([
        { from: '0', to: '60', rate: '0.05' },
        { from: '50', to: null, rate: '0.10' },
      ]),
      'PLAN.TIERS_OVERLAP',
      'components[0].tiers[1].from',
    ],
    [
      'gapped tiers',
      withTiers([
        { from: '0', to: '50', rate: '0.05' },
        { from: '60', to: null, rate: '0.10' },
      ]),
      'PLAN.TIERS_GAP',
      'components[0].tiers[1].from',
    ],
    ['a negative rate', withTiers([{ from: '0', to: null, rate: '-0.05' }]), 'PLAN.RATE_NEGATIVE', 'components[0].tiers[0].rate'],
    ['a cap below zero', withTiers(threeTiers.tiers, { capPerPeriod: '-1.00' }), 'PLAN.CAP_NEGATIVE', 'components[0].capPerPeriod'],
    ['no components', { components: [] }, 'PLAN.COMPONENTS_EMPTY', 'components'],
    ['an unknown period frequency', { periodFrequency: 'week' as never }, 'PLAN.FREQUENCY_UNKNOWN', 'periodFrequency'],
    ['a capitalizable plan without benefit months', { capitalizable: true, benefitMonths: null }, 'PLAN.BENEFIT_MONTHS_INVALID', 'benefitMonths'],
    ['an impossible date', { effectiveFrom: '2026-02-30' }, 'PLAN.DATE_INVALID', 'effectiveFrom'],
  ])('rejects %s with the engine code and field path', (_name, overrides, code, field) => {
    const error = given([]).when({ ...draft, ...overrides }).thenThrows(code, 'validation');
    expect(error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('reports every problem at once: the first code, every field, every code in the detail', () => {
    const error = given([])
      .when({ ...draft, currency: 'usd', ...withTiers([{ from: '0', to: '50', rate: '-1' }, { from: '40', to: null, rate: '0.1' }]) })
      .thenThrows('PLAN.CURRENCY_INVALID');
    expect(error.fields.map((field) => field.field)).toEqual(['currency', 'components[0].tiers[0].rate', 'components[0].tiers[1].from']);
    expect(error.message).toContain('PLAN.RATE_NEGATIVE');
    expect(error.message).toContain('PLAN.TIERS_OVERLAP');
  });
});

describe('plan decider: RevisePlanDraft', () => {
  it('records the revised content of a draft', () => {
    given([drafted(1)]).when(revise(1, { currency: 'EUR' })).then([
      { type: 'PlanDraftRevised', data: { planId: 'ae-2026', version: 1, planVersion: versionOf(1, { currency: 'EUR' }) } },
    ]);
  });

  it('records nothing when the content is unchanged', () => {
    given([drafted(1)]).when(revise(1)).then([]);
  });

  it('rejects an unknown plan', () => {
    given([]).when(revise(1)).thenThrows('PLAN.NOT_FOUND', 'not_found');
  });

  it('rejects an unknown version', () => {
    given([drafted(1)]).when(revise(2)).thenThrows('PLAN.VERSION_NOT_FOUND', 'not_found');
  });

  it('rejects editing a published version', () => {
    given([drafted(1), published(1)]).when(revise(1, { currency: 'EUR' })).thenThrows('PLAN.VERSION_PUBLISHED', 'conflict');
  });

  it('validates the revised content as a draft is validated', () => {
    given([drafted(1)]).when(revise(1, withTiers([{ from: '0', to: null, rate: '-0.1' }]))).thenThrows('PLAN.RATE_NEGATIVE', 'validation');
  });
});

describe('plan decider: PublishPlanVersion', () => {
  it('publishes the draft with its full content', () => {
    given([drafted(1)]).when(publish(1)).then([published(1)]);
  });

  it('publishes the revised content, not the first draft', () => {
    const revised: PlanEvent = { type: 'PlanDraftRevised', data: { planId: 'ae-2026', version: 1, planVersion: versionOf(1, { effectiveFrom: '2026-02-01' }) } };
    given([drafted(1), revised]).when(publish(1)).then([published(1, { effectiveFrom: '2026-02-01' })]);
  });

  it('publishes a later version after an earlier one', () => {
    given([drafted(1), published(1), drafted(2, { effectiveFrom: '2026-07-01' })])
      .when(publish(2))
      .then([published(2, { effectiveFrom: '2026-07-01' })]);
  });

  it('checks the history again when it publishes', () => {
    // A draft written before the rule existed (or by another writer) is still held to it.
    given([drafted(1), published(1), drafted(2, { effectiveFrom: '2025-12-01' })]).when(publish(2)).thenThrows('PLAN.VERSION_ORDER', 'validation');
  });

  it('rejects an unknown plan', () => {
    given([]).when(publish(1)).thenThrows('PLAN.NOT_FOUND', 'not_found');
  });

  it('rejects an unknown version', () => {
    given([drafted(1)]).when(publish(3)).thenThrows('PLAN.VERSION_NOT_FOUND', 'not_found');
  });

  it('rejects publishing a version twice', () => {
    given([drafted(1), published(1)]).when(publish(1)).thenThrows('PLAN.VERSION_PUBLISHED', 'conflict');
  });
});

describe('plan state', () => {
  it('lists versions with their status and content', () => {
    const state = foldEvents(planDecider, [drafted(1), published(1), drafted(2, { effectiveFrom: '2026-07-01' })]);
    expect(state).toEqual({
      status: 'exists',
      planId: 'ae-2026',
      versions: [
        { version: 1, status: 'published', planVersion: versionOf(1) },
        { version: 2, status: 'draft', planVersion: versionOf(2, { effectiveFrom: '2026-07-01' }) },
      ],
    });
  });

  it('refuses to fold a stream whose versions skip a number or were never drafted', () => {
    expect(() => foldEvents(planDecider, [drafted(2)])).toThrow('drafted after 0 versions');
    expect(() => foldEvents(planDecider, [published(1)])).toThrow('never drafted');
  });

  it('names the stream plan-<planId>', () => {
    expect(planStreamId('ae-2026')).toBe('plan-ae-2026');
  });
});
