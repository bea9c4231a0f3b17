import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { TesseraError } from './errors';

type Ctor<T> = new () => T;

function describe(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const at = path ? `${path}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => (path ? `${at}: ${m}` : m));
    return [...own, ...describe(e.children ?? [], at)];
  });
}

/**
 * Validates an untrusted plain value against a contract class: unknown properties are refused,
 * types are checked, nothing is coerced. Throws TesseraError('INVALID') naming every problem.
 */
export function validateContract<T extends object>(cls: Ctor<T>, value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TesseraError('INVALID', `${cls.name}: expected a JSON object`);
  }
  const instance = plainToInstance(cls, value, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length > 0) {
    throw new TesseraError('INVALID', `${cls.name}: ${describe(errors).join('; ')}`);
  }
  return instance;
}

/** Parses a wire payload (JSON bytes) and validates it. */
export function decodeContract<T extends object>(cls: Ctor<T>, data: Uint8Array): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    throw new TesseraError('INVALID_JSON', `${cls.name}: payload is not valid JSON`, { cause: error });
  }
  return validateContract(cls, parsed);
}
