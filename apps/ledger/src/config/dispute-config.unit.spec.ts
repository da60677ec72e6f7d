import { ConfigError, defaultDisputeDueBusinessDays, loadLedgerConfig } from './ledger-config.js';

/** The dispute settings of the service configuration: defaults, partial overrides, and every bad value named. */
describe('dispute configuration', () => {
  const load = (environment: Record<string, string>) => loadLedgerConfig({ LEDGER_DATA_DIR: '/tmp/ledger-config-test', ...environment });

  it('defaults to the documented due days, five days to answer, a 30-day reopen window and a 5 s process interval', () => {
    expect(load({})).toMatchObject({
      disputeDueBusinessDays: { missing_credit: 10, wrong_split: 10, wrong_rate: 15, clawback: 10, other: 20 },
      disputeInformationBusinessDays: 5,
      disputeReopenWindowDays: 30,
      disputeProcessIntervalMs: 5000,
    });
  });

  it('overrides the categories named and keeps the others', () => {
    const config = load({ LEDGER_DISPUTE_DUE_DAYS: 'clawback=3, other = 40', LEDGER_DISPUTE_REOPEN_DAYS: '0', LEDGER_DISPUTE_INFO_DAYS: '2' });
    expect(config.disputeDueBusinessDays).toEqual({ ...defaultDisputeDueBusinessDays, clawback: 3, other: 40 });
    expect(config).toMatchObject({ disputeReopenWindowDays: 0, disputeInformationBusinessDays: 2 });
  });

  it('names every bad dispute setting at once', () => {
    let thrown: unknown;
    try {
      load({ LEDGER_DISPUTE_DUE_DAYS: 'bonus=3,other=0,wrong_rate', LEDGER_DISPUTE_INFO_DAYS: '0', LEDGER_DISPUTE_PROCESS_MS: 'often' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems;
    expect(problems.filter((problem) => problem.startsWith('LEDGER_DISPUTE_DUE_DAYS'))).toHaveLength(3);
    expect(problems.some((problem) => problem.startsWith('LEDGER_DISPUTE_INFO_DAYS'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('LEDGER_DISPUTE_PROCESS_MS'))).toBe(true);
  });
});
