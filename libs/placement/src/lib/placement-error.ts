export type PlacementErrorCode = 'INVALID_INPUT' | 'UNSATISFIABLE';

/** Raised for input the planner rejects; `constraint` names the field or rule at fault. */
export class PlacementError extends Error {
  override readonly name = 'PlacementError';

  constructor(
    readonly code: PlacementErrorCode,
    readonly constraint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPlacementError(error: unknown): error is PlacementError {
  return error instanceof PlacementError;
}

export function isUnsatisfiable(error: unknown): error is PlacementError {
  return isPlacementError(error) && error.code === 'UNSATISFIABLE';
}
