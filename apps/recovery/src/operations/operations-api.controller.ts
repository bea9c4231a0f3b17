import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  API_PREFIX,
  type ListOperationsReplyV1,
  type OperationV1,
  TesseraError,
} from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { DEFAULT_LIST_LIMIT, RecoveryManager } from './recovery-manager.service';

/** `GET /api/v1/operations[?limit=N]` and `GET /api/v1/operations/:id` on recovery's port. */
@Controller(`${API_PREFIX}/operations`)
@UseGuards(AdminTokenGuard)
export class OperationsApiController {
  constructor(private readonly manager: RecoveryManager) {}

  @Get()
  list(@Query('limit') limit: unknown): Promise<ListOperationsReplyV1> {
    if (limit === undefined) return this.manager.listOperations(DEFAULT_LIST_LIMIT);
    const n = typeof limit === 'string' && /^[0-9]{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= 1000))
      throw new TesseraError('INVALID', 'limit must be an integer 1–1000');
    return this.manager.listOperations(n);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<OperationV1> {
    return this.manager.getOperation(id);
  }
}
