import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { type Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { type Observable, tap } from 'rxjs';

/**
 * Audit log of every state-changing admin request (RELIABILITY.md security baseline): who (a
 * hash of the bearer token, never the token), what, and the outcome, as one JSON line each.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly log: PinoLogger) {
    this.log.setContext('Audit');
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    if (req.method === 'GET' || req.method === 'HEAD') return next.handle();
    const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const actor = token ? `token:${createHash('sha256').update(token).digest('hex').slice(0, 12)}` : 'anonymous';
    const entry = { audit: true, actor, ip: req.ip, method: req.method, path: req.originalUrl };
    return next.handle().pipe(
      tap({
        next: () => this.log.info({ ...entry, outcome: 'ok' }, 'admin change'),
        error: (err: unknown) => this.log.info({ ...entry, outcome: 'refused', code: (err as { code?: string }).code }, 'admin change refused'),
      }),
    );
  }
}
