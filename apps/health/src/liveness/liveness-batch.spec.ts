import { coalesceTransitions } from './liveness-batch';

describe(coalesceTransitions.name, () => {
  const incarnation = () => 7;

  it('writes each node once, with its newest state, in order of first appearance', () => {
    const sut = coalesceTransitions(
      [
        { nodeId: 'n2', to: 'SUSPECT' },
        { nodeId: 'n1', to: 'ALIVE' },
        { nodeId: 'n2', to: 'DEAD' },
      ],
      new Map([['n2', 'ALIVE']]),
      incarnation,
    );
    expect(sut).toEqual([
      { nodeId: 'n2', state: 'DEAD', incarnation: 7 },
      { nodeId: 'n1', state: 'ALIVE', incarnation: 7 },
    ]);
  });

  it('drops a node that ends where Postgres already has it', () => {
    const sut = coalesceTransitions(
      [
        { nodeId: 'n1', to: 'SUSPECT' },
        { nodeId: 'n1', to: 'ALIVE' },
        { nodeId: 'n3', to: 'DEAD' },
      ],
      new Map([
        ['n1', 'ALIVE'],
        ['n3', 'SUSPECT'],
      ]),
      incarnation,
    );
    expect(sut).toEqual([{ nodeId: 'n3', state: 'DEAD', incarnation: 7 }]);
  });

  it('writes a node Postgres has never seen', () => {
    const sut = coalesceTransitions([{ nodeId: 'n9', to: 'ALIVE' }], new Map(), (id) =>
      id === 'n9' ? 3 : 0,
    );
    expect(sut).toEqual([{ nodeId: 'n9', state: 'ALIVE', incarnation: 3 }]);
  });

  it('writes nothing when nothing is pending', () => {
    expect(coalesceTransitions([], new Map([['n1', 'DEAD']]), incarnation)).toEqual([]);
  });
});
