import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type MapViewV1 } from '@tessera/contracts';
import { AdminTokenGuard } from '@tessera/service-kit';
import { MapService } from './map.service';
import { MapViewDto } from './map.dto';

@ApiTags('map')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/map')
export class MapController {
  constructor(private readonly maps: MapService) {}

  @Get()
  @ApiOperation({ summary: 'The partition map: replicas (preferred leader first), leader, epoch and ISR of every partition' })
  @ApiQuery({ name: 'resource', required: false })
  @ApiOkResponse({ type: MapViewDto })
  map(@Query('resource') resource?: string): Promise<MapViewV1> {
    return this.maps.view(resource);
  }
}
