import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { clawbackWindowAnchors, clawbackWindowUnits, drawKinds, periodFrequencies, rateTableModes, tierBases } from '#lib/commissions/domain/index.js';
import { CalendarDate, CurrencyCode, Identifier, OptionalCalendarDate } from '../../http/validators.js';

/**
 * Request bodies for plans and plan assignments. These check shape only: which properties exist (a misspelt one
 * is refused rather than ignored), strings where strings belong, lists where lists belong. What the values mean
 * (tiers that overlap or leave gaps, negative rates, a cap below zero, an unknown mode) is the commission engine's
 * judgement, answered with its own codes and field paths (PLAN.TIERS_OVERLAP at components[0].tiers[1].from).
 */

const componentKinds = ['rate_table', 'spif', 'milestone_bonus'] as const;

/** A decimal string the engine judges (sign, range); numbers are refused here: money and rates are never floats. */
const DecimalText = (description: string, example: string, required = true): PropertyDecorator =>
  applyDecorators(
    ...(required
      ? [ApiProperty({ type: String, description: `${description} (decimal string)`, example })]
      : [ApiPropertyOptional({ type: String, description: `${description} (decimal string)`, example, nullable: true }), IsOptional()]),
    IsString({ message: '$property must be a decimal string such as "0.10", not a number' }),
    MaxLength(40),
  );

const Name = (description: string, example: string, required = true): PropertyDecorator =>
  applyDecorators(
    ...(required ? [ApiProperty({ description, example })] : [ApiPropertyOptional({ description, example }), IsOptional()]),
    IsString(),
    MaxLength(200),
  );

const NestedList = (type: () => new () => object, description: string): PropertyDecorator =>
  applyDecorators(ApiProperty({ type: [type()], description }), IsArray(), ArrayMaxSize(100), ValidateNested({ each: true }), Type(type));

export class TierBody {
  @DecimalText('Inclusive lower bound: percent of quota (basis attainment) or plan-currency amount (basis amount)', '0') from!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Exclusive upper bound; null on the last, open tier (decimal string)', example: '50' })
  @IsOptional()
  @IsString({ message: '$property must be a decimal string or null' })
  @MaxLength(40)
  to!: string | null;
  @DecimalText('A plain rate: the fraction paid (0.10 = 10%). Give this or multiplier', '0.05', false) rate?: string;
  @DecimalText("A multiplier on the component's base rate. Give this or rate", '1.5', false) multiplier?: string;
}

export class ComponentBody {
  @ApiProperty({ enum: componentKinds, description: 'What kind of component this is' })
  @IsIn(componentKinds, { message: `$property must be one of ${componentKinds.join(', ')}` })
  kind!: (typeof componentKinds)[number];
  @Name('Component id, unique within the plan; keeps its identity across versions', 'commission') id!: string;
  @Name('Readable name', 'New business commission', false) name?: string;
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: "Capitalise this component's commission as a cost of obtaining a contract and amortise it over this many months (ASC 340-40); omit to expense it",
    example: 60,
  })
  @IsOptional()
  @IsInt()
  benefitMonths?: number | null;
}

export class RateTableComponentBody extends ComponentBody {
  @Name('Measure the component counts, e.g. bookings', 'bookings') measure!: string;
  @ApiProperty({ enum: tierBases, description: 'Tier bounds are percent of quota (attainment) or amounts (amount)' })
  @IsString()
  basis!: string;
  @ApiProperty({ enum: rateTableModes, description: 'marginal (each slice its own rate), retro (whole amount at the tier reached), per_transaction' })
  @IsString()
  mode!: string;
  @NestedList(() => TierBody, 'Tiers [from, to): the first starts at 0, each starts where the one before ends, the last is open') tiers!: TierBody[];
  @DecimalText('Base rate for multiplier tiers', '0.08', false) baseRate?: string;
  @DecimalText('Target incentive for the period; base rate = target incentive / quota', '12000.00', false) targetIncentive?: string;
  @DecimalText('Most the component pays in a period, in plan currency', '20000.00', false) capPerPeriod?: string | null;
  @DecimalText('Most the component pays for one deal in a period', '5000.00', false) capPerDeal?: string | null;
  @DecimalText('Attainment percent below which earnings are held', '50', false) thresholdPercent?: string | null;
}

export class SpifFilterBody {
  @Name('Product the SPIF pays on', 'platform', false) product?: string;
  @Name('Deal type the SPIF pays on', 'new_business', false) dealType?: string;
}

export class SpifPayoutBody {
  @ApiProperty({ enum: ['flat', 'percent_of_credit'] })
  @IsString()
  type!: string;
  @DecimalText('Flat amount per deal, times the payee share (type flat)', '500.00', false) amount?: string;
  @DecimalText('Percent of the credited amount (type percent_of_credit)', '2', false) percent?: string;
}

export class SpifComponentBody extends ComponentBody {
  @ApiProperty({ type: SpifFilterBody })
  @IsObject()
  @ValidateNested()
  @Type(() => SpifFilterBody)
  filter!: SpifFilterBody;
  @Name('Measure a percent SPIF is a percent of', 'bookings', false) measure?: string;
  @ApiProperty({ type: SpifPayoutBody })
  @IsObject()
  @ValidateNested()
  @Type(() => SpifPayoutBody)
  payout!: SpifPayoutBody;
}

export class MilestoneBody {
  @DecimalText('Attainment percent that pays the bonus', '100') attainmentPercent!: string;
  @DecimalText('Bonus amount in plan currency', '2500.00') amount!: string;
}

export class MilestoneBonusComponentBody extends ComponentBody {
  @Name('Measure whose attainment the milestones count', 'bookings') measure!: string;
  @NestedList(() => MilestoneBody, 'Bonuses, each paid once per period when attainment first reaches it') milestones!: MilestoneBody[];
}

const componentSubTypes = [
  { value: RateTableComponentBody, name: 'rate_table' },
  { value: SpifComponentBody, name: 'spif' },
  { value: MilestoneBonusComponentBody, name: 'milestone_bonus' },
];

export class ClawbackWindowBody {
  @ApiProperty({ description: 'Length of the window; its last day counts as inside', example: 90 })
  @IsInt()
  length!: number;
  @ApiProperty({ enum: clawbackWindowUnits })
  @IsString()
  unit!: (typeof clawbackWindowUnits)[number];
}

export class ClawbackBody {
  @ApiProperty({ type: ClawbackWindowBody, description: 'How long after the credit (or close) date a cancellation still claws back' })
  @IsObject()
  @ValidateNested()
  @Type(() => ClawbackWindowBody)
  window!: ClawbackWindowBody;
  @ApiProperty({ enum: clawbackWindowAnchors, description: 'The date the window runs from' })
  @IsString()
  windowStartsFrom!: (typeof clawbackWindowAnchors)[number];
  @DecimalText('Percentage of the commission paid on the deal that is reversed', '100') percent!: string;
  @ApiProperty({ description: 'Whether the cancelled deal stops counting toward attainment in the closed period (other lines are then adjusted)' })
  @IsBoolean()
  reducesAttainment!: boolean;
}

export class DrawBody {
  @ApiProperty({ enum: drawKinds, description: 'recoverable: an advance recovered from later earnings above the draw; non_recoverable: a top-up' })
  @IsString()
  kind!: (typeof drawKinds)[number];
  @DecimalText('Guaranteed pay per period, in plan currency', '2000.00') amountPerPeriod!: string;
}

@ApiExtraModels(RateTableComponentBody, SpifComponentBody, MilestoneBonusComponentBody)
export class PlanVersionBody {
  @CalendarDate('First day the version is in force; after the latest published version\'s', '2026-01-01') effectiveFrom!: string;
  @CurrencyCode('Plan currency: quotas, caps and statements are in it; the same in every version') currency!: string;
  @ApiProperty({ enum: periodFrequencies, description: 'Statement period; the same in every version' })
  @IsString()
  periodFrequency!: (typeof periodFrequencies)[number];
  @ApiProperty({
    description: 'How the plan pays: rate tables, SPIFs, milestone bonuses (chosen by kind)',
    type: 'array',
    items: { oneOf: componentSubTypes.map((subType) => ({ $ref: getSchemaPath(subType.value) })) },
  })
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ComponentBody, { discriminator: { property: 'kind', subTypes: componentSubTypes }, keepDiscriminatorProperty: true })
  components!: ComponentBody[];
  @ApiProperty({ description: 'Whether commission is a cost of obtaining a contract, capitalised and amortised (ASC 340-40)' })
  @IsBoolean()
  capitalizable!: boolean;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Amortisation months when capitalizable; null otherwise', example: null })
  @IsOptional()
  @IsInt()
  benefitMonths?: number | null;
  @ApiPropertyOptional({ description: 'Period calendar the plan closes in; default monthly, quarterly or yearly after periodFrequency; the same in every version', example: 'monthly' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  calendarId?: string;
  @ApiPropertyOptional({ type: ClawbackBody, nullable: true, description: 'Clawback terms for deals cancelled after their period closed; omit or null for none' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ClawbackBody)
  clawback?: ClawbackBody | null;
  @ApiPropertyOptional({ type: DrawBody, nullable: true, description: 'A draw (guaranteed pay per period); omit or null for none' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DrawBody)
  draw?: DrawBody | null;
}

export class DraftPlanVersionBody extends PlanVersionBody {
  @Identifier('Plan id; a new id starts a plan at version 1, a known one drafts its next version', 'ae-2026') planId!: string;
}

export class AssignPlanBody {
  @Identifier('Plan to pay the payee under; it must have a published version', 'ae-2026') planId!: string;
  @CalendarDate('First day on the plan', '2026-01-01') effectiveFrom!: string;
  @OptionalCalendarDate('First day no longer on the plan (exclusive); omit while open-ended', '2027-01-01') effectiveUntil?: string;
}

export class EndAssignmentBody {
  @CalendarDate('First day no longer on the plan (exclusive)', '2026-07-01') effectiveUntil!: string;
}
