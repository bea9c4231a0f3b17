import { Controller, Get, UseGuards } from '@nestjs/common';
import { API_PREFIX } from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { RecoveryLease, type RecoveryStatus } from './recovery-lease.service';

/** `GET /api/v1/recovery`: this instance, active (lease holder) or standby, and its term. */
@Controller(`${API_PREFIX}/recovery`)
@UseGuards(AdminTokenGuard)
export class RecoveryStatusController {
  constructor(private readonly lease: RecoveryLease) {}

  @Get()
  status(): RecoveryStatus {
    return this.lease.status();
  }
}
