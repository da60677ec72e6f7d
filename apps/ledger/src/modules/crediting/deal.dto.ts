import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, ValidateBy, ValidateNested } from 'class-validator';
import { CalendarDate, CurrencyCode, DecimalAmount, Identifier, OptionalCalendarDate, OptionalDecimalAmount, OptionalText, Text } from '../../http/validators.js';

const measureKeyPattern = /^[a-z][a-z0-9_]{0,31}$/;
const decimalPattern = /^(0|[1-9]\d{0,17})(\.\d{1,10})?$/;

/** { "bookings": "80000.00", "revenue": "60000.00" }: lower-case measure names to non-negative decimal strings. */
const IsMeasureMap = (): PropertyDecorator =>
  ValidateBy({
    name: 'isMeasureMap',
    validator: {
      validate: (value: unknown) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length > 0 &&
        Object.keys(value).length <= 16 &&
        Object.entries(value).every(([key, amount]) => measureKeyPattern.test(key) && typeof amount === 'string' && decimalPattern.test(amount)),
      defaultMessage: () => '$property must map measure names (lower case, e.g. "bookings") to non-negative decimal strings',
    },
  });

export class PrimarySplitBody {
  @Identifier('Payee receiving this share of primary credit', 'P-1') payeeId!: string;
  @DecimalAmount('Share of the deal in percent; primary shares total exactly 100', '70') sharePercent!: string;
}

export class OverlaySplitBody {
  @Identifier('Payee receiving overlay credit (on top of the primary shares)', 'P-100') payeeId!: string;
  @DecimalAmount('Overlay share in percent', '100') sharePercent!: string;
  @Text('Why this payee gets overlay credit', 'manager', 32) role!: string;
}

const PrimarySplits = (required: boolean): PropertyDecorator =>
  applyDecorators(
    ...(required
      ? [ApiProperty({ type: [PrimarySplitBody], description: 'Primary credit split; shares must total exactly 100' })]
      : [ApiPropertyOptional({ type: [PrimarySplitBody], description: 'Primary credit split; shares must total exactly 100' }), IsOptional()]),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(50),
    ValidateNested({ each: true }),
    Type(() => PrimarySplitBody),
  );

const OverlaySplits = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      type: [OverlaySplitBody],
      description:
        "Overlay credits on top of the primary shares. Left out: every manager above each primary payee, as the hierarchy stood on the credit date, gets 100% overlay credit, and every overlay holder of the deal's territory on the credit date gets overlay credit with the role and share they hold it with (once per payee). [] means no overlay.",
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(50),
    ValidateNested({ each: true }),
    Type(() => OverlaySplitBody),
  );

export class CloseDealBody {
  @Identifier('Deal id (e.g. the CRM opportunity id)', 'D-1') dealId!: string;
  @Identifier('The deal owner; gets 100% primary credit unless splits are given', 'P-1') ownerPayeeId!: string;
  @DecimalAmount('Deal amount', '80000.00') amount!: string;
  @CurrencyCode('Deal currency') currency!: string;
  @CalendarDate('Date the deal closed won') closeDate!: string;
  @Text('Product, as plans filter SPIFs on it', 'platform', 64) product!: string;
  @Text('Deal type, e.g. new_business, renewal, upsell', 'new_business', 64) dealType!: string;
  @ApiPropertyOptional({ description: 'Amount per measure; default { "bookings": amount }', example: { bookings: '80000.00', revenue: '60000.00' } })
  @IsOptional()
  @IsMeasureMap()
  measures?: Record<string, string>;
  @PrimarySplits(false) splits?: PrimarySplitBody[];
  @OverlaySplits() overlays?: OverlaySplitBody[];
  @OptionalCalendarDate('Date the credits count on; default the close date') creditDate?: string;
  @OptionalText("Sales territory the deal belongs to; default the owner's territory on the close date", 'EMEA', 100) territory?: string;
}

export class AllocateCreditsBody {
  @PrimarySplits(true) splits!: PrimarySplitBody[];
  @OverlaySplits() overlays?: OverlaySplitBody[];
  @OptionalCalendarDate('Date the credits count on; default the close date') creditDate?: string;
}

export class AmendDealBody {
  @OptionalDecimalAmount('New deal amount') amount?: string;
  @ApiPropertyOptional({ description: 'New amounts per measure', example: { bookings: '90000.00' } })
  @IsOptional()
  @IsMeasureMap()
  measures?: Record<string, string>;
  @OptionalCalendarDate('New close date') closeDate?: string;
  @OptionalText('New product', 'platform', 64) product?: string;
  @Text('Why the deal changed', 'price corrected', 500) reason!: string;
}

export class CancelDealBody {
  @CalendarDate('Date the deal was cancelled', '2026-04-02') cancelDate!: string;
  @Text('Why', 'customer withdrew', 500) reason!: string;
}
