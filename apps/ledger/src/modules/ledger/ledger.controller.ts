import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { listLedgerEntries, trialBalance } from '#lib/ledger/application/ledger-queries.js';
import { defineReadQuery } from '../../cqrs/define.js';
import { Roles } from '../../http/auth/roles.js';
import { parseListLimit } from '../../http/paging.js';
import { ReadConsistency } from '../../http/read-consistency.js';

export const GetTrialBalance = defineReadQuery('GetTrialBalance', (db, query: { asOf: string; payeeId?: string }) => trialBalance(db, query));
export const ListLedgerEntries = defineReadQuery('ListLedgerEntries', (db, query: { payeeId: string; limit?: number; after?: string }) => listLedgerEntries(db, query));

export const ledgerQueries = [GetTrialBalance, ListLedgerEntries];

const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

/** Today's business date where the service runs (UTC): the default of a trial balance. */
const today = (): string => new Date().toISOString().slice(0, 10);

@ApiTags('ledger')
@Controller()
export class LedgerController {
  constructor(
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Get('ledger/trial-balance')
  @Roles('finance', 'admin')
  @ApiOperation({
    summary: 'Trial balance: debits, credits and balance per account type and currency over every payee (or per account of one payee), with totals that net to zero',
    description: 'Entries posted on or before asOf (default today); scheduled amortisation dated later is not in yet.',
  })
  @ApiQuery({ name: 'asOf', required: false, description: 'Business date YYYY-MM-DD; default today' })
  @ApiQuery({ name: 'payeeId', required: false, description: "One payee's accounts instead of the whole ledger" })
  @waitQuery
  async trialBalance(@Query('asOf') asOf?: string, @Query('payeeId') payeeId?: string, @Query('waitForPosition') waitForPosition?: string) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new GetTrialBalance.query({ asOf: asOf ?? today(), ...(payeeId !== undefined ? { payeeId } : {}) }));
  }

  @Get('payees/:payeeId/ledger/entries')
  @Roles('finance', 'admin')
  @ApiOperation({ summary: "A payee's journal entries with their legs, what each came from (payout, line) and what reversed it, a page at a time" })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'Entry id to continue after' })
  @waitQuery
  async entries(@Param('payeeId') payeeId: string, @Query('limit') limit?: string, @Query('after') after?: string, @Query('waitForPosition') waitForPosition?: string) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListLedgerEntries.query({ payeeId, limit: parseListLimit(limit), after }));
  }
}
