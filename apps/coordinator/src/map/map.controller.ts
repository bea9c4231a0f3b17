import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@tessera/service-kit';
import { MapService } from './map.service';
import { MapViewDto } from './map.dto';

@ApiTags('map')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/map')
export class MapController {
  constructor(private readonly maps: MapService) {}

  /** Sends the JSON cached for the current version: a burst of fetches costs one query. */
  @Get()
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: 'The partition map: replicas (preferred leader first), leader, epoch and ISR of every partition' })
  @ApiQuery({ name: 'resource', required: false })
  @ApiOkResponse({ type: MapViewDto })
  async map(@Query('resource') resource?: string): Promise<string> {
    return (await this.maps.answer(resource)).json;
  }
}
