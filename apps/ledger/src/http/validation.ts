import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { validationError, type FieldMessage } from '#lib/shared/domain/domain-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldMessage[] {
  const messages: FieldMessage[] = [];
  for (const error of errors) {
    const field = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    for (const message of Object.values(error.constraints ?? {})) messages.push({ field, message });
    if (error.children && error.children.length > 0) messages.push(...flatten(error.children, field));
  }
  return messages;
}

/**
 * Validates every request DTO with class-validator: unknown properties are rejected (a misspelt field must
 * not silently do nothing), values are not coerced (a number where a decimal string is expected is an error).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return validationError('VALIDATION.FAILED', `The request is invalid: ${fields.map((f) => f.message).join("; ")}`, fields);
    },
  });
}
