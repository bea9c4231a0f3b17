import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's libfaketime (package `libfaketime`, installed by `npm run ensure`), the variant for
 * multi-threaded programs: Node runs V8's and libuv's threads beside the event loop.
 */
export const LIBFAKETIME =
  process.env['TESSERA_LIBFAKETIME'] ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

/**
 * Wall clocks the test can step while processes run (RELIABILITY S15), through libfaketime: each
 * process named here reads its offset from a file of its own, re-read at most every second.
 * Only the wall clock (Date.now, new Date) moves; the monotonic clock (performance.now,
 * timers) stays true, as when NTP steps a host's clock.
 */
export class SkewedClocks {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-clocks-'));

  constructor() {
    if (!existsSync(LIBFAKETIME)) {
      throw new Error(
        `libfaketime not found at ${LIBFAKETIME}: run \`npm run ensure\` (as root it installs the libfaketime package) or set TESSERA_LIBFAKETIME`,
      );
    }
  }

  /** The environment that puts a process on its own steppable clock, at no offset to begin with. */
  env(name: string): Record<string, string> {
    const file = this.file(name);
    if (!existsSync(file)) writeFileSync(file, '+0\n');
    return {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Steps `name`'s wall clock to `offsetS` seconds from the true time (it sees it within 1 s). */
  set(name: string, offsetS: number): void {
    writeFileSync(this.file(name), `${offsetS >= 0 ? '+' : ''}${offsetS}s\n`);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private file(name: string): string {
    return join(this.dir, `${name.replace(/[^\w-]/g, '_')}.rc`);
  }
}
