import { TesseraError } from './errors';

/*
 * Primitives of the hand-written validators of hot-path messages (replica.parse.ts and its
 * siblings). Each checks one field the way the class-validator decorator named beside it does,
 * so a parser built from them accepts what `validateContract` accepts. A problem throws
 * TesseraError('INVALID') naming the path.
 */

/** Epochs are bigint decimal strings (the classes' @Matches(/^[0-9]{1,19}$/)). */
export const EPOCH_PATTERN = /^[0-9]{1,19}$/;

export type Fields = Record<string, unknown>;

export function fail(path: string, problem: string): never {
  throw new TesseraError('INVALID', `${path}: ${problem}`);
}

/** A JSON object with no property outside `allowed` (forbidNonWhitelisted). */
export function object(value: unknown, path: string, allowed: ReadonlySet<string>): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, 'expected a JSON object');
  for (const key of Object.keys(value))
    if (!allowed.has(key)) fail(`${path}.${key}`, 'unknown property');
  return value as Fields;
}

/** @IsInt @Min(min) @Max(max); a field without @Max passes Infinity. */
export function int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `≥ ${min}` : `${min}–${max}`;
    fail(path, `expected an integer ${range}`);
  }
  return value;
}

/** @IsBoolean. */
export function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'expected a boolean');
  return value;
}

/** @Matches(pattern). */
export function matches(value: unknown, path: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(path, `must match ${pattern}`);
  return value;
}

/** @IsIn(allowed). */
export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value))
    fail(path, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** Length as class-validator's @MaxLength counts it: a surrogate pair is one character. */
export function characters(value: string): number {
  return value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

/** @IsString @MaxLength(maxLength). */
export function text(value: unknown, path: string, maxLength: number): string {
  if (typeof value !== 'string' || (value.length > maxLength && characters(value) > maxLength))
    fail(path, `expected a string of at most ${maxLength} characters`);
  return value;
}

/** @IsArray @ArrayMinSize(min) @ArrayMaxSize(max). */
export function array(value: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max)
    fail(path, `expected an array of ${min}–${max} items`);
  return value;
}

/** @IsArray @ArrayMaxSize(max) @Matches(pattern, { each: true }), copied as class-transformer does. */
export function strings(value: unknown, path: string, max: number, pattern: RegExp): string[] {
  const list = array(value, path, 0, max);
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) out.push(matches(list[i], `${path}.${i}`, pattern));
  return out;
}

/** Optional: absent or null means absent (class-validator's @IsOptional). */
export function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}
