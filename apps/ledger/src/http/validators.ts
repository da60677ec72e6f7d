import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, ValidateBy, type ValidationOptions } from 'class-validator';

/** Shared field rules for request DTOs, so every endpoint says the same thing about the same kind of value. */

const decimalPattern = /^(0|[1-9]\d{0,17})(\.\d{1,10})?$/;
const identifierPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const isCalendarDate = (value: unknown): boolean => {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [year, month, day] = value.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
};

export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isCalendarDate', validator: { validate: isCalendarDate, defaultMessage: () => '$property must be a calendar date YYYY-MM-DD' } }, options);
}

/** A non-negative amount as a decimal string: "80000.00". Numbers are refused: money is never a float. */
export const DecimalAmount = (description: string, example = '80000.00'): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ type: String, description: `${description} (decimal string, never a number)`, example }),
    IsString({ message: '$property must be a decimal string such as "1250.00", not a number' }),
    Matches(decimalPattern, { message: '$property must be a non-negative decimal string such as "1250.00"' }),
  );

export const OptionalDecimalAmount = (description: string, example = '80000.00'): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ type: String, description: `${description} (decimal string)`, example }),
    IsOptional(),
    IsString({ message: '$property must be a decimal string such as "1250.00", not a number' }),
    Matches(decimalPattern, { message: '$property must be a non-negative decimal string such as "1250.00"' }),
  );

export const Identifier = (description: string, example: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ description, example }),
    IsString(),
    Matches(identifierPattern, { message: '$property must be 1 to 64 letters, digits, ".", "_", ":" or "-"' }),
  );

export const OptionalIdentifier = (description: string, example: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ description, example, nullable: true }),
    IsOptional(),
    IsString(),
    Matches(identifierPattern, { message: '$property must be 1 to 64 letters, digits, ".", "_", ":" or "-"' }),
  );

export const CalendarDate = (description: string, example = '2026-03-14'): PropertyDecorator =>
  applyDecorators(ApiProperty({ description, example, format: 'date' }), IsCalendarDate());

export const OptionalCalendarDate = (description: string, example = '2026-03-14'): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional({ description, example, format: 'date' }), IsOptional(), IsCalendarDate());

export const CurrencyCode = (description = 'ISO 4217 currency code'): PropertyDecorator =>
  applyDecorators(ApiProperty({ description, example: 'USD' }), IsString(), Matches(/^[A-Z]{3}$/, { message: '$property must be an ISO 4217 code such as "USD"' }));

export const Text = (description: string, example: string, maxLength = 200): PropertyDecorator =>
  applyDecorators(ApiProperty({ description, example }), IsString(), Matches(/\S/, { message: '$property must not be blank' }), MaxLength(maxLength));

export const OptionalText = (description: string, example: string, maxLength = 200): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional({ description, example }), IsOptional(), IsString(), MaxLength(maxLength));
