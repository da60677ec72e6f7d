import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { CalendarDate, CurrencyCode } from '../../http/validators.js';

export class RecordFxRateBody {
  @CurrencyCode('Currency converted from') fromCurrency!: string;
  @CurrencyCode('Currency converted to') toCurrency!: string;
  @CalendarDate('Business date the rate holds for; a rate already recorded for it is corrected', '2026-03-18') date!: string;
  // Sign and range are the FX rules' to judge (FX.RATE_NOT_POSITIVE); a number is refused here: rates are never floats.
  @ApiProperty({ type: String, description: 'Units of toCurrency for one fromCurrency: a positive decimal string', example: '1.0850' })
  @IsString({ message: '$property must be a decimal string such as "1.0850", not a number' })
  @MaxLength(40)
  rate!: string;
}
