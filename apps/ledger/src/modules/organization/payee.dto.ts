import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional } from 'class-validator';
import { CalendarDate, CurrencyCode, DecimalAmount, Identifier, OptionalIdentifier, Text } from '../../http/validators.js';

export class OnboardPayeeBody {
  @Identifier('Payee id, chosen by the caller (e.g. the HR or CRM id)', 'P-1') payeeId!: string;
  @Text('Display name', 'Ana Rep') name!: string;
  @ApiPropertyOptional({ example: 'ana@example.com' }) @IsOptional() @IsEmail() email?: string;
  @OptionalIdentifier('The payee\'s manager (must already be onboarded); omit or null for the top of the hierarchy', 'P-100')
  managerId?: string | null;
  @Text('Sales territory', 'EMEA', 64) territory!: string;
  @CurrencyCode('Currency the payee is paid in') currency!: string;
  @CalendarDate('First day the payee can earn', '2026-01-01') startDate!: string;
}

export class ChangeManagerBody {
  @OptionalIdentifier('The new manager; null for none', 'P-100') managerId!: string | null;
  @CalendarDate('Date from which the new manager applies (credit roll-ups use the manager on the credit date)', '2026-04-01')
  effectiveDate!: string;
}

export class ChangeTerritoryBody {
  @Text('New territory', 'NA-West', 64) territory!: string;
  @CalendarDate('Date from which the territory applies', '2026-04-01') effectiveDate!: string;
}

export class SetQuotaBody {
  @DecimalAmount('Quota for the period and measure', '100000.00') amount!: string;
  @CurrencyCode('Currency of the quota: the payee\'s currency') currency!: string;
}
