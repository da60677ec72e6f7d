import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import { adjustmentCauseKinds } from '#lib/payouts/domain/statement-summary.js';
import { CalendarDate, CurrencyCode, Identifier, OptionalIdentifier, Text } from '../../http/validators.js';
import { CommandAccepted } from '../../http/command-response.js';

/** Request and answer bodies of the period and payout endpoints. Money is a decimal string, never a number. */

const payeeIdsProperty = ApiPropertyOptional({ type: [String], description: 'Payees to act on; omit to act on every payee of the period', example: ['P-1'] });

export class ApprovePayoutsBody {
  @payeeIdsProperty
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  payeeIds?: string[];
}

export class ConfirmPaymentsBody {
  @Text("Payroll's own reference for the run that paid", 'payroll-2026-04-05', 128) payrollReference!: string;
  @CalendarDate('Business date payroll paid on', '2026-04-05') paidOn!: string;
  @payeeIdsProperty
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  payeeIds?: string[];
}

export class ReopenPeriodBody {
  @Text('Why the period is reopened; kept with the period for audit', 'Deal D-9 was booked to March by mistake', 500) reason!: string;
}

export class AdjustmentCauseBody {
  @ApiProperty({ enum: adjustmentCauseKinds, description: 'What the line corrects' })
  @IsIn(adjustmentCauseKinds, { message: `$property must be one of ${adjustmentCauseKinds.join(', ')}` })
  kind!: (typeof adjustmentCauseKinds)[number];
  @Text('What it names: a deal id, a dispute id, a ticket', 'dispute-7', 128) reference!: string;
}

export class ManualLineBody {
  @Identifier('Your id for the line: posting the same id again changes nothing', 'dispute-7-settlement') lineId!: string;
  @ApiProperty({ type: String, description: 'Amount in the payee currency, negative to take back (decimal string)', example: '150.00' })
  @IsString({ message: '$property must be a decimal string such as "150.00", not a number' })
  @Matches(/^-?(0|[1-9]\d{0,17})(\.\d{1,10})?$/, { message: '$property must be a decimal string such as "150.00" or "-40.00"' })
  amount!: string;
  @ApiProperty({ type: AdjustmentCauseBody })
  @IsObject()
  @ValidateNested()
  @Type(() => AdjustmentCauseBody)
  cause!: AdjustmentCauseBody;
  @Text('How the line came about, for the payee to read', 'Dispute 7 approved: the split was 60/40, not 70/30', 1000) explanation!: string;
  @OptionalIdentifier('The deal the line concerns, if one', 'D-1') dealId?: string;
}

export class PostLinesBody {
  @Identifier('Payee the lines are for', 'P-1') payeeId!: string;
  @CurrencyCode('Currency of the lines: the payee statement currency') currency!: string;
  @ApiProperty({ type: [ManualLineBody] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ManualLineBody)
  lines!: ManualLineBody[];
}

export class CurrencyTotal {
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty({ example: '8000.00' }) netPayable!: string;
}

export class PeriodClosed extends CommandAccepted {
  @ApiProperty({ description: 'Payees whose statement was frozen', example: 2 }) payeesFrozen!: number;
  @ApiProperty({ description: 'The statements read model position the statements were computed at', example: 42 }) logPosition!: number;
  @ApiProperty({ type: [CurrencyTotal] }) totals!: CurrencyTotal[];
}

export class PayoutAccepted {
  @ApiProperty({ example: 'P-1' }) payeeId!: string;
  @ApiProperty({ description: 'Derived from payee, period and statement digest: approving again names the same payout' }) payoutId!: string;
  @ApiProperty({ example: '5600.00' }) netPayable!: string;
  @ApiProperty({ example: 'USD' }) currency!: string;
}

export class PayoutsAccepted extends CommandAccepted {
  @ApiProperty({ type: [PayoutAccepted], description: 'The payouts this request approved (or paid); empty when they already were' }) payouts!: PayoutAccepted[];
}
