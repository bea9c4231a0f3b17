import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isToken, MAX_REPLICATION_FACTOR } from './identifiers';

/** Each element is a non-empty list of distinct node ids (tokens), at most MAX_REPLICATION_FACTOR long. */
export function isReplicaMatrix(value: unknown): value is string[][] {
  return (
    Array.isArray(value) &&
    value.every(
      (row) =>
        Array.isArray(row) &&
        row.length >= 1 &&
        row.length <= MAX_REPLICATION_FACTOR &&
        row.every(isToken) &&
        new Set(row).size === row.length,
    )
  );
}

export function IsReplicaMatrix(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isReplicaMatrix',
      validator: {
        validate: (value: unknown) => isReplicaMatrix(value),
        defaultMessage: () =>
          `replicas must be lists of 1–${MAX_REPLICATION_FACTOR} distinct node ids (letters, digits, "_" or "-")`,
      },
    },
    options,
  );
}
