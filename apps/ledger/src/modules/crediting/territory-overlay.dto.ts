import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { CalendarDate, Identifier, OptionalCalendarDate } from '../../http/validators.js';

/**
 * Request bodies for territory overlays. Shape only: the decider judges the values (a share over 100, an end before
 * the start, an overlap) and answers with its own codes.
 */

const rolePattern = /^[a-z][a-z0-9_]{0,31}$/;
const decimalPattern = /^(0|[1-9]\d{0,17})(\.\d{1,10})?$/;

export class AssignTerritoryOverlayBody {
  @Identifier("Payee who gets overlay credit on the territory's deals", 'P-300') payeeId!: string;
  @ApiProperty({ description: 'Why the payee is credited: lower-case letters, digits and "_"', example: 'overlay_specialist' })
  @IsString()
  @Matches(rolePattern, { message: '$property must be lower-case letters, digits and "_", such as "overlay_specialist"' })
  role!: string;
  @ApiPropertyOptional({ type: String, description: 'Percent of each deal credited (decimal string, more than 0, at most 100); default 100', example: '50' })
  @IsOptional()
  @IsString({ message: '$property must be a decimal string such as "50", not a number' })
  @Matches(decimalPattern, { message: '$property must be a non-negative decimal string such as "50"' })
  sharePercent?: string;
  @CalendarDate('First day the payee holds the overlay', '2026-01-01') effectiveFrom!: string;
  @OptionalCalendarDate('First day no longer holding it (exclusive); omit while open-ended', '2027-01-01') effectiveUntil?: string;
}

export class EndTerritoryOverlayBody {
  @CalendarDate('First day no longer holding the overlay (exclusive)', '2026-07-01') effectiveUntil!: string;
}
