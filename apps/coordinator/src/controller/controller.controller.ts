import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@tessera/service-kit';
import { ControllerLease } from './controller-lease.service';

class ControllerStatusDto {
  @ApiProperty({ example: 'coordinator-a' }) instance!: string;
  @ApiProperty({ description: 'whether this instance holds the controller lease' }) active!: boolean;
  @ApiProperty({ nullable: true, type: String, example: '7' }) term!: string | null;
}

@ApiTags('controller')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/controller')
export class ControllerStatusController {
  constructor(private readonly controller: ControllerLease) {}

  @Get()
  @ApiOperation({ summary: 'This coordinator instance: active (lease holder) or standby, and its controller term' })
  @ApiOkResponse({ type: ControllerStatusDto })
  status(): ControllerStatusDto {
    return this.controller.status();
  }
}
