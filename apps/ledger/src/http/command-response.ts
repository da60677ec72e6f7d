import { ApiProperty } from '@nestjs/swagger';
import type { Response } from 'express';
import type { CommandOutcome } from '#lib/shared/application/handle-command.js';

/** What every command answers: where its events landed, so a client can read its own write and edit with If-Match. */
export class CommandAccepted {
  @ApiProperty({ example: 'deal-D-1' }) streamId!: string;
  @ApiProperty({ description: 'Revision of the stream after the command; send it back as If-Match to edit what you read.', example: 1 })
  revision!: number;
  @ApiProperty({ description: 'Global log position of the last event written; pass as ?waitForPosition= to read your own write.', example: 42 })
  position!: number;
  @ApiProperty({ type: [String], description: 'Ids of the events recorded (an idempotent replay returns the first ones).' })
  eventIds!: string[];
  @ApiProperty({ description: 'True when this Idempotency-Key had already been applied: nothing new was written.' })
  replayed!: boolean;
}

export function accepted(outcome: CommandOutcome<unknown>, response: Response): CommandAccepted {
  response.setHeader('ETag', `"${outcome.revision}"`);
  return {
    streamId: outcome.streamId,
    revision: outcome.revision,
    position: outcome.position,
    eventIds: outcome.events.map((event) => event.eventId),
    replayed: outcome.replayed,
  };
}
