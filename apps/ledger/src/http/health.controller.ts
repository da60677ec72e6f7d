import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { EVENT_STORE } from '../ledger.tokens.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness: the store answers and reports its head position.' })
  async health(): Promise<{ status: 'ok'; headPosition: number }> {
    return { status: 'ok', headPosition: await this.store.headPosition() };
  }
}
