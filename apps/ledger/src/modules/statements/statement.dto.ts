import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Matches, ValidateBy, ValidateNested } from 'class-validator';
import { CalendarDate, CurrencyCode, DecimalAmount, OptionalDecimalAmount, OptionalIdentifier, Text } from '../../http/validators.js';

const measureKeyPattern = /^[a-z][a-z0-9_]{0,31}$/;
const decimalPattern = /^(0|[1-9]\d{0,17})(\.\d{1,10})?$/;
export const periodIdPattern = /^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/;

/** { "bookings": "80000.00" }: measure names to non-negative decimal strings, as a real deal takes them. */
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

export class HypotheticalDealBody {
  @OptionalIdentifier('A name for the deal, to find its lines by', 'D-hope') dealId?: string;
  @DecimalAmount('Deal amount', '20000.00') amount!: string;
  @CurrencyCode('Deal currency') currency!: string;
  @CalendarDate('Expected close date: the credit date; must fall in the statement period', '2026-03-25') closeDate!: string;
  @Text('Product (SPIFs filter on it)', 'platform', 64) product!: string;
  @Text('Deal type (SPIFs filter on it)', 'new_business', 64) dealType!: string;
  @OptionalDecimalAmount('Your share of the deal in percent; default 100', '70') sharePercent?: string;
  @ApiPropertyOptional({ description: 'Amount per measure; default { "bookings": amount }', example: { bookings: '20000.00' } })
  @IsOptional()
  @IsMeasureMap()
  measures?: Record<string, string>;
}

export class EstimateStatementBody {
  @ApiProperty({ type: [HypotheticalDealBody], description: 'Deals you expect to close in the period (1 to 50)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => HypotheticalDealBody)
  deals!: HypotheticalDealBody[];
}

export class ModelPlanBody {
  @ApiProperty({ description: 'The period to model, of the plan version\'s frequency: "2026-03", "2026-Q1" or "2026"', example: '2026-03' })
  @IsString()
  @Matches(periodIdPattern, { message: '$property must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' })
  periodId!: string;
}
