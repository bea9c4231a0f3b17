import 'reflect-metadata';
import { ConfigError } from '@tessera/service-kit';
import { DEFAULT_GRACE_MS, loadRecoveryConfig } from './recovery.config';

describe(loadRecoveryConfig.name, () => {
  it('waits 30 s after a death before re-placing replicas unless told otherwise', () => {
    expect(loadRecoveryConfig({}).graceMs).toBe(DEFAULT_GRACE_MS);
    expect(loadRecoveryConfig({ TESSERA_RECOVERY_GRACE_MS: '0' }).graceMs).toBe(0);
    expect(loadRecoveryConfig({ TESSERA_RECOVERY_GRACE_MS: '4500' }).graceMs).toBe(4_500);
  });

  it.each(['-1', 'soon', '1.5', '86400001'])('refuses TESSERA_RECOVERY_GRACE_MS=%s naming it', (value) => {
    const load = () => loadRecoveryConfig({ TESSERA_RECOVERY_GRACE_MS: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^invalid environment: TESSERA_RECOVERY_GRACE_MS: /);
  });
});
