import {
  type PartitionCursorV1,
  type PartitionStateV1,
  type QueryPartitionsReplyV1,
  Subjects,
} from '@tessera/contracts';
import { type NetworkManager } from './network-manager';

/** Reads every committed partition state (of one resource, or all), page by page. */
export async function queryAllPartitions(network: NetworkManager, resource?: string): Promise<PartitionStateV1[]> {
  const all: PartitionStateV1[] = [];
  let after: PartitionCursorV1 | null = null;
  do {
    const reply: QueryPartitionsReplyV1 = await network.request(
      'consensus.partition.query',
      Subjects.consensus.queryPartitions,
      { ...(resource ? { resource } : {}), ...(after ?? {}) },
      { timeoutMs: 5_000, retries: 2 },
    );
    all.push(...reply.partitions);
    after = reply.next;
  } while (after);
  return all;
}
