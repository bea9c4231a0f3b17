import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placementCommand, type PlacementIo } from './placement.command';

function bufferIo() {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const io: PlacementIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    setExitCode: (c) => void (exitCode = c),
    now: () => 0,
  };
  return { io, out, err, exitCode: () => exitCode };
}

describe(placementCommand.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-placement-'));
  const nodes = [
    { id: 'n1', zone: 'z1' },
    { id: 'n2', zone: 'z2' },
    { id: 'n3', zone: 'z3' },
  ];

  it('writes { assignment, moves, elapsedMs } to --output', async () => {
    const input = join(dir, 'in.json');
    const output = join(dir, 'out.json');
    writeFileSync(
      input,
      JSON.stringify({
        nodes,
        resources: [{ name: 'orders', partitions: 4, replicationFactor: 3 }],
      }),
    );
    const buffers = bufferIo();
    const sut = placementCommand(buffers.io);

    await sut.parseAsync(['plan', '--input', input, '--output', output], { from: 'user' });

    const written = JSON.parse(readFileSync(output, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual(['assignment', 'elapsedMs', 'moves']);
    expect(written['moves']).toBe(12);
    expect(buffers.exitCode()).toBe(0);
  });

  it('exits 1 with one stderr line naming the constraint when unsatisfiable', async () => {
    const input = join(dir, 'too-few.json');
    writeFileSync(
      input,
      JSON.stringify({
        nodes,
        resources: [{ name: 'orders', partitions: 4, replicationFactor: 5 }],
      }),
    );
    const buffers = bufferIo();
    const sut = placementCommand(buffers.io);

    await sut.parseAsync(['plan', '-i', input, '-o', join(dir, 'x.json')], { from: 'user' });

    expect(buffers.exitCode()).toBe(1);
    expect(buffers.err.join('').trim().split('\n')).toHaveLength(1);
    expect(buffers.err.join('')).toMatch(/replicationFactor/);
  });

  it('explains a partition as JSON', async () => {
    const input = join(dir, 'explain.json');
    writeFileSync(
      input,
      JSON.stringify({
        nodes,
        resources: [{ name: 'orders', partitions: 2, replicationFactor: 2 }],
      }),
    );
    const buffers = bufferIo();
    const sut = placementCommand(buffers.io);

    await sut.parseAsync(['explain', '-i', input, '-r', 'orders', '-p', '1', '--json'], {
      from: 'user',
    });

    const explanation = JSON.parse(buffers.out.join('')) as { replicas: { role: string }[] };
    expect(explanation.replicas.map((r) => r.role)).toEqual(['leader', 'follower']);
  });
});
