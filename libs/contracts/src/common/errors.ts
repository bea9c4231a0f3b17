/** Every error that crosses a boundary carries one of these codes. */
export const ERROR_CODES = [
  'INVALID',
  'INVALID_JSON',
  'UNKNOWN_SUBJECT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'STALE_EPOCH',
  'FENCED',
  'NOT_LEADER',
  'NOT_ENOUGH_REPLICAS',
  'UNSATISFIABLE',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A domain error: its code survives serialisation over NATS and HTTP. */
export class TesseraError extends Error {
  override readonly name = 'TesseraError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toReply(): ErrorReplyV1 {
    return { ok: false, code: this.code, message: this.message };
  }
}

export function isTesseraError(error: unknown, code?: ErrorCode): error is TesseraError {
  return error instanceof TesseraError && (code === undefined || error.code === code);
}

/** The error reply every NATS handler sends: `{ ok: false, code, message }`. */
export interface ErrorReplyV1 {
  ok: false;
  code: ErrorCode;
  message: string;
}

export type OkReply<T> = { ok: true } & T;
export type ReplyV1<T> = OkReply<T> | ErrorReplyV1;

export function isErrorReply(value: unknown): value is ErrorReplyV1 {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { ok?: unknown }).ok === false &&
    isErrorCode((value as { code?: unknown }).code)
  );
}

/** Maps an error code to the HTTP status the admin API answers with. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'INVALID':
    case 'INVALID_JSON':
    case 'UNSATISFIABLE':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'UNKNOWN_SUBJECT':
      return 404;
    case 'CONFLICT':
    case 'STALE_EPOCH':
    case 'FENCED':
    case 'NOT_LEADER':
      return 409;
    case 'NOT_ENOUGH_REPLICAS':
    case 'UNAVAILABLE':
      return 503;
    case 'TIMEOUT':
      return 504;
    case 'INTERNAL':
      return 500;
  }
}
