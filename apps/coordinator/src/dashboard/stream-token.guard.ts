import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Request } from 'express';
import { TesseraError } from '@tessera/contracts';
import { type BaseConfig, SERVICE_CONFIG } from '@tessera/service-kit';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The admin token for the dashboard stream. A browser's EventSource cannot set headers, so this
 * route (and only this one) also takes it as `?token=`; `Authorization: Bearer` works as well.
 * Digests are compared, so the comparison is constant-time and reveals not even the length.
 */
@Injectable()
export class StreamTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const query: unknown = req.query['token'];
    const given = bearer ?? query;
    if (given === undefined || given === '') {
      throw new TesseraError(
        'UNAUTHORIZED',
        'missing admin token: add ?token=<token> or Authorization: Bearer <token>',
      );
    }
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), this.expected)) {
      throw new TesseraError('FORBIDDEN', 'invalid admin token');
    }
    return true;
  }
}
