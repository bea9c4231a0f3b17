import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { type Request } from 'express';
import { TesseraError } from '@tessera/contracts';
import { type BaseConfig } from './config';
import { SERVICE_CONFIG } from './tokens';

/** When TESSERA_ADMIN_TOKEN is set, the admin API requires `Authorization: Bearer <token>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.expected = config.adminToken ? Buffer.from(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization;
    if (!header) throw new TesseraError('UNAUTHORIZED', 'missing Authorization: Bearer <token>');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1] ?? '');
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw new TesseraError('FORBIDDEN', 'invalid admin token');
    }
    return true;
  }
}
