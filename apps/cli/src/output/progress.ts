import { Format, Presets, SingleBar } from 'cli-progress';
import type { OperationV1 } from '@tessera/contracts';
import { type Io } from '../cli-context';

const BAR_WIDTH = 20;
const COMPLETE = Presets.shades_classic.barCompleteChar;
const INCOMPLETE = Presets.shades_classic.barIncompleteChar;

export function ratioOf(progress: { done: number; total: number }): number {
  if (progress.total <= 0) return 0;
  return Math.min(1, Math.max(0, progress.done / progress.total));
}

/** "[██████░░░░] 60% 6/10", drawn by cli-progress's own bar formatter so both views match. */
export function progressText(progress: { done: number; total: number }, width = BAR_WIDTH): string {
  const ratio = ratioOf(progress);
  const bar = Format.BarFormat(ratio, {
    barsize: width,
    barCompleteString: COMPLETE.repeat(width),
    barIncompleteString: INCOMPLETE.repeat(width),
    barGlue: '',
  });
  return `[${bar}] ${Math.floor(ratio * 100)}% ${progress.done}/${progress.total}`;
}

/** A live bar for one operation; silent unless stderr is a terminal. */
export interface OperationProgress {
  update(operation: OperationV1): void;
  stop(): void;
}

export function operationProgress(io: Io, label: string): OperationProgress {
  if (!io.stderrIsTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {state} | {duration_formatted}`,
      stream: io.progressStream,
      barsize: BAR_WIDTH,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(operation) {
      const total = Math.max(operation.progress.total, 1);
      const payload = { state: operation.state };
      if (!started) {
        bar.start(total, operation.progress.done, payload);
        started = true;
        return;
      }
      bar.setTotal(total);
      bar.update(operation.progress.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
