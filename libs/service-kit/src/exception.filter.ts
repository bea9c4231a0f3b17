import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type Response } from 'express';
import { type Observable, throwError } from 'rxjs';
import { type ApiErrorBodyV1, type ErrorCode, httpStatusOf, TesseraError } from '@tessera/contracts';

function codeForHttpStatus(status: number): ErrorCode {
  if (status === 400 || status === 413 || status === 415 || status === 422) return 'INVALID';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'UNAVAILABLE';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/**
 * One filter for both transports: HTTP answers `{ statusCode, code, message }`; NATS handlers
 * answer `{ ok: false, code, message }` (the transport serialises what this rethrows).
 * Unknown errors are logged and answered as INTERNAL without leaking details.
 */
@Catch()
export class TesseraExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    const type = host.getType();
    if (type === 'rpc') {
      if (exception instanceof TesseraError) return throwError(() => exception.toReply());
      this.logger.error({ err: exception }, 'unhandled error in a NATS handler');
      return throwError(() => ({ ok: false, code: 'INTERNAL', message: 'internal error' }));
    }
    const res = host.switchToHttp().getResponse<Response>();
    let body: ApiErrorBodyV1;
    if (exception instanceof TesseraError) {
      body = { statusCode: httpStatusOf(exception.code), code: exception.code, message: exception.message };
    } else if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? String((response as { message: unknown }).message)
          : exception.message;
      body = { statusCode: status, code: codeForHttpStatus(status), message };
    } else if ((exception as { type?: string }).type === 'entity.parse.failed') {
      body = { statusCode: 400, code: 'INVALID_JSON', message: 'request body is not valid JSON' };
    } else if ((exception as { type?: string }).type === 'entity.too.large') {
      body = { statusCode: 413, code: 'INVALID', message: 'request body too large' };
    } else {
      this.logger.error({ err: exception }, 'unhandled error in an HTTP handler');
      body = { statusCode: 500, code: 'INTERNAL', message: 'internal error' };
    }
    if (body.statusCode >= 500) this.logger.warn({ code: body.code }, body.message);
    res.status(body.statusCode).json(body);
  }
}
