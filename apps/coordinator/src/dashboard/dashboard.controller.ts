import { Controller, Get, Header, type MessageEvent, Sse, UseGuards } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { map, type Observable } from 'rxjs';
import { ApiErrorDto } from '../operation/api-error.dto';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.page';
import { DashboardStream } from './dashboard-stream.service';
import { StreamTokenGuard } from './stream-token.guard';

/** How long a browser waits before reconnecting a dropped stream. */
const RECONNECT_MS = 2_000;

@ApiTags('dashboard')
@Controller()
export class DashboardController {
  constructor(private readonly stream: DashboardStream) {}

  /** The page holds no data (it all comes over the stream), so it needs no token. */
  @Get()
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', DASHBOARD_CSP)
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Content-Type-Options', 'nosniff')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Sse('api/v1/stream')
  @UseGuards(StreamTokenGuard)
  @ApiOperation({
    summary: 'Live cluster snapshots (server-sent events) for the dashboard',
    description:
      'Event `snapshot`, data `{ cluster, at, nodes, map, resources, operations, summary }`: one at once, ' +
      'then one whenever nodes or the map change (at most ~4/s) and at least every 5 s. ' +
      'The admin token goes in `?token=` (EventSource cannot set headers) or `Authorization: Bearer`.',
  })
  @ApiQuery({
    name: 'token',
    required: false,
    description: 'the admin token, when TESSERA_ADMIN_TOKEN is set',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'a text/event-stream of `snapshot` events' })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'UNAUTHORIZED: no token given' })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'FORBIDDEN: wrong token' })
  snapshots(): Observable<MessageEvent> {
    return this.stream.updates().pipe(
      map((snapshot, i): MessageEvent => ({
        type: 'snapshot',
        data: snapshot,
        ...(i === 0 ? { retry: RECONNECT_MS } : {}),
      })),
    );
  }
}
